//! Restriction (Art. 18) on a real Orthanc: a user-defined metadata on the
//! subject's patient resource, read back; the other patient unmarked; an
//! undeclared name a configuration error; no name configured: unsupported.
//! Enabled by the `orthanc-tests` feature (scripts/test.sh turns it on; its
//! Orthanc declares `GdprRestriction` in `UserMetadata`).
#![cfg(feature = "orthanc-tests")]

mod support;

use gdpr_core::restriction::{Restriction, RestrictionGround};
use gdpr_core::store::{RestrictionOutcome, StoreError, SubjectRef, SubjectStore};
use gdpr_dicom::store::OrthancStore;
use support::*;

fn with_metadata(name: Option<&str>) -> OrthancStore {
    let mut config = orthanc_config();
    config.restriction_metadata = name.map(str::to_owned);
    OrthancStore::connect(&config).unwrap()
}

/// The metadata of the patient resource that holds `study` (raw API).
async fn mark_of(study: &str) -> Option<String> {
    let (_, info) = raw(reqwest::Method::GET, &format!("studies/{study}")).await;
    let patient = info["ParentPatient"].as_str().unwrap().to_owned();
    let (status, _) = raw(reqwest::Method::GET, &format!("patients/{patient}")).await;
    assert_eq!(status, 200);
    let (status, body) = raw_text(&format!("patients/{patient}/metadata/GdprRestriction")).await;
    (status == 200).then_some(body)
}

#[tokio::test]
async fn a_restriction_is_marked_read_back_and_lifted_on_the_subject_only() {
    let uploader = orthanc().await;
    let target = patient("GDPR-CANARY-R");
    let other = patient("GDPR-OTHER-R");
    let mine = upload(&uploader, &study(&target, 1, 1, 1, "CT")).await;
    let theirs = upload(&uploader, &study(&other, 1, 1, 1, "CT")).await;
    let store = with_metadata(Some("GdprRestriction"));
    let subject = SubjectRef::from(target.clone());
    let since = "2026-03-02T09:00:00Z".parse().unwrap();
    let restriction = Restriction::new(RestrictionGround::AccuracyContested, since);

    let outcome = store.restrict(&subject, &restriction).await.unwrap();
    assert!(
        matches!(outcome, RestrictionOutcome::Marked { records: 1, .. }),
        "{outcome:?}"
    );
    let mark = mark_of(&mine[0])
        .await
        .expect("the subject's patient is marked");
    assert!(mark.contains("GDPR Art. 18(1)(a)"), "{mark}");
    assert!(!mark.contains("CANARY"), "{mark}");
    assert_eq!(
        mark_of(&theirs[0]).await,
        None,
        "the other patient stays unmarked"
    );

    let lifted = store.lift_restriction(&subject).await.unwrap();
    assert!(lifted.is_marked());
    assert_eq!(mark_of(&mine[0]).await, None);
    // Lifting again is idempotent.
    assert!(store.lift_restriction(&subject).await.unwrap().is_marked());
}

#[tokio::test]
async fn an_undeclared_name_is_a_configuration_error_and_none_is_unsupported() {
    let uploader = orthanc().await;
    let target = patient("GDPR-CANARY-S");
    upload(&uploader, &study(&target, 1, 1, 1, "CT")).await;
    let subject = SubjectRef::from(target);
    let restriction = Restriction::new(RestrictionGround::ObjectionPending, jiff::Timestamp::now());
    let err = with_metadata(Some("NotDeclaredHere"))
        .restrict(&subject, &restriction)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
    assert!(err.to_string().contains("UserMetadata"), "{err}");
    let outcome = with_metadata(None)
        .restrict(&subject, &restriction)
        .await
        .unwrap();
    match outcome {
        RestrictionOutcome::Unsupported { reason } => {
            assert!(reason.contains("restriction_metadata"), "{reason}");
        }
        other => panic!("claimed a mark without a metadata name: {other:?}"),
    }
}
