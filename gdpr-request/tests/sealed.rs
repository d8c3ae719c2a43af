//! An access package encrypted to its recipient: one `package.tar.age`,
//! no plaintext left in the request directory, and what the recipient
//! decrypts (with the age crate) is exactly the signed package: every
//! entry's SHA-256 is the manifest's, and the manifest verifies.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use age::secrecy::SecretString;
use gdpr_core::request::{Event, RequestId, RequestKind, Stage, SystemName};
use gdpr_core::store::SubjectStore;
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::FolderStore;
use gdpr_request::package::{
    ARCHIVE_ROOT, Encryption, PackageManifest, SEALED_PACKAGE, verify_package,
};
use gdpr_request::{
    Executor, FileJournal, FileRegister, PACKAGE_DIR, RequestDir, Resources, Setup,
};
use sha2::{Digest, Sha256};
use support::*;

async fn sealed_access(fx: &Fixture, id: &str, to: Encryption) -> std::path::PathBuf {
    RequestDir::create(&fx.path("requests"), &request(id, RequestKind::Access)).unwrap();
    let dir = RequestDir::open(&fx.path("requests"), &RequestId::new(id).unwrap()).unwrap();
    let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
    stores.insert(
        pacs(),
        Box::new(FolderStore::open("pacs", fx.path("archive")).unwrap()),
    );
    let resources = Resources::new(
        Arc::new(FileJournal::open(dir.path()).unwrap()),
        stores,
        fx.log(),
        Arc::new(fx.signer()),
        Arc::new(FileRegister::open(&fx.path("register")).unwrap()),
    );
    let mut setup = Setup::new(actor("dpo-1"), PatientId::new(TARGET).unwrap());
    setup.package.encryption = Some(to);
    let mut ex = Executor::open(dir.clone(), resources, setup, None)
        .await
        .unwrap();
    ex.step(Event::IdentityVerified).await.unwrap();
    ex.step(Event::Assessed).await.unwrap();
    ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
    let outcome = ex.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    dir.path().to_owned()
}

/// Every file under `dir`, relative.
fn tree(dir: &Path) -> Vec<String> {
    files(dir)
        .into_keys()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

/// Decrypts and unpacks; returns the entries' digests and the folder.
fn open_sealed(
    archive: &Path,
    identity: &dyn age::Identity,
) -> (BTreeMap<String, String>, tempfile::TempDir) {
    let d = age::Decryptor::new(std::fs::File::open(archive).unwrap()).unwrap();
    let plain = d.decrypt(std::iter::once(identity)).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut digests = BTreeMap::new();
    let mut tar = tar::Archive::new(plain);
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        let rel = path
            .strip_prefix(&format!("{ARCHIVE_ROOT}/"))
            .unwrap()
            .to_owned();
        let to = out.path().join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, &bytes).unwrap();
        digests.insert(rel, gdpr_audit::hex::encode(&Sha256::digest(&bytes)));
    }
    (digests, out)
}

fn check(fx: &Fixture, dir: &Path, identity: &dyn age::Identity) {
    // Only the archive and the request's own records; no plaintext.
    let left = tree(dir);
    assert!(left.contains(&SEALED_PACKAGE.to_owned()), "{left:?}");
    assert!(
        !dir.join(PACKAGE_DIR).exists(),
        "plaintext package left: {left:?}"
    );
    for f in &left {
        assert!(
            !f.ends_with(".part") && !f.contains("DICOM") && !f.ends_with(".html"),
            "{f} left behind"
        );
    }
    let (digests, out) = open_sealed(&dir.join(SEALED_PACKAGE), identity);
    let manifest: PackageManifest =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    for f in &manifest.files {
        assert_eq!(digests.get(&f.path), Some(&f.sha256), "{}", f.path);
    }
    assert_eq!(
        digests.len(),
        manifest.files.len() + 1,
        "the manifest and its files"
    );
    assert!(digests.contains_key("pacs/DICOMDIR"));
    assert!(digests.contains_key("summary.html"));
    verify_package(out.path(), &fx.signer().verifier()).unwrap();
}

#[tokio::test]
async fn a_package_sealed_to_an_x25519_key_decrypts_to_the_signed_files() {
    let fx = Fixture::new();
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let dir = sealed_access(&fx, "dsr-age", Encryption::to_recipient(&public).unwrap()).await;
    check(&fx, &dir, &identity);

    // Another key opens nothing.
    let stranger = age::x25519::Identity::generate();
    let d = age::Decryptor::new(std::fs::File::open(dir.join(SEALED_PACKAGE)).unwrap()).unwrap();
    assert!(
        d.decrypt(std::iter::once(&stranger as &dyn age::Identity))
            .is_err()
    );
}

#[tokio::test]
async fn a_package_sealed_to_a_passphrase_decrypts_with_it() {
    let fx = Fixture::new();
    let words = "correct horse battery staple";
    let to = Encryption::to_passphrase(SecretString::from(words.to_owned()));
    assert!(!format!("{to:?}").contains("horse"));
    let dir = sealed_access(&fx, "dsr-pass", to).await;
    let identity = age::scrypt::Identity::new(SecretString::from(words.to_owned()));
    check(&fx, &dir, &identity);
}

#[test]
fn a_key_that_is_not_an_age_recipient_is_refused() {
    assert!(Encryption::to_recipient("age1notakey").is_err());
    assert!(Encryption::to_recipient("ssh-ed25519 AAAA").is_err());
}
