//! The gateway when things go wrong: an upstream that is down, answers
//! 5xx or too slowly, a caller that goes away mid-stream, a malformed
//! multipart upload; and STOW-RS passing through. The misbehaving
//! upstream is a FAKE (no real server fails on demand); everything else
//! is the real Orthanc and the real OpenID provider (feature
//! `gateway-tests`).
#![cfg(feature = "gateway-tests")]

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, Request};
use axum::response::Response;
use bytes::Bytes;
use gdpr_audit::action::Action;
use support::{Options, Tokens, get, orthanc, provider, start};

const GATEWAY: &str = "urn:gdpr:gateway";
const FAKE_PID: &str = "FAKE-PID-SECRET";

/// Sets its flag when dropped: the fake's stream was abandoned.
struct Dropped(Arc<AtomicBool>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A FAKE DICOMweb upstream: any study exists (patient FAKE_PID); study
/// `1.2.500` answers 500 (echoing the patient, which must not reach the
/// caller), `1.2.504` answers after 5 s, `1.2.9` streams forever.
async fn fake_upstream(dropped: Arc<AtomicBool>) -> String {
    let app = axum::Router::new().fallback(move |Query(q): Query<Vec<(String, String)>>, req: Request| {
        let dropped = dropped.clone();
        async move {
            let path = req.uri().path().to_owned();
            if path == "/dicom-web/studies" {
                let uid = q.iter().find(|(k, _)| k == "StudyInstanceUID").map(|(_, v)| v.clone()).unwrap_or_default();
                let body = format!(
                    r#"[{{"0020000D":{{"vr":"UI","Value":["{uid}"]}},"00100020":{{"vr":"LO","Value":["{FAKE_PID}"]}}}}]"#
                );
                return Response::new(Body::from(body));
            }
            if path.starts_with("/dicom-web/studies/1.2.500") {
                let mut r = Response::new(Body::from(format!("internal error for patient {FAKE_PID}")));
                *r.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                return r;
            }
            if path.starts_with("/dicom-web/studies/1.2.504") {
                tokio::time::sleep(Duration::from_secs(5)).await;
                return Response::new(Body::from("[]"));
            }
            let guard = Dropped(dropped);
            let stream = futures_util::stream::unfold(guard, |g| async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Some((Ok::<_, Infallible>(Bytes::from(vec![0x42u8; 16 * 1024])), g))
            });
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert("content-type", "multipart/related; type=\"application/dicom\"; boundary=x".parse().unwrap());
            r
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/dicom-web/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_down_5xx_and_slow_are_gateway_errors_without_upstream_text() {
    let p = provider();
    let token = p.token("gw-radiologist", GATEWAY).await;
    let down = start(Options {
        upstream: Some("http://127.0.0.1:9/dicom-web/".into()),
        ..Options::default()
    })
    .await;
    let answer = get(&down, "/studies/1.2.3/metadata", &token).await;
    assert_eq!(answer.status(), 502);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("upstream-unreachable")
    );

    let dropped = Arc::new(AtomicBool::new(false));
    let fake = fake_upstream(dropped).await;
    let r = start(Options {
        upstream: Some(fake),
        read_timeout: 1,
        ..Options::default()
    })
    .await;
    let answer = get(&r, "/studies/1.2.500/metadata", &token).await;
    assert_eq!(answer.status(), 502);
    let body = answer.text().await.unwrap();
    assert!(
        body.contains("upstream-error") && !body.contains(FAKE_PID),
        "{body}"
    );
    let answer = get(&r, "/studies/1.2.504/metadata", &token).await;
    assert_eq!(answer.status(), 504);
    assert!(!r.log().contains(FAKE_PID));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_leaving_mid_stream_drops_the_upstream_stream() {
    let p = provider();
    let token = p.token("gw-radiologist", GATEWAY).await;
    let dropped = Arc::new(AtomicBool::new(false));
    let fake = fake_upstream(dropped.clone()).await;
    let r = start(Options {
        upstream: Some(fake),
        ..Options::default()
    })
    .await;
    let mut answer = get(&r, "/studies/1.2.9", &token).await;
    assert_eq!(answer.status(), 200);
    let mut seen = 0;
    while seen < 256 * 1024 {
        seen += answer
            .chunk()
            .await
            .unwrap()
            .expect("the stream goes on")
            .len();
    }
    assert!(
        !dropped.load(Ordering::SeqCst),
        "still streaming while read"
    );
    drop(answer);
    for _ in 0..100 {
        if dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the upstream stream was not dropped"
    );
    // The gateway goes on serving.
    let again = get(&r, "/studies/1.2.500/metadata", &token).await;
    assert_eq!(again.status(), 502);
}

fn multipart(parts: &[Vec<u8>], boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn stow_passes_through_with_urls_rewritten_and_malformed_multipart_is_refused() {
    let (o, p) = (orthanc(), provider());
    let r = start(Options::default()).await;
    let token = p.token("gw-radiologist", GATEWAY).await;
    let root = format!("1.2.826.0.1.3680043.10.1234.{}", support::unique());
    let inst = gdpr_dicom::synthetic::SyntheticInstance::new(&root, "STOW-PID", 1, 1, 1);
    let body = multipart(&[inst.to_bytes().unwrap()], "gdprboundary");
    let answer = support::http()
        .post(format!("{}/studies", r.base))
        .bearer_auth(&token)
        .header(
            "content-type",
            "multipart/related; type=\"application/dicom\"; boundary=gdprboundary",
        )
        .header("accept", "application/dicom+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    assert!(text.contains(&r.base), "{text}");
    assert!(!text.contains(&o.url), "{text}");
    assert!(r.events().iter().any(|e| e.action() == Action::Create));
    // Stored: now retrievable through the gateway.
    let meta = get(&r, &format!("/studies/{}/metadata", inst.study_uid), &token).await;
    assert_eq!(meta.status(), 200);

    let garbage = support::http()
        .post(format!("{}/studies", r.base))
        .bearer_auth(&token)
        .header(
            "content-type",
            "multipart/related; type=\"application/dicom\"; boundary=gdprboundary",
        )
        .body("--gdprboundary\r\nContent-Type: application/dicom\r\n\r\nnot dicom at all")
        .send()
        .await
        .unwrap();
    // The gateway streams uploads without parsing them; the upstream must
    // store nothing from a malformed one (Orthanc answers an empty
    // Referenced SOP Sequence), and nothing of the body is echoed.
    let status = garbage.status();
    let text = garbage.text().await.unwrap();
    assert!(!text.contains("dicom at all"), "{text}");
    if status.is_success() {
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            answer["00081199"]
                .get("Value")
                .is_none_or(|v| v.as_array().unwrap().is_empty()),
            "{text}"
        );
    } else {
        assert!(status.is_client_error(), "{status}");
    }
}
