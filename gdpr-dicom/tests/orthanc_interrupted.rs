//! An erasure broken off half-way on a real Orthanc (a proxy answers 503 to
//! DELETEs after a few), then run again. Enabled by `orthanc-tests`.
#![cfg(feature = "orthanc-tests")]

mod support;

use gdpr_core::store::{DerivedPolicy, StoreError};
use gdpr_dicom::store::OrthancStore;
use gdpr_dicom::store::StudyStore;
use support::*;

/// A proxy in front of the real Orthanc that lets `deletes` DELETE requests
/// through and then answers 503 to every further DELETE: an erasure that
/// breaks off half-way.
async fn breaking_proxy(deletes: u32) -> String {
    use axum::body::Body;
    use axum::extract::{Request, State};
    use axum::response::Response;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Clone)]
    struct Proxy {
        upstream: String,
        left: Arc<AtomicU32>,
        client: reqwest::Client,
    }
    async fn forward(State(p): State<Proxy>, request: Request) -> Response {
        let method = request.method().clone();
        if method == axum::http::Method::DELETE
            && p.left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
        {
            return Response::builder().status(503).body(Body::empty()).unwrap();
        }
        let uri = request.uri().clone();
        let headers = request.headers().clone();
        let body = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .unwrap();
        let mut upstream = p
            .client
            .request(method, format!("{}{}", p.upstream, uri))
            .body(body);
        for (name, value) in &headers {
            if name != "host" {
                upstream = upstream.header(name, value);
            }
        }
        let answer = upstream.send().await.unwrap();
        let status = answer.status();
        let bytes = answer.bytes().await.unwrap();
        Response::builder()
            .status(status.as_u16())
            .body(Body::from(bytes))
            .unwrap()
    }
    let proxy = Proxy {
        upstream: orthanc_config()
            .endpoint
            .url
            .trim_end_matches('/')
            .to_owned(),
        left: Arc::new(AtomicU32::new(deletes)),
        client: reqwest::Client::new(),
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn an_erasure_broken_off_by_server_errors_fails_clearly_and_a_rerun_completes() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-I");
    let mut originals = Vec::new();
    for n in 1..=4 {
        originals.extend(upload(&store, &study(&target, n, 1, 1, "CT")).await);
    }
    let derived = anonymize(&originals[0]).await;

    let mut config = orthanc_config();
    config.endpoint.url = breaking_proxy(2).await;
    config.endpoint.http.max_attempts = 2;
    config.endpoint.http.backoff = std::time::Duration::from_millis(10);
    let flaky = OrthancStore::connect(&config).unwrap();
    let err = flaky
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Transient { attempts: 2, .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("GDPR-CANARY"));
    assert_eq!(
        store.find_studies(&target).await.unwrap().len(),
        2,
        "half erased"
    );

    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert!(store.find_studies(&target).await.unwrap().is_empty());
    assert_eq!(
        raw(reqwest::Method::GET, &format!("studies/{derived}"))
            .await
            .0,
        404
    );
}
