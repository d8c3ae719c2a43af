//! The deletion planner: streams a catalog of records through a pack and
//! sorts them into due, review, held and undetermined, with counts per rule.
//!
//! Memory stays flat in the size of the catalog: records are read one at a
//! time and retained records are only counted. [`Planner::plan`] keeps the
//! keys of the records that need action; [`Planner::plan_with`] keeps
//! nothing and hands each decision to a callback.

use std::hash::Hash;

use jiff::civil::Date;

use crate::retention::decision::{Decision, Status};
use crate::retention::pack::RulePack;
use crate::retention::record::RetentionRecord;
use crate::retention::subject::LatestExaminations;

/// Counts for one rule of the pack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleCount {
    /// Records the rule applied to.
    pub applied: u64,
    /// Records whose `retain_until` this rule set (the longest minimum).
    pub governing: u64,
    /// Records the rule applied to that are due, up for review or for the
    /// elimination procedure.
    pub due: u64,
}

/// Counts of a planning run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanCounts {
    /// Records to keep.
    pub retain: u64,
    /// Records due for deletion.
    pub due: u64,
    /// Records past a maximum: delete or review.
    pub review: u64,
    /// Records under a legal hold.
    pub held: u64,
    /// Records due for an elimination procedure (France).
    pub elimination: u64,
    /// Records the rules could not decide.
    pub undetermined: u64,
    /// Per rule, in pack order.
    pub per_rule: Vec<RuleCount>,
}

impl PlanCounts {
    /// All records counted.
    pub fn total(&self) -> u64 {
        self.retain + self.due + self.review + self.held + self.elimination + self.undetermined
    }
}

/// The keys of the records that need action, and the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan<K> {
    /// Due for deletion.
    pub due: Vec<K>,
    /// Past a maximum: delete or review.
    pub review: Vec<K>,
    /// Under a legal hold.
    pub held: Vec<K>,
    /// Due for an elimination procedure.
    pub elimination: Vec<K>,
    /// Not decidable: fix the data.
    pub undetermined: Vec<K>,
    /// Counts over the whole catalog.
    pub counts: PlanCounts,
}

/// Decides a stream of records against one pack at one date.
#[derive(Debug, Clone)]
pub struct Planner<'p> {
    pack: &'p RulePack,
    at: Date,
    counts: PlanCounts,
}

impl<'p> Planner<'p> {
    /// A planner for `pack` on `at`.
    pub fn new(pack: &'p RulePack, at: Date) -> Self {
        Self {
            pack,
            at,
            counts: PlanCounts {
                per_rule: vec![RuleCount::default(); pack.rules().len()],
                ..PlanCounts::default()
            },
        }
    }

