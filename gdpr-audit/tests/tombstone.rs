//! After a subject's key is erased, a tombstone keeps later events from
//! silently creating a fresh, readable key for the same subject (issue 11);
//! a new key only when the caller says a new relationship began.

mod common;

use std::fs;

use gdpr_audit::record::Record;
use gdpr_audit::report::{Personal, personal};
use gdpr_audit::store::{Entry, EntrySource};
use gdpr_audit::{AuditLog, Error, FileKeyStore, KeyStore, Signer, verify_dir};
use gdpr_audit::{FileStore, LogDir};
use gdpr_core::subject::PatientId;

use common::*;

fn records(dir: &std::path::Path) -> Vec<Record> {
    let mut out = Vec::new();
    LogDir(dir.to_owned())
        .entries(&mut |_, e| {
            if let Entry::Record(b) = e {
                out.push(Record::decode(&b).unwrap());
            }
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn events_about_an_erased_subject_are_refused_until_a_new_relationship() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(100));
    let alice = PatientId::new("CANARY-ALICE").unwrap();
    log.append(&event(0, "CANARY-ALICE")).unwrap();
    log.append(&event(1, "BOB")).unwrap();
    let (_, erased_key) = log.erase_subject(&erasure("CANARY-ALICE")).unwrap();
    assert!(log.keys().is_erased(&alice));
    let before = log.len();

    // Refused, nothing appended, no key created; a batch with the subject
    // is refused as a whole.
    let err = log.append(&event(2, "CANARY-ALICE")).unwrap_err();
    assert!(matches!(err, Error::SubjectErased), "{err}");
    assert!(!err.to_string().contains("CANARY"));
    let batch = [event(3, "BOB"), event(4, "CANARY-ALICE")];
    assert!(matches!(
        log.append_batch(&batch),
        Err(Error::SubjectErased)
    ));
    assert!(matches!(
        log.keys().ensure_keys([&alice]),
        Err(Error::SubjectErased)
    ));
    // The batch form every backend offers refuses too, whatever else the
    // batch holds.
    let bob = PatientId::new("BOB").unwrap();
    assert!(matches!(
        KeyStore::keys_for_each(&mut *log.keys(), &[Some(&bob), Some(&alice)]),
        Err(Error::SubjectErased)
    ));
    assert_eq!(log.len(), before);
    assert_eq!(log.keys().find(&alice), None);
    // Other subjects are recorded as before.
    log.append(&event(5, "BOB")).unwrap();
    drop(log);

    // The tombstone is durable, and holds no subject reference in clear.
    let keys = FileKeyStore::open(FileStore::keys_path(&dir)).unwrap();
    assert!(keys.is_erased(&alice));
    assert!(!keys.has_key(&erased_key));
    let raw = fs::read(FileStore::keys_path(&dir)).unwrap();
    assert!(!raw.windows(6).any(|w| w == b"CANARY"));
    verify_dir(&dir, &verifier, None).unwrap();
}

#[test]
fn begin_relationship_gives_a_new_key_and_old_records_stay_erased() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let signer = Signer::generate(ORIGIN).unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let verifier = signer.verifier();
    let alice = PatientId::new("ALICE").unwrap();
    let log = AuditLog::create(&dir, signer).unwrap();
    log.append(&event(0, "ALICE")).unwrap();
    let (_, old) = log.erase_subject(&erasure("ALICE")).unwrap();
    drop(log);

    // Reopened through the front door, the tombstone still holds.
    let log = AuditLog::open(&dir, Signer::parse(&secret).unwrap()).unwrap();
    assert!(matches!(
        log.append(&event(1, "ALICE")),
        Err(Error::SubjectErased)
    ));
    let new = log.begin_relationship(&alice).unwrap();
    assert_ne!(new, old);
    assert!(!log.keys().is_erased(&alice));
    let receipt = log.append(&event(2, "ALICE")).unwrap();
    // Saying it again keeps the key.
    assert_eq!(log.begin_relationship(&alice).unwrap(), new);
    log.checkpoint().unwrap();
    let keys = log.keys();
    let recs = records(&dir);
    assert!(matches!(personal(&recs[0], &*keys).unwrap(), Personal::Erased(k) if k == old));
    let last = recs
        .iter()
        .find(|r| r.position() == receipt.position)
        .unwrap();
    assert!(matches!(
        personal(last, &*keys).unwrap(),
        Personal::Readable(_)
    ));
    drop(keys);
    drop(log);
    verify_dir(&dir, &verifier, None).unwrap();
    let reopened = FileKeyStore::open(FileStore::keys_path(&dir)).unwrap();
    assert_eq!(reopened.find(&alice), Some(new));
    assert!(!reopened.is_erased(&alice));
}

#[test]
fn a_key_store_without_erasures_keeps_format_version_2() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("keys");
    let mut keys = FileKeyStore::create(&path).unwrap();
    KeyStore::key_for(&mut keys, &PatientId::new("A").unwrap()).unwrap();
    KeyStore::key_for(&mut keys, &PatientId::new("B").unwrap()).unwrap();
    assert_eq!(fs::read(&path).unwrap()[4], 2, "version byte");
    KeyStore::erase(&mut keys, &PatientId::new("A").unwrap()).unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(bytes[4], 3, "a store with a tombstone is version 3");
    // A key added after the tombstone lands after it, and all survive.
    KeyStore::key_for(&mut keys, &PatientId::new("C").unwrap()).unwrap();
    let reopened = FileKeyStore::open(&path).unwrap();
    assert!(reopened.is_erased(&PatientId::new("A").unwrap()));
    assert!(reopened.find(&PatientId::new("B").unwrap()).is_some());
    assert!(reopened.find(&PatientId::new("C").unwrap()).is_some());
    assert_eq!(FileKeyStore::check(&path).unwrap(), Some(2));
}
