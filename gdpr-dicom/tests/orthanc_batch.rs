//! The batch erasure on a real Orthanc (`SubjectStore::erase_records`):
//! one derived-copy scan for all the studies, every study re-checked right
//! before its DELETE — the StudyInstanceUID and the subject's PatientID,
//! exactly (case-sensitive, only DICOM padding removed) with its issuer.
//! Enabled by the `orthanc-tests` feature (scripts/test.sh); with it on and
//! no server, they fail.
#![cfg(feature = "orthanc-tests")]

mod support;

use std::collections::BTreeSet;

use gdpr_core::store::{RecordHandle, ResourceKind, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use support::*;

fn subject(p: &PatientId) -> SubjectRef {
    p.clone().into()
}

async fn study_exists(id: &str) -> bool {
    raw(reqwest::Method::GET, &format!("studies/{id}")).await.0 == 200
}

#[tokio::test]
async fn a_batch_erases_the_subjects_studies_and_copies_and_leaves_every_variant() {
    let store = orthanc().await;
    let n = unique();
    let target = PatientId::new(format!("MRN-4001-{n}")).unwrap();
    let lower = PatientId::new(format!("mrn-4001-{n}")).unwrap();
    let longer = PatientId::new(format!("MRN-4001-{n}0")).unwrap();
    let scoped = target.clone().with_issuer("HOSP-A").unwrap();
    let other = patient("GDPR-OTHER-B");
    let mut ours = Vec::new();
    for s in 1..=3 {
        ours.extend(upload(&store, &study(&target, s, 1, 1, "CT")).await);
    }
    let copy = anonymize(&ours[0]).await;
    let mut kept = Vec::new();
    for p in [&lower, &longer, &scoped, &other] {
        kept.extend(upload(&store, &study(p, 1, 1, 1, "MR")).await);
    }
    let records = store.locate(&subject(&target)).await.unwrap();
    let located: BTreeSet<_> = records.iter().map(|r| r.id().to_string()).collect();
    assert_eq!(located, ours.iter().cloned().collect());

    let attempt = store
        .erase_records(&subject(&target), &records)
        .await
        .unwrap();
    assert!(attempt.refused.is_empty(), "{attempt:?}");
    let studies: BTreeSet<_> = attempt
        .deleted
        .iter()
        .filter(|e| e.kind == ResourceKind::Study)
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(studies, ours.iter().cloned().collect());
    let copies: Vec<_> = attempt
        .deleted
        .iter()
        .filter(|e| e.kind == ResourceKind::DerivedStudy)
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(copies, vec![copy.clone()]);
    for id in ours.iter().chain([&copy]) {
        assert!(!study_exists(id).await, "left after the batch");
    }
    for id in &kept {
        assert!(study_exists(id).await, "another person's study was deleted");
    }
    for p in [&lower, &longer, &scoped, &other] {
        assert_eq!(store.locate(&subject(p)).await.unwrap().len(), 1);
    }
    let verification = store
        .verify_erasure(&subject(&target), &records)
        .await
        .unwrap();
    assert!(verification.is_confirmed(), "{verification:?}");
    let report = attempt.verified_by(verification);
    assert!(report.is_verified());

    // Run again (a step re-run after a crash): everything already gone,
    // nothing else touched.
    let again = store
        .erase_records(&subject(&target), &records)
        .await
        .unwrap();
    assert!(again.refused.is_empty());
    assert!(again.deleted.iter().all(|e| e.already_absent), "{again:?}");
    assert_eq!(again.deleted.len(), ours.len());
    for id in &kept {
        assert!(study_exists(id).await);
    }
}

#[tokio::test]
async fn a_batch_never_deletes_a_study_that_is_not_the_subjects_any_more() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-N");
    let variant = PatientId::new(target.expose().to_lowercase()).unwrap();
    let ours = upload(&store, &study(&target, 1, 1, 1, "CT")).await;
    let theirs = upload(&store, &study(&variant, 2, 1, 1, "CT")).await;
    let mut records = store.locate(&subject(&target)).await.unwrap();
    // A stale handle: the case variant's study, as if located for the
    // subject (same Orthanc id and StudyInstanceUID, another PatientID).
    let stale: Vec<RecordHandle> = store.locate(&subject(&variant)).await.unwrap();
    records.extend(stale);

    let attempt = store
        .erase_records(&subject(&target), &records)
        .await
        .unwrap();
    assert_eq!(attempt.refused.len(), 1, "{attempt:?}");
    assert_eq!(attempt.refused[0].id.as_str(), theirs[0]);
    assert!(!study_exists(&ours[0]).await);
    assert!(
        study_exists(&theirs[0]).await,
        "the case variant was deleted"
    );
}
