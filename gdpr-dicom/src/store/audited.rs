//! Audit of store operations: [`Audited`] wraps any [`SubjectStore`] and
//! records one [`StoreEvent`] per operation (what, on which system, on which
//! of the system's records, with what outcome) into a [`StoreAuditSink`].
//!
//! The event itself carries no patient value: objects are the system's own
//! record ids, and errors are described by their operation template. The
//! subject is handed to the sink separately, so a sink can store it in an
//! erasable field (or a keyed pseudonym) of the audit log.
//!
//! Fail-closed: if the sink cannot record an event, the operation returns an
//! error even when the system acted. Store operations are idempotent, so the
//! caller fixes the audit log and runs the operation again to obtain both
//! the result and its record.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gdpr_core::store::{
    DerivedPolicy, ErasureReport, ExportReport, RecordId, StoreError, StudyHandle, SubjectStore,
    SystemIdentity, Verification,
};
use gdpr_core::subject::PatientId;
use serde::{Deserialize, Serialize};

/// What a store operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StoreAction {
    /// Listed a subject's studies (Art. 15(1)).
    Locate,
    /// Exported a subject's studies (Art. 15(3), 20(1)).
    Export,
    /// Erased one study (Art. 17(1)).
    EraseStudy,
    /// Erased a subject's data (Art. 17(1)).
    EraseSubject,
    /// Verified an erasure (Art. 17(1), 5(2)).
    VerifyErasure,
}

impl StoreAction {
    /// The provision the action serves.
    pub const fn citation(self) -> &'static str {
        match self {
            Self::Locate => "GDPR Art. 15(1)",
            Self::Export => "GDPR Art. 15(3), Art. 20(1)",
            Self::EraseStudy | Self::EraseSubject => "GDPR Art. 17(1)",
            Self::VerifyErasure => "GDPR Art. 17(1), Art. 5(2)",
        }
    }
}

/// How a store operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StoreOutcome {
    /// Completed (locate, export).
    Completed,
    /// Erasure or verification confirmed that nothing is left.
    Verified,
    /// Erasure ran but something is left or was refused.
    Incomplete,
    /// The operation failed with an error.
    Failed,
}

/// One audit event of a store operation. Holds no patient value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreEvent {
    /// What was done.
    pub action: StoreAction,
    /// The provision it served.
    pub citation: String,
    /// How it ended.
    pub outcome: StoreOutcome,
    /// The system acted on.
    pub system: SystemIdentity,
    /// The system's records concerned (studies found, exported, erased, or
    /// left).
    pub objects: Vec<RecordId>,
    /// For failures: the error, which never contains identifying values.
    pub error: Option<String>,
    /// When the operation ended.
    pub at: jiff::Timestamp,
}

/// Where [`Audited`] records events.
pub trait StoreAuditSink: Send + Sync {
    /// Records `event` about `subject` (the subject is separate so the sink
    /// can keep it erasable or pseudonymised).
    ///
    /// # Errors
    /// [`StoreError::Local`] when the event could not be recorded durably.
    fn record(&self, event: StoreEvent, subject: Option<&PatientId>) -> Result<(), StoreError>;
}

/// A sink that keeps events in memory (tests, short-lived tools).
#[derive(Debug, Default)]
pub struct MemoryAuditSink {
    events: Mutex<Vec<StoreEvent>>,
}

impl MemoryAuditSink {
    /// The events recorded so far.
    pub fn events(&self) -> Vec<StoreEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl StoreAuditSink for MemoryAuditSink {
    fn record(&self, event: StoreEvent, _subject: Option<&PatientId>) -> Result<(), StoreError> {
        self.events
            .lock()
            .map_err(|_| StoreError::Local {
                operation: "record audit event",
                detail: "the in-memory audit sink is poisoned".into(),
            })?
            .push(event);
        Ok(())
    }
}

/// A store whose every operation leaves an audit event.
pub struct Audited<S> {
    inner: S,
    sink: Arc<dyn StoreAuditSink>,
}

impl<S: SubjectStore> Audited<S> {
    /// Wraps `inner`, recording into `sink`.
    pub fn new(inner: S, sink: Arc<dyn StoreAuditSink>) -> Self {
        Self { inner, sink }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn emit<T>(
        &self,
        action: StoreAction,
        subject: Option<&PatientId>,
        result: &Result<T, StoreError>,
        summarize: impl FnOnce(&T) -> (StoreOutcome, Vec<RecordId>),
    ) -> Result<(), StoreError> {
        let (outcome, objects, error) = match result {
            Ok(value) => {
                let (outcome, objects) = summarize(value);
                (outcome, objects, None)
            }
            Err(e) => (StoreOutcome::Failed, Vec::new(), Some(e.to_string())),
        };
        self.sink.record(
            StoreEvent {
                action,
                citation: action.citation().to_owned(),
                outcome,
                system: self.inner.identity().clone(),
                objects,
                error,
                at: jiff::Timestamp::now(),
            },
            subject,
        )
    }
}

fn erasure_summary(report: &ErasureReport) -> (StoreOutcome, Vec<RecordId>) {
    let outcome = if report.is_verified() {
        StoreOutcome::Verified
    } else {
        StoreOutcome::Incomplete
    };
    let objects = report
        .erased()
        .iter()
        .map(|e| e.id.clone())
        .chain(report.left().iter().map(|l| l.id.clone()))
        .chain(report.refused().iter().map(|r| r.id.clone()))
        .collect();
    (outcome, objects)
}

#[async_trait]
impl<S: SubjectStore> SubjectStore for Audited<S> {
    fn identity(&self) -> &SystemIdentity {
        self.inner.identity()
    }

