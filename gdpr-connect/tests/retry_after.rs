//! The client against a real HTTP server that answers 503 with
//! `Retry-After`: a short wait is honoured and the call then succeeds; a wait
//! longer than `max_retry_after` ends the call at once, as transient.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use gdpr_connect::{Client, Endpoint};
use gdpr_core::store::StoreError;

/// A server whose first `busy` answers are 503 with `Retry-After:
/// {seconds}`, then 200 `[]`. Returns its URL and the request count.
async fn server(busy: u32, seconds: &'static str) -> (String, Arc<AtomicU32>) {
    let count = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&count);
    let app = axum::Router::new().route(
        "/x",
        axum::routing::get(move || {
            let seen = Arc::clone(&seen);
            async move {
                if seen.fetch_add(1, Ordering::SeqCst) < busy {
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        [("Retry-After", seconds)],
                        "",
                    )
                } else {
                    (axum::http::StatusCode::OK, [("Retry-After", "0")], "[]")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, count)
}

#[tokio::test]
async fn a_short_retry_after_is_waited_for_then_the_call_succeeds() {
    let (url, count) = server(1, "1").await;
    let mut endpoint = Endpoint::new(url);
    endpoint.http.backoff = Duration::from_millis(1);
    let client = Client::connect(&endpoint).unwrap();
    let started = Instant::now();
    let answer: Vec<u8> = client
        .json("GET /x", |c| c.get(client.url(&["x"])))
        .await
        .unwrap();
    assert!(answer.is_empty());
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the server's Retry-After was not honoured: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_ends_the_call_at_once() {
    let (url, count) = server(10, "3600").await;
    let client = Client::connect(&Endpoint::new(url)).unwrap();
    let err = client
        .call("GET /x", |c| c.get(client.url(&["x"])))
        .await
        .unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(
        matches!(err, StoreError::Transient { attempts: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("3600 s"), "{err}");
}
