//! Explicit consent (GDPR Art. 9(2)(a), Art. 6(1)(a), Art. 7): given at a
//! time, scoped to purposes, withdrawable.
//!
//! A consent is valid from the moment it was given up to — but **not**
//! including — the moment it was withdrawn (Art. 7(3): withdrawal stops
//! further processing; it does not undo what was lawful before).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::purpose::Purpose;

/// An explicit consent of a data subject for one or more specified purposes.
///
/// Every consent this crate handles is treated as *explicit* consent in the
/// sense of Art. 9(2)(a); it therefore also serves as consent under
/// Art. 6(1)(a). Record only consents that meet Art. 7 and Art. 9(2)(a).
///
/// ```
/// use gdpr_core::consent::Consent;
/// use gdpr_core::purpose::Purpose;
/// use jiff::Timestamp;
///
/// let given: Timestamp = "2026-01-10T08:00:00Z".parse()?;
/// let consent = Consent::new(vec![Purpose::Research], given)?
///     .withdrawn("2026-06-01T00:00:00Z".parse()?)?;
/// assert!(consent.covers(Purpose::Research, "2026-05-31T23:59:59Z".parse()?));
/// assert!(!consent.covers(Purpose::Research, "2026-06-01T00:00:00Z".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConsentDraft", rename_all = "kebab-case")]
pub struct Consent {
    purposes: Vec<Purpose>,
    given_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawn_at: Option<Timestamp>,
}

impl Consent {
    /// A consent given at `given_at` for `purposes`.
    ///
    /// # Errors
    /// [`Error::InvalidConsent`] when `purposes` is empty: Art. 9(2)(a)
    /// requires "one or more specified purposes".
    pub fn new(purposes: Vec<Purpose>, given_at: Timestamp) -> Result<Self, Error> {
        if purposes.is_empty() {
            return Err(Error::InvalidConsent {
                rule: "a consent names one or more purposes (GDPR Art. 9(2)(a)); \
                       list them in `purposes`",
            });
        }
        Ok(Self {
            purposes,
            given_at,
            withdrawn_at: None,
        })
    }

    /// The same consent, withdrawn at `at` (Art. 7(3)).
    ///
    /// # Errors
    /// [`Error::InvalidConsent`] when `at` is before the consent was given.
    pub fn withdrawn(mut self, at: Timestamp) -> Result<Self, Error> {
        if at < self.given_at {
            return Err(Error::InvalidConsent {
                rule: "a consent cannot be withdrawn before it was given: \
                       check `withdrawn-at` against `given-at`",
            });
        }
        self.withdrawn_at = Some(at);
        Ok(self)
    }

    /// The purposes the subject consented to.
    pub fn purposes(&self) -> &[Purpose] {
        &self.purposes
    }

    /// When the consent was given.
    pub fn given_at(&self) -> Timestamp {
        self.given_at
    }

    /// When the consent was withdrawn, if it was.
    pub fn withdrawn_at(&self) -> Option<Timestamp> {
        self.withdrawn_at
    }

    /// Whether the consent is in force at `at`: given at or before `at`, and
    /// not withdrawn at or before `at`.
    pub fn is_valid_at(&self, at: Timestamp) -> bool {
        self.given_at <= at && self.withdrawn_at.is_none_or(|w| at < w)
    }

    /// Whether the consent was withdrawn at or before `at`.
    pub fn is_withdrawn_at(&self, at: Timestamp) -> bool {
        self.withdrawn_at.is_some_and(|w| w <= at)
    }

    /// Whether the consent covers `purpose` and is in force at `at`.
    pub fn covers(&self, purpose: Purpose, at: Timestamp) -> bool {
        self.is_valid_at(at) && self.purposes.contains(&purpose)
    }
}

/// The unchecked form of a [`Consent`] as it arrives from JSON.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ConsentDraft {
    purposes: Vec<Purpose>,
    given_at: Timestamp,
    #[serde(default)]
    withdrawn_at: Option<Timestamp>,
}

impl TryFrom<ConsentDraft> for Consent {
    type Error = Error;
    fn try_from(d: ConsentDraft) -> Result<Self, Error> {
        let consent = Consent::new(d.purposes, d.given_at)?;
        match d.withdrawn_at {
            Some(at) => consent.withdrawn(at),
            None => Ok(consent),
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
    fn withdrawal_is_effective_from_its_instant_inclusive() {
        let c = Consent::new(vec![Purpose::Research], ts("2026-01-01T00:00:00Z"))
            .unwrap()
            .withdrawn(ts("2026-02-01T00:00:00Z"))
            .unwrap();
        assert!(c.covers(Purpose::Research, ts("2026-01-31T23:59:59Z")));
        assert!(!c.covers(Purpose::Research, ts("2026-02-01T00:00:00Z")));
        assert!(c.is_withdrawn_at(ts("2026-02-01T00:00:00Z")));
        assert!(!c.is_withdrawn_at(ts("2026-01-31T23:59:59Z")));
    }

    #[test]
    fn consent_does_not_reach_back_before_it_was_given() {
        let c = Consent::new(vec![Purpose::Treatment], ts("2026-01-01T00:00:00Z")).unwrap();
        assert!(!c.covers(Purpose::Treatment, ts("2025-12-31T23:59:59Z")));
        assert!(c.covers(Purpose::Treatment, ts("2026-01-01T00:00:00Z")));
    }

    #[test]
    fn consent_is_scoped_to_its_purposes() {
        let c = Consent::new(vec![Purpose::Research], ts("2026-01-01T00:00:00Z")).unwrap();
        assert!(!c.covers(Purpose::Billing, ts("2026-03-01T00:00:00Z")));
    }

    #[test]
    fn json_is_checked_like_the_constructor() {
        let err =
            serde_json::from_str::<Consent>(r#"{"purposes":[],"given-at":"2026-01-01T00:00:00Z"}"#)
                .unwrap_err();
        assert!(err.to_string().contains("purposes"), "{err}");
        let err = serde_json::from_str::<Consent>(
            r#"{"purposes":["research"],"given-at":"2026-01-02T00:00:00Z",
                "withdrawn-at":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("withdrawn-at"), "{err}");
    }

    #[test]
    fn round_trips_with_kebab_case_names() {
        let c = Consent::new(vec![Purpose::Research], ts("2026-01-01T00:00:00Z"))
            .unwrap()
            .withdrawn(ts("2026-02-01T00:00:00Z"))
            .unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"given-at\"") && json.contains("\"withdrawn-at\""));
        assert_eq!(serde_json::from_str::<Consent>(&json).unwrap(), c);
    }
}
