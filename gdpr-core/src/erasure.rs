//! Deciding an erasure request (GDPR Art. 17): erase, keep because a
//! statute demands it (Art. 17(3)(b)), or restrict instead of erasing
//! (in Germany § 35 BDSG).
//!
//! An erasure request is a reason to **erase**, within the deadline of
//! Art. 12(3) (one month, extendable by two), never a reason to keep the
//! data: what is kept is the request's own record — who asked, when, what
//! was done — for accountability (Art. 5(2)).
//!
//! Two different things can stand in the way, and the decision keeps them
//! apart in its reasons:
//!
//! - a period set **by statute** (e.g. § 630f(3) BGB): the right to erasure
//!   does not arise, Art. 17(3)(b); the record is kept, used only for what
//!   the duty serves, and erased when the period ends;
//! - the German substitutes of **§ 35 BDSG**, which replace erasure by a
//!   restriction of processing (Art. 18):
//!   - § 35(1): non-automated processing (a film archive) where erasure is
//!     impossible or needs disproportionate effort because of the kind of
//!     storage and the subject's interest in erasure is low — not where the
//!     data were processed unlawfully (§ 35(1) S. 2);
//!   - § 35(2): erasure under Art. 17(1)(a) or (d) would harm the subject's
//!     legitimate interests; the subject is told of the restriction;
//!   - § 35(3): a by-law (*satzungsgemäße*) or contractual retention period
//!     forbids erasure of data no longer needed — only for Art. 17(1)(a).
//!
//! ```
//! use gdpr_core::Citation;
//! use gdpr_core::erasure::{ErasureGround, ErasureOutcome, Obstacle, decide_erasure};
//!
//! let kept = decide_erasure(
//!     ErasureGround::NoLongerNecessary,
//!     &[Obstacle::StatutoryRetention { source: Citation::from_static("§ 630f(3) BGB") }],
//! );
//! assert_eq!(kept.outcome, ErasureOutcome::KeepForStatute);
//! assert_eq!(kept.reasons[0].citation.as_str(), "GDPR Art. 17(3)(b)");
//! ```

use serde::{Deserialize, Serialize};

use crate::Citation;

/// The ground of Art. 17(1) on which erasure is asked for or due.
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErasureGround {
    /// (a) the data are no longer necessary for their purposes.
    NoLongerNecessary,
    /// (b) the subject withdrew the consent the processing rested on.
    ConsentWithdrawn,
    /// (c) the subject objected under Art. 21(1) or (2).
    Objection,
    /// (d) the data were processed unlawfully.
    UnlawfulProcessing,
    /// (e) erasure is required by a legal obligation.
    LegalObligation,
    /// (f) the data were collected from a child for an information-society
    /// service.
    ChildInformationSociety,
}

impl ErasureGround {
    /// The letter of Art. 17(1).
    pub const fn citation(self) -> Citation {
        Citation::from_static(match self {
            Self::NoLongerNecessary => "GDPR Art. 17(1)(a)",
            Self::ConsentWithdrawn => "GDPR Art. 17(1)(b)",
            Self::Objection => "GDPR Art. 17(1)(c)",
            Self::UnlawfulProcessing => "GDPR Art. 17(1)(d)",
            Self::LegalObligation => "GDPR Art. 17(1)(e)",
            Self::ChildInformationSociety => "GDPR Art. 17(1)(f)",
        })
    }
}

/// A fact the controller has established that may stand in the way of
/// erasure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Obstacle {
    /// A retention period set by Union or member-state **statute** still
    /// runs (Art. 17(3)(b)).
    StatutoryRetention {
        /// The statute, e.g. `"§ 630f(3) BGB"`.
        source: Citation,
    },
    /// A retention period set by **by-law or contract** still runs
    /// (§ 35(3) BDSG).
    BylawOrContractualRetention {
        /// The by-law or contract, e.g. `"Archivsatzung § 4"`.
        source: Citation,
    },
    /// Non-automated processing where erasure is impossible or needs
    /// disproportionate effort because of the kind of storage, and the
    /// subject's interest in erasure is low (§ 35(1) S. 1 BDSG).
    DisproportionateNonAutomated,
    /// There is reason to assume that erasure would harm the subject's
    /// legitimate interests (§ 35(2) S. 1 BDSG).
    HarmsSubjectInterests,
}

/// What becomes of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErasureOutcome {
    /// Erase without undue delay, answering within Art. 12(3); keep only
    /// the request's own record.
    Erase,
    /// Keep until the statutory period ends (Art. 17(3)(b)), using the data
    /// only for what the statute keeps them for; then erase.
    KeepForStatute,
    /// Restrict processing instead of erasing (§ 35 BDSG with Art. 18).
    RestrictInstead,
}

