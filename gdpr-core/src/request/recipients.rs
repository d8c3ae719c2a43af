//! GDPR Art. 19: the recipients to whom the subject's data were disclosed
//! are told of each rectification, erasure or restriction, unless this
//! proves impossible or involves disproportionate effort; the subject is
//! told who they are on request. The disclosures are plain input (a host
//! reads them from the audit log's disclosure events).

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::category::RecordCategory;
use crate::request::kind::RequestKind;

/// A recipient (Art. 4(9)): a body or person, named as the controller
/// records it (`"Radiologie Dr. Beispiel"`, `"Krankenkasse X"`). Recipients
/// are organisations or professionals, not the subject, so they print.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Recipient(String);

impl Recipient {
    /// A recipient: 1 to 256 characters, no control characters.
    ///
    /// # Errors
    /// [`crate::Error::InvalidIdentifier`] when it breaks the rule.
    pub fn new(name: impl Into<String>) -> Result<Self, crate::Error> {
        let name = name.into();
        if name.trim().is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
            return Err(crate::Error::InvalidIdentifier {
                what: "recipient",
                rule: "1 to 256 characters, not blank, no control characters",
            });
        }
        Ok(Self(name))
    }

    /// The recipient's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Recipient {
    type Error = crate::Error;
    fn try_from(value: String) -> Result<Self, crate::Error> {
        Self::new(value)
    }
}

impl From<Recipient> for String {
    fn from(r: Recipient) -> String {
        r.0
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One disclosure of the subject's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Disclosure {
    /// Who received the data.
    pub recipient: Recipient,
    /// When (the day).
    pub on: Date,
    /// What, in words without patient values (`"CT study"`,
    /// `"discharge letter"`).
    pub what: String,
    /// Which category of data was disclosed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<RecordCategory>,
    /// The instant, when known (an audit record's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// The system that recorded the disclosure, when known (a system
    /// label such as `pacs-main`, never a patient value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Disclosure {
    /// A disclosure of `what` to `recipient` on `on`, category, time and
    /// source unknown.
    pub fn new(recipient: Recipient, on: Date, what: impl Into<String>) -> Self {
        Self {
            recipient,
            on,
            what: what.into(),
            category: None,
            at: None,
            source: None,
        }
    }
}

/// What a recipient is told of one disclosure so that it can find the
/// data it received and act on the notification: when, which category of
/// data, what, and from which system — never a patient value (the
/// controller identifies the subject to the recipient by its own means).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DisclosureDetail {
    /// The day.
    pub on: Date,
    /// The instant, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// The category of data (`imaging-examination`, `lab-result`, …),
    /// when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<RecordCategory>,
    /// What, in words without patient values.
    pub what: String,
    /// The system that recorded it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One recipient to notify, with every disclosure made to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Notification {
    /// The recipient.
    pub recipient: Recipient,
    /// Their disclosures, oldest first: (date, what).
    pub disclosures: Vec<(Date, String)>,
    /// Every disclosure with its category, instant and source, oldest
    /// first (absent in documents written before it was added).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<DisclosureDetail>,
    /// The provision requiring the notification.
    pub citation: Citation,
}

impl Notification {
    /// The categories of data disclosed to the recipient, each once.
    pub fn categories(&self) -> Vec<RecordCategory> {
        let mut out: Vec<RecordCategory> = self.details.iter().filter_map(|d| d.category).collect();
        out.sort();
        out.dedup();
        out
    }
}

