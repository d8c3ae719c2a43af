//! Audit of store operations: [`Audited`] wraps any [`SubjectStore`] and
//! records one [`gdpr_audit::event::AuditEvent`] per operation through
//! gdpr-audit's [`AuditSink`] seam (an [`gdpr_audit::log::AuditLog`] in
//! production: sealed, hash-chained, personal fields encrypted under the
//! subject's key; [`gdpr_audit::sink::MemorySink`] in tests).
//!
//! | operation | event type | action |
//! |---|---|---|
//! | `locate`, `verify_erasure` | Query (DCM 110112) | query |
//! | `export` | Export (DCM 110106) | export |
//! | `erase_study`, `erase_subject` | DICOM Study Deleted (DCM 110105) | erasure |
//!
//! The outcome is success, minor failure (an erasure that left or was
//! refused something) or serious failure (an error). The subject, the study
//! (for `erase_study`) and a summary of the records concerned (the system's
//! own ids: found, exported, erased, left, refused) go into the event's
//! personal fields, which the audit log keeps erasable; the error of a failed
//! operation never contains identifying values. Who acted, why and on which
//! basis come from the [`AuditContext`] the host supplies.
//!
//! Fail-closed: if the sink cannot record an event, the operation returns an
//! error even when the system acted. Store operations are idempotent, so the
//! caller fixes the audit log and runs the operation again to obtain both the
//! result and its record.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use gdpr_audit::action::{Action, EventType, Outcome};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::{CorrelationId, SourceSystem, TenantId};
use gdpr_audit::object::{FreeText, ObjectId, ObjectKind, ObjectRef};
use gdpr_audit::sink::AuditSink;
use gdpr_core::actor::Actor;
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use gdpr_core::store::{
    DerivedPolicy, ErasureReport, ExportReport, RecordId, StoreError, StudyHandle, SubjectStore,
    SystemIdentity, Verification,
};
use gdpr_core::subject::PatientId;

/// Who acts on the store, why and on which lawful basis.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuditContext {
    /// The person or system acting.
    pub actor: Actor,
    /// Why (for data-subject requests: [`Purpose::DataSubjectRequest`]).
    pub purpose: Purpose,
    /// On which basis.
    pub basis: LawfulBasis,
    /// The tenant, in a shared audit log.
    pub tenant: Option<TenantId>,
    /// Links the events of one request.
    pub correlation_id: Option<CorrelationId>,
}

impl AuditContext {
    /// A context without tenant or correlation id.
    pub fn new(actor: Actor, purpose: Purpose, basis: LawfulBasis) -> Self {
        Self {
            actor,
            purpose,
            basis,
            tenant: None,
            correlation_id: None,
        }
    }
}

/// A store whose every operation leaves an audit event.
pub struct Audited<S> {
    inner: S,
    sink: Arc<dyn AuditSink>,
    context: AuditContext,
    source: SourceSystem,
}

struct Summary {
    outcome: Outcome,
    text: String,
}

impl<S: SubjectStore> Audited<S> {
    /// Wraps `inner`, recording into `sink` with `context`. The system's
    /// configured name becomes the event's source system.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when the system's name is not a valid
    /// audit label (1 to 128 bytes, no control characters, no surrounding
    /// space).
    pub fn new(
        inner: S,
        sink: Arc<dyn AuditSink>,
        context: AuditContext,
    ) -> Result<Self, StoreError> {
        let source =
            SourceSystem::new(inner.identity().name()).map_err(|e| StoreError::Configuration {
                detail: format!("the system name cannot name an audit source: {e}"),
            })?;
        Ok(Self {
            inner,
            sink,
            context,
            source,
        })
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn emit<T>(
        &self,
        (event_type, action): (EventType, Action),
        subject: Option<&PatientId>,
        study: Option<&StudyHandle>,
        result: &Result<T, StoreError>,
        summarize: impl FnOnce(&T) -> Summary,
    ) -> Result<(), StoreError> {
        let summary = match result {
            Ok(value) => summarize(value),
            Err(e) => Summary {
                outcome: Outcome::SeriousFailure,
                text: format!("failed: {e}"),
            },
        };
        let mut builder = AuditEvent::builder(
            event_type,
            action,
            self.context.actor.clone(),
            self.context.purpose,
            self.context.basis.clone(),
            self.source.clone(),
        )
        .outcome(summary.outcome);
        if let Some(subject) = subject {
            builder = builder.subject(subject.clone());
        }
        if let Some(study) = study
            && let Ok(id) = ObjectId::new(study.id().as_str())
        {
            builder = builder.object(ObjectRef::new(ObjectKind::Study, id));
        }
        if let Some(tenant) = &self.context.tenant {
            builder = builder.tenant(tenant.clone());
        }
        if let Some(correlation) = &self.context.correlation_id {
            builder = builder.correlation_id(correlation.clone());
        }
        let identity = self.inner.identity();
        let text = format!(
            "system {} ({} at {}); {}",
            identity.name(),
            identity.kind(),
            identity.endpoint(),
            summary.text
        );
        if let Ok(text) = FreeText::new(bounded(text)) {
            builder = builder.text(text);
        }
        self.sink
            .record(&builder.build(jiff::Timestamp::now()))
            .map(|_receipt| ())
            .map_err(|e| StoreError::Local {
                operation: "record audit event",
                detail: e.to_string(),
            })
    }
}

/// Keeps free text within the audit model's 4096 bytes.
fn bounded(mut text: String) -> String {
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

fn ids<'a>(label: &str, ids: impl Iterator<Item = &'a RecordId>) -> String {
    let list: Vec<&str> = ids.map(RecordId::as_str).collect();
    format!("{label} [{}]", list.join(", "))
}

fn erasure_summary(report: &ErasureReport) -> Summary {
    Summary {
        outcome: if report.is_verified() {
            Outcome::Success
        } else {
            Outcome::MinorFailure
        },
        text: format!(
            "verified: {}; {}; {}; {}",
            report.is_verified(),
            ids("erased", report.erased().iter().map(|e| &e.id)),
            ids("left", report.left().iter().map(|l| &l.id)),
            ids("refused", report.refused().iter().map(|r| &r.id)),
        ),
    }
}

const QUERY: (EventType, Action) = (EventType::Query, Action::Query);
const EXPORT: (EventType, Action) = (EventType::Export, Action::Export);
const ERASURE: (EventType, Action) = (EventType::DicomStudyDeleted, Action::Erasure);

#[async_trait]
impl<S: SubjectStore> SubjectStore for Audited<S> {
    fn identity(&self) -> &SystemIdentity {
        self.inner.identity()
    }

