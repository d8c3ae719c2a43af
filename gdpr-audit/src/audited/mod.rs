//! Audit of store operations (feature `audited`): [`Audited`] wraps any
//! `gdpr-core` [`SubjectStore`] (DICOM archives, EHR systems alike) and
//! records one [`AuditEvent`] per operation through the [`AuditSink`] seam
//! (an [`crate::AuditLog`] in production: sealed, hash-chained, personal
//! fields encrypted under the subject's key; [`crate::MemorySink`] in tests).
//!
//! | operation | event type | action |
//! |---|---|---|
//! | `locate`, `verify_erasure` | Query (DCM 110112) | query |
//! | `export` | Export (DCM 110106) | export |
//! | `erase_record`, `erase_records`, `erase_subject` on studies | DICOM Study Deleted (DCM 110105) | erasure |
//! | `erase_record`, `erase_records`, `erase_subject` on EHR records | Patient Record (DCM 110110) | erasure |
//! | `restrict`, `lift_restriction` | Patient Record (DCM 110110) | update |
//!
//! The outcome is success, minor failure (an erasure that left or was
//! refused something, a restriction the system cannot mark) or serious
//! failure (an error). The subject, the record (for `erase_record`) and a
//! summary of the records concerned (the system's
//! own ids: found, exported, erased, left, refused) go into the event's
//! personal fields, which the audit log keeps erasable; the error of a failed
//! operation never contains identifying values. Who acted, why and on which
//! basis come from the [`AuditContext`] the host supplies.
//!
//! The subject as the audit log knows it (whose key encrypts the personal
//! fields, and is shredded on erasure) is [`AuditContext::subject`] when the
//! host sets it — a request spanning several systems names one subject for
//! all of them. Otherwise it is derived from the store's [`SubjectRef`]: a
//! DICOM Patient ID as it is; a FHIR identifier as the value with its system
//! as issuer, when both fit a Patient ID's rules. A FHIR logical id (or a
//! longer identifier) names no subject across systems: set
//! [`AuditContext::subject`] for it, or the operation is refused before it
//! runs.
//!
//! Fail-closed: if the sink cannot record an event, the operation returns an
//! error even when the system acted. Store operations are idempotent, so the
//! caller fixes the audit log and runs the operation again to obtain both the
//! result and its record.
//!
//! Recording never blocks the async executor: appending to a log waits for
//! an `fdatasync`, so the event is recorded on tokio's blocking pool
//! (`spawn_blocking`) and the operation awaits it. A dedicated writer thread
//! was not chosen: the operation must not return before its event is
//! durable (fail-closed), so it would await the writer anyway, and
//! concurrent operations already share one sync through the log's group
//! commit. Outside a tokio runtime the event is recorded on the calling
//! thread.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use gdpr_core::actor::Actor;
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use gdpr_core::restriction::Restriction;
use gdpr_core::store::{
    DerivedPolicy, ErasureAttempt, ErasureReport, ExportReport, FhirSubject, RecordHandle,
    RestrictionOutcome, StoreError, SubjectRef, SubjectStore, SystemIdentity, Verification,
};
use gdpr_core::subject::PatientId;

use crate::action::{Action, EventType, Outcome};
use crate::event::AuditEvent;
use crate::label::{CorrelationId, SourceSystem, TenantId};
use crate::object::{FreeText, ObjectId, ObjectRef};
use crate::sink::AuditSink;

mod summary;

use summary::{
    EXPORT, QUERY, RESTRICTION, Summary, attempt_summary, bounded, erasure_of, erasure_summary,
    ids, object_kind, record_off_executor, restriction_summary,
};

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
    /// The subject as the audit log knows it, when it is not the store's
    /// own reference (see the module documentation).
    pub subject: Option<PatientId>,
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
            subject: None,
        }
    }

    /// The same context, recording events under `subject` whatever the
    /// store calls it.
    #[must_use]
    pub fn with_subject(mut self, subject: PatientId) -> Self {
        self.subject = Some(subject);
        self
    }
}

/// A store whose every operation leaves an audit event.
pub struct Audited<S> {
    inner: S,
    sink: Arc<dyn AuditSink>,
    context: AuditContext,
    source: SourceSystem,
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

    /// Records the event of an operation that returned `result`; an
    /// error when it could not be recorded (fail-closed).
    async fn emit<T>(
        &self,
        kind: (EventType, Action),
        subject: Option<&PatientId>,
        record: Option<&RecordHandle>,
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
        let event = self.event(kind, subject, record, summary);
        record_off_executor(Arc::clone(&self.sink), event).await
    }

