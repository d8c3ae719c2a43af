//! The dcm4chee-arc adapter against a FAKE archive that follows dcm4chee's
//! published REST contract (no real dcm4chee can run here).

mod support;

use gdpr_core::store::{DerivedPolicy, ResourceKind, StoreError, SubjectStore};
use gdpr_dicom::store::{Dcm4cheeConfig, Dcm4cheeStore, PasswordSource};
use support::fake_dcm4chee::{CLIENT_ID, CLIENT_SECRET, FakeDcm4chee, start};
use support::{patient, study};

fn store(fake: &FakeDcm4chee, secret: &str) -> (Dcm4cheeStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, secret).unwrap();
    let mut config = Dcm4cheeConfig::new("arc", fake.rs_url());
    config.token_url = Some(fake.token_url());
    config.client_id = Some(CLIENT_ID.into());
    config.client_secret = Some(PasswordSource::File(secret_file));
    (Dcm4cheeStore::connect(&config).unwrap(), dir)
}

#[tokio::test]
async fn reject_delete_and_verify_with_keycloak_tokens() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-1").with_issuer("HOSP").unwrap();
    let other = patient("OTHER-ARC-2");
    fake.add(&study(&target, 1, 2, 1, "CT"));
    fake.add(&study(&target, 2, 1, 1, "MR"));
    fake.add(&study(&other, 1, 1, 1, "CT"));

    let handles = arc.locate(&target).await.unwrap();
    assert_eq!(handles.len(), 2);
    let out = tempfile::tempdir().unwrap();
    let export = arc.export(&target, &out.path().join("x")).await.unwrap();
    assert_eq!(export.files, 3);

    let report = arc
        .erase_subject(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert_eq!(report.erased().len(), 3);
    assert!(
        report
            .erased()
            .iter()
            .any(|e| e.kind == ResourceKind::Patient)
    );
    {
        let state = fake.state.lock().unwrap();
        assert_eq!(
            state.studies.len(),
            1,
            "only the other patient's study is left"
        );
        assert_eq!(state.tokens_issued, 1, "the token is cached");
        assert_eq!(state.unauthorized, 0);
    }
    assert_eq!(arc.locate(&other).await.unwrap().len(), 1);
    // Again: nothing left to do, still verified.
    assert!(
        arc.erase_subject(&target, DerivedPolicy::Erase)
            .await
            .unwrap()
            .is_verified()
    );
}

#[tokio::test]
async fn a_retention_lock_is_a_refusal_never_a_claimed_erasure() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-3");
    fake.add(&study(&target, 1, 1, 1, "CT"));
    fake.add(&study(&target, 2, 1, 1, "CT"));
    let handles = arc.locate(&target).await.unwrap();
    let locked = &handles[0];
    arc.set_expiration(locked, jiff::civil::date(2099, 1, 1))
        .await
        .unwrap();

    let report = arc
        .erase_subject(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(!report.is_verified());
    let reasons: Vec<_> = report.refused().iter().map(|r| r.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("Retention period not yet expired")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("Patient having studies can not be deleted")),
        "{reasons:?}"
    );
    assert!(report.erased().iter().all(|e| e.id != *locked.id()));
    assert!(report.left().iter().any(|l| l.id == *locked.id()));
    assert_eq!(arc.locate(&target).await.unwrap().len(), 1);

    // The retention period ends (a retention decision moves the date): the
    // rerun completes.
    arc.set_expiration(locked, jiff::civil::date(2000, 1, 1))
        .await
        .unwrap();
    let report = arc
        .erase_subject(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
}

#[tokio::test]
async fn a_study_that_stays_non_empty_is_refused() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-4");
    fake.add(&study(&target, 1, 1, 2, "CT"));
    let handles = arc.locate(&target).await.unwrap();
    // One instance was rejected earlier for quality reasons: purging the
    // 113039 rejections leaves it, and the archive refuses to delete the
    // study.
    fake.state
        .lock()
        .unwrap()
        .studies
        .values_mut()
        .next()
        .unwrap()
        .instances[1]
        .2 = Some("113001^DCM".into());
    let report = arc.erase_study(&handles[0]).await.unwrap();
    assert!(!report.is_verified());
    assert!(report.refused()[0].reason.contains("Study is not empty"));
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_configuration_error() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, "wrong-secret");
    let err = arc.locate(&patient("CANARY-ARC-5")).await.unwrap_err();
    assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
    assert!(!err.to_string().contains("wrong-secret"));
    assert!(!err.to_string().contains("CANARY"));
}
