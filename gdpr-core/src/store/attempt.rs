//! What an erasure of several records did, before verification looked.

use serde::{Deserialize, Serialize};

use super::outcome::{ErasedItem, ErasureReport, Refusal, Verification};

/// What [`SubjectStore::erase_records`](super::SubjectStore::erase_records)
/// did: the resources it deleted (or found already gone) and those it left
/// alone, with why. It claims nothing about what is gone: only
/// [`ErasureAttempt::verified_by`] a fresh
/// [`SubjectStore::verify_erasure`](super::SubjectStore::verify_erasure)
/// turns it into an [`ErasureReport`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErasureAttempt {
    /// Resources deleted, or found already gone, by this attempt (derived
    /// copies included); not yet confirmed gone.
    pub deleted: Vec<ErasedItem>,
    /// Resources left alone, with the reason (a re-check right before the
    /// deletion found them changed, or the system refused).
    pub refused: Vec<Refusal>,
}

impl ErasureAttempt {
    /// Adds what a one-record erasure reported: its erased and refused
    /// items (what its own verification still found is found again by the
    /// caller's verification).
    pub fn absorb(&mut self, report: &ErasureReport) {
        self.deleted.extend(report.erased().iter().cloned());
        self.refused.extend(report.refused().iter().cloned());
    }

    /// The report: what was attempted, reconciled with `verification` (run
    /// after the last deletion).
    pub fn verified_by(self, verification: Verification) -> ErasureReport {
        ErasureReport::reconcile(self.deleted, self.refused, verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RecordId, Remnant, ResourceKind};

    fn item(s: &str) -> ErasedItem {
        ErasedItem {
            id: RecordId::new(s).unwrap(),
            kind: ResourceKind::Study,
            already_absent: false,
        }
    }

    #[test]
    fn an_attempt_claims_nothing_until_verification_confirms_it() {
        let attempt = ErasureAttempt {
            deleted: vec![item("a"), item("b")],
            refused: Vec::new(),
        };
        let still = Remnant::new(RecordId::new("b").unwrap(), ResourceKind::Study);
        let report = attempt.verified_by(Verification::new(vec![still]));
        assert_eq!(report.erased(), &[item("a")]);
        assert_eq!(report.left().len(), 1);
        assert!(!report.is_verified());
    }

    #[test]
    fn absorbing_a_report_keeps_its_erased_and_refused_items() {
        let one = ErasureReport::reconcile(vec![item("a")], Vec::new(), Verification::new(vec![]));
        let mut attempt = ErasureAttempt::default();
        attempt.absorb(&one);
        attempt.absorb(&one);
        assert_eq!(attempt.deleted, vec![item("a"), item("a")]);
        assert!(attempt.refused.is_empty());
    }
}
