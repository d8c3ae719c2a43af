//! Records of processing activities (GDPR Art. 30(1)): every field (a)–(g),
//! validation that names each missing field with its letter, and export as
//! JSON and Markdown.
//!
//! A [`Register`] is read as it is (absent fields become empty); only
//! [`Register::validate`] turns it into a [`ValidRegister`], and only a
//! valid register can be exported.
//!
//! ```
//! use gdpr_core::ropa::Register;
//!
//! let draft: Register = serde_json::from_str(r#"{"controller": {"name": "Klinikum Nord"}}"#)?;
//! let err = draft.validate().unwrap_err();
//! assert!(err.to_string().contains("controller.contact (GDPR Art. 30(1)(a))"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::category::RecordCategory;
use crate::purpose::Purpose;
use crate::{Citation, Error};

/// The controller's register of processing activities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Register {
    /// Art. 30(1)(a): the controller.
    #[serde(default)]
    pub controller: Controller,
    /// One record per processing activity.
    #[serde(default)]
    pub activities: Vec<Record>,
}

/// Art. 30(1)(a): name and contact details of the controller and, where
/// applicable, joint controllers, representative and data-protection officer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Controller {
    /// The controller's name.
    #[serde(default)]
    pub name: String,
    /// Its contact details (address, e-mail, telephone).
    #[serde(default)]
    pub contact: String,
    /// Joint controllers (Art. 26) with their contact details, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joint_controllers: Vec<String>,
    /// The representative in the Union (Art. 27), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub representative: Option<String>,
    /// The data-protection officer's contact details (Art. 37), if one is
    /// designated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_protection_officer: Option<String>,
}

/// The record of one processing activity, Art. 30(1)(b)–(g).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Record {
    /// The activity's name (as in its `ProcessingActivity`).
    #[serde(default)]
    pub name: String,
    /// (b) the purposes of the processing.
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    /// (c) categories of data subjects (e.g. "patients", "referring
    /// physicians").
    #[serde(default)]
    pub data_subjects: Vec<String>,
    /// (c) categories of personal data.
    #[serde(default)]
    pub data_categories: Vec<RecordCategory>,
    /// (d) categories of recipients; `[]` states that there are none.
    #[serde(default)]
    pub recipients: Option<Vec<String>>,
    /// (e) transfers to third countries or international organisations;
    /// `[]` states that there are none.
    #[serde(default)]
    pub transfers: Option<Vec<Transfer>>,
    /// (f) the envisaged time limits for erasure.
    #[serde(default)]
    pub erasure_time_limits: Vec<ErasureLimit>,
    /// (g) a general description of the technical and organisational
    /// security measures (Art. 32(1)).
    #[serde(default)]
    pub security_measures: Vec<String>,
}

/// Art. 30(1)(e): one transfer to a third country or international
/// organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Transfer {
    /// The third country or international organisation.
    pub destination: String,
    /// The recipient there.
    pub recipient: String,
    /// The safeguards (Art. 45 adequacy, Art. 46 clauses, or the Art. 49(1)
    /// documentation).
    pub safeguards: String,
}

/// Art. 30(1)(f): when one category of data is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ErasureLimit {
    /// The category concerned.
    pub category: RecordCategory,
    /// The time limit, in words (e.g. "10 years after the end of treatment").
    pub limit: String,
    /// The law that sets it, if any (e.g. `"§ 630f(3) BGB"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Citation>,
}

/// A field Art. 30(1) requires that a register lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingField {
    /// Where in the register, e.g. `"activities[0].recipients"`.
    pub path: String,
    /// The provision that requires it, e.g. `"GDPR Art. 30(1)(d)"`.
    pub citation: Citation,
}

