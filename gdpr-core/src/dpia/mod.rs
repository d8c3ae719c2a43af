//! Data-protection impact assessment screening (GDPR Art. 35).
//!
//! The screening returns one of three outcomes, each with its reasons:
//!
//! - **required** — the law demands a DPIA: a case of Art. 35(3), an entry
//!   of a supervisory authority's Art. 35(4) list (Germany: the DSK
//!   "Muss-Liste", built in), or the controller's own judgement that the
//!   processing is likely to result in a high risk (Art. 35(1));
//! - **likely required** — two or more of the nine criteria of WP248 rev.01
//!   hold. WP248 says that "in most cases" such processing needs a DPIA:
//!   a rule of thumb, not a rule of law. Carry out the DPIA, or document
//!   why the risk is not high;
//! - **not required** — none of the above. With one criterion the rationale
//!   says that one can suffice (WP248): judge the risk and record the
//!   judgement (`likely-high-risk`). A single physician or other health
//!   professional processing the data of their own patients is not
//!   large-scale processing and needs no DPIA (Recital 91), unless
//!   Art. 35(3)(a) or (c) or a national list entry applies.
//!
//! ```
//! use gdpr_core::dpia::{Criterion, DpiaOutcome, Screening};
//!
//! let screening = Screening {
//!     activity: "AI triage of chest X-rays".into(),
//!     criteria: vec![Criterion::SensitiveData, Criterion::InnovativeTechnology],
//!     ..Screening::default()
//! };
//! let result = screening.screen()?;
//! assert_eq!(result.outcome, DpiaOutcome::LikelyRequired);
//! assert_eq!(result.triggers.len(), 2);
//! # Ok::<(), gdpr_core::Error>(())
//! ```

mod criteria;
mod list;

use serde::{Deserialize, Serialize};

use crate::{Citation, Error};

pub use criteria::{Art35Case, Criterion};
pub use list::{Art35List, ListEntry};

/// The facts of one screening, as the DPO records them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Screening {
    /// The processing activity screened.
    pub activity: String,
    /// The Art. 35(3) cases that apply (usually none).
    #[serde(default, rename = "art35-3")]
    pub art35_3: Vec<Art35Case>,
    /// The codes of the Art. 35(4) list entries that apply
    /// (e.g. `"dsk-sensors-central-body"`).
    #[serde(default, rename = "art35-4")]
    pub art35_4: Vec<String>,
    /// The WP248 criteria that hold.
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// The data of the patients of one physician or other health
    /// professional, processed by them (Recital 91: not large-scale).
    #[serde(default)]
    pub individual_professional: bool,
    /// The controller judges the processing likely to result in a high
    /// risk (Art. 35(1)), e.g. because one criterion weighs heavily.
    #[serde(default)]
    pub likely_high_risk: bool,
}

/// Whether a DPIA must be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DpiaOutcome {
    /// The law requires a DPIA before the processing starts (Art. 35(1),
    /// (3) or (4)).
    Required,
    /// WP248's rule of thumb points to a DPIA: carry it out, or document
    /// why the processing is unlikely to result in a high risk.
    LikelyRequired,
    /// No DPIA is required; keep this screening with the Art. 30 record.
    NotRequired,
}

/// One reason that counts towards the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The stable name of the case, list entry or criterion
    /// (`"sensitive-data"`).
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
    /// Required, likely required or not required.
    pub outcome: DpiaOutcome,
    /// Why, in one sentence with the rule applied.
    pub rationale: String,
    /// Every Art. 35(3) case, Art. 35(4) list entry and WP248 criterion
    /// that holds, in that order.
    pub triggers: Vec<Trigger>,
}

impl Screening {
    /// Screens against Art. 35 and the built-in national lists (the DSK
    /// Muss-Liste).
    ///
    /// # Errors
    /// [`Error::UnknownListEntry`] when `art35-4` names a code no list has.
    pub fn screen(&self) -> Result<ScreeningResult, Error> {
        self.screen_with(&[Art35List::germany_dsk()])
    }