/// One reason of an erasure decision, with its source. `applied` is false
/// for an obstacle the decision names but that does not hold for the
/// ground (so the record says why it was not followed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReason {
    /// The provision.
    pub citation: Citation,
    /// Whether it shaped the outcome.
    pub applied: bool,
    /// What it means here.
    pub message: String,
}

/// The decision on one erasure request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureDecision {
    /// Erase, keep or restrict.
    pub outcome: ErasureOutcome,
    /// Whether the subject must be told of a restriction (§ 35(2) S. 2
    /// BDSG, unless impossible or disproportionate).
    pub inform_subject: bool,
    /// Every reason, applied ones first.
    pub reasons: Vec<ErasureReason>,
}

/// Decides an erasure request on `ground`, given the `obstacles` the
/// controller has established.
pub fn decide_erasure(ground: ErasureGround, obstacles: &[Obstacle]) -> ErasureDecision {
    let mut reasons: Vec<ErasureReason> = obstacles.iter().map(|o| weigh(ground, o)).collect();
    reasons.sort_by_key(|r| !r.applied);
    let applied = |o: &&Obstacle| weigh(ground, o).applied;
    let statute = obstacles
        .iter()
        .filter(applied)
        .any(|o| matches!(o, Obstacle::StatutoryRetention { .. }));
    let restrict = obstacles
        .iter()
        .filter(applied)
        .any(|o| !matches!(o, Obstacle::StatutoryRetention { .. }));
    let outcome = if statute {
        ErasureOutcome::KeepForStatute
    } else if restrict {
        ErasureOutcome::RestrictInstead
    } else {
        reasons.insert(
            0,
            ErasureReason {
                citation: ground.citation(),
                applied: true,
                message: "erase without undue delay and answer within one month \
                          (GDPR Art. 12(3)); keep the request's own record, not the data"
                    .into(),
            },
        );
        ErasureOutcome::Erase
    };
    let inform_subject = outcome == ErasureOutcome::RestrictInstead
        && obstacles
            .iter()
            .filter(applied)
            .any(|o| *o == Obstacle::HarmsSubjectInterests);
    ErasureDecision {
        outcome,
        inform_subject,
        reasons,
    }
}

