//! Objections (GDPR Art. 21).
//!
//! - Art. 21(1): a subject may object to processing based on Art. 6(1)(e)
//!   (public task) or (f) (legitimate interests). The controller stops
//!   unless it demonstrates compelling legitimate grounds that override
//!   ([`CompellingGrounds`], recorded on the objection), or the processing
//!   serves legal claims.
//! - Art. 21(2), (3): an objection to direct marketing binds on every basis
//!   and admits no exception.
//! - Art. 21(6): a subject may object to processing for scientific or
//!   historical research or statistics under Art. 89(1), unless the
//!   processing is necessary for a task carried out in the public interest.
//!   Archiving in the public interest is **not** in Art. 21(6): an objection
//!   to archiving falls under Art. 21(1) where the archiving rests on
//!   Art. 6(1)(e) or (f) (in Germany § 28(4) BDSG limits even that).
//!
//! The rule follows the Art. 6(1) basis the activity declares, never its
//! Art. 9(2) condition: health data on Art. 9(2)(h) are reached when their
//! Art. 6 basis is (e) (a public hospital's task) or (f), and not when it
//! is (b) (the treatment contract) or (c) (a documentation duty). Where the
//! text needs reading, the reading is data: [`ObjectionEffect::reading`].

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
    /// The controller's compelling legitimate grounds that override the
    /// objection (Art. 21(1)), once demonstrated and recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden_by: Option<CompellingGrounds>,
}

/// Compelling legitimate grounds for the processing which override the
/// interests, rights and freedoms of the data subject (Art. 21(1)): the
/// controller's case-by-case assessment, made outside this crate and
/// recorded here by reference. They answer an Art. 21(1) objection only:
/// never one to direct marketing (Art. 21(3)) or to research and
/// statistics (Art. 21(6)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CompellingGrounds {
    /// When the controller recorded them; they override from then on.
    pub recorded_at: Timestamp,
    /// The purposes they cover; empty covers every purpose objected to.
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    /// Where the controller's assessment is kept (a case or file
    /// reference; never a patient value).
    pub assessment: String,
}

impl CompellingGrounds {
    /// Whether the grounds cover `purpose` at `at`.
    pub fn cover(&self, purpose: Purpose, at: Timestamp) -> bool {
        self.recorded_at <= at && (self.purposes.is_empty() || self.purposes.contains(&purpose))
    }
}

/// What an objection does to one processing: the outcome of
/// [`Objection::effect`], each with the provision it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectionEffect {
    /// Not in force at the instant, or another purpose was objected to.
    NotCovered,
    /// Art. 21 does not reach processing on this Art. 6(1) basis.
    BasisNotReached {
        /// The basis.
        art6: Art6Basis,
    },
    /// The processing must stop.
    Binds {
        /// `GDPR Art. 21(1)`, `GDPR Art. 21(2), (3)` or `GDPR Art. 21(6)`.
        citation: Citation,
    },
    /// Art. 21(1): the processing serves legal claims.
    LegalClaims,
    /// Art. 21(6): research or statistics necessary for a task in the
    /// public interest (read from the activity's Art. 6(1)(e) basis).
    PublicTask,
    /// Art. 21(1): the controller's compelling legitimate grounds override.
    Overridden {
        /// The grounds.
        grounds: CompellingGrounds,
    },
}

impl ObjectionEffect {
    /// The provision the effect rests on (`None` for
    /// [`ObjectionEffect::NotCovered`]).
    pub fn citation(&self) -> Option<Citation> {
        Some(match self {
            Self::NotCovered => return None,
            Self::Binds { citation } => citation.clone(),
            Self::PublicTask => Citation::from_static("GDPR Art. 21(6)"),
            Self::BasisNotReached { .. } | Self::LegalClaims | Self::Overridden { .. } => {
                Citation::from_static("GDPR Art. 21(1)")
            }
        })
    }

    /// How the law is read to reach this effect, in one sentence.
    pub fn reading(&self) -> &'static str {
        match self {
            Self::NotCovered => "the objection is not in force then, or names other purposes",
            Self::BasisNotReached { .. } => {
                "Art. 21(1) names processing on Art. 6(1)(e) or (f) only; the Art. 9(2) \
                 condition paired with the basis does not change that"
            }
            Self::Binds { citation } if citation.as_str().ends_with("(3)") => {
                "Art. 21(2), (3): an objection to direct marketing binds on every basis, \
                 without exception"
            }
            Self::Binds { citation } if citation.as_str().ends_with("21(6)") => {
                "Art. 21(6) reaches research and statistics under Art. 89(1) on every basis \
                 (on consent beside its withdrawal), unless necessary for a task in the public \
                 interest, read as an activity on Art. 6(1)(e)"
            }
            Self::Binds { .. } => {
                "Art. 21(1) reaches processing on Art. 6(1)(e) or (f), whatever the Art. 9(2) \
                 condition paired with it; the controller stops unless it demonstrates \
                 compelling legitimate grounds or the purpose is legal claims"
            }
            Self::LegalClaims => {
                "Art. 21(1): processing for the establishment, exercise or defence of legal \
                 claims continues despite the objection"
            }
            Self::PublicTask => {
                "Art. 21(6): research or statistics necessary for a task in the public \
                 interest (the activity's Art. 6(1)(e) basis) continue despite the objection"
            }
            Self::Overridden { .. } => {
                "Art. 21(1): the controller demonstrated compelling legitimate grounds that \
                 override the subject's interests, rights and freedoms"
            }
        }
    }
}

