//! Data-protection impact assessment screening (GDPR Art. 35).
//!
//! A DPIA is **required** when one of the cases of Art. 35(3) applies, or —
//! following the Article 29 Working Party's guidelines WP248 rev.01, endorsed
//! by the EDPB — when two or more of its nine criteria hold. The screening
//! lists every trigger with its citation.
//!
//! ```
//! use gdpr_core::dpia::{Criterion, DpiaOutcome, Screening};
//!
//! let screening = Screening {
//!     activity: "AI triage of chest X-rays".into(),
//!     art35_3: vec![],
//!     criteria: vec![Criterion::SensitiveData, Criterion::InnovativeTechnology],
//! };
//! let result = screening.screen();
//! assert_eq!(result.outcome, DpiaOutcome::Required);
//! assert_eq!(result.triggers.len(), 2);
//! ```

use serde::{Deserialize, Serialize};

use crate::Citation;

/// The cases of Art. 35(3) in which a DPIA is always required.
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Art35Case {
    /// (a) systematic and extensive evaluation of personal aspects based on
    /// automated processing, including profiling, on which decisions with
    /// legal or similarly significant effects are based.
    SystematicEvaluation,
    /// (b) processing on a large scale of special categories (Art. 9(1)) or
    /// of criminal convictions and offences (Art. 10).
    LargeScaleSpecialCategories,
    /// (c) systematic monitoring of a publicly accessible area on a large
    /// scale.
    PublicMonitoring,
}

impl Art35Case {
    /// Every case, in the order of Art. 35(3).
    pub const ALL: [Art35Case; 3] = [
        Self::SystematicEvaluation,
        Self::LargeScaleSpecialCategories,
        Self::PublicMonitoring,
    ];

    /// The letter of Art. 35(3).
    pub const fn citation(self) -> Citation {
        Citation::from_static(match self {
            Self::SystematicEvaluation => "GDPR Art. 35(3)(a)",
            Self::LargeScaleSpecialCategories => "GDPR Art. 35(3)(b)",
            Self::PublicMonitoring => "GDPR Art. 35(3)(c)",
        })
    }

    /// A one-line description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::SystematicEvaluation => {
                "systematic and extensive automated evaluation with legal or similar effects"
            }
            Self::LargeScaleSpecialCategories => "large-scale processing of special categories",
            Self::PublicMonitoring => "large-scale systematic monitoring of a public area",
        }
    }
}

/// The nine criteria of WP248 rev.01 (section III.B.a).
///
/// Complete as published, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Criterion {
    /// 1. Evaluation or scoring, including profiling and predicting.
    EvaluationOrScoring,
    /// 2. Automated decision-making with legal or similarly significant
    ///    effect.
    AutomatedDecision,
    /// 3. Systematic monitoring.
    SystematicMonitoring,
    /// 4. Sensitive data or data of a highly personal nature (health data
    ///    always are).
    SensitiveData,
    /// 5. Data processed on a large scale.
    LargeScale,
    /// 6. Matching or combining data sets.
    MatchingOrCombining,
    /// 7. Data concerning vulnerable data subjects (WP248 names patients).
    VulnerableSubjects,
    /// 8. Innovative use or application of new technological or
    ///    organisational solutions (e.g. AI).
    InnovativeTechnology,
    /// 9. The processing prevents data subjects from exercising a right or
    ///    using a service or contract.
    PreventsRightsOrServices,
}

impl Criterion {
    /// Every criterion, in the order of WP248.
    pub const ALL: [Criterion; 9] = [
        Self::EvaluationOrScoring,
        Self::AutomatedDecision,
        Self::SystematicMonitoring,
        Self::SensitiveData,
        Self::LargeScale,
        Self::MatchingOrCombining,
        Self::VulnerableSubjects,
        Self::InnovativeTechnology,
        Self::PreventsRightsOrServices,
    ];

    /// The criterion's number in WP248 rev.01, 1 to 9.
    pub fn number(self) -> usize {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .map_or(0, |i| i + 1)
    }

    /// The source, e.g. `"WP248 rev.01, criterion 4"`.
    pub fn citation(self) -> Citation {
        Citation::new(format!("WP248 rev.01, criterion {}", self.number()))
    }

    /// A one-line description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::EvaluationOrScoring => "evaluation or scoring",
            Self::AutomatedDecision => "automated decision-making with significant effect",
            Self::SystematicMonitoring => "systematic monitoring",
            Self::SensitiveData => "sensitive or highly personal data",
            Self::LargeScale => "data processed on a large scale",
            Self::MatchingOrCombining => "matching or combining data sets",
            Self::VulnerableSubjects => "vulnerable data subjects",
            Self::InnovativeTechnology => "innovative technology",
            Self::PreventsRightsOrServices => "prevents exercising a right or using a service",
        }
    }
}

