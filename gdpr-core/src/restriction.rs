//! Restriction of processing (GDPR Art. 18).
//!
//! While a subject's data are restricted, they may only be **stored**, or
//! processed for one of the reasons of Art. 18(2): with the subject's
//! consent, for legal claims, for the protection of the rights of another
//! natural or legal person, or for reasons of important public interest of
//! the Union or a member state.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Citation, Error};

/// Why the subject obtained the restriction: Art. 18(1)(a)–(d).
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestrictionGround {
    /// Art. 18(1)(a): the subject contests the accuracy of the data.
    AccuracyContested,
    /// Art. 18(1)(b): the processing is unlawful and the subject opposes
    /// erasure.
    UnlawfulProcessing,
    /// Art. 18(1)(c): the controller no longer needs the data, but the
    /// subject needs them for legal claims.
    NeededForLegalClaims,
    /// Art. 18(1)(d): the subject objected under Art. 21(1), pending
    /// verification of the controller's grounds.
    ObjectionPending,
}

impl RestrictionGround {
    /// The provision of Art. 18(1) that grants the restriction.
    pub const fn citation(self) -> Citation {
        Citation::from_static(match self {
            Self::AccuracyContested => "GDPR Art. 18(1)(a)",
            Self::UnlawfulProcessing => "GDPR Art. 18(1)(b)",
            Self::NeededForLegalClaims => "GDPR Art. 18(1)(c)",
            Self::ObjectionPending => "GDPR Art. 18(1)(d)",
        })
    }
}

/// A restriction of processing of one subject's data.
///
/// In force from `since` (inclusive) until `lifted-at` (exclusive); a
/// restriction that has not been lifted stays in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RestrictionDraft", rename_all = "kebab-case")]
pub struct Restriction {
    ground: RestrictionGround,
    since: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifted_at: Option<Timestamp>,
}

impl Restriction {
    /// A restriction on `ground`, in force from `since`.
    pub fn new(ground: RestrictionGround, since: Timestamp) -> Self {
        Self {
            ground,
            since,
            lifted_at: None,
        }
    }

    /// The same restriction, lifted at `at` (Art. 18(3): the subject is
    /// informed before it is lifted).
    ///
    /// # Errors
    /// [`Error::InvalidRestriction`] when `at` is before `since`.
    pub fn lifted(mut self, at: Timestamp) -> Result<Self, Error> {
        if at < self.since {
            return Err(Error::InvalidRestriction {
                rule: "a restriction cannot be lifted before it began: \
                       check `lifted-at` against `since`",
            });
        }
        self.lifted_at = Some(at);
        Ok(self)
    }

    /// Why the restriction was granted.
    pub fn ground(&self) -> RestrictionGround {
        self.ground
    }

    /// When the restriction began.
    pub fn since(&self) -> Timestamp {
        self.since
    }

    /// When it was lifted, if it was.
    pub fn lifted_at(&self) -> Option<Timestamp> {
        self.lifted_at
    }

    /// Whether the restriction is in force at `at`.
    pub fn is_active_at(&self, at: Timestamp) -> bool {
        self.since <= at && self.lifted_at.is_none_or(|l| at < l)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RestrictionDraft {
    ground: RestrictionGround,
    since: Timestamp,
    #[serde(default)]
    lifted_at: Option<Timestamp>,
}

impl TryFrom<RestrictionDraft> for Restriction {
    type Error = Error;
    fn try_from(d: RestrictionDraft) -> Result<Self, Error> {
        let r = Restriction::new(d.ground, d.since);
        match d.lifted_at {
            Some(at) => r.lifted(at),
            None => Ok(r),
        }
    }
}

/// A reason of Art. 18(2) on which a restricted subject's data may still be
/// processed. A request names the one it relies on; the authorization checks
/// what it can (storage, consent, the legal-claims purpose) and records the
/// rest in the permit.
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestrictionException {
    /// Storage only, no other processing (Art. 18(2), first half): holds
    /// only for a request whose purpose is `storage`. Any other purpose
    /// needs one of the reasons below.
    StorageOnly,
    /// The data subject consents to this processing: checked against the
    /// subject's consents.
    SubjectConsent,
    /// Establishment, exercise or defence of legal claims: the request's
    /// purpose must be `legal-claims`.
    LegalClaims,
    /// Protection of the rights of another natural or legal person: recorded
    /// as declared by the requester.
    ProtectionOfOthers,
    /// Important public interest of the Union or a member state: recorded as
    /// declared by the requester.
    ImportantPublicInterest,
}

impl RestrictionException {
    /// The provision that allows processing despite the restriction.
    pub const fn citation(self) -> Citation {
        Citation::from_static("GDPR Art. 18(2)")
    }

    /// A one-line description for decisions and reports.
    pub const fn description(self) -> &'static str {
        match self {
            Self::StorageOnly => "storage only",
            Self::SubjectConsent => "with the data subject's consent",
            Self::LegalClaims => "for the establishment, exercise or defence of legal claims",
            Self::ProtectionOfOthers => {
                "for the protection of the rights of another natural or legal person"
            }
            Self::ImportantPublicInterest => {
                "for reasons of important public interest of the Union or a member state"
            }
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
    fn restriction_is_active_from_since_until_lifted() {
        let r = Restriction::new(
            RestrictionGround::AccuracyContested,
            ts("2026-01-01T00:00:00Z"),
        )
        .lifted(ts("2026-02-01T00:00:00Z"))
        .unwrap();
        assert!(!r.is_active_at(ts("2025-12-31T23:59:59Z")));
        assert!(r.is_active_at(ts("2026-01-01T00:00:00Z")));
        assert!(r.is_active_at(ts("2026-01-31T23:59:59Z")));
        assert!(!r.is_active_at(ts("2026-02-01T00:00:00Z")));
    }

    #[test]
    fn lifting_before_start_is_rejected_in_json() {
        let err = serde_json::from_str::<Restriction>(
            r#"{"ground":"objection-pending","since":"2026-02-01T00:00:00Z",
                "lifted-at":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("lifted-at"), "{err}");
    }

    #[test]
    fn grounds_cite_their_letter() {
        assert_eq!(
            RestrictionGround::ObjectionPending.citation().as_str(),
            "GDPR Art. 18(1)(d)"
        );
    }
}
