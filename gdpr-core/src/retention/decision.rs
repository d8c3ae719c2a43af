//! The retention decision for one record at one date.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::authorization::RetentionPhase;
use crate::retention::clause::{Clause, Expiry};
use crate::retention::hold::HoldSet;
use crate::retention::keeps::PurposeSet;
use crate::retention::pack::RulePack;
use crate::retention::record::{Fact, RetentionRecord};
use crate::retention::rule::{Gap, Rule, RuleEnd};

/// What to do with a record today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Status {
    /// Keep: a minimum period is still running.
    Retain,
    /// Every minimum has passed: delete (Art. 5(1)(e), Art. 17(1)(a)).
    Due,
    /// Every minimum has passed and so has a rule's maximum: delete or
    /// review now.
    Review,
    /// A legal hold keeps the record regardless of its periods.
    Held,
    /// Every minimum has passed and a rule that applied calls for an
    /// elimination procedure rather than deletion (Art. R1112-7 CSP): the
    /// record goes to the decision (DIM opinion, archives' visa), not to
    /// the shredder.
    EliminationProcedure,
    /// The rules cannot be applied (a missing or contradictory fact, no
    /// rule): keep, and fix the data. Never a reason to delete.
    Undetermined,
}

impl Status {
    /// The kebab-case name used in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Retain => "retain",
            Self::Due => "due",
            Self::Review => "review",
            Self::Held => "held",
            Self::EliminationProcedure => "elimination-procedure",
            Self::Undetermined => "undetermined",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a decision is [`Status::Undetermined`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Undetermined<'p> {
    /// No rule of the pack covers the record's categories (and modality).
    NoRule,
    /// A rule covers the record but needs a fact the record lacks.
    MissingFact {
        /// The rule.
        rule: &'p Rule,
        /// The missing fact.
        fact: Fact,
    },
    /// A rule found two facts in the wrong order.
    InconsistentFacts {
        /// The rule.
        rule: &'p Rule,
        /// The fact that should be earlier.
        earlier: Fact,
        /// The fact that should be later.
        later: Fact,
    },
}

impl fmt::Display for Undetermined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRule => f.write_str(
                "no rule of the pack covers this record's category, modality, facets \
                 and setting: add a rule with --rules, or correct the record",
            ),
            Self::MissingFact { rule, fact } => write!(
                f,
                "rule {} ({}) needs {fact}: add it to the record",
                rule.id(),
                rule.source()
            ),
            Self::InconsistentFacts {
                rule,
                earlier,
                later,
            } => write!(
                f,
                "rule {} ({}): {earlier} is after {later}: correct the record",
                rule.id(),
                rule.source()
            ),
        }
    }
}

/// The decision for one record at one date. Refers to its pack's rules, so
/// making one never allocates.
#[derive(Clone, Copy)]
pub struct Decision<'p> {
    pack: &'p RulePack,
    status: Status,
    retain_until: Option<Date>,
    review_by: Option<Date>,
    applied: u128,
    governing: Option<(u8, Clause)>,
    keeps_for: PurposeSet,
    holds: HoldSet,
    undetermined: Option<Undetermined<'p>>,
}

impl<'p> Decision<'p> {
    /// What to do with the record.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The last day the record must still be kept (inclusive): the latest
    /// end among the rules that applied. `None` when undetermined.
    pub fn retain_until(&self) -> Option<Date> {
        self.retain_until
    }

    /// The day after which the record must be deleted or reviewed, when a
    /// rule that applied has a maximum.
    pub fn review_by(&self) -> Option<Date> {
        self.review_by
    }

    /// Every rule that applied, in pack order.
    pub fn rules(&self) -> impl Iterator<Item = &'p Rule> + 'p {
        let rules = self.pack.rules();
        let mut bits = self.applied;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            rules.get(i)
        })
    }

    /// The bits of the rules that applied (bit `i` = the pack's rule `i`).
    pub fn rule_bits(&self) -> u128 {
        self.applied
    }

    /// The rule (and its clause) that set `retain_until`: the longest
    /// minimum.
    pub fn governing(&self) -> Option<(&'p Rule, Clause)> {
        let (i, clause) = self.governing?;
        Some((self.pack.rules().get(usize::from(i))?, clause))
    }

    pub(crate) fn governing_index(&self) -> Option<usize> {
        self.governing.map(|(i, _)| usize::from(i))
    }

    /// The legal holds on the record.
    pub fn holds(&self) -> HoldSet {
        self.holds
    }

    /// The purposes the retention duties still running on the decision's
    /// date keep the record for: the union of
    /// [`Rule::keeps_for`] over the rules that applied and have not ended.
    /// Empty when every duty has ended or the decision is undetermined. A
    /// legal hold's own purposes are not included: the hold names its
    /// provision ([`LegalHold::citation`](crate::retention::LegalHold::citation)).
    pub fn keeps_for(&self) -> PurposeSet {
        self.keeps_for
    }

    /// Why the rules could not be applied, if they could not. A held record
    /// may carry a reason too (the hold still keeps it).
    pub fn undetermined(&self) -> Option<Undetermined<'p>> {
        self.undetermined
    }

    /// The record's retention phase for an authorization request
    /// ([`Request::retention_phase`](crate::authorization::Request)): the
    /// governing rule's source as the duty and [`Decision::keeps_for`] as
    /// its purposes. `None` when no duty still runs (nothing keeps the
    /// record, or the decision is undetermined). Pass it only for a record
    /// whose care purpose has ended: a record still used for care is not in
    /// its retention phase, whatever its rules say.
    pub fn retention_phase(&self) -> Option<RetentionPhase> {
        let (rule, _) = self.governing()?;
        let purposes: Vec<_> = self.keeps_for.iter().collect();
        RetentionPhase::new(rule.source().clone(), purposes).ok()
    }
}