/// The facts of one screening, as the DPO records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Screening {
    /// The processing activity screened.
    pub activity: String,
    /// The Art. 35(3) cases that apply (usually none).
    #[serde(default, rename = "art35-3")]
    pub art35_3: Vec<Art35Case>,
    /// The WP248 criteria that hold.
    #[serde(default)]
    pub criteria: Vec<Criterion>,
}

/// Whether a DPIA must be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DpiaOutcome {
    /// Carry out a DPIA before the processing starts (Art. 35(1)).
    Required,
    /// No DPIA is required; keep this screening with the Art. 30 record.
    NotRequired,
}

/// One reason that counts towards the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The stable name of the case or criterion (`"sensitive-data"`).
    pub code: String,
    /// Its source.
    pub citation: Citation,
    /// What it means.
    pub description: String,
}

/// The result of a screening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ScreeningResult {
    /// The activity screened.
    pub activity: String,
    /// Required or not.
    pub outcome: DpiaOutcome,
    /// Why, in one sentence with the rule applied.
    pub rationale: String,
    /// Every Art. 35(3) case and WP248 criterion that holds, cases first.
    pub triggers: Vec<Trigger>,
}

impl Screening {
    /// Applies Art. 35(3) and the two-criteria rule of WP248 rev.01.
    pub fn screen(&self) -> ScreeningResult {
        // In the order of the law, each once.
        let cases: Vec<Art35Case> = Art35Case::ALL
            .into_iter()
            .filter(|c| self.art35_3.contains(c))
            .collect();
        let criteria: Vec<Criterion> = Criterion::ALL
            .into_iter()
            .filter(|c| self.criteria.contains(c))
            .collect();
        let (outcome, rationale) = if let Some(first) = cases.first() {
            (
                DpiaOutcome::Required,
                format!("{} applies: a DPIA is mandatory", first.citation()),
            )
        } else if criteria.len() >= 2 {
            (
                DpiaOutcome::Required,
                format!(
                    "{} of the nine WP248 rev.01 criteria hold (two or more: a DPIA is required)",
                    criteria.len()
                ),
            )
        } else {
            (
                DpiaOutcome::NotRequired,
                format!(
                    "no Art. 35(3) case and {} WP248 rev.01 criterion/criteria (fewer than two): \
                     document this screening",
                    criteria.len()
                ),
            )
        };
        let triggers = cases
            .iter()
            .map(|c| Trigger {
                code: kebab(c),
                citation: c.citation(),
                description: c.description().into(),
            })
            .chain(criteria.iter().map(|c| Trigger {
                code: kebab(c),
                citation: c.citation(),
                description: c.description().into(),
            }))
            .collect();
        ScreeningResult {
            activity: self.activity.clone(),
            outcome,
            rationale,
            triggers,
        }
    }
}

/// The serde name of a unit variant.
fn kebab<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screening(cases: Vec<Art35Case>, criteria: Vec<Criterion>) -> ScreeningResult {
        Screening {
            activity: "x".into(),
            art35_3: cases,
            criteria,
        }
        .screen()
    }

    #[test]
    fn one_criterion_is_not_enough() {
        let r = screening(vec![], vec![Criterion::SensitiveData]);
        assert_eq!(r.outcome, DpiaOutcome::NotRequired);
        assert_eq!(r.triggers[0].citation.as_str(), "WP248 rev.01, criterion 4");
    }

    #[test]
    fn two_criteria_require_a_dpia() {
        let r = screening(
            vec![],
            vec![Criterion::VulnerableSubjects, Criterion::SensitiveData],
        );
        assert_eq!(r.outcome, DpiaOutcome::Required);
        let codes: Vec<_> = r.triggers.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes, ["sensitive-data", "vulnerable-subjects"]);
    }

    #[test]
    fn an_art35_3_case_alone_requires_a_dpia() {
        let r = screening(vec![Art35Case::LargeScaleSpecialCategories], vec![]);
        assert_eq!(r.outcome, DpiaOutcome::Required);
        assert_eq!(r.triggers[0].citation.as_str(), "GDPR Art. 35(3)(b)");
        assert!(r.rationale.contains("Art. 35(3)(b)"));
    }

    #[test]
    fn duplicates_count_once() {
        let r = screening(vec![], vec![Criterion::LargeScale, Criterion::LargeScale]);
        assert_eq!(r.outcome, DpiaOutcome::NotRequired);
    }

    #[test]
    fn criteria_are_numbered_one_to_nine() {
        let numbers: Vec<_> = Criterion::ALL.iter().map(|c| c.number()).collect();
        assert_eq!(numbers, (1..=9).collect::<Vec<_>>());
    }
}