impl MissingField {
    /// The fields as one line: `path (citation); path (citation)`.
    pub fn list(missing: &[MissingField]) -> String {
        missing
            .iter()
            .map(|m| format!("{} ({})", m.path, m.citation))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn letter(l: char) -> Citation {
    Citation::new(format!("GDPR Art. 30(1)({l})"))
}

impl Register {
    /// Every field Art. 30(1) requires that is missing or empty, in order.
    pub fn missing_fields(&self) -> Vec<MissingField> {
        let mut out = Vec::new();
        let mut need = |present: bool, path: String, citation: Citation| {
            if !present {
                out.push(MissingField { path, citation });
            }
        };
        let c = &self.controller;
        need(
            !c.name.trim().is_empty(),
            "controller.name".into(),
            letter('a'),
        );
        need(
            !c.contact.trim().is_empty(),
            "controller.contact".into(),
            letter('a'),
        );
        need(
            !self.activities.is_empty(),
            "activities".into(),
            Citation::from_static("GDPR Art. 30(1)"),
        );
        for (i, r) in self.activities.iter().enumerate() {
            let p = |field: &str| format!("activities[{i}].{field}");
            need(
                !r.name.trim().is_empty(),
                p("name"),
                Citation::from_static("GDPR Art. 30(1)"),
            );
            need(!r.purposes.is_empty(), p("purposes"), letter('b'));
            need(!r.data_subjects.is_empty(), p("data-subjects"), letter('c'));
            need(
                !r.data_categories.is_empty(),
                p("data-categories"),
                letter('c'),
            );
            need(r.recipients.is_some(), p("recipients"), letter('d'));
            need(r.transfers.is_some(), p("transfers"), letter('e'));
            need(
                !r.erasure_time_limits.is_empty(),
                p("erasure-time-limits"),
                letter('f'),
            );
            need(
                !r.security_measures.is_empty(),
                p("security-measures"),
                letter('g'),
            );
        }
        out
    }

    /// Checks that no Art. 30(1) field is missing.
    ///
    /// # Errors
    /// [`Error::IncompleteRecord`] naming every missing field with its
    /// Art. 30(1) letter.
    pub fn validate(self) -> Result<ValidRegister, Error> {
        let missing = self.missing_fields();
        if missing.is_empty() {
            Ok(ValidRegister(self))
        } else {
            Err(Error::IncompleteRecord { missing })
        }
    }
}

/// A register with every Art. 30(1) field present. Serialises as the
/// register's JSON; [`ValidRegister::to_markdown`] renders it for humans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidRegister(Register);

impl ValidRegister {
    /// The register.
    pub fn register(&self) -> &Register {
        &self.0
    }

    /// The register as a Markdown document: one table per activity, each row
    /// labelled with its Art. 30(1) letter.
    pub fn to_markdown(&self) -> String {
        let r = &self.0;
        let c = &r.controller;
        let mut md = String::from("# Record of processing activities (GDPR Art. 30(1))\n\n");
        md += &format!(
            "**Controller (a):** {} — {}\n\n",
            cell(&c.name),
            cell(&c.contact)
        );
        if !c.joint_controllers.is_empty() {
            md += &format!(
                "**Joint controllers (a):** {}\n\n",
                cell(&c.joint_controllers.join("; "))
            );
        }
        if let Some(rep) = &c.representative {
            md += &format!("**Representative (a):** {}\n\n", cell(rep));
        }
        if let Some(dpo) = &c.data_protection_officer {
            md += &format!("**Data-protection officer (a):** {}\n\n", cell(dpo));
        }
        for (i, a) in r.activities.iter().enumerate() {
            let _ = write!(
                md,
                "## {}. {}\n\n| Art. 30(1) | field | entry |\n|---|---|---|\n",
                i + 1,
                cell(&a.name)
            );
            let mut row = |l: &str, field: &str, entry: String| {
                let _ = writeln!(md, "| ({l}) | {field} | {} |", cell(&entry));
            };
            row("b", "purposes", join(a.purposes.iter().map(|p| p.name())));
            row(
                "c",
                "categories of data subjects",
                a.data_subjects.join("; "),
            );
            row(
                "c",
                "categories of personal data",
                join(a.data_categories.iter().map(|c| c.name())),
            );
            row(
                "d",
                "categories of recipients",
                none_if_empty(a.recipients.as_deref().unwrap_or_default().join("; ")),
            );
            row(
                "e",
                "transfers to third countries",
                none_if_empty(join(a.transfers.iter().flatten().map(|t| {
                    format!("{}: {} ({})", t.destination, t.recipient, t.safeguards)
                }))),
            );
            row(
                "f",
                "time limits for erasure",
                join(a.erasure_time_limits.iter().map(|e| match &e.source {
                    Some(s) => format!("{}: {} ({s})", e.category, e.limit),
                    None => format!("{}: {}", e.category, e.limit),
                })),
            );
            row("g", "security measures", a.security_measures.join("; "));
            md.push('\n');
        }
        md
    }
}

fn join<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "none".into() } else { s }
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> Register {
        serde_json::from_str(
            r#"{"controller": {"name": "Klinikum Nord", "contact": "dpo@klinikum.example"},
                "activities": [{
                  "name": "Radiology | reporting",
                  "purposes": ["diagnosis"],
                  "data-subjects": ["patients"],
                  "data-categories": ["imaging-examination"],
                  "recipients": [],
                  "transfers": [],
                  "erasure-time-limits": [{"category": "imaging-examination",
                      "limit": "10 years", "source": "§ 85(2) StrlSchG"}],
                  "security-measures": ["TLS", "role-based access"]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn every_missing_field_is_named_with_its_letter() {
        let mut r = complete();
        r.activities[0].recipients = None;
        r.activities[0].security_measures.clear();
        r.controller.contact.clear();
        let err = r.validate().unwrap_err();
        let text = err.to_string();
        for needle in [
            "controller.contact (GDPR Art. 30(1)(a))",
            "activities[0].recipients (GDPR Art. 30(1)(d))",
            "activities[0].security-measures (GDPR Art. 30(1)(g))",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }

    #[test]
    fn empty_recipients_state_none_but_absent_ones_are_missing() {
        let r = complete();
        assert!(r.missing_fields().is_empty());
        let md = r.validate().unwrap().to_markdown();
        assert!(
            md.contains("| (d) | categories of recipients | none |"),
            "{md}"
        );
        assert!(md.contains("Radiology \\| reporting"), "{md}");
        assert!(md.contains("§ 85(2) StrlSchG"));
    }

    #[test]
    fn json_export_round_trips() {
        let valid = complete().validate().unwrap();
        let json = serde_json::to_string(&valid).unwrap();
        let back: Register = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, valid.register());
    }
}
