//! `$expunge` where a server offers it, against a fake FHIR server (named a
//! fake: Helios, the real server of the tests, offers no `$expunge`; the
//! fake answers as HAPI FHIR documents it). A deleted record whose versions
//! the server purged is verified erased; without `$expunge` the versions
//! `_history` still serves are reported as left.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use gdpr_core::category::RecordCategory;
use gdpr_core::store::{
    FhirId, ItemStatus, RecordHandle, ResourceHandle, ResourceType, SubjectStore,
};
use gdpr_ehr::store::{FhirConfig, FhirStore};
use serde_json::{Value, json};

#[derive(Default)]
struct Fake {
    offers_expunge: bool,
    deleted: bool,
    expunged: bool,
}

type Shared = Arc<Mutex<Fake>>;

fn observation() -> Value {
    json!({"resourceType": "Observation", "id": "o1", "meta": {"versionId": "1"},
        "status": "final", "code": {"text": "x"}, "subject": {"reference": "Patient/p1"}})
}

async fn metadata(State(fake): State<Shared>) -> axum::Json<Value> {
    let ops = if fake.lock().unwrap().offers_expunge {
        json!([{"name": "expunge", "definition": "http://hapifhir.io/fhir/OperationDefinition/expunge"}])
    } else {
        json!([])
    };
    axum::Json(
        json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "operation": ops}]}),
    )
}

async fn read(State(fake): State<Shared>) -> Result<axum::Json<Value>, StatusCode> {
    if fake.lock().unwrap().deleted {
        Err(StatusCode::GONE)
    } else {
        Ok(axum::Json(observation()))
    }
}

async fn delete(State(fake): State<Shared>) -> StatusCode {
    fake.lock().unwrap().deleted = true;
    StatusCode::NO_CONTENT
}

async fn expunge(State(fake): State<Shared>) -> axum::Json<Value> {
    fake.lock().unwrap().expunged = true;
    axum::Json(
        json!({"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 2}]}),
    )
}

async fn history(State(fake): State<Shared>) -> axum::Json<Value> {
    let entries = if fake.lock().unwrap().expunged {
        json!([])
    } else {
        json!([{"request": {"method": "DELETE", "url": "Observation/o1"}},
               {"resource": observation(), "request": {"method": "POST", "url": "Observation"}}])
    };
    axum::Json(json!({"resourceType": "Bundle", "type": "history", "entry": entries}))
}

async fn start(offers_expunge: bool) -> (FhirStore, Shared) {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        offers_expunge,
        ..Fake::default()
    }));
    let app = axum::Router::new()
        .route("/fhir/metadata", get(metadata))
        .route("/fhir/Observation/o1", get(read).delete(delete))
        .route("/fhir/Observation/o1/$expunge", post(expunge))
        .route("/fhir/Observation/o1/_history", get(history))
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fhir", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        FhirStore::connect(&FhirConfig::new("fake-fhir", url)).unwrap(),
        fake,
    )
}

fn handle() -> RecordHandle {
    let kind = ResourceType::new("Observation").unwrap();
    ResourceHandle::new(kind, FhirId::new("o1").unwrap(), RecordCategory::LabResult).into()
}

#[tokio::test]
async fn a_record_whose_versions_were_expunged_is_verified_erased() {
    let (store, fake) = start(true).await;
    let report = store.erase_record(&handle()).await.unwrap();
    assert!(
        fake.lock().unwrap().expunged,
        "the server was asked to purge"
    );
    assert!(report.is_verified(), "{report:?}");
    assert_eq!(report.items()[0].status, ItemStatus::Erased);
}

#[tokio::test]
async fn without_expunge_the_versions_in_history_are_left() {
    let (store, fake) = start(false).await;
    let report = store.erase_record(&handle()).await.unwrap();
    assert!(fake.lock().unwrap().deleted && !fake.lock().unwrap().expunged);
    assert!(!report.is_verified());
    let item = report.items()[0];
    assert_eq!(item.status, ItemStatus::Left);
    assert!(
        item.reason.is_some_and(|r| r.contains("_history")),
        "{item:?}"
    );
}
