//! An export interrupted mid-way resumes: a FAKE FHIR server made here
//! (it fails on purpose; Helios does not) serves `Patient/p1/$everything` in
//! six pages and, on the first run, refuses page 5. The export fails,
//! leaving nothing that looks complete (no manifest, no file in place);
//! run again into the same directory it continues from its last
//! checkpoint (after page 4: pages 1–4 are not fetched again) to a
//! complete export whose files verify and which the independent FHIR
//! validator accepts (feature fhir-tests: it fails when the validator is
//! missing).

#![cfg(feature = "fhir-tests")]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gdpr_core::store::{FhirId, FhirSubject, SubjectRef, SubjectStore};
use gdpr_ehr::store::{FhirConfig, FhirStore};
use serde_json::{Value, json};

const PAGES: u32 = 6;

/// The page that fails (from the start: None), and the pages asked for.
#[derive(Default)]
struct Server {
    fail_at: Option<u32>,
    asked: Vec<u32>,
}

type Shared = Arc<Mutex<Server>>;

fn observation(n: u32) -> Value {
    json!({"resourceType": "Observation", "id": format!("o{n}"), "status": "final",
        "code": {"text": "glucose"}, "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2020-01-02T10:00:00Z"})
}

fn patient() -> Value {
    json!({"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"})
}

async fn everything(
    State((server, base)): State<(Shared, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page: u32 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    {
        let mut s = server.lock().unwrap();
        s.asked.push(page);
        if s.fail_at == Some(page) {
            let outcome = json!({"resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "processing"}]});
            return (StatusCode::BAD_REQUEST, axum::Json(outcome)).into_response();
        }
    }
    let mut entries = Vec::new();
    if page == 1 {
        entries.push(patient());
    }
    entries.extend((0..3).map(|i| observation(page * 3 + i)));
    let here = format!("{base}/fhir/Patient/p1/$everything");
    let mut links = vec![json!({"relation": "self", "url": format!("{here}?page={page}")})];
    if page < PAGES {
        links.push(json!({"relation": "next", "url": format!("{here}?page={}", page + 1)}));
    }
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|r| json!({"resource": r}))
        .collect();
    axum::Json(
        json!({"resourceType": "Bundle", "type": "searchset", "link": links,
        "entry": entries}),
    )
    .into_response()
}

async fn start(server: Server) -> (FhirStore, Shared) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let shared: Shared = Arc::new(Mutex::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let metadata = || async {
        axum::Json(
            json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server",
            "resource": [{"type": "Patient", "operation": [{"name": "everything",
            "definition": "x"}]}]}]}),
        )
    };
    let app = axum::Router::new()
        .route("/fhir/metadata", get(metadata))
        .route("/fhir/Patient/p1", get(|| async { axum::Json(patient()) }))
        .route("/fhir/Patient/p1/$everything", get(everything))
        .with_state((Arc::clone(&shared), base.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = FhirConfig::new("resume-fhir", format!("{base}/fhir"));
    config.checkpoint_pages = 2;
    config.checkpoint_interval = std::time::Duration::ZERO;
    (FhirStore::connect(&config).unwrap(), shared)
}

fn subject() -> SubjectRef {
    SubjectRef::Fhir(FhirSubject::LogicalId(FhirId::new("p1").unwrap()))
}

fn visible(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_export_interrupted_after_four_pages_resumes_to_a_complete_valid_export() {
    let validator = support::validator();
    let (store, server) = start(Server {
        fail_at: Some(5),
        ..Server::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");

    let err = store.export(&subject(), &out).await.unwrap_err();
    assert!(err.to_string().contains("$everything"), "the step: {err}");
    // Nothing looks complete: no manifest, no file under its final name.
    assert!(visible(&out).is_empty(), "{:?}", visible(&out));
    assert_eq!(server.lock().unwrap().asked, [1, 2, 3, 4, 5]);

    {
        let mut s = server.lock().unwrap();
        s.fail_at = None;
        s.asked.clear();
    }
    let report = store.export(&subject(), &out).await.unwrap();
    // Resumed after the checkpoint of page 4: only pages 5 and 6 again.
    assert_eq!(server.lock().unwrap().asked, [5, 6]);
    assert!(report.unreadable.is_empty());
    let total = 1 + 3 * PAGES as usize;
    assert_eq!(report.manifest.records.len(), total, "every record, once");

    let bundle: Value =
        serde_json::from_slice(&std::fs::read(out.join("bundle.json")).unwrap()).unwrap();
    let mut ids: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), total);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "no resource twice");
    // Every file the manifest lists is there with its SHA-256, and nothing
    // of the interrupted run is left besides.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    for file in files {
        let data = std::fs::read(out.join(file["path"].as_str().unwrap())).unwrap();
        assert_eq!(file["sha256"], support::sha256_hex(&data), "{file}");
    }
    let all: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        all.len(),
        files.len() + 1,
        "only the files and the manifest: {all:?}"
    );
    assert!(support::validate_export(&validator, &out) >= 2);
}

#[tokio::test]
async fn a_checkpoint_that_does_not_verify_runs_the_export_from_the_start() {
    let (store, server) = start(Server {
        fail_at: Some(5),
        ..Server::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    store.export(&subject(), &out).await.unwrap_err();
    // The checkpointed part of the Bundle changed since.
    let partial = out.join(".bundle.json.partial");
    let mut data = std::fs::read(&partial).unwrap();
    let at = data.windows(2).position(|w| w == b"o4").unwrap();
    data[at] = b'x';
    std::fs::write(&partial, data).unwrap();
    {
        let mut s = server.lock().unwrap();
        s.fail_at = None;
        s.asked.clear();
    }
    let report = store.export(&subject(), &out).await.unwrap();
    assert_eq!(server.lock().unwrap().asked, [1, 2, 3, 4, 5, 6]);
    assert_eq!(report.manifest.records.len(), 1 + 3 * PAGES as usize);
    let bundle = std::fs::read_to_string(out.join("bundle.json")).unwrap();
    assert!(bundle.contains("\"o4\"") && !bundle.contains("\"x4\""));
}