impl Objection {
    /// An objection to every purpose, lodged at `lodged_at`.
    pub fn to_all(lodged_at: Timestamp) -> Self {
        Self::new(lodged_at, Vec::new())
    }

    /// An objection to `purposes` (empty: every purpose), lodged at
    /// `lodged_at`, not overridden.
    pub fn new(lodged_at: Timestamp, purposes: Vec<Purpose>) -> Self {
        Self {
            lodged_at,
            purposes,
            overridden_by: None,
        }
    }

    /// Whether the objection, in force at `at`, stops processing for
    /// `purpose` on `art6`. Returns the provision that makes it binding, or
    /// `None` when it does not apply or an exception of Art. 21 holds.
    pub fn binds(&self, purpose: Purpose, art6: Art6Basis, at: Timestamp) -> Option<Citation> {
        match self.effect(purpose, art6, at) {
            ObjectionEffect::Binds { citation } => Some(citation),
            _ => None,
        }
    }

    /// What the objection, at `at`, does to processing for `purpose` on
    /// `art6`: the rules of Art. 21(1), (2)–(3) and (6) in that order of
    /// precedence (direct marketing first, then research and statistics,
    /// then the rest).
    pub fn effect(&self, purpose: Purpose, art6: Art6Basis, at: Timestamp) -> ObjectionEffect {
        let in_force = self.lodged_at <= at;
        let covers = self.purposes.is_empty() || self.purposes.contains(&purpose);
        // Answering the subject's own request is owed (Art. 12(2)); it is
        // not the processing objected to.
        if !in_force || !covers || purpose == Purpose::DataSubjectRequest {
            return ObjectionEffect::NotCovered;
        }
        if purpose == Purpose::DirectMarketing {
            return ObjectionEffect::Binds {
                citation: Citation::from_static("GDPR Art. 21(2), (3)"),
            };
        }
        if matches!(purpose, Purpose::Research | Purpose::Statistics) {
            return if art6 == Art6Basis::PublicTask {
                ObjectionEffect::PublicTask
            } else {
                ObjectionEffect::Binds {
                    citation: Citation::from_static("GDPR Art. 21(6)"),
                }
            };
        }
        if !matches!(art6, Art6Basis::PublicTask | Art6Basis::LegitimateInterests) {
            return ObjectionEffect::BasisNotReached { art6 };
        }
        if purpose == Purpose::LegalClaims {
            return ObjectionEffect::LegalClaims;
        }
        match &self.overridden_by {
            Some(g) if g.cover(purpose, at) => ObjectionEffect::Overridden { grounds: g.clone() },
            _ => ObjectionEffect::Binds {
                citation: Citation::from_static("GDPR Art. 21(1)"),
            },
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
        let o = Objection::new(ts("2026-01-01T00:00:00Z"), vec![Purpose::Research]);
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

    fn grounds(at: &str, purposes: Vec<Purpose>) -> CompellingGrounds {
        CompellingGrounds {
            recorded_at: ts(at),
            purposes,
            assessment: "DPO case 2026-14".into(),
        }
    }

    #[test]
    fn compelling_grounds_override_art21_1_from_their_recording_on() {
        let mut o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        o.overridden_by = Some(grounds(
            "2026-02-01T00:00:00Z",
            vec![Purpose::QualityAssurance],
        ));
        let qa = Purpose::QualityAssurance;
        let f = Art6Basis::LegitimateInterests;
        assert!(matches!(
            o.effect(qa, f, ts("2026-01-15T00:00:00Z")),
            ObjectionEffect::Binds { .. }
        ));
        let e = o.effect(qa, f, ts("2026-02-01T00:00:00Z"));
        assert!(matches!(e, ObjectionEffect::Overridden { .. }), "{e:?}");
        assert_eq!(e.citation().unwrap().as_str(), "GDPR Art. 21(1)");
        // Not for a purpose the grounds do not cover.
        assert!(matches!(
            o.effect(Purpose::HealthcareManagement, f, ts("2026-03-01T00:00:00Z")),
            ObjectionEffect::Binds { .. }
        ));
    }

    #[test]
    fn grounds_never_answer_direct_marketing_or_research() {
        let mut o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        o.overridden_by = Some(grounds("2026-01-01T00:00:00Z", Vec::new()));
        let at = ts("2026-03-01T00:00:00Z");
        for basis in Art6Basis::ALL {
            assert_eq!(
                o.binds(Purpose::DirectMarketing, basis, at),
                Some(Citation::from_static("GDPR Art. 21(2), (3)")),
                "{basis:?}"
            );
        }
        assert_eq!(
            o.binds(Purpose::Research, Art6Basis::LegitimateInterests, at),
            Some(Citation::from_static("GDPR Art. 21(6)"))
        );
    }

    #[test]
    fn answering_the_subject_is_never_objected_to() {
        let o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        let at = ts("2026-03-01T00:00:00Z");
        assert_eq!(
            o.effect(Purpose::DataSubjectRequest, Art6Basis::PublicTask, at),
            ObjectionEffect::NotCovered
        );
    }

    #[test]
    fn every_effect_but_not_covered_cites_and_reads() {
        let o = Objection::to_all(ts("2026-01-01T00:00:00Z"));
        let at = ts("2026-03-01T00:00:00Z");
        for p in Purpose::ALL {
            for b in Art6Basis::ALL {
                let e = o.effect(p, b, at);
                assert_eq!(e.citation().is_none(), e == ObjectionEffect::NotCovered);
                assert!(!e.reading().is_empty());
            }
        }
    }
}
