//! What the controller keeps to prove it handled a request (Art. 5(2))
//! holds the subject's identifiers only sealed under the request's own
//! key; when that key's retention ends it is shredded: no identifier byte
//! is left anywhere under the requests root, and the certificate still
//! verifies.

mod support;

use std::path::Path;

use gdpr_core::request::{RequestId, Stage};
use gdpr_request::sealing::{SealRetention, shred_expired};
use gdpr_request::{RequestDir, verify_certificate};
use support::*;

/// The identifying values of the target patient: its id and study UIDs.
fn identifiers() -> Vec<String> {
    let mut v = vec![TARGET.to_owned()];
    v.extend((1..=3).map(|n| study_uid(TARGET, n)));
    v
}

/// Every file under `dir` that contains one of `needles`.
fn holding(dir: &Path, needles: &[String]) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|(_, bytes)| {
            needles
                .iter()
                .any(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        })
        .map(|(p, _)| p.display().to_string())
        .collect()
}

#[tokio::test]
async fn identifiers_stay_sealed_and_are_gone_after_shredding_while_the_certificate_verifies() {
    let fx = Fixture::new();
    approved_erasure(&fx, "dsr-s").await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-s", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    let cert =
        gdpr_request::certificate::issue(ex.dir(), &log, &fx.signer(), jiff::Timestamp::now())
            .unwrap();
    let cert_path = ex.dir().path().join("certificate.json");
    std::fs::write(&cert_path, serde_json::to_vec(&cert).unwrap()).unwrap();
    drop((ex, log));

    let requests = fx.path("requests");
    let id = RequestId::new("dsr-s").unwrap();
    let dir = RequestDir::open(&requests, &id).unwrap();
    // Sealed, not gone: the files hold no identifier, the key opens them.
    assert_eq!(holding(&requests, &identifiers()), Vec::<String>::new());
    assert_eq!(
        holding(&fx.path("register"), &identifiers()),
        Vec::<String>::new()
    );
    let request = dir.load_request().unwrap();
    let subject = request
        .subjects()
        .on(&pacs())
        .unwrap()
        .dicom()
        .unwrap()
        .clone();
    assert_eq!(subject.expose(), TARGET);
    assert!(!dir.is_shredded().unwrap());

    // Within the retention nothing is shredded; after it, this key is.
    let now = jiff::Timestamp::now();
    let retention = SealRetention::default();
    assert!(shred_expired(&requests, retention, now).unwrap().is_empty());
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(24 * (3 * 366 + 1)))
        .unwrap();
    assert_eq!(
        shred_expired(&requests, retention, later).unwrap(),
        vec![id.clone()]
    );
    assert!(
        shred_expired(&requests, retention, later)
            .unwrap()
            .is_empty(),
        "once"
    );

    assert!(dir.is_shredded().unwrap());
    let request = dir.load_request().unwrap();
    assert!(
        request.subjects().is_empty(),
        "the identifiers are unreadable"
    );
    assert_eq!(request.stage(), Stage::Completed, "the history stays");
    assert!(dir.load_assessment().unwrap().is_some());
    assert_eq!(holding(&requests, &identifiers()), Vec::<String>::new());
    let bytes = std::fs::read(&cert_path).unwrap();
    verify_certificate(&bytes, &fx.signer().verifier()).unwrap();
    // A resumed run of the answered request touches nothing.
    let again = open(&fx, "dsr-s", fx.log(), None)
        .await
        .run()
        .await
        .unwrap();
    assert_eq!(again, outcome);
}
