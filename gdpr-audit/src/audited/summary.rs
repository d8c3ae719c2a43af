//! What the audit events of [`Audited`](super::Audited) say: the event
//! kind of each operation, the summary text and outcome of its result, and
//! recording off the async executor.

use std::sync::Arc;

use gdpr_core::store::{
    ErasureAttempt, ErasureReport, NotChecked, RecordHandle, RecordId, RestrictionOutcome,
    StoreError, SubjectRef,
};

use crate::action::{Action, EventType, Outcome};
use crate::event::AuditEvent;
use crate::object::ObjectKind;
use crate::sink::AuditSink;

/// The outcome and text of an operation's event.
pub(super) struct Summary {
    pub(super) outcome: Outcome,
    pub(super) text: String,
}

/// The audit object kind of a record.
pub(super) fn object_kind(record: &RecordHandle) -> ObjectKind {
    let Some(resource) = record.as_resource() else {
        return ObjectKind::Study;
    };
    match resource.resource_type().as_str() {
        "Patient" => ObjectKind::Patient,
        "Encounter" | "EpisodeOfCare" => ObjectKind::Encounter,
        "Observation" => ObjectKind::Observation,
        "Consent" => ObjectKind::Consent,
        _ => ObjectKind::Document,
    }
}

/// The erasure event of a record of this kind.
pub(super) fn erasure_of(
    record: Option<&RecordHandle>,
    subject: Option<&SubjectRef>,
) -> (EventType, Action) {
    let studies = match (record, subject) {
        (Some(record), _) => record.as_study().is_some(),
        (None, Some(subject)) => matches!(subject, SubjectRef::Dicom(_)),
        (None, None) => true,
    };
    if studies { ERASURE } else { RECORD_ERASURE }
}

pub(super) fn restriction_summary(outcome: &RestrictionOutcome) -> Summary {
    match outcome {
        RestrictionOutcome::Marked { mark, records } => Summary {
            outcome: Outcome::Success,
            text: format!("marked by {mark} on {records} records"),
        },
        RestrictionOutcome::Unsupported { reason } => Summary {
            outcome: Outcome::MinorFailure,
            text: format!("the system cannot mark it: {reason}"),
        },
        _ => Summary {
            outcome: Outcome::MinorFailure,
            text: "unknown outcome".into(),
        },
    }
}

/// Records `event` on tokio's blocking pool (the append waits for an
/// `fdatasync`), or on this thread outside a tokio runtime.
pub(super) async fn record_off_executor(
    sink: Arc<dyn AuditSink>,
    event: AuditEvent,
) -> Result<(), StoreError> {
    let recorded = if tokio::runtime::Handle::try_current().is_ok() {
        tokio::task::spawn_blocking(move || sink.record(&event).map(|_receipt| ()))
            .await
            .map_err(|_| StoreError::Local {
                operation: "record audit event",
                detail: "the audit writer task failed; check the audit log and retry".into(),
            })?
    } else {
        sink.record(&event).map(|_receipt| ())
    };
    recorded.map_err(|e| StoreError::Local {
        operation: "record audit event",
        detail: e.to_string(),
    })
}

/// Keeps free text within the audit model's 4096 bytes.
pub(super) fn bounded(mut text: String) -> String {
    const MAX: usize = 4000;
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" … (truncated)");
    }
    text
}

pub(super) fn ids<'a>(label: &str, ids: impl Iterator<Item = &'a RecordId>) -> String {
    let list: Vec<&str> = ids.map(RecordId::as_str).collect();
    format!("{label} [{}]", list.join(", "))
}

/// `; not checked: …` naming what verification could not look at (why a
/// report with nothing left or refused is still not verified), or nothing.
pub(super) fn not_checked(items: &[NotChecked]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let list: Vec<&str> = items.iter().map(|n| n.describe()).collect();
    format!("; not checked: {}", list.join(", "))
}

pub(super) fn erasure_summary(report: &ErasureReport) -> Summary {
    Summary {
        outcome: if report.is_verified() {
            Outcome::Success
        } else {
            Outcome::MinorFailure
        },
        text: format!(
            "verified: {}; {}; {}; {}{}",
            report.is_verified(),
            ids("erased", report.erased().iter().map(|e| &e.id)),
            ids("left", report.left().iter().map(|l| &l.id)),
            ids("refused", report.refused().iter().map(|r| &r.id)),
            not_checked(report.not_checked()),
        ),
    }
}

/// A batch erasure: what it deleted and refused, before verification (an
/// erasure's verification is a query event of its own).
pub(super) fn attempt_summary(attempt: &ErasureAttempt) -> Summary {
    Summary {
        outcome: if attempt.refused.is_empty() {
            Outcome::Success
        } else {
            Outcome::MinorFailure
        },
        text: format!(
            "attempted, to be verified: {}; {}",
            ids("deleted", attempt.deleted.iter().map(|e| &e.id)),
            ids("refused", attempt.refused.iter().map(|r| &r.id)),
        ),
    }
}

pub(super) const QUERY: (EventType, Action) = (EventType::Query, Action::Query);
pub(super) const EXPORT: (EventType, Action) = (EventType::Export, Action::Export);
pub(super) const ERASURE: (EventType, Action) = (EventType::DicomStudyDeleted, Action::Erasure);
pub(super) const RECORD_ERASURE: (EventType, Action) = (EventType::PatientRecord, Action::Erasure);
pub(super) const RESTRICTION: (EventType, Action) = (EventType::PatientRecord, Action::Update);
