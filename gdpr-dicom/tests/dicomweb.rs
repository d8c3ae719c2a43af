//! The generic DICOMweb adapter against the real Orthanc DICOMweb plugin
//! (Debian's orthanc-dicomweb), started by scripts/orthanc.sh.
#![cfg(feature = "orthanc-tests")]

mod support;

use gdpr_core::store::DerivedPolicy;
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::store::{DicomWebConfig, DicomWebStore, MANIFEST_FILE};
use support::*;

fn dicomweb() -> DicomWebStore {
    let orthanc = orthanc_config();
    let mut config = DicomWebConfig::new(
        "test-dicomweb",
        format!("{}/dicom-web/", orthanc.endpoint.url.trim_end_matches('/')),
    );
    config.endpoint.credentials = orthanc.endpoint.credentials;
    DicomWebStore::connect(&config).unwrap()
}

fn bytes(instances: &[gdpr_dicom::synthetic::SyntheticInstance]) -> Vec<Vec<u8>> {
    instances.iter().map(|i| i.to_bytes().unwrap()).collect()
}

#[tokio::test]
async fn stow_qido_wado_against_orthanc_and_no_false_erasure_claim() {
    let orthanc = orthanc().await;
    let web = dicomweb();
    let target = patient("GDPR-CANARY-DW");
    let other = patient("GDPR-OTHER-DW");
    web.store_instances(bytes(&study(&target, 1, 2, 1, "CT")))
        .await
        .unwrap();
    web.store_instances(bytes(&study(&target, 2, 1, 2, "MR")))
        .await
        .unwrap();
    web.store_instances(bytes(&study(&other, 1, 1, 1, "CT")))
        .await
        .unwrap();

    let handles = web.find_studies(&target).await.unwrap();
    assert_eq!(handles.len(), 2);
    let mut modalities: Vec<_> = handles
        .iter()
        .flat_map(|h| h.modalities().iter().map(|m| m.as_str().to_owned()))
        .collect();
    modalities.sort();
    modalities.dedup();
    assert_eq!(modalities, ["CT", "MR", "SR"]);
    // A wildcard id matches nothing, although QIDO would expand it.
    let wildcard = PatientId::new("GDPR-CANARY-DW-*").unwrap();
    assert!(web.find_studies(&wildcard).await.unwrap().is_empty());

    let out = tempfile::tempdir().unwrap();
    let report = web
        .export_studies(&target, &out.path().join("x"))
        .await
        .unwrap();
    assert_eq!(report.files, 4);
    let series: std::collections::BTreeSet<_> = report
        .manifest
        .studies
        .iter()
        .flat_map(|s| {
            s.files
                .iter()
                .map(|f| f.path.rsplit_once('/').unwrap().0.to_owned())
        })
        .collect();
    assert_eq!(series.len(), 3, "files are grouped by series: {series:?}");
    let manifest = std::fs::read_to_string(out.path().join("x").join(MANIFEST_FILE)).unwrap();
    assert!(!manifest.contains("GDPR-CANARY"));

    // Orthanc's DICOMweb plugin offers no DELETE: the adapter reports a
    // refusal and never claims the erasure.
    let erasure = web
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(!erasure.is_verified());
    assert_eq!(erasure.refused().len(), 2);
    assert_eq!(erasure.left().len(), 2);
    assert!(erasure.erased().is_empty());

    // Clean up through Orthanc's own API, then DICOMweb verification agrees.
    assert!(
        orthanc
            .erase_patient(&target, DerivedPolicy::Erase)
            .await
            .unwrap()
            .is_verified()
    );
    assert!(nothing_left_but_derived_unchecked(
        &web.verify_studies_gone(&target, &handles).await.unwrap()
    ));
    assert_eq!(web.find_studies(&other).await.unwrap().len(), 1);
}