    /// Screens against Art. 35 and the given national lists.
    ///
    /// # Errors
    /// [`Error::UnknownListEntry`] when `art35-4` names a code none of
    /// `lists` has.
    pub fn screen_with(&self, lists: &[Art35List]) -> Result<ScreeningResult, Error> {
        let recital_91 = self.individual_professional;
        // In the order of the law, each once; Recital 91: not large-scale.
        let cases: Vec<Art35Case> = Art35Case::ALL
            .into_iter()
            .filter(|c| self.art35_3.contains(c))
            .filter(|c| !(recital_91 && *c == Art35Case::LargeScaleSpecialCategories))
            .collect();
        let criteria: Vec<Criterion> = Criterion::ALL
            .into_iter()
            .filter(|c| self.criteria.contains(c))
            .filter(|c| !(recital_91 && *c == Criterion::LargeScale))
            .collect();
        let mut listed = Vec::new();
        for code in &self.art35_4 {
            let found = lists
                .iter()
                .find_map(|l| l.entry(code).map(|e| (l, e)))
                .ok_or_else(|| Error::UnknownListEntry { code: code.clone() })?;
            if !listed.iter().any(|t: &Trigger| t.code == *code) {
                listed.push(Trigger {
                    code: code.clone(),
                    citation: found.0.citation.clone(),
                    description: found.1.description.clone(),
                });
            }
        }
        let (outcome, rationale) = self.outcome(&cases, &listed, criteria.len());
        let triggers = cases
            .iter()
            .map(|c| trigger(c, c.citation(), c.description()))
            .chain(listed)
            .chain(
                criteria
                    .iter()
                    .map(|c| trigger(c, c.citation(), c.description())),
            )
            .collect();
        Ok(ScreeningResult {
            activity: self.activity.clone(),
            outcome,
            rationale,
            triggers,
        })
    }

    fn outcome(
        &self,
        cases: &[Art35Case],
        listed: &[Trigger],
        criteria: usize,
    ) -> (DpiaOutcome, String) {
        use DpiaOutcome as O;
        if let Some(first) = cases.first() {
            return (
                O::Required,
                format!("{} applies: a DPIA is mandatory", first.citation()),
            );
        }
        if let Some(first) = listed.first() {
            return (
                O::Required,
                format!(
                    "the processing is on the supervisory authority's list ({}, `{}`): \
                     a DPIA is mandatory",
                    first.citation, first.code
                ),
            );
        }
        if self.likely_high_risk {
            return (
                O::Required,
                "the controller judges the processing likely to result in a high risk: \
                 a DPIA is mandatory (GDPR Art. 35(1))"
                    .into(),
            );
        }
        if self.individual_professional {
            return (
                O::NotRequired,
                "the data of one physician's or health professional's own patients are not \
                 processed on a large scale: a DPIA is not mandatory (GDPR Recital 91); \
                 document this screening"
                    .into(),
            );
        }
        match criteria {
            0 => (
                O::NotRequired,
                "no Art. 35(3) case, no Art. 35(4) list entry and no WP248 rev.01 criterion: \
                 document this screening"
                    .into(),
            ),
            1 => (
                O::NotRequired,
                "one WP248 rev.01 criterion holds; WP248 notes that one criterion can \
                 suffice: judge whether the risk is high (then set `likely-high-risk`) and \
                 document the judgement"
                    .into(),
            ),
            n => (
                O::LikelyRequired,
                format!(
                    "{n} of the nine WP248 rev.01 criteria hold; by WP248's rule of thumb \
                     (two or more) a DPIA is likely required: carry it out, or document why \
                     the risk is not high"
                ),
            ),
        }
    }
}

