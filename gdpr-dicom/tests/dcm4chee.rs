//! The dcm4chee-arc adapter against a FAKE archive that follows dcm4chee's
//! published REST contract (no real dcm4chee can run here).
#![cfg(feature = "adapters")]

mod support;

use gdpr_core::store::{DerivedPolicy, ResourceKind, StoreError};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::store::{
    ClientCredentials, Credentials, Dcm4cheeConfig, Dcm4cheeStore, SecretSource,
};
use support::fake_dcm4chee::{CLIENT_ID, CLIENT_SECRET, FakeDcm4chee, start};
use support::{
    clean_but_derived_unchecked, nothing_left_but_derived_unchecked, patient, study, unique,
};

fn store(fake: &FakeDcm4chee, secret: &str) -> (Dcm4cheeStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, secret).unwrap();
    let mut config = Dcm4cheeConfig::new("arc", fake.rs_url());
    config.endpoint.credentials = Credentials::ClientCredentials(ClientCredentials::new(
        fake.token_url(),
        CLIENT_ID,
        SecretSource::File(secret_file),
    ));
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

    let handles = arc.find_studies(&target).await.unwrap();
    assert_eq!(handles.len(), 2);
    let out = tempfile::tempdir().unwrap();
    let export = arc
        .export_studies(&target, &out.path().join("x"))
        .await
        .unwrap();
    assert_eq!(export.files, 3);

    let report = arc
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(clean_but_derived_unchecked(&report), "{report:?}");
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
    assert_eq!(arc.find_studies(&other).await.unwrap().len(), 1);
    // Again: nothing left to do, still clean (derived copies not checked).
    assert!(clean_but_derived_unchecked(
        &arc.erase_patient(&target, DerivedPolicy::Erase)
            .await
            .unwrap()
    ));
}

#[tokio::test]
async fn a_retention_lock_is_a_refusal_never_a_claimed_erasure() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-3");
    fake.add(&study(&target, 1, 1, 1, "CT"));
    fake.add(&study(&target, 2, 1, 1, "CT"));
    let handles = arc.find_studies(&target).await.unwrap();
    let locked = &handles[0];
    arc.set_expiration(locked, jiff::civil::date(2099, 1, 1))
        .await
        .unwrap();

    let report = arc
        .erase_patient(&target, DerivedPolicy::Erase)
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
    assert_eq!(arc.find_studies(&target).await.unwrap().len(), 1);

    // The retention period ends (a retention decision moves the date): the
    // rerun completes.
    arc.set_expiration(locked, jiff::civil::date(2000, 1, 1))
        .await
        .unwrap();
    let report = arc
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(clean_but_derived_unchecked(&report), "{report:?}");
}

#[tokio::test]
async fn a_study_that_stays_non_empty_is_refused() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-4");
    fake.add(&study(&target, 1, 1, 2, "CT"));
    let handles = arc.find_studies(&target).await.unwrap();
    // A modality stores one more instance right after the rejection: the
    // archive refuses to delete a study that is not all rejected.
    let late = study(&target, 1, 1, 1, "CT").remove(0);
    fake.state
        .lock()
        .unwrap()
        .studies
        .values_mut()
        .next()
        .unwrap()
        .arrives_after_reject = Some((late.series_uid.clone(), late.to_bytes().unwrap()));
    let report = arc.erase_study(&handles[0]).await.unwrap();
    assert!(!report.is_verified());
    assert!(report.refused()[0].reason.contains("Study is not empty"));
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_configuration_error() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, "wrong-secret");
    let err = arc
        .find_studies(&patient("CANARY-ARC-5"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
    assert!(!err.to_string().contains("wrong-secret"));
    assert!(!err.to_string().contains("CANARY"));
}

#[tokio::test]
async fn another_patients_rejected_study_survives_an_erasure() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-6");
    let other = patient("OTHER-ARC-6");
    fake.add(&study(&target, 1, 1, 2, "CT"));
    fake.add(&study(&other, 1, 1, 3, "CT"));
    // Someone rejected the other patient's study (retention expired); it
    // waits in the archive for its own decision.
    fake.reject_all_of(other.expose(), "113039^DCM");

    let report = arc
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(clean_but_derived_unchecked(&report), "{report:?}");
    assert_eq!(fake.instances_of(target.expose()), 0);
    assert_eq!(
        fake.instances_of(other.expose()),
        3,
        "another patient's rejected instances were purged"
    );
}

#[tokio::test]
async fn an_erasure_stopped_after_rejecting_is_finished_from_the_rejected_view() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-7");
    let other = patient("OTHER-ARC-7");
    fake.add(&study(&target, 1, 1, 1, "CT"));
    fake.add(&study(&target, 2, 1, 2, "MR"));
    fake.add(&study(&other, 1, 1, 1, "CT"));
    let handles = arc.find_studies(&target).await.unwrap();
    assert_eq!(handles.len(), 2);
    // The earlier run rejected both studies and stopped before deleting.
    fake.reject_all_of(target.expose(), "113039^DCM");
    fake.reject_all_of(other.expose(), "113039^DCM");
    assert!(
        arc.find_studies(&target).await.unwrap().is_empty(),
        "hidden"
    );
    let pending = arc.verify_studies_gone(&target, &handles).await.unwrap();
    assert_eq!(pending.remaining().len(), 2, "rejected is not erased");

    let report = arc
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(clean_but_derived_unchecked(&report), "{report:?}");
    let studies = report
        .erased()
        .iter()
        .filter(|e| e.kind == ResourceKind::Study)
        .count();
    assert_eq!(studies, 2);
    assert_eq!(fake.instances_of(target.expose()), 0);
    assert_eq!(fake.instances_of(other.expose()), 1);
    assert!(nothing_left_but_derived_unchecked(
        &arc.verify_studies_gone(&target, &handles).await.unwrap()
    ));
}

