//! Fault injection against a small local HTTP server made here (a FAKE FHIR
//! server that misbehaves on purpose; the real server of the other tests,
//! Helios, behaves): 503 and 429 with `Retry-After` are waited out, a page
//! that is not JSON fails the export clearly and leaves nothing that looks
//! complete, the export then runs again into the same directory, and
//! malformed resources go to the side file while the Bundle stays valid.
//! (Loops and missing `next` links: tests/paging.rs; a token expiring
//! mid-export: tests/openemr.rs.)

#[cfg(feature = "fhir-tests")]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gdpr_core::store::{FhirId, FhirSubject, StoreError, SubjectRef, SubjectStore};
use gdpr_ehr::store::{FhirConfig, FhirStore};
use serde_json::{Value, json};

/// What the server does wrong, and what it saw.
#[derive(Default)]
struct Faults {
    /// Answer the first request for page 2 with this status and `Retry-After: 1`.
    refuse_page_2_once: Option<StatusCode>,
    /// Answer page 3 with a body that is not JSON.
    break_page_3: bool,
    /// Put malformed resources on page 1.
    malformed: bool,
    /// When page 2 was asked for.
    page_2_requests: Vec<Instant>,
}

type Shared = Arc<Mutex<Faults>>;

fn observation(n: u32) -> Value {
    json!({"resourceType": "Observation", "id": format!("o{n}"), "status": "final",
        "code": {"text": "x"}, "subject": {"reference": "Patient/p1"}})
}

fn patient() -> Value {
    json!({"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"})
}

async fn metadata() -> axum::Json<Value> {
    axum::Json(
        json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server",
        "resource": [{"type": "Patient", "operation": [{"name": "everything", "definition": "x"}]}]}]}),
    )
}

async fn read_patient() -> axum::Json<Value> {
    axum::Json(patient())
}

/// `Patient/p1/$everything`: three pages, the Patient and two
/// Observations each.
async fn everything(
    State((faults, base)): State<(Shared, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page: u32 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let mut entries = Vec::new();
    {
        let mut f = faults.lock().unwrap();
        if page == 2 {
            f.page_2_requests.push(Instant::now());
            if let Some(status) = f.refuse_page_2_once.take() {
                return (status, [(header::RETRY_AFTER, "1")], "busy").into_response();
            }
        }
        if page == 3 && f.break_page_3 {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/fhir+json")],
                "{\"resourceType\": \"Bundle\", \"entry\": [",
            )
                .into_response();
        }
        if page == 1 {
            entries.push(patient());
            if f.malformed {
                entries.push(json!({"resourceType": "Observation", "status": "final"}));
                entries.push(json!({"resourceType": "NoSuchType", "id": "n1"}));
                entries.push(
                    json!({"resourceType": "Observation", "id": "bad", "status": "final",
                    "code": {"text": "x"}, "subject": {"reference": "Patient/p1"},
                    "vendorScore": 7, "issued": 12, "category": {"text": "one"}}),
                );
            }
        }
    }
    entries.extend([observation(page * 2 - 1), observation(page * 2)]);
    let here = format!("{base}/fhir/Patient/p1/$everything");
    let mut links = vec![json!({"relation": "self", "url": format!("{here}?page={page}")})];
    if page < 3 {
        links.push(json!({"relation": "next", "url": format!("{here}?page={}", page + 1)}));
    }
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|r| json!({"resource": r}))
        .collect();
    axum::Json(
        json!({"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}),
    )
    .into_response()
}

async fn start(faults: Faults) -> (FhirStore, Shared) {
    let shared: Shared = Arc::new(Mutex::new(faults));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/fhir/metadata", get(metadata))
        .route("/fhir/Patient/p1", get(read_patient))
        .route("/fhir/Patient/p1/$everything", get(everything))
        .route(
            "/fhir/{kind}/{id}",
            get(|Path(_): Path<(String, String)>| async { StatusCode::NOT_FOUND }),
        )
        .with_state((Arc::clone(&shared), base.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let store =
        FhirStore::connect(&FhirConfig::new("faulty-fhir", format!("{base}/fhir"))).unwrap();
    (store, shared)
}

fn subject() -> SubjectRef {
    SubjectRef::Fhir(FhirSubject::LogicalId(FhirId::new("p1").unwrap()))
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn retry_after_is_waited_out(status: StatusCode) {
    let (store, faults) = start(Faults {
        refuse_page_2_once: Some(status),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = store.export(&subject(), dir.path()).await.unwrap();
    assert_eq!(
        report.manifest.records.len(),
        7,
        "the Patient and six Observations"
    );
    let asked = faults.lock().unwrap().page_2_requests.clone();
    assert_eq!(asked.len(), 2, "page 2 asked for again after the {status}");
    assert!(
        asked[1] - asked[0] >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured ({:?})",
        asked[1] - asked[0]
    );
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out() {
    retry_after_is_waited_out(StatusCode::SERVICE_UNAVAILABLE).await;
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    retry_after_is_waited_out(StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn a_broken_page_fails_the_export_which_then_runs_again_into_the_same_directory() {
    let (store, faults) = start(Faults {
        break_page_3: true,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let err = store.export(&subject(), dir.path()).await.unwrap_err();
    assert!(matches!(err, StoreError::Protocol { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("$everything"),
        "the error names the step: {text}"
    );
    // Nothing looks complete: no manifest, no Bundle under its own name.
    let left = names(dir.path());
    assert!(
        !left
            .iter()
            .any(|n| n == "manifest.json" || n == "bundle.json"),
        "{left:?}"
    );
    assert!(left.iter().all(|n| n.ends_with(".partial")), "{left:?}");

    faults.lock().unwrap().break_page_3 = false;
    let report = store.export(&subject(), dir.path()).await.unwrap();
    assert_eq!(report.manifest.records.len(), 7);
    let done = names(dir.path());
    assert!(done.contains(&"manifest.json".to_owned()), "{done:?}");
    assert!(!done.iter().any(|n| n.ends_with(".partial")), "{done:?}");
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bundle.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["entry"].as_array().unwrap().len(),
        7,
        "each resource once"
    );
    // A complete export is never overwritten.
    assert!(store.export(&subject(), dir.path()).await.is_err());
}

#[tokio::test]
async fn malformed_resources_go_to_the_side_file_and_the_bundle_stays_valid() {
    let (store, _faults) = start(Faults {
        malformed: true,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = store.export(&subject(), dir.path()).await.unwrap();
    assert!(
        report
            .manifest
            .files
            .iter()
            .any(|f| f.path == "nonconformant-elements.ndjson")
    );
    let side = std::fs::read_to_string(dir.path().join("nonconformant-elements.ndjson")).unwrap();
    let lines: Vec<Value> = side
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let paths: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["resource"].as_str().unwrap(), l["path"].as_str().unwrap()))
        .collect();
    // Without an id, of no R4 type: whole; the rest element by element.
    assert_eq!(
        paths,
        [
            ("(no R4 resourceType or no valid id)", ""),
            ("(no R4 resourceType or no valid id)", ""),
            ("Observation/bad", "category"),
            ("Observation/bad", "issued"),
            ("Observation/bad", "vendorScore"),
        ]
    );
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bundle.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["entry"].as_array().unwrap().len(),
        8,
        "Patient, bad and six Observations"
    );
    #[cfg(feature = "fhir-tests")]
    support::validate_export(&support::validator(), dir.path());
}
