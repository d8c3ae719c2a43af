//! A server that answers 500, hangs, closes the connection or returns
//! malformed JSON: bounded retries, then a clear error that names no patient
//! and no URL.

mod support;

use std::time::Duration;

use gdpr_core::store::{DerivedPolicy, StoreError, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{DicomWebConfig, DicomWebStore, OrthancConfig, OrthancStore};
use support::misbehaving_server::{Mode, start};

const CANARY: &str = "CANARY-ROBUST-77";

fn subject() -> PatientId {
    PatientId::new(CANARY).unwrap()
}

fn orthanc(url: &str) -> OrthancStore {
    let mut config = OrthancConfig::new("flaky", url);
    config.http.timeout = Duration::from_millis(300);
    config.http.read_timeout = Duration::from_millis(300);
    config.http.max_attempts = 3;
    config.http.backoff = Duration::from_millis(10);
    OrthancStore::connect(&config).unwrap()
}

fn assert_clean(err: &StoreError) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(CANARY), "patient id leaked: {text}");
    assert!(!text.contains("127.0.0.1"), "url leaked: {text}");
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let server = start(Mode::ServerError).await;
    let err = orthanc(&server.url).locate(&subject()).await.unwrap_err();
    match &err {
        StoreError::Transient {
            attempts, detail, ..
        } => {
            assert_eq!(*attempts, 3);
            assert!(detail.contains("500"), "{detail}");
        }
        other => panic!("expected a transient error, got {other}"),
    }
    assert_eq!(server.requests(), 3);
    assert!(err.to_string().contains("try again later"));
    assert_clean(&err);
}

#[tokio::test]
async fn a_hanging_server_times_out_then_fails_clearly() {
    let server = start(Mode::Hang).await;
    let started = std::time::Instant::now();
    let err = orthanc(&server.url)
        .erase_subject(&subject(), DerivedPolicy::Erase)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Transient { attempts: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(server.requests(), 3);
    // Three attempts of 300 ms plus backoff, not the server's 30 s hang.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_clean(&err);
}

#[tokio::test]
async fn closed_connections_are_retried_then_reported() {
    let server = start(Mode::Close).await;
    let err = orthanc(&server.url).locate(&subject()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Transient { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(server.requests(), 3);
    assert_clean(&err);
}

#[tokio::test]
async fn malformed_json_is_a_clear_protocol_error() {
    let server = start(Mode::MalformedJson).await;
    let err = orthanc(&server.url).locate(&subject()).await.unwrap_err();
    match &err {
        StoreError::Protocol { detail, .. } => assert!(detail.contains("malformed JSON")),
        other => panic!("expected a protocol error, got {other}"),
    }
    assert_clean(&err);

    let mut config = DicomWebConfig::new("flaky-web", &server.url);
    config.http.max_attempts = 2;
    let err = DicomWebStore::connect(&config)
        .unwrap()
        .locate(&subject())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Protocol { .. }), "{err}");
    assert_clean(&err);
}

#[tokio::test]
async fn a_server_that_recovers_within_the_bound_succeeds() {
    let server = start(Mode::FlakyThenEmpty).await;
    let found = orthanc(&server.url).locate(&subject()).await.unwrap();
    assert!(found.is_empty());
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried_then_reported() {
    let server = start(Mode::ServerError).await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "CANARY-SECRET").unwrap();
    let mut config = gdpr_dicom::store::Dcm4cheeConfig::new(
        "arc",
        format!("{}dcm4chee-arc/aets/DCM4CHEE/rs/", server.url),
    );
    config.token_url = Some(format!(
        "{}realms/r/protocol/openid-connect/token",
        server.url
    ));
    config.client_id = Some("gdpr".into());
    config.client_secret = Some(gdpr_dicom::store::PasswordSource::File(secret));
    config.http.max_attempts = 3;
    config.http.backoff = Duration::from_millis(10);
    let arc = gdpr_dicom::store::Dcm4cheeStore::connect(&config).unwrap();
    let err = arc.locate(&subject()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Transient { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(server.requests(), 3, "only the token endpoint was called");
    assert!(!format!("{err} {err:?}").contains("CANARY-SECRET"));
    assert_clean(&err);
}