/// The recipients to notify of a request of `kind` carried out, from the
/// `disclosures` made up to and including `until`: one notification per
/// recipient, recipients ordered by their first disclosure (then by name),
/// each disclosure listed once. Empty for kinds Art. 19 does not cover
/// (access, portability, objection, lifting a restriction).
pub fn recipients_to_notify(
    kind: &RequestKind,
    disclosures: &[Disclosure],
    until: Date,
) -> Vec<Notification> {
    if !kind.notifies_recipients() {
        return Vec::new();
    }
    let mut by_recipient: BTreeMap<&Recipient, Vec<DisclosureDetail>> = BTreeMap::new();
    for d in disclosures.iter().filter(|d| d.on <= until) {
        by_recipient
            .entry(&d.recipient)
            .or_default()
            .push(DisclosureDetail {
                on: d.on,
                at: d.at,
                category: d.category,
                what: d.what.clone(),
                source: d.source.clone(),
            });
    }
    let mut out: Vec<Notification> = by_recipient
        .into_iter()
        .map(|(recipient, mut details)| {
            details.sort();
            details.dedup();
            let mut list: Vec<(Date, String)> =
                details.iter().map(|d| (d.on, d.what.clone())).collect();
            list.sort();
            list.dedup();
            Notification {
                recipient: recipient.clone(),
                disclosures: list,
                details,
                citation: Citation::from_static("GDPR Art. 19"),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.disclosures.first(), &a.recipient).cmp(&(b.disclosures.first(), &b.recipient))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erasure::ErasureGround;
    use jiff::civil::date;

    fn disclosure(to: &str, on: Date, what: &str) -> Disclosure {
        Disclosure::new(Recipient::new(to).unwrap(), on, what)
    }

    #[test]
    fn each_disclosure_is_told_with_its_category_instant_and_source() {
        let at: Timestamp = "2025-03-01T10:15:00Z".parse().unwrap();
        let mut ct = disclosure("Klinik A", date(2025, 3, 1), "study (referral)");
        ct.category = Some(RecordCategory::ImagingExamination);
        ct.at = Some(at);
        ct.source = Some("pacs-main".into());
        let mut lab = disclosure("Klinik A", date(2025, 3, 1), "observation (referral)");
        lab.category = Some(RecordCategory::LabResult);
        let n = recipients_to_notify(&RequestKind::Rectification, &[lab, ct], date(2026, 1, 1));
        assert_eq!(n.len(), 1);
        assert_eq!(
            n[0].categories(),
            [
                RecordCategory::ImagingExamination,
                RecordCategory::LabResult
            ]
        );
        let ct = n[0].details.iter().find(|d| d.at.is_some()).unwrap();
        assert_eq!(ct.source.as_deref(), Some("pacs-main"));
        let json = serde_json::to_string(&n[0].details).unwrap();
        assert!(
            json.contains(r#""category":"imaging-examination""#),
            "{json}"
        );
        assert!(json.contains(r#""at":"2025-03-01T10:15:00Z""#), "{json}");
    }

    #[test]
    fn grouped_by_recipient_ordered_by_first_disclosure() {
        let list = [
            disclosure("Praxis B", date(2025, 6, 1), "CT study"),
            disclosure("Klinik A", date(2025, 3, 1), "discharge letter"),
            disclosure("Praxis B", date(2025, 2, 1), "MR study"),
            disclosure("Praxis B", date(2025, 2, 1), "MR study"),
            disclosure("Labor C", date(2026, 5, 1), "after the answer"),
        ];
        let erasure = RequestKind::Erasure {
            ground: ErasureGround::ConsentWithdrawn,
        };
        let n = recipients_to_notify(&erasure, &list, date(2026, 1, 31));
        let names: Vec<_> = n.iter().map(|x| x.recipient.as_str()).collect();
        assert_eq!(names, ["Praxis B", "Klinik A"]);
        assert_eq!(
            n[0].disclosures,
            [
                (date(2025, 2, 1), "MR study".to_owned()),
                (date(2025, 6, 1), "CT study".to_owned())
            ]
        );
        assert_eq!(n[0].citation.as_str(), "GDPR Art. 19");
        assert!(recipients_to_notify(&RequestKind::Access, &list, date(2026, 1, 31)).is_empty());
    }

    #[test]
    fn pinned_notification_json() {
        let list = [disclosure("Klinik A", date(2025, 3, 1), "discharge letter")];
        let n = recipients_to_notify(&RequestKind::Rectification, &list, date(2026, 1, 31));
        let json = serde_json::to_string(&n).unwrap();
        let pinned = r#"[{"recipient":"Klinik A","disclosures":[["2025-03-01","discharge letter"]],"details":[{"on":"2025-03-01","what":"discharge letter"}],"citation":"GDPR Art. 19"}]"#;
        assert_eq!(json, pinned);
        assert_eq!(
            serde_json::from_str::<Vec<Notification>>(pinned).unwrap(),
            n
        );
        // Written before `details`: read and written back byte for byte, so
        // certificates signed then still verify.
        let older = r#"[{"recipient":"Klinik A","disclosures":[["2025-03-01","discharge letter"]],"citation":"GDPR Art. 19"}]"#;
        let back: Vec<Notification> = serde_json::from_str(older).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), older);
    }

    #[test]
    fn blank_recipients_are_refused() {
        assert!(Recipient::new(" ").is_err());
        assert!(Recipient::new("a\nb").is_err());
    }
}
