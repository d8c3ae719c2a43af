//! Grouping by subject: "10 years after the *last* examination"
//! (§ 85(2) S. 1 Nr. 2 StrlSchG, as § 28(3) RöV and the Ärztekammern read
//! it) needs each patient's latest examination, which no single record
//! knows. [`LatestExaminations`] collects it in a first pass over the
//! catalog and fills it into each record in the second.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

use jiff::civil::Date;

use crate::category::RecordCategory;
use crate::retention::record::{Fact, RetentionRecord};

/// The latest examination date per subject (patient). Memory grows with the
/// number of subjects, not of records.
#[derive(Debug, Clone, Default)]
pub struct LatestExaminations<S> {
    latest: HashMap<S, Date>,
}

impl<S: Hash + Eq> LatestExaminations<S> {
    /// An empty index.
    pub fn new() -> Self {
        Self {
            latest: HashMap::new(),
        }
    }

    /// Notes one record of `subject`: an imaging examination counts with
    /// its `event_date` (and its `last_examination`, if already known).
    pub fn observe(&mut self, subject: S, record: &RetentionRecord) {
        if !record
            .categories()
            .contains(RecordCategory::ImagingExamination)
        {
            return;
        }
        let dates = [
            record.date(Fact::EventDate),
            record.date(Fact::LastExamination),
        ];
        let Some(latest) = dates.into_iter().flatten().max() else {
            return;
        };
        self.latest
            .entry(subject)
            .and_modify(|d| *d = (*d).max(latest))
            .or_insert(latest);
    }

    /// The latest examination of `subject`, if any was observed.
    pub fn latest<Q>(&self, subject: &Q) -> Option<Date>
    where
        S: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.latest.get(subject).copied()
    }

    /// `record` with `last_examination` set to the subject's latest
    /// examination (never moved earlier than a date the record already has).
    pub fn complete<Q>(&self, subject: &Q, record: RetentionRecord) -> RetentionRecord
    where
        S: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match (self.latest(subject), record.date(Fact::LastExamination)) {
            (Some(latest), Some(own)) if own >= latest => record,
            (Some(latest), _) => record.with_last_examination(latest),
            (None, _) => record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_latest_examination_per_subject_is_filled_in() {
        let ct = |d| RetentionRecord::new(RecordCategory::ImagingExamination).with_event_date(d);
        let mut idx = LatestExaminations::new();
        idx.observe("a".to_string(), &ct(date(2010, 1, 1)));
        idx.observe("a".to_string(), &ct(date(2019, 6, 30)));
        idx.observe("a".to_string(), &ct(date(2012, 1, 1)));
        // Not an examination: ignored.
        idx.observe(
            "a".to_string(),
            &RetentionRecord::new(RecordCategory::PatientRecord).with_event_date(date(2025, 1, 1)),
        );
        assert_eq!(idx.latest("a"), Some(date(2019, 6, 30)));
        assert_eq!(idx.latest("b"), None);
        let r = idx.complete("a", ct(date(2010, 1, 1)));
        assert_eq!(r.date(Fact::LastExamination), Some(date(2019, 6, 30)));
        // A later date the record already has is kept.
        let own = ct(date(2010, 1, 1)).with_last_examination(date(2021, 1, 1));
        let r = idx.complete("a", own);
        assert_eq!(r.date(Fact::LastExamination), Some(date(2021, 1, 1)));
        assert_eq!(
            idx.complete("b", ct(date(2010, 1, 1)))
                .date(Fact::LastExamination),
            None
        );
    }
}
