//! `gdpr_audit::Audited` over a DICOM folder store: one event per
//! operation, nothing identifying in clear, fail-closed, and recording off
//! the async executor. (Moved from gdpr-dicom's `store/audited.rs`.)

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use gdpr_audit::AuditSink;
use gdpr_audit::action::{Action, EventType, Outcome};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::{AuditContext, Audited};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::restriction::{Restriction, RestrictionGround};
use gdpr_core::store::{DerivedPolicy, FhirId, FhirSubject, StoreError, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::FolderStore;
use gdpr_dicom::synthetic::SyntheticInstance;
use jiff::Timestamp;

struct Broken;
impl AuditSink for Broken {
    fn record(&self, _: &AuditEvent) -> Result<gdpr_audit::Receipt, gdpr_audit::Error> {
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
    let sink = Arc::new(gdpr_audit::MemorySink::new());
    let store = Audited::new(
        FolderStore::open("archive", dir.path()).unwrap(),
        sink.clone(),
        context(),
    )
    .unwrap();
    let who = SubjectRef::from(subject.clone());
    let handles = store.locate(&who).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    store.export(&who, &out.path().join("x")).await.unwrap();
    let _ = store.export(&who, &out.path().join("x")).await.unwrap_err();
    store
        .erase_subject(&who, DerivedPolicy::Erase)
        .await
        .unwrap();
    store.verify_erasure(&who, &handles).await.unwrap();
    let restriction = Restriction::new(RestrictionGround::AccuracyContested, Timestamp::now());
    let outcome = store.restrict(&who, &restriction).await.unwrap();
    assert!(!outcome.is_marked(), "a folder cannot carry the mark");
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
            (
                EventType::PatientRecord,
                Action::Update,
                Outcome::MinorFailure
            ),
        ]
    );
    let restricted = events[5].text().unwrap().expose();
    assert!(restricted.contains("GDPR Art. 18(1)(a)"), "{restricted}");
    assert!(restricted.contains("cannot mark"), "{restricted}");
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
        .locate(&PatientId::new("X").unwrap().into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("audit"), "{err}");
}

/// A sink that blocks until another task of the same single-threaded
/// runtime sends it a message: recording on the executor thread would
/// never see it (the test fails after a timeout instead of hanging).
struct WaitsForTheExecutor(std::sync::Mutex<mpsc::Receiver<()>>);
impl AuditSink for WaitsForTheExecutor {
    fn record(&self, _: &AuditEvent) -> Result<gdpr_audit::Receipt, gdpr_audit::Error> {
        let rx = self.0.lock().unwrap();
        rx.recv_timeout(Duration::from_secs(10))
            .map_err(|_| gdpr_audit::Error::Io {
                path: "audit.log".into(),
                source: std::io::Error::other("recorded on the executor thread"),
            })?;
        Ok(gdpr_audit::Receipt {
            position: 0,
            leaf_hash: [0; 32],
        })
    }
}

#[test]
fn recording_does_not_block_the_executor() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let store = Audited::new(
        FolderStore::open("archive", dir.path()).unwrap(),
        Arc::new(WaitsForTheExecutor(std::sync::Mutex::new(rx))),
        context(),
    )
    .unwrap();
    runtime.block_on(async {
        let other = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tx.send(()).unwrap();
        });
        store
            .locate(&PatientId::new("X").unwrap().into())
            .await
            .unwrap();
        other.await.unwrap();
    });
}

#[tokio::test]
async fn a_subject_named_the_fhir_way_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(gdpr_audit::MemorySink::new());
    let store = Audited::new(
        FolderStore::open("archive", dir.path()).unwrap(),
        sink.clone(),
        context(),
    )
    .unwrap();
    // A logical id names no subject the audit log can key: refused, nothing recorded.
    let logical = SubjectRef::from(FhirSubject::LogicalId(FhirId::new("p1").unwrap()));
    let err = store.locate(&logical).await.unwrap_err();
    assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
    assert!(sink.events().is_empty());
    // With the audit subject named, the folder store itself refuses the
    // FHIR reference (typed), and the refusal is recorded.
    let named = Audited::new(
        FolderStore::open("archive", dir.path()).unwrap(),
        sink.clone(),
        context().with_subject(PatientId::new("MRN-1").unwrap()),
    )
    .unwrap();
    let err = named.locate(&logical).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::UnsupportedSubject {
                given: "a FHIR logical id",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(sink.events().len(), 1);
}