    /// The event recording an operation with `summary`.
    fn event(
        &self,
        (event_type, action): (EventType, Action),
        subject: Option<&PatientId>,
        record: Option<&RecordHandle>,
        summary: Summary,
    ) -> AuditEvent {
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
        if let Some(record) = record
            && let Ok(id) = ObjectId::new(record.id().as_str())
        {
            builder = builder.object(ObjectRef::new(object_kind(record), id));
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
        builder.build(jiff::Timestamp::now())
    }
}

impl<S: SubjectStore> Audited<S> {
    /// The subject as the audit log knows it: the context's, else derived
    /// from `subject` (module documentation).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when neither names one.
    fn audit_subject(&self, subject: &SubjectRef) -> Result<PatientId, StoreError> {
        if let Some(named) = &self.context.subject {
            return Ok(named.clone());
        }
        let derived = match subject {
            SubjectRef::Dicom(id) => Some(id.clone()),
            SubjectRef::Fhir(FhirSubject::Identifier(id)) => PatientId::new(id.expose_value())
                .ok()
                .and_then(|p| match id.system() {
                    Some(system) => p.with_issuer(system).ok(),
                    None => Some(p),
                }),
            _ => None,
        };
        derived.ok_or_else(|| StoreError::Configuration {
            detail: format!(
                "the audit log cannot name the subject from {}; set AuditContext::subject",
                subject.kind_name()
            ),
        })
    }
}

#[async_trait]
impl<S: SubjectStore> SubjectStore for Audited<S> {
    fn identity(&self) -> &SystemIdentity {
        self.inner.identity()
    }

    async fn locate(&self, subject: &SubjectRef) -> Result<Vec<RecordHandle>, StoreError> {
        let who = self.audit_subject(subject)?;
        let result = self.inner.locate(subject).await;
        self.emit(QUERY, Some(&who), None, &result, |records| Summary {
            outcome: Outcome::Success,
            text: ids("located", records.iter().map(RecordHandle::id)),
        })
        .await?;
        result
    }

    async fn export(
        &self,
        subject: &SubjectRef,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let who = self.audit_subject(subject)?;
        let result = self.inner.export(subject, destination).await;
        self.emit(EXPORT, Some(&who), None, &result, |report| {
            let manifest = &report.manifest;
            let studies = manifest.studies.iter().map(|s| &s.id);
            Summary {
                outcome: Outcome::Success,
                text: format!(
                    "{}; {} files, {} bytes",
                    ids(
                        "exported",
                        studies.chain(manifest.records.iter().map(|r| &r.id))
                    ),
                    report.files,
                    report.bytes
                ),
            }
        })
        .await?;
        result
    }

    async fn erase_record(&self, record: &RecordHandle) -> Result<ErasureReport, StoreError> {
        let result = self.inner.erase_record(record).await;
        let kind = erasure_of(Some(record), None);
        self.emit(
            kind,
            self.context.subject.as_ref(),
            Some(record),
            &result,
            erasure_summary,
        )
        .await?;
        result
    }

    async fn erase_records(
        &self,
        subject: &SubjectRef,
        records: &[RecordHandle],
    ) -> Result<ErasureAttempt, StoreError> {
        let who = self.audit_subject(subject)?;
        let result = self.inner.erase_records(subject, records).await;
        // One event for the batch: the kind of its records, every id in it.
        let kind = erasure_of(records.first(), Some(subject));
        self.emit(kind, Some(&who), None, &result, attempt_summary)
            .await?;
        result
    }

    async fn erase_subject(
        &self,
        subject: &SubjectRef,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let who = self.audit_subject(subject)?;
        let result = self.inner.erase_subject(subject, derived).await;
        let kind = erasure_of(None, Some(subject));
        self.emit(kind, Some(&who), None, &result, erasure_summary)
            .await?;
        result
    }

    async fn verify_erasure(
        &self,
        subject: &SubjectRef,
        erased: &[RecordHandle],
    ) -> Result<Verification, StoreError> {
        let who = self.audit_subject(subject)?;
        let result = self.inner.verify_erasure(subject, erased).await;
        self.emit(QUERY, Some(&who), None, &result, |v| Summary {
            outcome: if v.is_confirmed() {
                Outcome::Success
            } else {
                Outcome::MinorFailure
            },
            text: format!(
                "erasure verification: {}",
                ids("remaining", v.remaining().iter().map(|r| &r.id))
            ),
        })
        .await?;
        result
    }

    async fn restrict(
        &self,
        subject: &SubjectRef,
        restriction: &Restriction,
    ) -> Result<RestrictionOutcome, StoreError> {
        let who = self.audit_subject(subject)?;
        let result = self.inner.restrict(subject, restriction).await;
        self.emit(RESTRICTION, Some(&who), None, &result, |outcome| {
            let summary = restriction_summary(outcome);
            Summary {
                text: format!(
                    "restriction ({}): {}",
                    restriction.ground().citation(),
                    summary.text
                ),
                ..summary
            }
        })
        .await?;
        result
    }

    async fn lift_restriction(
        &self,
        subject: &SubjectRef,
    ) -> Result<RestrictionOutcome, StoreError> {
        let who = self.audit_subject(subject)?;
        let result = self.inner.lift_restriction(subject).await;
        self.emit(RESTRICTION, Some(&who), None, &result, |outcome| {
            let summary = restriction_summary(outcome);
            Summary {
                text: format!("restriction lifted: {}", summary.text),
                ..summary
            }
        })
        .await?;
        result
    }
}
