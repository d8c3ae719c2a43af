//! What the subject asks for: the rights of GDPR Art. 15 to 21 that a
//! request carries out, each with its citation.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::erasure::ErasureGround;
use crate::objection::Objection;
use crate::purpose::Purpose;
use crate::request::error::RequestError;
use crate::restriction::{Restriction, RestrictionGround};
use crate::subject::SubjectState;

/// The kind of a data-subject request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum RequestKind {
    /// Access to the data and the information of Art. 15(1)(a)–(h), with a
    /// copy (Art. 15(3)).
    Access,
    /// The data the subject provided, in a structured, machine-readable
    /// format (Art. 20(1)).
    Portability,
    /// Erasure on a ground of Art. 17(1).
    Erasure {
        /// The ground invoked.
        ground: ErasureGround,
    },
    /// Restriction of processing on a ground of Art. 18(1).
    Restriction {
        /// The ground invoked.
        ground: RestrictionGround,
    },
    /// Lifting a restriction (Art. 18(3): the subject is told before).
    LiftRestriction,
    /// Rectification of inaccurate data (Art. 16): a manual task in the
    /// source systems, tracked by the request.
    Rectification,
    /// An objection (Art. 21(1) or 21(6)), recorded into the subject's
    /// state, where authorization reads it.
    Objection {
        /// The purposes objected to; empty objects to every purpose.
        #[serde(default)]
        purposes: Vec<Purpose>,
    },
}

impl RequestKind {
    /// The stable name (`"access"`, `"erasure"`, `"lift-restriction"`, …),
    /// as in JSON and audit records.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Portability => "portability",
            Self::Erasure { .. } => "erasure",
            Self::Restriction { .. } => "restriction",
            Self::LiftRestriction => "lift-restriction",
            Self::Rectification => "rectification",
            Self::Objection { .. } => "objection",
        }
    }

    /// The provision granting the right (for erasure and restriction: the
    /// ground invoked).
    pub fn citation(&self) -> Citation {
        match self {
            Self::Access => Citation::from_static("GDPR Art. 15"),
            Self::Portability => Citation::from_static("GDPR Art. 20"),
            Self::Erasure { ground } => ground.citation(),
            Self::Restriction { ground } => ground.citation(),
            Self::LiftRestriction => Citation::from_static("GDPR Art. 18(3)"),
            Self::Rectification => Citation::from_static("GDPR Art. 16"),
            Self::Objection { .. } => Citation::from_static("GDPR Art. 21"),
        }
    }

    /// Whether carrying it out is a manual task the request only tracks
    /// (rectification: what is accurate is for a person to decide).
    pub const fn is_manual(&self) -> bool {
        matches!(self, Self::Rectification)
    }

    /// Whether the recipients of disclosures must be told of it (Art. 19:
    /// rectification, erasure, restriction).
    pub const fn notifies_recipients(&self) -> bool {
        matches!(
            self,
            Self::Rectification | Self::Erasure { .. } | Self::Restriction { .. }
        )
    }

    /// Records the request into the subject's state, where authorization
    /// reads it: an objection is added, lodged at `at`; a restriction is
    /// added, in force from `at`; lifting ends every restriction in force
    /// at `at`. Other kinds change nothing there and return `false`.
    ///
    /// # Errors
    /// [`RequestError::Core`] when a restriction would be lifted before it
    /// began.
    pub fn record_into(
        &self,
        state: &mut SubjectState,
        at: Timestamp,
    ) -> Result<bool, RequestError> {
        match self {
            Self::Objection { purposes } => {
                state.objections.push(Objection::new(at, purposes.clone()));
                Ok(true)
            }
            Self::Restriction { ground } => {
                state.restrictions.push(Restriction::new(*ground, at));
                Ok(true)
            }
            Self::LiftRestriction => {
                let mut changed = false;
                for r in &mut state.restrictions {
                    if r.is_active_at(at) {
                        *r = r.clone().lifted(at)?;
                        changed = true;
                    }
                }
                Ok(changed)
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn every_kind_cites_its_article() {
        let cases = [
            (RequestKind::Access, "GDPR Art. 15"),
            (RequestKind::Portability, "GDPR Art. 20"),
            (
                RequestKind::Erasure {
                    ground: ErasureGround::ConsentWithdrawn,
                },
                "GDPR Art. 17(1)(b)",
            ),
            (
                RequestKind::Restriction {
                    ground: RestrictionGround::AccuracyContested,
                },
                "GDPR Art. 18(1)(a)",
            ),
            (RequestKind::LiftRestriction, "GDPR Art. 18(3)"),
            (RequestKind::Rectification, "GDPR Art. 16"),
            (RequestKind::Objection { purposes: vec![] }, "GDPR Art. 21"),
        ];
        for (kind, cite) in cases {
            assert_eq!(kind.citation().as_str(), cite, "{}", kind.name());
        }
    }

    #[test]
    fn stable_json_names() {
        let k = RequestKind::Erasure {
            ground: ErasureGround::NoLongerNecessary,
        };
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, r#"{"kind":"erasure","ground":"no-longer-necessary"}"#);
        let back: RequestKind = serde_json::from_str(r#"{"kind":"lift-restriction"}"#).unwrap();
        assert_eq!(back, RequestKind::LiftRestriction);
        // Unknown fields are refused on the variants with fields (serde
        // does not check them on unit variants of an internally tagged enum).
        let extra = r#"{"kind":"erasure","ground":"objection","x":1}"#;
        assert!(serde_json::from_str::<RequestKind>(extra).is_err());
        assert!(serde_json::from_str::<RequestKind>(r#"{"kind":"erase"}"#).is_err());
    }

    #[test]
    fn objection_and_restriction_land_in_the_subject_state() {
        let mut state = SubjectState::default();
        let at = ts("2026-03-01T09:00:00Z");
        let objection = RequestKind::Objection {
            purposes: vec![Purpose::Research],
        };
        assert!(objection.record_into(&mut state, at).unwrap());
        assert_eq!(state.objections[0].lodged_at, at);
        assert_eq!(state.objections[0].purposes, [Purpose::Research]);

        let restrict = RequestKind::Restriction {
            ground: RestrictionGround::AccuracyContested,
        };
        assert!(restrict.record_into(&mut state, at).unwrap());
        assert!(state.restrictions[0].is_active_at(at));

        let later = ts("2026-03-10T09:00:00Z");
        assert!(
            RequestKind::LiftRestriction
                .record_into(&mut state, later)
                .unwrap()
        );
        assert!(!state.restrictions[0].is_active_at(later));
        assert!(
            !RequestKind::LiftRestriction
                .record_into(&mut state, later)
                .unwrap()
        );
        assert!(!RequestKind::Access.record_into(&mut state, later).unwrap());
    }

    #[test]
    fn art19_covers_rectification_erasure_restriction_only() {
        assert!(RequestKind::Rectification.notifies_recipients());
        assert!(!RequestKind::Access.notifies_recipients());
        assert!(!RequestKind::Objection { purposes: vec![] }.notifies_recipients());
        assert!(RequestKind::Rectification.is_manual());
    }
}
