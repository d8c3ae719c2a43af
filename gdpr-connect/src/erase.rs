//! Erase, then verify: the one shape of every adapter's erasure. Each
//! resource's deletion is recorded as it happens ([`Erasure::record`]);
//! the report is made only together with a fresh verification
//! ([`Erasure::verified_by`]), through gdpr-core's
//! [`ErasureReport::reconcile`], so a report never lists as erased what
//! verification still found.

use gdpr_core::store::{
    ErasedItem, ErasureReport, RecordId, Refusal, ResourceKind, StoreError, Verification,
};
use reqwest::StatusCode;

use crate::answer::check_status;

/// What a deleting request (DELETE, a rejection) did to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The request succeeded: `existed` is false when the resource was
    /// already gone (an interrupted earlier run), which counts as erased.
    Done {
        /// Whether the resource still existed.
        existed: bool,
    },
    /// The system refused, with its reason (free of patient values).
    Refused(String),
}

/// The one mapping of a deleting request's status: 2xx → done, 404 →
/// already gone, a status `refusal` names a reason for → refused, anything
/// else → the error [`check_status`] gives.
///
/// # Errors
/// As [`check_status`] for statuses that are neither success, 404 nor a
/// refusal.
pub fn outcome_of(
    operation: &'static str,
    status: StatusCode,
    refusal: impl FnOnce(StatusCode) -> Option<String>,
) -> Result<Outcome, StoreError> {
    if let Some(reason) = refusal(status) {
        return Ok(Outcome::Refused(reason));
    }
    match check_status(operation, status) {
        Ok(()) => Ok(Outcome::Done { existed: true }),
        Err(StoreError::NotFound { .. }) => Ok(Outcome::Done { existed: false }),
        Err(e) => Err(e),
    }
}

/// An erasure in progress: what was attempted and what was refused.
#[derive(Debug, Default)]
pub struct Erasure {
    attempted: Vec<ErasedItem>,
    refused: Vec<Refusal>,
}

impl Erasure {
    /// An erasure that has done nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what happened to resource `id`.
    pub fn record(&mut self, id: RecordId, kind: ResourceKind, outcome: Outcome) {
        match outcome {
            Outcome::Done { existed } => self.attempted.push(ErasedItem {
                id,
                kind,
                already_absent: !existed,
            }),
            Outcome::Refused(reason) => self.refused.push(Refusal { id, kind, reason }),
        }
    }

    /// Records that resource `id` was left alone, and why.
    pub fn refuse(&mut self, id: RecordId, kind: ResourceKind, reason: impl Into<String>) {
        self.refused.push(Refusal {
            id,
            kind,
            reason: reason.into(),
        });
    }

    /// What was attempted, not yet verified (a batch erasure's result: the
    /// caller verifies afterwards).
    pub fn into_attempt(self) -> gdpr_core::store::ErasureAttempt {
        let mut attempt = gdpr_core::store::ErasureAttempt::default();
        attempt.deleted = self.attempted;
        attempt.refused = self.refused;
        attempt
    }

    /// The report: what was attempted, reconciled with `verification` (run
    /// after the last deletion).
    pub fn verified_by(self, verification: Verification) -> ErasureReport {
        ErasureReport::reconcile(self.attempted, self.refused, verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdpr_core::store::Remnant;

    fn id(s: &str) -> RecordId {
        RecordId::new(s).unwrap()
    }

    #[test]
    fn statuses_become_outcomes() {
        let never = |_| None;
        assert_eq!(
            outcome_of("op", StatusCode::OK, never).unwrap(),
            Outcome::Done { existed: true }
        );
        assert_eq!(
            outcome_of("op", StatusCode::NOT_FOUND, never).unwrap(),
            Outcome::Done { existed: false }
        );
        let refused = outcome_of("op", StatusCode::METHOD_NOT_ALLOWED, |s| {
            (s == StatusCode::METHOD_NOT_ALLOWED).then(|| "no deletion".to_owned())
        });
        assert_eq!(refused.unwrap(), Outcome::Refused("no deletion".into()));
        assert!(matches!(
            outcome_of("op", StatusCode::CONFLICT, never),
            Err(StoreError::Protocol { .. })
        ));
    }

    #[test]
    fn the_report_never_claims_what_verification_found() {
        let mut erasure = Erasure::new();
        erasure.record(
            id("a"),
            ResourceKind::Study,
            Outcome::Done { existed: true },
        );
        erasure.record(
            id("b"),
            ResourceKind::Study,
            Outcome::Done { existed: false },
        );
        let left = Remnant {
            id: id("a"),
            kind: ResourceKind::Study,
            derived_from: None,
            reason: None,
        };
        let report = erasure.verified_by(Verification::new(vec![left]));
        assert!(!report.is_verified());
        assert_eq!(report.erased().len(), 1);
        assert!(report.erased()[0].already_absent);

        let mut erasure = Erasure::new();
        erasure.refuse(
            id("c"),
            ResourceKind::Study,
            "retention period not yet expired",
        );
        let report = erasure.verified_by(Verification::new(Vec::new()));
        assert!(!report.is_verified());
        assert_eq!(report.refused().len(), 1);
    }
}
