//! OpenEMR's Bulk Data export against the FAKE OpenEMR
//! (tests/support/fake_openemr/bulk.rs, following OpenEMR's FHIR_README
//! and the Bulk Data Access IG v1): used only for a Group whose only member
//! is the subject (kick-off with `Prefer: respond-async`, 202 and
//! `Content-Location`, polls honouring `Retry-After`, the manifest, the
//! NDJSON files), never for a Group with other patients; a failing job and
//! a download cut short are clear errors and leave no manifest.

#[path = "support/fake_openemr/mod.rs"]
mod fake_openemr;
#[cfg(feature = "fhir-tests")]
#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use fake_openemr::jwt::CLIENT_RSA_KEY;
use fake_openemr::{CLIENT_ID, CLIENT_SCOPES, FakeOpenEmr};
use gdpr_connect::{
    ClientAuth, ClientCredentials, Credentials, PrivateKeyJwt, SigningAlgorithm, TokenEndpoint,
};
use gdpr_core::store::{FhirId, FhirSubject, StoreError, SubjectRef, SubjectStore};
use gdpr_ehr::openemr::{OpenEmrConfig, OpenEmrStore, Site};
use serde_json::json;

/// Patients `pa` (an encounter, a condition, three observations) and
/// `pb` (one observation), and a Group naming `members`.
async fn seeded(members: &[&str]) -> FakeOpenEmr {
    let fake = fake_openemr::start(Duration::from_secs(300)).await;
    let of = |p: &str| json!({"reference": format!("Patient/{p}")});
    for p in ["pa", "pb"] {
        fake.add(json!({"resourceType": "Patient", "id": p, "birthDate": "1970-01-01"}));
    }
    fake.add(
        json!({"resourceType": "Encounter", "id": "e1", "status": "finished",
        "class": {"code": "AMB"}, "subject": of("pa")}),
    );
    fake.add(json!({"resourceType": "Condition", "id": "c1", "subject": of("pa")}));
    for (id, p) in [("o1", "pa"), ("o2", "pa"), ("o3", "pa"), ("ob", "pb")] {
        fake.add(
            json!({"resourceType": "Observation", "id": id, "status": "final",
            "code": {"text": "x"}, "subject": of(p)}),
        );
    }
    let member: Vec<_> = members.iter().map(|m| json!({"entity": of(m)})).collect();
    fake.add(
        json!({"resourceType": "Group", "id": "g1", "type": "person", "actual": true,
        "member": member}),
    );
    fake
}

fn store(fake: &FakeOpenEmr, dir: &std::path::Path) -> OpenEmrStore {
    store_with(fake, dir, |_| {})
}

fn store_with(
    fake: &FakeOpenEmr,
    dir: &std::path::Path,
    change: impl FnOnce(&mut OpenEmrConfig),
) -> OpenEmrStore {
    let key = dir.join("client.pem");
    std::fs::write(&key, CLIENT_RSA_KEY).unwrap();
    let auth = ClientAuth::PrivateKeyJwt(PrivateKeyJwt::new(key, SigningAlgorithm::Rs384));
    let client =
        ClientCredentials::with_auth(TokenEndpoint::Url(fake.token_url()), CLIENT_ID, auth)
            .with_scopes(CLIENT_SCOPES.iter().copied());
    let mut config = OpenEmrConfig::new("emr", &fake.root, Site::new("default").unwrap());
    config.endpoint = config
        .endpoint
        .with_credentials(Credentials::ClientCredentials(client));
    change(&mut config);
    OpenEmrStore::connect(&config).unwrap()
}

fn pa() -> SubjectRef {
    SubjectRef::Fhir(FhirSubject::LogicalId(FhirId::new("pa").unwrap()))
}