    async fn locate(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        let result = self.inner.locate(subject).await;
        self.emit(QUERY, Some(subject), None, &result, |studies| Summary {
            outcome: Outcome::Success,
            text: ids("located", studies.iter().map(StudyHandle::id)),
        })?;
        result
    }

    async fn export(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let result = self.inner.export(subject, destination).await;
        self.emit(EXPORT, Some(subject), None, &result, |report| Summary {
            outcome: Outcome::Success,
            text: format!(
                "{}; {} files, {} bytes",
                ids("exported", report.manifest.studies.iter().map(|s| &s.id)),
                report.files,
                report.bytes
            ),
        })?;
        result
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        let result = self.inner.erase_study(study).await;
        self.emit(ERASURE, None, Some(study), &result, erasure_summary)?;
        result
    }

    async fn erase_subject(
        &self,
        subject: &PatientId,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let result = self.inner.erase_subject(subject, derived).await;
        self.emit(ERASURE, Some(subject), None, &result, erasure_summary)?;
        result
    }

    async fn verify_erasure(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let result = self.inner.verify_erasure(subject, erased).await;
        self.emit(QUERY, Some(subject), None, &result, |v| Summary {
            outcome: if v.is_confirmed() {
                Outcome::Success
            } else {
                Outcome::MinorFailure
            },
            text: format!(
                "erasure verification: {}",
                ids("remaining", v.remaining().iter().map(|r| &r.id))
            ),
        })?;
        result
    }
}

#[cfg(test)]
mod tests {
    use gdpr_core::actor::{ActorId, Role, Secrecy};
    use gdpr_core::basis::Art6Basis;

    use super::*;
    use crate::store::{FolderStore, SyntheticInstance};

    struct Broken;
    impl AuditSink for Broken {
        fn record(&self, _: &AuditEvent) -> Result<gdpr_audit::log::Receipt, gdpr_audit::Error> {
            Err(gdpr_audit::Error::Io {
                path: "audit.log".into(),
                source: std::io::Error::from(std::io::ErrorKind::StorageFull),
            })
        }
    }

    fn context() -> AuditContext {
        AuditContext::new(
            Actor {
                id: ActorId::new("dpo.jones").unwrap(),
                role: Role::DataProtectionOfficer,
                secrecy: Secrecy::None,
            },
            Purpose::DataSubjectRequest,
            LawfulBasis::Ordinary {
                art6: Art6Basis::LegalObligation,
            },
        )
    }

    #[tokio::test]
    async fn every_operation_leaves_one_event_without_patient_values_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let subject = PatientId::new("CANARY-AUDIT-1").unwrap();
        SyntheticInstance::new("1.2.826.0.1.3680043.10.1234.3", subject.expose(), 1, 1, 1)
            .write_to(&dir.path().join("a.dcm"))
            .unwrap();
        let sink = Arc::new(gdpr_audit::sink::MemorySink::new());
        let store = Audited::new(
            FolderStore::open("archive", dir.path()).unwrap(),
            sink.clone(),
            context(),
        )
        .unwrap();
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
        let kinds: Vec<_> = events
            .iter()
            .map(|e| (e.event_type(), e.action(), e.outcome()))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventType::Query, Action::Query, Outcome::Success),
                (EventType::Export, Action::Export, Outcome::Success),
                (EventType::Export, Action::Export, Outcome::SeriousFailure),
                (
                    EventType::DicomStudyDeleted,
                    Action::Erasure,
                    Outcome::Success
                ),
                (EventType::Query, Action::Query, Outcome::Success),
            ]
        );
        let erasure = &events[3];
        assert_eq!(erasure.subject(), Some(&subject));
        assert_eq!(erasure.source().as_str(), "archive");
        assert_eq!(erasure.purpose(), Purpose::DataSubjectRequest);
        let text = erasure.text().unwrap().expose();
        assert!(text.contains(handles[0].id().as_str()), "{text}");
        assert!(text.contains("verified: true"), "{text}");
        assert!(text.starts_with("system archive (folder at "), "{text}");
        // Personal fields are redacted in Debug; nothing identifying leaks.
        let debug = format!("{events:?}");
        assert!(!debug.contains("CANARY"), "{debug}");
        assert!(!debug.contains("1.2.826.0.1.3680043.10.1234.3"));
    }

    #[tokio::test]
    async fn a_failing_audit_sink_fails_the_operation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Audited::new(
            FolderStore::open("archive", dir.path()).unwrap(),
            Arc::new(Broken),
            context(),
        )
        .unwrap();
        let err = store
            .locate(&PatientId::new("X").unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("audit"), "{err}");
    }

    #[test]
    fn long_summaries_are_bounded() {
        let text = bounded("x".repeat(10_000));
        assert!(FreeText::new(text).is_ok());
    }
}
