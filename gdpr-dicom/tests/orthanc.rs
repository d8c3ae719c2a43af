//! Integration tests against a real Orthanc (Debian's package), started by
//! scripts/orthanc.sh. Enabled by the `orthanc-tests` feature, which
//! scripts/test.sh turns on; with the feature on and no server, they fail.
#![cfg(feature = "orthanc-tests")]

mod support;

use std::collections::BTreeSet;

use gdpr_core::category::RecordCategory;
use gdpr_core::store::{DerivedPolicy, ResourceKind, StoreError};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::store::{Credentials, MANIFEST_FILE, OrthancStore, SecretSource};
use support::*;

#[tokio::test]
async fn locate_export_erase_and_verify_one_patient_among_others() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-A");
    let other = patient("GDPR-OTHER-B");
    let mut target_studies = Vec::new();
    for (n, modality) in [(1, "CT"), (2, "MR"), (3, "RTPLAN")] {
        target_studies.extend(upload(&store, &study(&target, n, 2, 2, modality)).await);
    }
    for n in 1..=2 {
        upload(&store, &study(&other, n, 1, 2, "CT")).await;
    }
    let derived = anonymize(&target_studies[0]).await;

    // Locate: three studies, with dates, modalities and categories.
    let handles = store.find_studies(&target).await.unwrap();
    assert_eq!(handles.len(), 3);
    let ids: BTreeSet<_> = handles.iter().map(|h| h.id().to_string()).collect();
    assert_eq!(ids, target_studies.iter().cloned().collect());
    assert!(handles.iter().all(|h| h.study_date().is_some()));
    let rt = handles
        .iter()
        .find(|h| h.modalities().iter().any(|m| m.as_str() == "RTPLAN"))
        .expect("the RTPLAN study is found");
    assert_eq!(rt.category(), RecordCategory::Radiotherapy);
    assert!(rt.modalities().iter().any(|m| m.as_str() == "SR"));

    // Export: our names, our manifest, real DICOM inside.
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("export");
    let report = store.export_studies(&target, &dest).await.unwrap();
    assert_eq!(report.manifest.studies.len(), 3);
    assert_eq!(report.files, 12);
    let manifest = std::fs::read_to_string(dest.join(MANIFEST_FILE)).unwrap();
    assert!(
        !manifest.contains("GDPR-CANARY"),
        "manifest leaks the patient id"
    );
    assert!(
        !manifest.contains("Synthetic"),
        "manifest leaks the patient name"
    );
    for study in &report.manifest.studies {
        for file in &study.files {
            assert!(file.path.starts_with("study-") && file.path.ends_with(".dcm"));
            let object = dicom_object::open_file(dest.join(&file.path)).unwrap();
            let pid = object
                .element(dicom_dictionary_std::tags::PATIENT_ID)
                .unwrap()
                .to_str()
                .unwrap()
                .trim()
                .to_owned();
            assert_eq!(pid, target.expose());
        }
    }
    let names: Vec<_> = walk(&dest);
    assert!(
        names
            .iter()
            .all(|n| !n.contains("GDPR") && !n.contains("Synthetic"))
    );
    assert!(
        !names.iter().any(|n| n.contains(".part")),
        "temporary archive left behind"
    );

    // Erase: originals, patient and the anonymised copy; verified.
    let erased = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(erased.is_verified(), "{erased:?}");
    let kinds: Vec<_> = erased.erased().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == ResourceKind::Study).count(),
        3
    );
    assert!(
        erased
            .erased()
            .iter()
            .any(|e| e.kind == ResourceKind::DerivedStudy && e.id.as_str() == derived)
    );
    assert_eq!(
        raw(reqwest::Method::GET, &format!("studies/{derived}"))
            .await
            .0,
        404
    );
    for id in &target_studies {
        assert_eq!(
            raw(reqwest::Method::GET, &format!("studies/{id}")).await.0,
            404
        );
    }
    assert!(store.find_studies(&target).await.unwrap().is_empty());
    let verification = store.verify_studies_gone(&target, &handles).await.unwrap();
    assert!(verification.is_confirmed(), "{verification:?}");

    // The other patient is untouched.
    assert_eq!(store.find_studies(&other).await.unwrap().len(), 2);

    // Running the erasure again is harmless and still verified.
    let again = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(again.is_verified());
    assert!(again.erased().iter().all(|e| e.already_absent));
}

