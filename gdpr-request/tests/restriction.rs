//! Restriction (Art. 18) and its lifting end to end on the folder store,
//! which carries no mark of its own: the register holds every record of the
//! subject, `consult` makes `authorize` allow only storage and the
//! Art. 18(2) exceptions, and lifting gives processing back. Records kept
//! by an erasure are limited to the purposes that keep them. A record the
//! system gains after the restriction is covered by the subject-wide entry.

mod support;

use gdpr_core::Citation;
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::authorization::{Request, authorize};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::category::RecordCategory;
use gdpr_core::decision::{Decision, ReasonCode};
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{RequestKind, Stage};
use gdpr_core::restriction::RestrictionException;
use gdpr_core::store::RecordId;
use gdpr_core::subject::{Identifiability, SubjectState};
use gdpr_request::register::{SUBJECT_PREFIX, consult, in_force_for, subject_record_of};
use gdpr_request::{FileRegister, RestrictionRegister, verify_certificate};
use support::*;

fn activity() -> ProcessingActivity {
    ProcessingActivity::new(
        "Radiology reporting",
        Purpose::Diagnosis,
        LawfulBasis::SpecialCategory(HealthBasis::new(
            Art6Basis::Contract,
            Art9Condition::HealthCare,
        )),
        vec![RecordCategory::ImagingExamination],
        Identifiability::Identified,
    )
    .unwrap()
}

/// The decision for `purpose` on `record`, after consulting the register.
async fn decide(
    fx: &Fixture,
    record: &RecordId,
    purpose: Purpose,
    exception: Option<RestrictionException>,
) -> Decision {
    let register = FileRegister::open(&fx.path("register")).unwrap();
    let entries = register.in_force(&pacs(), record).await.unwrap();
    decide_on(&entries, purpose, exception)
}

/// A physician's decision for `purpose` (with `exception`) on a record
/// whose register entries in force are `entries`, now.
fn decide_on(
    entries: &[gdpr_request::register::RestrictionEntry],
    purpose: Purpose,
    exception: Option<RestrictionException>,
) -> Decision {
    let mut request = Request {
        actor: Actor {
            id: ActorId::new("dr-1").unwrap(),
            role: Role::Physician,
            secrecy: Secrecy::Professional {
                source: Citation::from_static("§ 203(1) Nr. 1 StGB"),
            },
        },
        purpose,
        categories: vec![RecordCategory::ImagingExamination],
        restriction_exception: exception,
        retention_phase: None,
    };
    let mut subject = SubjectState::default();
    consult(entries, &mut request, &mut subject).unwrap();
    authorize(&activity(), &request, &subject, jiff::Timestamp::now())
}

#[tokio::test]
async fn restriction_then_lifting_held_in_the_register_and_enforced_by_authorize() {
    let fx = Fixture::new();
    let other = fx.other_files();
    let due = record_id(TARGET, 1);
    assert!(
        decide(&fx, &due, Purpose::Diagnosis, None)
            .await
            .is_permit()
    );

    approved_request(&fx, "dsr-r", restriction()).await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-r", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    let done = outcome.systems[0].restriction.as_ref().unwrap();
    assert!(!done.lifted);
    assert_eq!(done.system_mark, None, "the folder store has no mark");
    assert!(done.unsupported.is_some());
    assert_eq!(done.register_records, 3, "every study of the subject");
    assert_eq!(
        fx.other_files(),
        other,
        "nothing of the other patient changes"
    );
    assert!(
        fx.path("archive/due/1.dcm").exists(),
        "restriction erases nothing"
    );

    let diagnosis = decide(&fx, &due, Purpose::Diagnosis, None).await;
    assert!(
        diagnosis.denies_with(ReasonCode::Restricted),
        "{diagnosis:?}"
    );
    let storage = decide(&fx, &due, Purpose::Storage, None).await;
    assert!(!storage.denies_with(ReasonCode::Restricted), "{storage:?}");
    let claims = decide(
        &fx,
        &due,
        Purpose::Diagnosis,
        Some(RestrictionException::ProtectionOfOthers),
    )
    .await;
    assert!(claims.is_permit(), "an Art. 18(2) exception: {claims:?}");
    let others = decide(&fx, &record_id(OTHER, 1), Purpose::Diagnosis, None).await;
    assert!(others.is_permit(), "the other patient is not restricted");

    let cert =
        gdpr_request::certificate::issue(ex.dir(), &log, &fx.signer(), jiff::Timestamp::now())
            .unwrap();
    assert!(cert.systems[0].restriction.is_some());
    let bytes = serde_json::to_vec(&cert).unwrap();
    verify_certificate(&bytes, &fx.signer().verifier()).unwrap();
    drop((ex, log));

    approved_request(&fx, "dsr-l", RequestKind::LiftRestriction).await;
    let outcome = open(&fx, "dsr-l", fx.log(), None)
        .await
        .run()
        .await
        .unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    let done = outcome.systems[0].restriction.as_ref().unwrap();
    assert!(done.lifted);
    assert_eq!(done.register_records, 3);
    assert!(
        decide(&fx, &due, Purpose::Diagnosis, None)
            .await
            .is_permit()
    );
}

