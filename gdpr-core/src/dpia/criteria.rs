//! The cases of Art. 35(3) and the nine criteria of WP248 rev.01.

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