    /// Decides one record and counts the decision.
    pub fn observe(&mut self, record: &RetentionRecord) -> Decision<'p> {
        let d = self.pack.decide(record, self.at);
        let c = &mut self.counts;
        match d.status() {
            Status::Retain => c.retain += 1,
            Status::Due => c.due += 1,
            Status::Review => c.review += 1,
            Status::Held => c.held += 1,
            Status::EliminationProcedure => c.elimination += 1,
            _ => c.undetermined += 1,
        }
        let due = matches!(
            d.status(),
            Status::Due | Status::Review | Status::EliminationProcedure
        );
        let mut bits = d.rule_bits();
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(rc) = c.per_rule.get_mut(i) {
                rc.applied += 1;
                rc.due += u64::from(due);
            }
        }
        if let Some(i) = d.governing_index()
            && let Some(rc) = c.per_rule.get_mut(i)
        {
            rc.governing += 1;
        }
        d
    }

    /// The counts so far.
    pub fn counts(&self) -> &PlanCounts {
        &self.counts
    }

    /// Streams `catalog` through the pack, calling `sink` with each key and
    /// decision; keeps nothing but the counts.
    pub fn plan_with<K, I, F>(mut self, catalog: I, mut sink: F) -> PlanCounts
    where
        I: IntoIterator<Item = (K, RetentionRecord)>,
        F: FnMut(K, &Decision<'p>),
    {
        for (key, record) in catalog {
            let d = self.observe(&record);
            sink(key, &d);
        }
        self.counts
    }

    /// Streams `catalog` through the pack and keeps the keys of the records
    /// that need action (due, review, held, undetermined).
    pub fn plan<K, I>(self, catalog: I) -> Plan<K>
    where
        I: IntoIterator<Item = (K, RetentionRecord)>,
    {
        let mut due = Vec::new();
        let mut review = Vec::new();
        let mut held = Vec::new();
        let mut elimination = Vec::new();
        let mut undetermined = Vec::new();
        let counts = self.plan_with(catalog, |key, d| match d.status() {
            Status::Retain => {}
            Status::Due => due.push(key),
            Status::Review => review.push(key),
            Status::Held => held.push(key),
            Status::EliminationProcedure => elimination.push(key),
            _ => undetermined.push(key),
        });
        Plan {
            due,
            review,
            held,
            elimination,
            undetermined,
            counts,
        }
    }

    /// Like [`Planner::plan`], for rules that count from the patient's last
    /// examination: a first pass over `catalog` finds each subject's latest
    /// examination ([`LatestExaminations`]), the second fills it into each
    /// record and decides. `catalog` is iterated twice; memory grows with the
    /// number of subjects.
    pub fn plan_by_subject<K, S, I>(self, catalog: I) -> Plan<K>
    where
        S: Hash + Eq,
        I: IntoIterator<Item = (K, S, RetentionRecord)> + Clone,
    {
        let mut latest = LatestExaminations::new();
        for (_, subject, record) in catalog.clone() {
            latest.observe(subject, &record);
        }
        self.plan(
            catalog
                .into_iter()
                .map(|(key, subject, record)| (key, latest.complete(&subject, record))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::RecordCategory;
    use crate::retention::{Jurisdiction, LegalHold};
    use jiff::civil::date;

    #[test]
    fn plan_sorts_records_and_counts_per_rule() {
        let de = RulePack::builtin(&"DE".parse::<Jurisdiction>().unwrap())
            .unwrap()
            .unwrap();
        let record =
            |end| RetentionRecord::new(RecordCategory::PatientRecord).with_treatment_end(end);
        let catalog = (0..1000u32).map(|i| {
            let r = match i % 4 {
                0 => record(date(2000, 1, 1)),                                  // due
                1 => record(date(2020, 1, 1)),                                  // retain
                2 => record(date(2000, 1, 1)).with_hold(LegalHold::Litigation), // held
                _ => RetentionRecord::new(RecordCategory::Billing),             // no rule
            };
            (i, r)
        });
        let plan = Planner::new(&de, date(2026, 1, 1)).plan(catalog);
        assert_eq!(plan.due.len(), 250);
        assert!(plan.due.iter().all(|i| i % 4 == 0));
        assert_eq!(plan.held.len(), 250);
        assert_eq!(plan.undetermined.len(), 250);
        assert!(plan.review.is_empty());
        let c = &plan.counts;
        assert_eq!(
            (c.retain, c.due, c.held, c.undetermined),
            (250, 250, 250, 250)
        );
        assert_eq!(c.total(), 1000);
        let pr = c.per_rule[0];
        assert_eq!(de.rules()[0].id(), "de-patient-record");
        assert_eq!((pr.applied, pr.governing, pr.due), (750, 750, 250));
        assert!(c.per_rule[1..].iter().all(|rc| rc.applied == 0));
    }

    #[test]
    fn plan_by_subject_counts_from_each_patients_last_examination() {
        let de = RulePack::builtin(&"DE".parse::<Jurisdiction>().unwrap())
            .unwrap()
            .unwrap();
        let ct = |event| {
            RetentionRecord::new(RecordCategory::ImagingExamination)
                .with_modality("CT".parse().unwrap())
                .with_birth_date(date(1950, 1, 1))
                .with_event_date(event)
        };
        // Patient A: CTs in 2010 and 2012, last in 2019 → all kept to
        // 2019-06-30 + 10 y = 2029-06-30. Patient B: one CT in 2010 →
        // 2010-02-01 + 10 y = 2020-02-01, due on 2026-01-01.
        let catalog = vec![
            ("a1", "A", ct(date(2010, 2, 1))),
            ("a2", "A", ct(date(2012, 3, 1))),
            ("a3", "A", ct(date(2019, 6, 30))),
            ("b1", "B", ct(date(2010, 2, 1))),
        ];
        let plan = Planner::new(&de, date(2026, 1, 1)).plan_by_subject(catalog);
        assert_eq!(plan.due, vec!["b1"]);
        assert_eq!(plan.counts.retain, 3);
        assert!(plan.undetermined.is_empty());
        // Without grouping, no record knows its last examination.
        let ungrouped =
            Planner::new(&de, date(2026, 1, 1)).plan(vec![("a1", ct(date(2010, 2, 1)))]);
        assert_eq!(ungrouped.undetermined, vec!["a1"]);
    }
}
