//! Paging against a fake FHIR server that misbehaves on purpose (named a
//! fake: the real server pages correctly, see fhir_store.rs): a next link
//! that loops, one that leaves the base URL, a listing longer than the page
//! bound, and a last page without `next` (fine).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use gdpr_connect::{Client, Endpoint};
use gdpr_core::store::{ProtocolCause, StoreError};
use gdpr_ehr::client::FhirClient;
use serde_json::{Value, json};

/// Serves `/{scenario}/fhir/Observation?page=N`.
async fn page(
    State(base): State<String>,
    Path(scenario): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    let n: u32 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let here = format!("{base}/{scenario}/fhir/Observation");
    let next = match (scenario.as_str(), n) {
        ("loop", _) => Some(format!("{here}?page=1")),
        ("offsite", _) => Some("http://127.0.0.2:9/fhir/Observation?identifier=CANARY".into()),
        ("last", 1) => Some(format!("{here}?page=2")),
        ("last", _) => None,
        (_, n) => Some(format!("{here}?page={}", n + 1)),
    };
    let mut links = vec![json!({"relation": "self", "url": format!("{here}?page={n}")})];
    links.extend(next.map(|url| json!({"relation": "next", "url": url})));
    axum::Json(json!({
        "resourceType": "Bundle", "type": "searchset", "link": links,
        "entry": [{"resource": {"resourceType": "Observation", "id": format!("o{n}")}}]
    }))
}

async fn fake() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/{scenario}/fhir/Observation", get(page))
        .with_state(base.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn listing(base: &str, scenario: &str, max_pages: usize) -> Result<usize, StoreError> {
    let http = Client::connect(&Endpoint::new(format!("{base}/{scenario}/fhir"))).unwrap();
    let client = FhirClient::new(http).with_paging(1, max_pages);
    let mut pages = client.search("Observation", &[]);
    let mut n = 0;
    while let Some(page) = pages.next_page().await? {
        n += page.entry.len();
    }
    Ok(n)
}

fn invalid_content(result: Result<usize, StoreError>) -> String {
    match result {
        Err(
            e @ StoreError::Protocol {
                cause: ProtocolCause::InvalidContent,
                ..
            },
        ) => e.to_string(),
        other => panic!("expected an invalid-content error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_last_page_without_next_ends_the_listing() {
    let base = fake().await;
    assert_eq!(listing(&base, "last", 10).await.unwrap(), 2);
}

#[tokio::test]
async fn a_looping_next_link_is_an_error() {
    let base = fake().await;
    let err = invalid_content(listing(&base, "loop", 10).await);
    assert!(err.contains("loop"), "{err}");
}

#[tokio::test]
async fn a_next_link_off_the_base_is_refused_without_its_url() {
    let base = fake().await;
    let err = invalid_content(listing(&base, "offsite", 10).await);
    assert!(err.contains("outside the configured base URL"), "{err}");
    assert!(
        !err.contains("CANARY") && !err.contains("127.0.0.2"),
        "{err}"
    );
}

#[tokio::test]
async fn more_pages_than_the_bound_is_an_error() {
    let base = fake().await;
    let err = invalid_content(listing(&base, "endless", 5).await);
    assert!(err.contains("max_pages"), "{err}");
}
