//! The retention phase of a record: kept only because a retention duty
//! demands it, and then usable only for what that duty serves.

use serde::{Deserialize, Serialize};

use crate::purpose::Purpose;
use crate::{Citation, Error};

/// A record in its retention phase: its care purpose has ended, and it is
/// kept only because a retention duty demands it (GDPR Art. 6(1)(c) with
/// Art. 9(2)(h) and the statute, Art. 17(3)(b)). It may be used for the
/// purposes that duty keeps it for — evidence, the continuity of care when
/// the patient returns — and for answering the subject's own requests, not
/// for anything else.
///
/// The retention rule that keeps the record names the duty and its
/// purposes; the host passes them in with the request.
///
/// ```
/// use gdpr_core::authorization::RetentionPhase;
/// use gdpr_core::purpose::Purpose;
/// use gdpr_core::Citation;
///
/// let phase = RetentionPhase::new(
///     Citation::from_static("§ 630f(3) BGB"),
///     vec![Purpose::LegalClaims, Purpose::Treatment],
/// )?;
/// assert!(phase.serves(Purpose::LegalClaims));
/// assert!(phase.serves(Purpose::DataSubjectRequest));
/// assert!(!phase.serves(Purpose::Research));
/// # Ok::<(), gdpr_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PhaseDraft", rename_all = "kebab-case")]
pub struct RetentionPhase {
    duty: Citation,
    purposes: Vec<Purpose>,
}

impl RetentionPhase {
    /// A retention phase under `duty` (e.g. `"§ 630f(3) BGB"`), keeping the
    /// record for `purposes`.
    ///
    /// # Errors
    /// [`Error::InvalidRetentionPhase`] when `duty` is blank or `purposes`
    /// is empty (a duty keeps a record for something).
    pub fn new(duty: Citation, purposes: Vec<Purpose>) -> Result<Self, Error> {
        if duty.as_str().trim().is_empty() {
            return Err(Error::InvalidRetentionPhase {
                rule: "`duty` must cite the provision that demands keeping the record \
                       (e.g. \"§ 630f(3) BGB\")",
            });
        }
        if purposes.is_empty() {
            return Err(Error::InvalidRetentionPhase {
                rule: "`purposes` must list what the retention duty keeps the record for \
                       (e.g. [\"legal-claims\", \"treatment\"])",
            });
        }
        Ok(Self { duty, purposes })
    }

    /// The provision that demands keeping the record.
    pub fn duty(&self) -> &Citation {
        &self.duty
    }

    /// The purposes the duty keeps the record for.
    pub fn purposes(&self) -> &[Purpose] {
        &self.purposes
    }

    /// Whether the record may be used for `purpose` in this phase: one of
    /// the duty's purposes, or answering the subject's own request
    /// (Art. 15–22 apply to kept data too). Storage is the duty itself.
    pub fn serves(&self, purpose: Purpose) -> bool {
        matches!(purpose, Purpose::DataSubjectRequest | Purpose::Storage)
            || self.purposes.contains(&purpose)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct PhaseDraft {
    duty: Citation,
    purposes: Vec<Purpose>,
}

impl TryFrom<PhaseDraft> for RetentionPhase {
    type Error = Error;
    fn try_from(d: PhaseDraft) -> Result<Self, Error> {
        Self::new(d.duty, d.purposes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_needs_a_duty_and_purposes_also_in_json() {
        let err =
            serde_json::from_str::<RetentionPhase>(r#"{"duty":"§ 630f(3) BGB","purposes":[]}"#)
                .unwrap_err();
        assert!(err.to_string().contains("purposes"), "{err}");
        let err =
            serde_json::from_str::<RetentionPhase>(r#"{"duty":" ","purposes":["treatment"]}"#)
                .unwrap_err();
        assert!(err.to_string().contains("duty"), "{err}");
        let ok: RetentionPhase =
            serde_json::from_str(r#"{"duty":"§ 630f(3) BGB","purposes":["legal-claims"]}"#)
                .unwrap();
        assert_eq!(ok.duty().as_str(), "§ 630f(3) BGB");
        assert_eq!(ok.purposes(), [Purpose::LegalClaims]);
    }
}
