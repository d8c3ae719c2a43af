//! The controller's grounds against an objection, as a file (`gdpr request
//! grounds --grounds`): GDPR Art. 21(1) lets processing on Art. 6(1)(e) or
//! (f) go on after an objection when the controller demonstrates
//! compelling legitimate grounds which override the subject's interests,
//! rights and freedoms, or when it serves the establishment, exercise or
//! defence of legal claims.
//!
//! ```toml
//! version = 1
//! ground = "compelling-legitimate-grounds"  # or "legal-claims"
//! purposes = ["quality-assurance"]          # covered; none: every purpose objected to
//! assessment = "DPO case 2026-14"           # where the assessment is kept (a reference)
//! by = "dpo-1"                              # who demonstrated the grounds
//! reason = "free text"                      # sealed; never printed or logged
//! ```
//!
//! Grounds never answer an objection to direct marketing (Art. 21(3)) or
//! to research and statistics (Art. 21(6)): a file naming those purposes
//! is refused. The reason may hold health data: `Debug` never shows it,
//! errors never quote any value of the file.

use serde::Deserialize;

use crate::Citation;
use crate::actor::ActorId;
use crate::objection::CompellingGrounds;
use crate::purpose::Purpose;
use crate::request::error::RequestError;
use crate::request::findings_file::{FindingReason, MAX_REASON_BYTES};

/// At most this many bytes in an assessment reference.
const MAX_ASSESSMENT_BYTES: usize = 300;

/// What the controller demonstrated against an objection (Art. 21(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverrideGround {
    /// Compelling legitimate grounds which override the interests, rights
    /// and freedoms of the data subject.
    CompellingLegitimateGrounds,
    /// The establishment, exercise or defence of legal claims.
    LegalClaims,
}

impl OverrideGround {
    /// Every ground.
    pub const ALL: [Self; 2] = [Self::CompellingLegitimateGrounds, Self::LegalClaims];

    /// The stable name (`compelling-legitimate-grounds`, `legal-claims`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CompellingLegitimateGrounds => "compelling-legitimate-grounds",
            Self::LegalClaims => "legal-claims",
        }
    }

    /// The provision: `GDPR Art. 21(1)` for both.
    pub fn citation(self) -> Citation {
        Citation::from_static("GDPR Art. 21(1)")
    }
}

/// A grounds file read whole and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroundsFile {
    /// What was demonstrated.
    pub ground: OverrideGround,
    /// The purposes covered (empty: every purpose objected to).
    pub purposes: Vec<Purpose>,
    /// Where the controller's assessment is kept (a case or file
    /// reference; never a patient value).
    pub assessment: String,
    /// Who demonstrated them.
    pub by: ActorId,
    /// Why (sealed; never printed).
    pub reason: FindingReason,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: u32,
    ground: String,
    #[serde(default)]
    purposes: Vec<Purpose>,
    assessment: String,
    by: String,
    reason: String,
}

fn invalid(detail: impl Into<String>) -> RequestError {
    RequestError::InvalidGrounds {
        detail: detail.into(),
    }
}

impl GroundsFile {
    /// Reads a grounds file (format in the module docs).
    ///
    /// # Errors
    /// [`RequestError::InvalidGrounds`] naming the line or the field and
    /// what is wrong, never a value of the file;
    /// [`RequestError::UnsupportedVersion`].
    pub fn from_toml(text: &str) -> Result<Self, RequestError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| invalid(crate::redact::toml_message(text, &e)))?;
        if raw.version != 1 {
            return Err(RequestError::UnsupportedVersion {
                what: "grounds file",
                found: raw.version,
            });
        }
        let ground = OverrideGround::ALL
            .into_iter()
            .find(|g| g.name() == raw.ground)
            .ok_or_else(|| {
                invalid("`ground` is one of compelling-legitimate-grounds, legal-claims")
            })?;
        if let Some(p) = raw.purposes.iter().find(|p| {
            matches!(
                p,
                Purpose::DirectMarketing | Purpose::Research | Purpose::Statistics
            )
        }) {
            return Err(invalid(format!(
                "`purposes`: no grounds answer an objection to {} (GDPR Art. 21(3), 21(6))",
                serde_json::to_value(p)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )));
        }
        let a = &raw.assessment;
        if a.trim().is_empty() || a.len() > MAX_ASSESSMENT_BYTES || a.chars().any(char::is_control)
        {
            return Err(invalid(format!(
                "`assessment` must be 1 to {MAX_ASSESSMENT_BYTES} bytes on one line"
            )));
        }
        let by = ActorId::new(raw.by).map_err(|_| invalid("`by` is not an actor id"))?;
        if raw.reason.trim().is_empty() || raw.reason.len() > MAX_REASON_BYTES {
            return Err(invalid(format!(
                "`reason` must be given, at most {MAX_REASON_BYTES} bytes"
            )));
        }
        let mut purposes = raw.purposes;
        purposes.sort();
        purposes.dedup();
        Ok(Self {
            ground,
            purposes,
            assessment: raw.assessment,
            by,
            reason: FindingReason::new(raw.reason),
        })
    }

    /// The grounds as recorded on the objection, from `recorded_at`.
    pub fn to_grounds(&self, recorded_at: jiff::Timestamp) -> CompellingGrounds {
        CompellingGrounds {
            recorded_at,
            purposes: self.purposes.clone(),
            assessment: self.assessment.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"version = 1
ground = "compelling-legitimate-grounds"
purposes = ["quality-assurance", "quality-assurance"]
assessment = "DPO case 2026-14"
by = "dpo-1"
reason = "CANARY-REASON the patient's diagnosis"
"#;

    #[test]
    fn a_good_file_reads_and_its_reason_never_prints() {
        let g = GroundsFile::from_toml(GOOD).unwrap();
        assert_eq!(g.ground, OverrideGround::CompellingLegitimateGrounds);
        assert_eq!(g.ground.citation().as_str(), "GDPR Art. 21(1)");
        assert_eq!(g.purposes, [Purpose::QualityAssurance]);
        assert!(!format!("{g:?}").contains("CANARY-REASON"));
        assert!(g.reason.expose().contains("CANARY-REASON"));
    }

    #[test]
    fn bad_files_are_refused_without_quoting_them() {
        for (text, needle) in [
            (GOOD.replace("version = 1", "version = 2"), "version"),
            (
                GOOD.replace("compelling-legitimate-grounds", "CANARY-X"),
                "`ground`",
            ),
            (
                GOOD.replace(
                    "quality-assurance\", \"quality-assurance",
                    "direct-marketing",
                ),
                "21(3)",
            ),
            (
                GOOD.replace("quality-assurance\", \"quality-assurance", "research"),
                "21(6)",
            ),
            (GOOD.replace("DPO case 2026-14", ""), "`assessment`"),
            (
                GOOD.replace("CANARY-REASON the patient's diagnosis", " "),
                "`reason`",
            ),
            (GOOD.replace("by = \"dpo-1\"", "by = \"\""), "`by`"),
            (format!("{GOOD}extra = \"CANARY-EXTRA\"\n"), "extra"),
            (
                GOOD.replace("[\"quality-assurance\"", "[\"CANARY-P\""),
                "line",
            ),
        ] {
            let e = GroundsFile::from_toml(&text).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains("CANARY"), "{e}");
        }
    }
}