    async fn locate(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        let result = self.inner.locate(subject).await;
        self.emit(StoreAction::Locate, Some(subject), &result, |studies| {
            (
                StoreOutcome::Completed,
                studies.iter().map(|s| s.id().clone()).collect(),
            )
        })?;
        result
    }

    async fn export(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let result = self.inner.export(subject, destination).await;
        self.emit(StoreAction::Export, Some(subject), &result, |report| {
            (
                StoreOutcome::Completed,
                report
                    .manifest
                    .studies
                    .iter()
                    .map(|s| s.id.clone())
                    .collect(),
            )
        })?;
        result
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        let result = self.inner.erase_study(study).await;
        self.emit(StoreAction::EraseStudy, None, &result, erasure_summary)?;
        result
    }

    async fn erase_subject(
        &self,
        subject: &PatientId,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let result = self.inner.erase_subject(subject, derived).await;
        self.emit(
            StoreAction::EraseSubject,
            Some(subject),
            &result,
            erasure_summary,
        )?;
        result
    }

    async fn verify_erasure(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let result = self.inner.verify_erasure(subject, erased).await;
        self.emit(StoreAction::VerifyErasure, Some(subject), &result, |v| {
            let outcome = if v.is_confirmed() {
                StoreOutcome::Verified
            } else {
                StoreOutcome::Incomplete
            };
            (
                outcome,
                v.remaining().iter().map(|r| r.id.clone()).collect(),
            )
        })?;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FolderStore, SyntheticInstance};

    struct Broken;
    impl StoreAuditSink for Broken {
        fn record(&self, _: StoreEvent, _: Option<&PatientId>) -> Result<(), StoreError> {
            Err(StoreError::Local {
                operation: "record audit event",
                detail: "disk full".into(),
            })
        }
    }

    #[tokio::test]
    async fn every_operation_leaves_one_event_without_patient_values() {
        let dir = tempfile::tempdir().unwrap();
        let subject = PatientId::new("CANARY-AUDIT-1").unwrap();
        SyntheticInstance::new("1.2.826.0.1.3680043.10.1234.3", subject.expose(), 1, 1, 1)
            .write_to(&dir.path().join("a.dcm"))
            .unwrap();
        let sink = Arc::new(MemoryAuditSink::default());
        let store = Audited::new(
            FolderStore::open("archive", dir.path()).unwrap(),
            sink.clone(),
        );
        let handles = store.locate(&subject).await.unwrap();
        let out = tempfile::tempdir().unwrap();
        store.export(&subject, &out.path().join("x")).await.unwrap();
        let _ = store
            .export(&subject, &out.path().join("x"))
            .await
            .unwrap_err();
        store
            .erase_subject(&subject, DerivedPolicy::Erase)
            .await
            .unwrap();
        store.verify_erasure(&subject, &handles).await.unwrap();
        let events = sink.events();
        let actions: Vec<_> = events.iter().map(|e| (e.action, e.outcome)).collect();
        assert_eq!(
            actions,
            [
                (StoreAction::Locate, StoreOutcome::Completed),
                (StoreAction::Export, StoreOutcome::Completed),
                (StoreAction::Export, StoreOutcome::Failed),
                (StoreAction::EraseSubject, StoreOutcome::Verified),
                (StoreAction::VerifyErasure, StoreOutcome::Verified),
            ]
        );
        assert_eq!(events[3].objects, vec![handles[0].id().clone()]);
        assert_eq!(events[3].citation, "GDPR Art. 17(1)");
        let json = serde_json::to_string(&events).unwrap();
        assert!(!json.contains("CANARY"));
        assert!(!json.contains("1.2.826.0.1.3680043.10.1234.3"));
    }

    #[tokio::test]
    async fn a_failing_audit_sink_fails_the_operation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Audited::new(
            FolderStore::open("archive", dir.path()).unwrap(),
            Arc::new(Broken),
        );
        let err = store
            .locate(&PatientId::new("X").unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("audit"), "{err}");
    }
}