impl fmt::Debug for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // retain_until can reveal a birth date (minors clauses): not shown.
        f.debug_struct("Decision")
            .field("status", &self.status)
            .field("rules", &self.rules().map(Rule::id).collect::<Vec<_>>())
            .field("holds", &self.holds)
            .field("undetermined", &self.undetermined.map(|u| u.to_string()))
            .finish_non_exhaustive()
    }
}

impl RulePack {
    /// Decides what to do with `record` on `at`: every rule covering it
    /// applies (less those a covering rule `replaces`), the longest minimum
    /// wins, a hold keeps it, a missing fact makes the decision
    /// undetermined.
    pub fn decide(&self, record: &RetentionRecord, at: Date) -> Decision<'_> {
        let mut d = Decision {
            pack: self,
            status: Status::Undetermined,
            retain_until: None,
            review_by: None,
            applied: 0,
            governing: None,
            keeps_for: PurposeSet::EMPTY,
            holds: record.holds(),
            undetermined: None,
        };
        let rules = self.rules();
        let covering = self.covering(record, &mut d);
        let mut elimination = false;
        let mut bits = covering;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(rule) = rules.get(i) else { break };
            match rule.end(record, self.convention()) {
                Ok(end) => {
                    d.apply(i, rule, end, at);
                    elimination |= rule.on_expiry() == Expiry::EliminationProcedure;
                }
                Err(gap) => d.note(rule, gap),
            }
        }
        if d.applied == 0 && d.undetermined.is_none() {
            d.undetermined = Some(Undetermined::NoRule);
        }
        if d.undetermined.is_some() {
            d.retain_until = None;
            d.review_by = None;
            d.governing = None;
            d.keeps_for = PurposeSet::EMPTY;
        }
        d.status = if !d.holds.is_empty() {
            Status::Held
        } else {
            match d.retain_until {
                None => Status::Undetermined,
                Some(until) if at <= until => Status::Retain,
                Some(_) if elimination => Status::EliminationProcedure,
                Some(_) => match d.review_by {
                    Some(by) if at > by => Status::Review,
                    _ => Status::Due,
                },
            }
        };
        d
    }

    /// The bits of the rules that cover `record`, less the rules displaced
    /// by a covering rule's `replaces`; gaps are noted on `d`.
    fn covering<'p>(&'p self, record: &RetentionRecord, d: &mut Decision<'p>) -> u128 {
        let rules = self.rules();
        let (mut covering, mut replaced) = (0u128, 0u128);
        let mut bits = self.candidates(record.categories());
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(rule) = rules.get(i) else { break };
            match rule.covers(record) {
                Ok(false) => {}
                Ok(true) => {
                    covering |= 1u128 << i;
                    replaced |= rule.replaces_bits;
                }
                Err(gap) => d.note_in(self, i, gap),
            }
        }
        covering & !replaced
    }
}

impl<'p> Decision<'p> {
    fn apply(&mut self, i: usize, rule: &Rule, end: RuleEnd, at: Date) {
        self.applied |= 1u128 << i;
        if self.retain_until.is_none_or(|u| end.until > u) {
            self.retain_until = Some(end.until);
            // i < MAX_RULES = 128, so it fits a u8.
            self.governing = Some((i as u8, end.clause));
        }
        if let Some(r) = end.review_by {
            self.review_by = Some(self.review_by.map_or(r, |x| x.max(r)));
        }
        if at <= end.until {
            self.keeps_for = self.keeps_for.union(rule.keeps_for());
        }
    }

    fn note_in(&mut self, pack: &'p RulePack, i: usize, gap: Gap) {
        if let Some(rule) = pack.rules().get(i) {
            self.note(rule, gap);
        }
    }

    fn note(&mut self, rule: &'p Rule, gap: Gap) {
        if self.undetermined.is_none() {
            self.undetermined = Some(match gap {
                Gap::Missing(fact) => Undetermined::MissingFact { rule, fact },
                Gap::Inconsistent { earlier, later } => Undetermined::InconsistentFacts {
                    rule,
                    earlier,
                    later,
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::RecordCategory;
    use crate::retention::Jurisdiction;
    use jiff::civil::date;

    #[test]
    fn debug_output_never_shows_the_birth_date_or_derived_dates() {
        let de = RulePack::builtin(&"DE".parse::<Jurisdiction>().unwrap())
            .unwrap()
            .unwrap();
        let r = RetentionRecord::new(RecordCategory::ImagingExamination)
            .with_modality("CT".parse().unwrap())
            .with_birth_date(date(1987, 6, 5))
            .with_event_date(date(1999, 1, 10))
            .with_last_examination(date(1999, 1, 10));
        let d = de.decide(&r, date(2026, 1, 1));
        assert_eq!(d.retain_until(), Some(date(2015, 6, 4)));
        let text = format!("{d:?} {r:?}");
        for canary in ["1987", "06-05", "2015", "1999"] {
            assert!(!text.contains(canary), "{canary} in {text}");
        }
        assert!(text.contains("de-imaging-ionising"), "{text}");
    }
}
