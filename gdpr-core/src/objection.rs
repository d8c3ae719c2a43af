//! Objections (GDPR Art. 21).
//!
//! - Art. 21(1): a subject may object to processing based on Art. 6(1)(e)
//!   (public task) or (f) (legitimate interests). The controller stops
//!   unless it demonstrates compelling legitimate grounds, or the processing
//!   serves legal claims.
//! - Art. 21(6): a subject may object to processing for scientific or
//!   historical research or statistics under Art. 89(1), unless the
//!   processing is necessary for a task carried out in the public interest.
//!   Archiving in the public interest is **not** in Art. 21(6): an objection
//!   to archiving falls under Art. 21(1) where the archiving rests on
//!   Art. 6(1)(e) or (f) (in Germany § 28(4) BDSG limits even that).
//!
//! Compelling legitimate grounds are a case-by-case assessment this crate
//! does not make: once the controller has demonstrated them, record that by
//! ending the objection (remove it from the subject's state) and keep the
//! assessment with the record of processing.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::basis::Art6Basis;
use crate::purpose::Purpose;

/// An objection lodged by a data subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Objection {
    /// When the objection was lodged; it takes effect at that instant.
    pub lodged_at: Timestamp,
    /// The purposes objected to. An empty list objects to every purpose
    /// (the usual case: "stop processing my data").
    #[serde(default)]
    pub purposes: Vec<Purpose>,
}

impl Objection {
    /// An objection to every purpose, lodged at `lodged_at`.
    pub fn to_all(lodged_at: Timestamp) -> Self {
        Self {
            lodged_at,
            purposes: Vec::new(),
        }
    }

    /// Whether the objection, in force at `at`, stops processing for
    /// `purpose` on `art6`. Returns the provision that makes it binding, or
    /// `None` when it does not apply or an exception of Art. 21 holds.
    pub fn binds(&self, purpose: Purpose, art6: Art6Basis, at: Timestamp) -> Option<Citation> {
        let in_force = self.lodged_at <= at;
        let covers = self.purposes.is_empty() || self.purposes.contains(&purpose);
        if !in_force || !covers {
            return None;
        }
        if matches!(purpose, Purpose::Research | Purpose::Statistics) {
            // Art. 21(6): research and statistics, not archiving; the
            // public-task exception.
            (art6 != Art6Basis::PublicTask).then_some(Citation::from_static("GDPR Art. 21(6)"))
        } else if matches!(art6, Art6Basis::PublicTask | Art6Basis::LegitimateInterests) {
            // Art. 21(1): legal claims are an exception.
            (purpose != Purpose::LegalClaims).then_some(Citation::from_static("GDPR Art. 21(1)"))
        } else {
            None
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
    fn objection_binds_legitimate_interests_from_lodging_on() {
        let o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        let before = ts("2025-12-31T23:59:59Z");
        let at = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            o.binds(
                Purpose::QualityAssurance,
                Art6Basis::LegitimateInterests,
                before
            ),
            None
        );
        assert_eq!(
            o.binds(
                Purpose::QualityAssurance,
                Art6Basis::LegitimateInterests,
                at
            ),
            Some(Citation::from_static("GDPR Art. 21(1)"))
        );
    }

    #[test]
    fn objection_does_not_reach_contract_or_legal_claims() {
        let o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        let at = ts("2026-03-01T00:00:00Z");
        assert_eq!(o.binds(Purpose::Treatment, Art6Basis::Contract, at), None);
        assert_eq!(
            o.binds(Purpose::LegalClaims, Art6Basis::LegitimateInterests, at),
            None
        );
    }

    #[test]
    fn research_objection_yields_only_to_public_task() {
        let o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        let at = ts("2026-03-01T00:00:00Z");
        assert_eq!(
            o.binds(Purpose::Research, Art6Basis::LegitimateInterests, at),
            Some(Citation::from_static("GDPR Art. 21(6)"))
        );
        assert_eq!(o.binds(Purpose::Research, Art6Basis::PublicTask, at), None);
    }

    #[test]
    fn archiving_is_not_in_art21_6() {
        let o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        let at = ts("2026-03-01T00:00:00Z");
        // Art. 21(6) would bind archiving on legitimate interests and on
        // consent; Art. 21(1) binds it only on (e) or (f).
        assert_eq!(
            o.binds(Purpose::Archiving, Art6Basis::LegitimateInterests, at),
            Some(Citation::from_static("GDPR Art. 21(1)"))
        );
        assert_eq!(
            o.binds(Purpose::Archiving, Art6Basis::PublicTask, at),
            Some(Citation::from_static("GDPR Art. 21(1)"))
        );
        assert_eq!(
            o.binds(Purpose::Archiving, Art6Basis::LegalObligation, at),
            None
        );
        assert_eq!(
            o.binds(Purpose::Statistics, Art6Basis::LegitimateInterests, at),
            Some(Citation::from_static("GDPR Art. 21(6)"))
        );
    }

    #[test]
    fn objection_scoped_to_purposes() {
        let o = Objection {
            lodged_at: ts("2026-01-01T00:00:00Z"),
            purposes: vec![Purpose::Research],
        };
        let at = ts("2026-03-01T00:00:00Z");
        assert_eq!(
            o.binds(
                Purpose::QualityAssurance,
                Art6Basis::LegitimateInterests,
                at
            ),
            None
        );
    }
}