/// Whether `obstacle` holds for `ground`, and why.
fn weigh(ground: ErasureGround, obstacle: &Obstacle) -> ErasureReason {
    use ErasureGround as G;
    let (citation, applied, message) = match obstacle {
        Obstacle::StatutoryRetention { source } => (
            Citation::from_static("GDPR Art. 17(3)(b)"),
            true,
            format!(
                "the statutory period of {source} still runs: no right to erasure; keep the \
                 data only for what {source} serves, and erase when it ends"
            ),
        ),
        Obstacle::BylawOrContractualRetention { source } => {
            let a = ground == G::NoLongerNecessary;
            let message = if a {
                format!(
                    "the by-law or contractual period of {source} forbids erasure: restrict \
                     processing instead (Art. 18) while it runs"
                )
            } else {
                format!(
                    "{source} is a by-law or contractual period, which replaces erasure only \
                     under Art. 17(1)(a), not under {}; a statutory period would be \
                     Art. 17(3)(b)",
                    ground.citation()
                )
            };
            (Citation::from_static("§ 35(3) BDSG"), a, message)
        }
        Obstacle::DisproportionateNonAutomated if ground == G::UnlawfulProcessing => (
            Citation::from_static("§ 35(1) S. 2 BDSG"),
            false,
            "the data were processed unlawfully: § 35(1) does not replace their erasure".into(),
        ),
        Obstacle::DisproportionateNonAutomated => (
            Citation::from_static("§ 35(1) BDSG"),
            true,
            "non-automated storage where erasure is impossible or disproportionate and the \
             subject's interest in it is low: restrict processing instead (Art. 18)"
                .into(),
        ),
        Obstacle::HarmsSubjectInterests => {
            let a = matches!(ground, G::NoLongerNecessary | G::UnlawfulProcessing);
            let message = if a {
                "erasure would harm the subject's legitimate interests: restrict processing \
                 instead (Art. 18) and tell the subject (§ 35(2) S. 2 BDSG)"
                    .to_owned()
            } else {
                format!(
                    "§ 35(2) BDSG replaces erasure only under Art. 17(1)(a) and (d), not under {}",
                    ground.citation()
                )
            };
            (Citation::from_static("§ 35(2) BDSG"), a, message)
        }
    };
    ErasureReason {
        citation,
        applied,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statute() -> Obstacle {
        Obstacle::StatutoryRetention {
            source: Citation::from_static("§ 630f(3) BGB"),
        }
    }

    fn bylaw() -> Obstacle {
        Obstacle::BylawOrContractualRetention {
            source: Citation::from_static("Archivsatzung § 4"),
        }
    }

    fn cites(d: &ErasureDecision) -> Vec<(&str, bool)> {
        d.reasons
            .iter()
            .map(|r| (r.citation.as_str(), r.applied))
            .collect()
    }

    #[test]
    fn without_obstacles_the_data_are_erased_not_kept_for_the_request() {
        let d = decide_erasure(ErasureGround::ConsentWithdrawn, &[]);
        assert_eq!(d.outcome, ErasureOutcome::Erase);
        assert_eq!(cites(&d), [("GDPR Art. 17(1)(b)", true)]);
        assert!(d.reasons[0].message.contains("Art. 12(3)"));
        assert!(d.reasons[0].message.contains("request's own record"));
    }

    #[test]
    fn a_statutory_period_is_art17_3_b_not_section_35_3() {
        let d = decide_erasure(ErasureGround::NoLongerNecessary, &[statute()]);
        assert_eq!(d.outcome, ErasureOutcome::KeepForStatute);
        assert_eq!(cites(&d), [("GDPR Art. 17(3)(b)", true)]);
        assert!(d.reasons[0].message.contains("§ 630f(3) BGB"));
    }

    #[test]
    fn bylaw_or_contract_restricts_only_under_art17_1_a() {
        let d = decide_erasure(ErasureGround::NoLongerNecessary, &[bylaw()]);
        assert_eq!(d.outcome, ErasureOutcome::RestrictInstead);
        assert_eq!(cites(&d), [("§ 35(3) BDSG", true)]);

        let d = decide_erasure(ErasureGround::ConsentWithdrawn, &[bylaw()]);
        assert_eq!(d.outcome, ErasureOutcome::Erase);
        assert_eq!(
            cites(&d),
            [("GDPR Art. 17(1)(b)", true), ("§ 35(3) BDSG", false)]
        );
        assert!(d.reasons[1].message.contains("Art. 17(3)(b)"));
    }

    #[test]
    fn film_archive_restricts_unless_processed_unlawfully() {
        let o = [Obstacle::DisproportionateNonAutomated];
        let d = decide_erasure(ErasureGround::Objection, &o);
        assert_eq!(d.outcome, ErasureOutcome::RestrictInstead);
        assert_eq!(cites(&d), [("§ 35(1) BDSG", true)]);
        assert!(!d.inform_subject);

        let d = decide_erasure(ErasureGround::UnlawfulProcessing, &o);
        assert_eq!(d.outcome, ErasureOutcome::Erase);
        assert_eq!(
            cites(&d),
            [("GDPR Art. 17(1)(d)", true), ("§ 35(1) S. 2 BDSG", false)]
        );
    }

    #[test]
    fn harm_to_the_subject_restricts_under_a_and_d_and_informs() {
        let o = [Obstacle::HarmsSubjectInterests];
        for g in [
            ErasureGround::NoLongerNecessary,
            ErasureGround::UnlawfulProcessing,
        ] {
            let d = decide_erasure(g, &o);
            assert_eq!(d.outcome, ErasureOutcome::RestrictInstead, "{g:?}");
            assert_eq!(cites(&d), [("§ 35(2) BDSG", true)]);
            assert!(d.inform_subject);
        }
        let d = decide_erasure(ErasureGround::ConsentWithdrawn, &o);
        assert_eq!(d.outcome, ErasureOutcome::Erase);
    }

    #[test]
    fn statute_and_section_35_are_kept_apart_in_the_reasons() {
        let d = decide_erasure(ErasureGround::NoLongerNecessary, &[bylaw(), statute()]);
        assert_eq!(d.outcome, ErasureOutcome::KeepForStatute);
        assert_eq!(
            cites(&d),
            [("§ 35(3) BDSG", true), ("GDPR Art. 17(3)(b)", true)]
        );
        assert!(d.reasons[0].message.contains("Archivsatzung § 4"));
        assert!(d.reasons[1].message.contains("§ 630f(3) BGB"));
    }

    #[test]
    fn obstacles_read_from_json() {
        let o: Vec<Obstacle> = serde_json::from_str(
            r#"[{"kind":"statutory-retention","source":"§ 630f(3) BGB"},
                {"kind":"bylaw-or-contractual-retention","source":"Vertrag § 9"},
                {"kind":"disproportionate-non-automated"},
                {"kind":"harms-subject-interests"}]"#,
        )
        .unwrap();
        assert_eq!(o.len(), 4);
    }
}
