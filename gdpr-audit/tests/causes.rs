//! Each kind of tampering is reported with its own typed cause (issue 11):
//! a monitoring tool tells a bad signature from a broken link, a bad leaf,
//! a non-canonical record, a truncation, a torn tail or a damaged key store
//! by matching on the cause, never on message text.

mod common;

use std::fs;

use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::signing::{Signer, Verifier};
use gdpr_audit::store::Entry;
use gdpr_audit::verify_store;
use gdpr_audit::{Error, Malformed, Tamper};
use gdpr_audit::{FileStore, LogDir};

use common::*;

/// A log of 4 records (checkpoints after 2 and 4) and its latest checkpoint.
fn log(dir: &std::path::Path) -> (Verifier, Vec<Entry>, String) {
    let (log, verifier) = create(dir, Some(2));
    for i in 0..4 {
        log.append(&event(i, "P-1")).unwrap();
    }
    let trusted = log.checkpoint().unwrap();
    drop(log);
    let entries = frames(&fs::read(FileStore::log_path(dir)).unwrap());
    (verifier, entries, trusted)
}

fn verdict(dir: &std::path::Path, v: &Verifier, bytes: &[u8], trusted: Option<&str>) -> Error {
    fs::write(FileStore::log_path(dir), bytes).unwrap();
    verify_store(&LogDir(dir.to_owned()), v, trusted).unwrap_err()
}

fn record_mut(entries: &mut [Entry], n: usize) -> &mut Vec<u8> {
    entries
        .iter_mut()
        .filter_map(|e| match e {
            Entry::Record(b) => Some(b),
            _ => None,
        })
        .nth(n)
        .unwrap()
}

#[test]
fn each_kind_of_tampering_has_its_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (v, entries, trusted) = log(&dir);
    let cause = |e: Error| e.tamper().cloned().unwrap_or_else(|| panic!("{e}"));

    // A flipped bit in record 2's link to record 1.
    let mut t = entries.clone();
    record_mut(&mut t, 2)[9] ^= 1;
    let e = verdict(&dir, &v, &unframe(&t), None);
    assert_eq!(cause(e), Tamper::BrokenLink { record: 2 });

    // An unknown version byte.
    let mut t = entries.clone();
    record_mut(&mut t, 1)[0] = 0xEE;
    let e = verdict(&dir, &v, &unframe(&t), None);
    assert!(matches!(
        cause(e),
        Tamper::NonCanonical {
            cause: Malformed::UnknownVersion,
            ..
        }
    ));

    // The last record altered: its checkpoint's root no longer matches.
    let mut t = entries.clone();
    let last = record_mut(&mut t, 3);
    let n = last.len();
    last[n - 1] ^= 1;
    let e = verdict(&dir, &v, &unframe(&t), None);
    assert_eq!(cause(e), Tamper::BadLeaf { from: 2, to: 4 });

    // A checkpoint signed by someone else.
    let mut t = entries.clone();
    let Some(Entry::Checkpoint(note)) = t.last().cloned() else {
        panic!("ends with a checkpoint")
    };
    let cp = Checkpoint::parse_unverified(&note).unwrap().0;
    *t.last_mut().unwrap() = Entry::Checkpoint(cp.sign(&Signer::generate(ORIGIN).unwrap()));
    let e = verdict(&dir, &v, &unframe(&t), None);
    assert_eq!(cause(e), Tamper::BadSignature);

    // Rolled back to before the trusted checkpoint.
    let e = verdict(&dir, &v, &unframe(&entries[..3]), Some(&trusted));
    assert_eq!(
        cause(e),
        Tamper::Truncated {
            records: 2,
            trusted: 4
        }
    );

    // Half a frame after the last entry.
    let mut bytes = unframe(&entries);
    bytes.extend_from_slice(&[0, 0, 0, 40, 1, 7]);
    let e = verdict(&dir, &v, &bytes, None);
    assert_eq!(cause(e), Tamper::TornTail { bytes: 6 });
}

#[test]
fn key_store_damage_has_its_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (v, _, _) = log(&dir);
    let keys = FileStore::keys_path(&dir);
    let mut bytes = fs::read(&keys).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 1;
    fs::write(&keys, &bytes).unwrap();
    let e = gdpr_audit::verify_dir(&dir, &v, None).unwrap_err();
    assert!(
        matches!(
            e,
            Error::KeyStoreDamaged {
                cause: Malformed::ChecksumMismatch,
                ..
            }
        ),
        "{e}"
    );
}