fn ids(report: &gdpr_core::store::ExportReport) -> Vec<String> {
    let mut ids: Vec<String> = report
        .manifest
        .records
        .iter()
        .map(|r| r.id.as_str().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_group_of_the_patient_alone_is_exported_in_bulk() {
    let fake = seeded(&["pa"]).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let report = store(&fake, dir.path()).export(&pa(), &out).await.unwrap();
    {
        let s = fake.state.lock().unwrap();
        assert_eq!(s.bulk_jobs.len(), 1, "one bulk job");
        assert_eq!(
            s.bulk_polls, 2,
            "polled again after the 202 with Retry-After"
        );
    }
    assert_eq!(
        ids(&report),
        [
            "Condition:c1",
            "Encounter:e1",
            "Observation:o1",
            "Observation:o2",
            "Observation:o3",
            "Patient:pa"
        ]
    );
    assert!(out.join("manifest.json").exists());
    let bundle = std::fs::read_to_string(out.join("bundle.json")).unwrap();
    assert!(!bundle.contains("\"ob\"") && !bundle.contains("\"pb\""));
    #[cfg(feature = "fhir-tests")]
    support::validate_export(&support::validator(), &out);
}

#[tokio::test]
async fn a_group_with_other_patients_is_never_exported_in_bulk() {
    let fake = seeded(&["pa", "pb"]).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let report = store(&fake, dir.path()).export(&pa(), &out).await.unwrap();
    assert!(
        fake.state.lock().unwrap().bulk_jobs.is_empty(),
        "no bulk job"
    );
    // The per-type searches find the same records (and the Group, shared).
    let found = ids(&report);
    assert!(
        found.contains(&"Observation:o3".to_owned())
            && !found.contains(&"Observation:ob".to_owned())
    );
}

async fn failed_export(fake: &FakeOpenEmr) -> (StoreError, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let err = store(fake, dir.path())
        .export(&pa(), &out)
        .await
        .unwrap_err();
    (err, out, dir)
}

#[tokio::test]
async fn a_failing_job_is_a_clear_error_and_nothing_looks_complete() {
    let fake = seeded(&["pa"]).await;
    fake.state.lock().unwrap().bulk_fails = true;
    let (err, out, _dir) = failed_export(&fake).await;
    let text = err.to_string();
    assert!(text.contains("bulk"), "{text}");
    assert!(!out.join("manifest.json").exists());
}

#[tokio::test]
async fn a_download_cut_short_is_a_clear_error_and_nothing_looks_complete() {
    let fake = seeded(&["pa"]).await;
    fake.state.lock().unwrap().bulk_cut = true;
    let (err, out, _dir) = failed_export(&fake).await;
    let text = err.to_string();
    assert!(text.contains("partial download"), "{text}");
    assert!(!out.join("manifest.json").exists() && !out.join("bundle.json").exists());
}

#[tokio::test]
async fn an_interrupted_bulk_export_resumes_keeping_what_it_wrote() {
    let fake = seeded(&["pa"]).await;
    // The files by type: Condition, Encounter, Observation, Patient; the
    // third is cut short on the first run.
    fake.state.lock().unwrap().bulk_cut_file = Some(3);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let store = store_with(&fake, dir.path(), |c| {
        c.checkpoint_pages = 1;
        c.checkpoint_interval = Duration::ZERO;
    });
    let err = store.export(&pa(), &out).await.unwrap_err();
    assert!(err.to_string().contains("partial download"), "{err}");
    assert!(!out.join("manifest.json").exists() && !out.join("bundle.json").exists());
    assert!(
        out.join(".export-progress.partial").exists(),
        "a checkpoint"
    );
    // Changed on the server since: a resumed export keeps what it wrote
    // before its checkpoint (a restarted one would have the change).
    {
        let mut s = fake.state.lock().unwrap();
        s.bulk_cut_file = None;
    }
    fake.add(
        json!({"resourceType": "Condition", "id": "c1", "recordedDate": "2021-01-02",
        "subject": {"reference": "Patient/pa"}}),
    );
    let report = store.export(&pa(), &out).await.unwrap();
    assert_eq!(fake.state.lock().unwrap().bulk_jobs.len(), 2, "run again");
    assert_eq!(
        ids(&report),
        [
            "Condition:c1",
            "Encounter:e1",
            "Observation:o1",
            "Observation:o2",
            "Observation:o3",
            "Patient:pa"
        ]
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("bundle.json")).unwrap()).unwrap();
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 6, "each resource once");
    let c1 = entries
        .iter()
        .find(|e| e["resource"]["id"] == "c1")
        .unwrap();
    assert!(
        c1["resource"].get("recordedDate").is_none(),
        "kept, not rewritten"
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    #[cfg(feature = "fhir-tests")]
    support::validate_export(&support::validator(), &out);
}
