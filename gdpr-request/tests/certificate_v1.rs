//! Known answer for certificate format version 1: `vectors/certificate-v1.json`,
//! made by an erasure on the folder store of `support` (run with
//! `GDPR_REQUEST_WRITE_VECTORS=1` to make it again — a change of format is
//! a new version, never a rewrite of this file), verifies under
//! `vectors/certificate-v1.pub`, and reads back into exactly the same JSON.

mod support;

use gdpr_request::{Error, Fault, verify_certificate};
use support::*;

const CERT: &str = include_str!("vectors/certificate-v1.json");
const KEY: &str = include_str!("vectors/certificate-v1.pub");

fn verifier() -> gdpr_audit::Verifier {
    gdpr_audit::Verifier::parse(KEY).unwrap()
}

#[tokio::test]
async fn write_the_vector_when_asked() {
    if std::env::var("GDPR_REQUEST_WRITE_VECTORS").is_err() {
        return;
    }
    let fx = Fixture::new();
    approved_erasure(&fx, "dsr-kat").await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-kat", log.clone(), None).await;
    ex.run().await.unwrap();
    let cert =
        gdpr_request::certificate::issue(ex.dir(), &log, &fx.signer(), jiff::Timestamp::now())
            .unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut text = serde_json::to_vec_pretty(&cert).unwrap();
    text.push(b'\n');
    std::fs::write(dir.join("certificate-v1.json"), text).unwrap();
    std::fs::write(
        dir.join("certificate-v1.pub"),
        format!("{}\n", fx.signer().verifier()),
    )
    .unwrap();
}

#[test]
fn the_pinned_certificate_verifies_and_reads_back_unchanged() {
    let cert = verify_certificate(CERT.as_bytes(), &verifier()).unwrap();
    let original: serde_json::Value = serde_json::from_str(CERT).unwrap();
    assert_eq!(serde_json::to_value(&cert).unwrap(), original);
    assert_eq!(cert.version, 1);
    assert!(!CERT.contains(TARGET) && !CERT.contains(OTHER));
}

#[test]
fn another_version_or_a_changed_part_does_not_verify() {
    let mut v: serde_json::Value = serde_json::from_str(CERT).unwrap();
    v["version"] = 2.into();
    let err = verify_certificate(&serde_json::to_vec(&v).unwrap(), &verifier()).unwrap_err();
    assert!(matches!(
        err,
        Error::Unverified(Fault::UnsupportedVersion { found: 2 })
    ));

    let mut v: serde_json::Value = serde_json::from_str(CERT).unwrap();
    v["audit"]["records"][0]["leaf-hash"] = "00".repeat(32).into();
    let err = verify_certificate(&serde_json::to_vec(&v).unwrap(), &verifier()).unwrap_err();
    assert!(
        matches!(err, Error::Unverified(Fault::BadSignature)),
        "{err}"
    );
}