#[tokio::test]
async fn case_prefix_and_issuer_variants_survive_in_the_archive() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let n = unique();
    let target = PatientId::new(format!("MRN-2001-{n}")).unwrap();
    let lower = PatientId::new(format!("mrn-2001-{n}")).unwrap();
    let longer = PatientId::new(format!("MRN-2001-{n}0")).unwrap();
    let scoped = target.clone().with_issuer("HOSP-A").unwrap();
    fake.add(&study(&target, 1, 1, 1, "CT"));
    for other in [&lower, &longer, &scoped] {
        fake.add(&study(other, 1, 1, 2, "CT"));
    }
    // The fake's PatientID matching ignores case, like a case-insensitive
    // database collation: only the rule keeps the variants apart.
    assert_eq!(arc.find_studies(&target).await.unwrap().len(), 1);

    let report = arc
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    // Same PatientID as the target: only the HOSP-A study is left.
    assert_eq!(fake.instances_of(target.expose()), 2);
    assert_eq!(arc.find_studies(&scoped).await.unwrap().len(), 1);
    assert_eq!(fake.instances_of(lower.expose()), 2);
    assert_eq!(fake.instances_of(longer.expose()), 2);
    // The patient record: the archive's search for the identifier also
    // returns `mrn-…` and the HOSP-A record, so a DELETE by it could reach
    // another person: refused, not attempted.
    assert!(!report.is_verified());
    assert_eq!(report.refused().len(), 1, "{report:?}");
    assert!(report.refused()[0].reason.contains("another patient"));
    let patients = fake.state.lock().unwrap().patients.clone();
    assert!(patients.contains(&lower.expose().to_owned()));
    assert!(patients.contains(&format!("{}^^^HOSP-A", target.expose())));
}

#[tokio::test]
async fn erasing_an_absent_id_leaves_the_case_variants_record_alone() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let n = unique();
    let absent = PatientId::new(format!("MRN-3001-{n}")).unwrap();
    let variant = format!("Mrn-3001-{n}");
    // A patient record without studies (its studies were moved away).
    fake.state.lock().unwrap().patients.push(variant.clone());

    let report = arc
        .erase_patient(&absent, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(clean_but_derived_unchecked(&report), "{report:?}");
    assert!(report.erased().is_empty(), "{report:?}");
    assert!(
        fake.state.lock().unwrap().patients.contains(&variant),
        "the case variant's patient record was deleted"
    );
}

#[tokio::test]
async fn a_study_is_looked_at_again_before_it_is_rejected() {
    let fake = start().await;
    let (arc, _dir) = store(&fake, CLIENT_SECRET);
    let target = patient("CANARY-ARC-8");
    let other = patient("OTHER-ARC-8");
    fake.add(&study(&target, 1, 1, 1, "CT"));
    fake.add(&study(&other, 1, 1, 2, "CT"));
    // The archive's index still files the other patient's study under the
    // target (a corrected PatientID not yet re-indexed).
    for s in fake.state.lock().unwrap().studies.values_mut() {
        if s.patient_id == other.expose() {
            s.indexed_as = Some(target.expose().to_owned());
        }
    }
    assert_eq!(
        arc.find_studies(&target).await.unwrap().len(),
        2,
        "the hint"
    );

    let report = arc
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(!report.is_verified(), "{report:?}");
    assert!(
        report
            .refused()
            .iter()
            .any(|r| r.reason.contains("no longer carries")),
        "{report:?}"
    );
    assert_eq!(fake.instances_of(target.expose()), 0);
    let state = fake.state.lock().unwrap();
    let theirs: Vec<_> = state
        .studies
        .values()
        .filter(|s| s.patient_id == other.expose())
        .collect();
    assert_eq!(theirs.len(), 1);
    assert!(
        theirs[0].instances.iter().all(|i| i.2.is_none()),
        "the other patient's study was rejected"
    );
}

#[tokio::test]
async fn a_missing_view_of_rejected_instances_is_a_configuration_error() {
    let fake = start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, CLIENT_SECRET).unwrap();
    let mut config = Dcm4cheeConfig::new("arc", fake.rs_url());
    config.endpoint.credentials = Credentials::ClientCredentials(ClientCredentials::new(
        fake.token_url(),
        CLIENT_ID,
        SecretSource::File(secret_file),
    ));
    config.rejected_view_aet = Some("NO_SUCH_VIEW".into());
    let arc = Dcm4cheeStore::connect(&config).unwrap();
    let target = patient("CANARY-ARC-9");
    fake.add(&study(&target, 1, 1, 1, "CT"));
    let err = arc
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
    assert!(err.to_string().contains("rejected_view_aet"), "{err}");
    assert!(!err.to_string().contains("CANARY"));
    assert_eq!(fake.instances_of(target.expose()), 1, "nothing touched");
}