#[tokio::test]
async fn a_record_kept_by_an_erasure_serves_only_the_purpose_that_keeps_it() {
    let fx = Fixture::new();
    approved_erasure(&fx, "dsr-e").await;
    let outcome = open(&fx, "dsr-e", fx.log(), None)
        .await
        .run()
        .await
        .unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    // The study under a litigation hold is kept for legal claims only.
    let held = record_id(TARGET, 2);
    let diagnosis = decide(&fx, &held, Purpose::Diagnosis, None).await;
    assert!(
        diagnosis.denies_with(ReasonCode::OutsideRetentionPurpose),
        "{diagnosis:?}"
    );
    let claims = decide(&fx, &held, Purpose::LegalClaims, None).await;
    assert!(
        !claims.denies_with(ReasonCode::OutsideRetentionPurpose),
        "{claims:?}"
    );
}

/// The decision for `purpose` on `record`, consulting the record's entries
/// and the subject-wide one (found through the audit log's key store).
async fn decide_for_subject(fx: &Fixture, record: &RecordId, purpose: Purpose) -> Decision {
    let register = FileRegister::open(&fx.path("register")).unwrap();
    let subject = {
        let log = fx.log();
        let keys = log.keys();
        subject_record_of(&*keys, &gdpr_core::subject::PatientId::new(TARGET).unwrap())
    };
    let entries = in_force_for(&register, &pacs(), record, subject.as_ref())
        .await
        .unwrap();
    decide_on(&entries, purpose, None)
}

#[tokio::test]
async fn a_record_the_system_gains_after_the_restriction_is_covered_by_the_subject_wide_entry() {
    let fx = Fixture::new();
    approved_request(&fx, "dsr-w", restriction()).await;
    let outcome = open(&fx, "dsr-w", fx.log(), None)
        .await
        .run()
        .await
        .unwrap();
    assert_eq!(outcome.stage, Stage::Completed, "{outcome:?}");
    // A study of the subject arrives after the restriction: the register
    // has no entry for it as a record.
    let dir = fx.path("archive/later");
    std::fs::create_dir_all(&dir).unwrap();
    let inst = gdpr_dicom::synthetic::SyntheticInstance::new(UID_ROOT, TARGET, 9, 1, 1);
    inst.write_to(&dir.join("1.dcm")).unwrap();
    let later = record_id(TARGET, 9);
    let register = FileRegister::open(&fx.path("register")).unwrap();
    assert!(register.in_force(&pacs(), &later).await.unwrap().is_empty());
    let wide: Vec<_> = register
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.is_subject_wide())
        .collect();
    assert_eq!(wide.len(), 1, "one subject-wide entry for the one system");
    assert!(wide[0].record.as_str().starts_with(SUBJECT_PREFIX));
    assert!(!wide[0].record.as_str().contains(TARGET));

    let diagnosis = decide_for_subject(&fx, &later, Purpose::Diagnosis).await;
    assert!(
        diagnosis.denies_with(ReasonCode::Restricted),
        "{diagnosis:?}"
    );
    let storage = decide_for_subject(&fx, &later, Purpose::Storage).await;
    assert!(!storage.denies_with(ReasonCode::Restricted), "{storage:?}");
    // Only the subject's own: the other patient's record is not covered.
    let others = decide(&fx, &record_id(OTHER, 1), Purpose::Diagnosis, None).await;
    assert!(others.is_permit());

    // Lifting lifts the subject-wide entry too.
    approved_request(&fx, "dsr-wl", RequestKind::LiftRestriction).await;
    let outcome = open(&fx, "dsr-wl", fx.log(), None)
        .await
        .run()
        .await
        .unwrap();
    assert_eq!(outcome.stage, Stage::Completed, "{outcome:?}");
    assert!(
        decide_for_subject(&fx, &later, Purpose::Diagnosis)
            .await
            .is_permit()
    );
}
