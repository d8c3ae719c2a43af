//! An access request (Art. 15): every system exports into one package with
//! a signed manifest of SHA-256 digests; a changed file is detected.

mod support;

use gdpr_core::request::{Event, RequestKind, Stage};
use gdpr_request::package::verify_package;
use gdpr_request::{Error, Fault, PACKAGE_DIR, RequestDir};
use support::*;

#[tokio::test]
async fn access_exports_only_the_subject_into_a_signed_package() {
    let fx = Fixture::new();
    RequestDir::create(&fx.path("requests"), &request("dsr-a", RequestKind::Access)).unwrap();
    let log = fx.log();
    let mut ex = open(&fx, "dsr-a", log.clone(), None).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    ex.step(Event::Assessed).await.unwrap();
    ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
    let outcome = ex.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    assert_eq!(
        outcome.systems[0].exported_files,
        Some(6),
        "3 studies x 2 files"
    );

    let package = ex.dir().path().join(PACKAGE_DIR);
    let manifest = verify_package(&package, &fx.signer().verifier()).unwrap();
    assert!(manifest.files.len() >= 6);
    for f in &manifest.files {
        assert!(!f.path.contains(TARGET), "a file name shows the patient");
    }
    // Nothing of the other patient, and the archive is unchanged.
    assert!(fx.path("archive/due/1.dcm").exists());
    let dcm: Vec<_> = manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with("pacs/DICOM/"))
        .collect();
    assert_eq!(dcm.len(), 6);

    let victim = package.join(&dcm[0].path);
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[200] ^= 1;
    std::fs::write(&victim, bytes).unwrap();
    let err = verify_package(&package, &fx.signer().verifier()).unwrap_err();
    assert!(
        matches!(err, Error::Unverified(Fault::Inconsistent { .. })),
        "{err}"
    );
}
