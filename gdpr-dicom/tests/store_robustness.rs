//! A server that answers 500, hangs, closes the connection or returns
//! malformed JSON: bounded retries, then a clear error that names no patient
//! and no URL. A folder holding hostile files: each fails alone, by path.
#![cfg(feature = "adapters")]

mod support;

use std::time::Duration;

use gdpr_core::store::{DerivedPolicy, StoreError, UnreadableCause, UnreadableStatus};
use gdpr_core::subject::PatientId;
use gdpr_dicom::deid::{DeidOptions, Deidentifier, ProjectKey};
use gdpr_dicom::store::{
    DicomWebConfig, DicomWebStore, FolderStore, OrthancConfig, OrthancStore, StudyStore,
};
use support::misbehaving_server::{Mode, start};

const CANARY: &str = "CANARY-ROBUST-77";

fn subject() -> PatientId {
    PatientId::new(CANARY).unwrap()
}

fn orthanc(url: &str) -> OrthancStore {
    let mut config = OrthancConfig::new("flaky", url);
    config.endpoint.http.timeout = Duration::from_millis(300);
    config.endpoint.http.read_timeout = Duration::from_millis(300);
    config.endpoint.http.max_attempts = 3;
    config.endpoint.http.backoff = Duration::from_millis(10);
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
    let err = orthanc(&server.url)
        .find_studies(&subject())
        .await
        .unwrap_err();
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
        .erase_patient(&subject(), DerivedPolicy::Erase)
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
    let err = orthanc(&server.url)
        .find_studies(&subject())
        .await
        .unwrap_err();
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
    let err = orthanc(&server.url)
        .find_studies(&subject())
        .await
        .unwrap_err();
    match &err {
        StoreError::Protocol { detail, cause, .. } => {
            assert!(detail.contains("malformed JSON"));
            assert_eq!(*cause, gdpr_core::store::ProtocolCause::MalformedJson);
        }
        other => panic!("expected a protocol error, got {other}"),
    }
    assert_clean(&err);

    let mut config = DicomWebConfig::new("flaky-web", &server.url);
    config.endpoint.http.max_attempts = 2;
    let err = DicomWebStore::connect(&config)
        .unwrap()
        .find_studies(&subject())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Protocol { .. }), "{err}");
    assert_clean(&err);
}