fn trigger<T: Serialize>(value: &T, citation: Citation, description: &str) -> Trigger {
    Trigger {
        code: kebab(value),
        citation,
        description: description.into(),
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

    fn screening(cases: Vec<Art35Case>, criteria: Vec<Criterion>) -> Screening {
        Screening {
            activity: "x".into(),
            art35_3: cases,
            criteria,
            ..Screening::default()
        }
    }

    fn screen(s: Screening) -> ScreeningResult {
        s.screen().unwrap()
    }

    #[test]
    fn one_criterion_is_not_required_but_says_it_can_suffice() {
        let r = screen(screening(vec![], vec![Criterion::SensitiveData]));
        assert_eq!(r.outcome, DpiaOutcome::NotRequired);
        assert_eq!(r.triggers[0].citation.as_str(), "WP248 rev.01, criterion 4");
        assert!(
            r.rationale.contains("one criterion can suffice"),
            "{}",
            r.rationale
        );
    }

    #[test]
    fn one_criterion_with_a_high_risk_judgement_is_required() {
        let mut s = screening(vec![], vec![Criterion::InnovativeTechnology]);
        s.likely_high_risk = true;
        let r = screen(s);
        assert_eq!(r.outcome, DpiaOutcome::Required);
        assert!(r.rationale.contains("GDPR Art. 35(1)"), "{}", r.rationale);
    }

    #[test]
    fn two_criteria_make_a_dpia_likely_required_as_a_rule_of_thumb() {
        let r = screen(screening(
            vec![],
            vec![Criterion::VulnerableSubjects, Criterion::SensitiveData],
        ));
        assert_eq!(r.outcome, DpiaOutcome::LikelyRequired);
        assert!(r.rationale.contains("rule of thumb"), "{}", r.rationale);
        let codes: Vec<_> = r.triggers.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes, ["sensitive-data", "vulnerable-subjects"]);
    }

    #[test]
    fn an_art35_3_case_alone_requires_a_dpia() {
        let r = screen(screening(
            vec![Art35Case::LargeScaleSpecialCategories],
            vec![],
        ));
        assert_eq!(r.outcome, DpiaOutcome::Required);
        assert_eq!(r.triggers[0].citation.as_str(), "GDPR Art. 35(3)(b)");
        assert!(r.rationale.contains("Art. 35(3)(b)"));
    }

    #[test]
    fn a_dsk_list_entry_requires_a_dpia() {
        let mut s = screening(vec![], vec![Criterion::SensitiveData]);
        s.art35_4 = vec!["dsk-sensors-central-body".into()];
        let r = screen(s);
        assert_eq!(r.outcome, DpiaOutcome::Required);
        assert_eq!(r.triggers[0].code, "dsk-sensors-central-body");
        assert_eq!(
            r.triggers[0].citation.as_str(),
            "GDPR Art. 35(4); DSK Muss-Liste v1.1"
        );
        assert!(r.rationale.contains("DSK Muss-Liste"), "{}", r.rationale);
    }

    #[test]
    fn an_unknown_list_entry_is_an_error_naming_it() {
        let mut s = screening(vec![], vec![]);
        s.art35_4 = vec!["dsk-no-such-entry".into()];
        let err = s.screen().unwrap_err();
        assert!(err.to_string().contains("dsk-no-such-entry"), "{err}");
    }

    #[test]
    fn a_single_physician_needs_no_dpia_under_recital_91() {
        let mut s = screening(
            vec![Art35Case::LargeScaleSpecialCategories],
            vec![
                Criterion::SensitiveData,
                Criterion::VulnerableSubjects,
                Criterion::LargeScale,
            ],
        );
        s.individual_professional = true;
        let r = screen(s.clone());
        assert_eq!(r.outcome, DpiaOutcome::NotRequired);
        assert!(r.rationale.contains("Recital 91"), "{}", r.rationale);
        assert!(r.triggers.iter().all(|t| t.code != "large-scale"));
        // Systematic evaluation is not about scale: still required.
        s.art35_3.push(Art35Case::SystematicEvaluation);
        assert_eq!(screen(s).outcome, DpiaOutcome::Required);
    }

    #[test]
    fn duplicates_count_once() {
        let r = screen(screening(
            vec![],
            vec![Criterion::LargeScale, Criterion::LargeScale],
        ));
        assert_eq!(r.outcome, DpiaOutcome::NotRequired);
        assert_eq!(r.triggers.len(), 1);
    }

    #[test]
    fn criteria_are_numbered_one_to_nine() {
        let numbers: Vec<_> = Criterion::ALL.iter().map(|c| c.number()).collect();
        assert_eq!(numbers, (1..=9).collect::<Vec<_>>());
    }
}