#[tokio::test]
async fn report_policy_leaves_the_derived_copy_and_does_not_claim_verification() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-D");
    let studies = upload(&store, &study(&target, 1, 1, 1, "CT")).await;
    let derived = anonymize(&studies[0]).await;

    let report = store
        .erase_patient(&target, DerivedPolicy::Report)
        .await
        .unwrap();
    assert!(!report.is_verified());
    let left = &report.left()[0];
    assert_eq!(left.id.as_str(), derived);
    assert_eq!(left.kind, ResourceKind::DerivedStudy);
    assert_eq!(left.derived_from.as_ref().unwrap().as_str(), studies[0]);
    assert_eq!(
        raw(reqwest::Method::GET, &format!("studies/{derived}"))
            .await
            .0,
        200
    );

    // Verification alone (originals already gone) still finds the copy, via
    // the patient-level link Orthanc recorded.
    let verification = store.verify_studies_gone(&target, &[]).await.unwrap();
    assert!(!verification.is_confirmed());

    // A second run with the erase policy completes the erasure.
    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert_eq!(
        raw(reqwest::Method::GET, &format!("studies/{derived}"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn an_erasure_interrupted_half_way_completes_when_run_again() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-E");
    let mut studies = Vec::new();
    for n in 1..=3 {
        studies.extend(upload(&store, &study(&target, n, 1, 1, "MR")).await);
    }
    let handles = store.find_studies(&target).await.unwrap();
    // The first run erased one study and then stopped.
    let first = store.erase_study(&handles[0]).await.unwrap();
    assert!(first.is_verified());
    assert_eq!(store.find_studies(&target).await.unwrap().len(), 2);
    assert!(
        !store
            .verify_studies_gone(&target, &handles)
            .await
            .unwrap()
            .is_confirmed()
    );

    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified());
    assert!(
        store
            .verify_studies_gone(&target, &handles)
            .await
            .unwrap()
            .is_confirmed()
    );
}

#[tokio::test]
async fn issuers_keep_two_people_with_the_same_id_apart() {
    let store = orthanc().await;
    let bare = patient("GDPR-CANARY-F");
    let a = bare.clone().with_issuer("HOSPITAL-A").unwrap();
    let b = bare.clone().with_issuer("HOSPITAL-B").unwrap();
    upload(&store, &study(&a, 1, 1, 1, "CT")).await;
    upload(&store, &study(&b, 2, 1, 1, "CT")).await;
    assert_eq!(store.find_studies(&a).await.unwrap().len(), 1);
    // A request without issuer reaches neither (gdpr-core's matching rule):
    // it is not certainly either person.
    assert!(store.find_studies(&bare).await.unwrap().is_empty());
    let report = store
        .erase_patient(&bare, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.erased().is_empty(), "{report:?}");
    assert_eq!(store.find_studies(&a).await.unwrap().len(), 1);
    assert_eq!(store.find_studies(&b).await.unwrap().len(), 1);

    let report = store.erase_patient(&a, DerivedPolicy::Erase).await.unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert!(store.find_studies(&a).await.unwrap().is_empty());
    assert_eq!(store.find_studies(&b).await.unwrap().len(), 1);
    store.erase_patient(&b, DerivedPolicy::Erase).await.unwrap();
}

#[tokio::test]
async fn wildcards_in_the_id_never_widen_the_match() {
    let store = orthanc().await;
    let base = format!("GDPR-W-{}", unique());
    let one = PatientId::new(format!("{base}-1")).unwrap();
    let two = PatientId::new(format!("{base}-2")).unwrap();
    upload(&store, &study(&one, 1, 1, 1, "CT")).await;
    upload(&store, &study(&two, 1, 1, 1, "CT")).await;
    let wildcard = PatientId::new(format!("{base}-*")).unwrap();
    assert!(store.find_studies(&wildcard).await.unwrap().is_empty());
    let report = store
        .erase_patient(&wildcard, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.erased().is_empty());
    assert_eq!(store.find_studies(&one).await.unwrap().len(), 1);
    assert_eq!(store.find_studies(&two).await.unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_credentials_are_a_configuration_error() {
    let _ = orthanc().await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "not-the-password").unwrap();
    let mut config = orthanc_config();
    let Credentials::Basic { username, .. } = config.endpoint.credentials else {
        panic!("the test Orthanc uses HTTP Basic");
    };
    config.endpoint.credentials = Credentials::basic(username, SecretSource::File(pw));
    let store = OrthancStore::connect(&config).unwrap();
    let subject = patient("GDPR-CANARY-G");
    let err = store.find_studies(&subject).await.unwrap_err();
    assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
    assert!(err.to_string().contains("credentials"));
    assert!(!err.to_string().contains("GDPR-CANARY"));
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push(path.file_name().unwrap().to_string_lossy().into_owned());
        if path.is_dir() {
            out.extend(walk(&path));
        }
    }
    out
}

#[tokio::test]
async fn a_modified_copy_under_another_patient_id_is_found_and_erased() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-H");
    upload(&store, &study(&target, 1, 1, 1, "CT")).await;
    upload(&store, &study(&target, 2, 1, 1, "CT")).await;
    let handles = store.find_studies(&target).await.unwrap();
    let patient_id = gdpr_dicom::store::orthanc_patient_id(&target);
    // Orthanc's own /modify copies the whole patient under a new PatientID
    // and records ModifiedFrom on the copy.
    let renamed = format!("RENAMED-{}", unique());
    let (status, body) = raw_json(
        reqwest::Method::POST,
        &format!("patients/{patient_id}/modify"),
        serde_json::json!({"Replace": {"PatientID": renamed}, "Force": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let copy = PatientId::new(&renamed).unwrap();
    assert_eq!(store.find_studies(&copy).await.unwrap().len(), 2);

    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    let derived = report
        .erased()
        .iter()
        .filter(|e| e.kind == ResourceKind::DerivedStudy)
        .count();
    assert_eq!(derived, 2);
    assert!(store.find_studies(&copy).await.unwrap().is_empty());
    assert!(
        store
            .verify_studies_gone(&target, &handles)
            .await
            .unwrap()
            .is_confirmed()
    );
}

#[tokio::test]
async fn a_series_anonymised_on_its_own_is_found_as_a_derived_copy() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-J");
    let studies = upload(&store, &study(&target, 1, 2, 1, "CT")).await;
    let (_, detail) = raw(reqwest::Method::GET, &format!("studies/{}", studies[0])).await;
    let series = detail["Series"][0].as_str().unwrap().to_owned();
    let (status, body) = raw(reqwest::Method::POST, &format!("series/{series}/anonymize")).await;
    assert_eq!(status, 200, "{body}");
    let (_, copy) = raw(
        reqwest::Method::GET,
        &format!("series/{}", body["ID"].as_str().unwrap()),
    )
    .await;
    let copy_study = copy["ParentStudy"].as_str().unwrap().to_owned();

    let report = store
        .erase_patient(&target, DerivedPolicy::Report)
        .await
        .unwrap();
    assert!(!report.is_verified());
    assert_eq!(report.left().len(), 1);
    assert_eq!(report.left()[0].id.as_str(), copy_study);
    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert_eq!(
        raw(reqwest::Method::GET, &format!("studies/{copy_study}"))
            .await
            .0,
        404
    );
}

/// Whether Orthanc still holds a study.
async fn study_exists(id: &str) -> bool {
    raw(reqwest::Method::GET, &format!("studies/{id}")).await.0 == 200
}

#[tokio::test]
async fn erasing_an_absent_id_leaves_its_case_variant_alone() {
    let store = orthanc().await;
    let n = unique();
    let absent = PatientId::new(format!("MRN-3001-{n}")).unwrap();
    let variant = PatientId::new(format!("Mrn-3001-{n}")).unwrap();
    let kept = upload(&store, &study(&variant, 1, 1, 1, "CT")).await;
    assert!(store.find_studies(&absent).await.unwrap().is_empty());

    let report = store
        .erase_patient(&absent, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert!(report.erased().is_empty(), "{report:?}");
    assert!(study_exists(&kept[0]).await, "the case variant was deleted");
    let variant_patient = gdpr_dicom::store::orthanc_patient_id(&variant);
    assert_eq!(
        raw(reqwest::Method::GET, &format!("patients/{variant_patient}"))
            .await
            .0,
        200
    );
    assert!(
        store
            .verify_studies_gone(&absent, &[])
            .await
            .unwrap()
            .is_confirmed()
    );
    assert_eq!(store.find_studies(&variant).await.unwrap().len(), 1);
}

#[tokio::test]
async fn case_prefix_and_issuer_variants_survive_an_erasure() {
    let store = orthanc().await;
    let n = unique();
    let target = PatientId::new(format!("MRN-2001-{n}")).unwrap();
    let lower = PatientId::new(format!("mrn-2001-{n}")).unwrap();
    let longer = PatientId::new(format!("MRN-2001-{n}0")).unwrap();
    let scoped = target.clone().with_issuer("HOSP-A").unwrap();
    let mut erased = Vec::new();
    for s in 1..=2 {
        erased.extend(upload(&store, &study(&target, s, 1, 1, "CT")).await);
    }
    let mut kept = Vec::new();
    for other in [&lower, &longer, &scoped] {
        kept.extend(upload(&store, &study(other, 1, 1, 1, "MR")).await);
    }
    let handles = store.find_studies(&target).await.unwrap();
    let found: BTreeSet<_> = handles.iter().map(|h| h.id().to_string()).collect();
    assert_eq!(found, erased.iter().cloned().collect());

    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    let studies: BTreeSet<_> = report
        .erased()
        .iter()
        .filter(|e| e.kind == ResourceKind::Study)
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(studies, erased.iter().cloned().collect());
    assert!(
        report
            .erased()
            .iter()
            .all(|e| !kept.contains(&e.id.to_string())),
        "{report:?}"
    );
    for id in &erased {
        assert!(!study_exists(id).await);
    }
    for id in &kept {
        assert!(study_exists(id).await, "another person's study was deleted");
    }
    assert!(
        store
            .verify_studies_gone(&target, &handles)
            .await
            .unwrap()
            .is_confirmed()
    );
    for other in [&lower, &longer, &scoped] {
        assert_eq!(store.find_studies(other).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_handle_that_names_another_study_is_refused_never_deleted() {
    let store = orthanc().await;
    let one = patient("GDPR-CANARY-K");
    let two = patient("GDPR-OTHER-K");
    let kept = upload(&store, &study(&one, 1, 1, 1, "CT")).await;
    upload(&store, &study(&two, 1, 1, 1, "CT")).await;
    let theirs = store.find_studies(&two).await.unwrap();
    // A stale or forged handle: Orthanc id of one study, UID of another.
    let handle = gdpr_core::store::StudyHandle::new(
        gdpr_core::store::RecordId::new(&kept[0]).unwrap(),
        theirs[0].study_uid().clone(),
        None,
        Vec::new(),
    );
    let report = store.erase_study(&handle).await.unwrap();
    assert!(!report.is_verified(), "{report:?}");
    assert_eq!(report.refused().len(), 1);
    assert!(report.erased().is_empty());
    assert!(study_exists(&kept[0]).await, "the study was deleted");
    assert!(study_exists(theirs[0].id().as_str()).await);
}

#[tokio::test]
async fn a_value_stored_with_lo_padding_is_the_same_subject() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-L");
    let mut ids = Vec::new();
    for (n, pad) in [" {}", "{} ", "{}\0", " {} "].iter().enumerate() {
        let mut padded = study(&target, n as u32 + 1, 1, 1, "CT");
        for inst in &mut padded {
            inst.patient_id = pad.replace("{}", target.expose());
        }
        ids.extend(upload(&store, &padded).await);
    }
    assert_eq!(store.find_studies(&target).await.unwrap().len(), ids.len());
    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    for id in &ids {
        assert!(!study_exists(id).await);
    }
}

#[tokio::test]
async fn a_copy_of_a_shared_patient_keeps_the_other_issuers_study() {
    let store = orthanc().await;
    let bare = patient("GDPR-CANARY-M");
    let scoped = bare.clone().with_issuer("HOSP-A").unwrap();
    let ours = upload(&store, &study(&bare, 1, 1, 1, "CT")).await;
    let theirs = upload(&store, &study(&scoped, 2, 1, 1, "CT")).await;
    // Orthanc keys patients by PatientID alone: both people share one
    // patient, and anonymising it copies both studies.
    let shared = gdpr_dicom::store::orthanc_patient_id(&bare);
    let (status, body) = raw_json(
        reqwest::Method::POST,
        &format!("patients/{shared}/anonymize"),
        serde_json::json!({"Force": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, copy) = raw(
        reqwest::Method::GET,
        &format!("patients/{}", body["ID"].as_str().unwrap()),
    )
    .await;
    let mut copy_of_ours = None;
    let mut copy_of_theirs = None;
    for c in copy["Studies"].as_array().unwrap() {
        let c = c.as_str().unwrap().to_owned();
        let (_, meta) = raw(
            reqwest::Method::GET,
            &format!("studies/{c}/metadata?expand"),
        )
        .await;
        match meta["AnonymizedFrom"].as_str() {
            Some(o) if o == ours[0] => copy_of_ours = Some(c),
            Some(o) if o == theirs[0] => copy_of_theirs = Some(c),
            other => panic!("unexpected link {other:?}"),
        }
    }
    let (copy_of_ours, copy_of_theirs) = (copy_of_ours.unwrap(), copy_of_theirs.unwrap());

    let report = store
        .erase_patient(&bare, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert!(!study_exists(&ours[0]).await);
    assert!(!study_exists(&copy_of_ours).await);
    assert!(study_exists(&theirs[0]).await, "the other person's study");
    assert!(
        study_exists(&copy_of_theirs).await,
        "the copy of the other person's study was deleted"
    );
    store
        .erase_patient(&scoped, DerivedPolicy::Erase)
        .await
        .unwrap();
}