#[tokio::test]
async fn case_prefix_and_issuer_variants_are_never_the_subject() {
    let orthanc = orthanc().await;
    let web = dicomweb();
    let n = unique();
    let target = PatientId::new(format!("MRN-2001-{n}")).unwrap();
    let lower = PatientId::new(format!("mrn-2001-{n}")).unwrap();
    let longer = PatientId::new(format!("MRN-2001-{n}0")).unwrap();
    let scoped = target.clone().with_issuer("HOSP-A").unwrap();
    let absent = PatientId::new(format!("MRN-3001-{n}")).unwrap();
    let variant = PatientId::new(format!("Mrn-3001-{n}")).unwrap();
    for p in [&target, &lower, &longer, &scoped, &variant] {
        web.store_instances(bytes(&study(p, 1, 1, 1, "CT")))
            .await
            .unwrap();
    }
    // Orthanc's QIDO matches PatientID ignoring case; the rule does not.
    let handles = web.find_studies(&target).await.unwrap();
    assert_eq!(handles.len(), 1);
    assert!(web.find_studies(&absent).await.unwrap().is_empty());

    // The plugin offers no DELETE: only the subject's own study is refused,
    // nobody else's is touched or reported.
    let erasure = web
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert_eq!(erasure.refused().len(), 1, "{erasure:?}");
    assert_eq!(erasure.refused()[0].id, *handles[0].id());
    assert_eq!(erasure.left().len(), 1);
    let none = web
        .erase_patient(&absent, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(clean_but_derived_unchecked(&none), "{none:?}");
    for p in [&lower, &longer, &scoped, &variant] {
        assert_eq!(web.find_studies(p).await.unwrap().len(), 1);
    }
    for p in [&target, &lower, &longer, &scoped, &variant] {
        let report = orthanc.erase_patient(p, DerivedPolicy::Erase).await;
        assert!(report.unwrap().is_verified());
    }
}

/// A DICOMweb server that offers DELETE and whose search by PatientID
/// answers with an index that is out of date: it still files the study under
/// `indexed`, while the study itself (as a search by its UID shows) now
/// carries `stored`. Counts the DELETEs it receives; after one, the study
/// is gone.
async fn stale_index_server(
    indexed: &str,
    stored: &str,
    uid: &str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicU32>) {
    use axum::extract::{Query, State};
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Clone)]
    struct Fake {
        indexed: String,
        stored: String,
        uid: String,
        deletes: Arc<AtomicU32>,
    }
    async fn qido(
        State(f): State<Fake>,
        Query(q): Query<HashMap<String, String>>,
    ) -> axum::Json<serde_json::Value> {
        if f.deletes.load(Ordering::SeqCst) > 0 {
            return axum::Json(serde_json::json!([]));
        }
        let pid = if q.contains_key("StudyInstanceUID") {
            &f.stored
        } else {
            &f.indexed
        };
        axum::Json(serde_json::json!([{
            "0020000D": {"vr": "UI", "Value": [f.uid]},
            "00100020": {"vr": "LO", "Value": [pid]},
        }]))
    }
    async fn delete(State(f): State<Fake>) -> axum::http::StatusCode {
        f.deletes.fetch_add(1, Ordering::SeqCst);
        axum::http::StatusCode::NO_CONTENT
    }
    let deletes = Arc::new(AtomicU32::new(0));
    let fake = Fake {
        indexed: indexed.into(),
        stored: stored.into(),
        uid: uid.into(),
        deletes: Arc::clone(&deletes),
    };
    let app = axum::Router::new()
        .route("/studies", axum::routing::get(qido))
        .route("/studies/{uid}", axum::routing::delete(delete))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, deletes)
}

#[tokio::test]
async fn a_study_is_looked_at_again_before_its_delete() {
    let n = unique();
    let target = PatientId::new(format!("MRN-4001-{n}")).unwrap();
    let uid = format!("{UID_ROOT}.{n}.1");
    let (url, deletes) = stale_index_server(target.expose(), &format!("mrn-4001-{n}"), &uid).await;
    let web = DicomWebStore::connect(&DicomWebConfig::new("stale", url)).unwrap();
    assert_eq!(
        web.find_studies(&target).await.unwrap().len(),
        1,
        "the stale hint"
    );

    let report = web
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert_eq!(
        deletes.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a study that now carries another PatientID was deleted"
    );
    assert!(!report.is_verified(), "{report:?}");
    assert_eq!(report.refused().len(), 1);
    assert!(report.erased().is_empty());
}

/// DICOMweb carries no provenance: whatever the derived-copy policy asks, a
/// complete erasure reports "derived copies not checked" and is never
/// verified.
#[tokio::test]
async fn derived_copies_are_reported_not_checked_under_every_policy() {
    use gdpr_core::store::NotChecked;
    for policy in [DerivedPolicy::Erase, DerivedPolicy::Report] {
        let n = unique();
        let target = PatientId::new(format!("MRN-5001-{n}")).unwrap();
        let uid = format!("{UID_ROOT}.{n}.1");
        let (url, deletes) = stale_index_server(target.expose(), target.expose(), &uid).await;
        let web = DicomWebStore::connect(&DicomWebConfig::new("deleting", url)).unwrap();
        let report = web.erase_patient(&target, policy).await.unwrap();
        assert_eq!(deletes.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(report.erased().len(), 1, "{report:?}");
        assert_eq!(report.not_checked(), &[NotChecked::DerivedCopies]);
        assert!(clean_but_derived_unchecked(&report), "{report:?}");
        assert!(!report.is_verified());
        let handle = &web.find_studies(&target).await.unwrap();
        assert!(handle.is_empty());
    }
}