#[tokio::test]
async fn a_server_that_recovers_within_the_bound_succeeds() {
    let server = start(Mode::FlakyThenEmpty).await;
    let found = orthanc(&server.url).find_studies(&subject()).await.unwrap();
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
    config.endpoint.credentials = gdpr_dicom::store::Credentials::ClientCredentials(
        gdpr_dicom::store::ClientCredentials::new(
            format!("{}realms/r/protocol/openid-connect/token", server.url),
            "gdpr",
            gdpr_dicom::store::SecretSource::File(secret),
        ),
    );
    config.endpoint.http.max_attempts = 3;
    config.endpoint.http.backoff = Duration::from_millis(10);
    let arc = gdpr_dicom::store::Dcm4cheeStore::connect(&config).unwrap();
    let err = arc.find_studies(&subject()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Transient { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(server.requests(), 3, "only the token endpoint was called");
    assert!(!format!("{err} {err:?}").contains("CANARY-SECRET"));
    assert_clean(&err);
}

/// `bytes` (a synthetic file) with `element` inserted before its pixel data.
fn insert_before_pixels(mut bytes: Vec<u8>, element: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(6)
        .position(|w| w == b"\xE0\x7F\x10\x00OB")
        .unwrap();
    bytes.splice(at..at, element.iter().copied());
    bytes
}

/// `depth` nested Content Sequences (0040,A730) of undefined length.
fn nested_sequences(depth: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..depth {
        out.extend_from_slice(b"\x40\x00\x30\xA7SQ\x00\x00\xFF\xFF\xFF\xFF");
        out.extend_from_slice(b"\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF");
    }
    for _ in 0..depth {
        out.extend_from_slice(b"\xFE\xFF\x0D\xE0\x00\x00\x00\x00");
        out.extend_from_slice(b"\xFE\xFF\xDD\xE0\x00\x00\x00\x00");
    }
    out
}

/// Three hostile files of `subject` (path, bytes, expected cause).
fn hostile_files(subject: &PatientId) -> Vec<(&'static str, Vec<u8>, UnreadableCause)> {
    let base = support::study(subject, 7, 1, 1, "CT").remove(0);
    let plain = base.to_bytes().unwrap();
    let mut long_uid = base.clone();
    long_uid.study_uid = format!("1.{}", "2".repeat(204));
    assert_eq!(long_uid.study_uid.len(), 206);
    vec![
        (
            "deep.dcm",
            insert_before_pixels(plain.clone(), &nested_sequences(1000)),
            UnreadableCause::Malformed,
        ),
        (
            "huge-length.dcm",
            // Text Value (0040,A160), UT, claiming 0xFFFFFFF0 bytes.
            insert_before_pixels(plain, b"\x40\x00\x60\xA1UT\x00\x00\xF0\xFF\xFF\xFFabc"),
            UnreadableCause::Malformed,
        ),
        (
            "long-uid.dcm",
            long_uid.to_bytes().unwrap(),
            UnreadableCause::InvalidUid,
        ),
    ]
}

/// 1000 nested sequences (on a normal 2 MiB blocking-pool stack), a value
/// length of 0xFFFFFFF0 and a 206-character Study UID: the folder store
/// neither crashes nor fails as a whole; each file is reported by path, as
/// `left` (the subject's ID is in it), and the good files are erased.
#[tokio::test]
async fn hostile_files_fail_alone_in_a_folder_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let target = subject();
    let other = PatientId::new("OTHER-ROBUST-78").unwrap();
    let hostile = hostile_files(&target);
    for (name, bytes, _) in &hostile {
        std::fs::write(tmp.path().join(name), bytes).unwrap();
    }
    support::study(&target, 1, 1, 1, "CT")[0]
        .write_to(&tmp.path().join("good.dcm"))
        .unwrap();
    support::study(&other, 1, 1, 1, "CT")[0]
        .write_to(&tmp.path().join("other.dcm"))
        .unwrap();

    assert_eq!(store.find_studies(&target).await.unwrap().len(), 1);
    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(!report.is_verified());
    assert_eq!(report.erased().len(), 1);
    assert!(!tmp.path().join("good.dcm").exists());
    let found: Vec<_> = report
        .unreadable()
        .iter()
        .map(|u| (u.location.as_str(), u.cause, u.status))
        .collect();
    let expected: Vec<_> = hostile
        .iter()
        .map(|(name, _, cause)| (*name, *cause, UnreadableStatus::Left))
        .collect();
    assert_eq!(found, expected);
    for u in report.unreadable() {
        assert!(
            !u.detail.contains(CANARY) && !u.detail.contains("1.2.826"),
            "{}",
            u.detail
        );
    }
    assert!(tmp.path().join("other.dcm").exists());
    assert_eq!(store.find_studies(&other).await.unwrap().len(), 1);
}

/// The de-identifier refuses the same files with a clear error, on a
/// thread with a normal stack.
#[test]
fn the_deidentifier_refuses_the_same_hostile_files() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let deid = Deidentifier::new(&ProjectKey::from_bytes([3; 32]), DeidOptions::basic());
            for (name, bytes, cause) in hostile_files(&subject()) {
                let result = deid.deidentify_stream(&mut bytes.as_slice(), &mut Vec::new());
                if cause == UnreadableCause::Malformed {
                    let err = result
                        .err()
                        .unwrap_or_else(|| panic!("{name} was accepted"));
                    assert!(
                        matches!(err, gdpr_dicom::Error::Malformed { .. }),
                        "{name}: {err}"
                    );
                    assert!(!format!("{err} {err:?}").contains(CANARY));
                }
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
