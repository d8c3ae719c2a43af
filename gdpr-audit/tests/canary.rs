//! A subject reference planted in records never appears in plaintext on
//! disk, in errors or in `Debug` output — before and after erasure.

mod common;

use std::fs;

use gdpr_audit::Error;
use gdpr_audit::record::Record;
use gdpr_audit::report::{StaffIdentities, personal, subject_report};
use gdpr_audit::store::Entry;
use gdpr_audit::verify_store;
use gdpr_audit::{FileStore, LogDir};
use gdpr_core::subject::PatientId;

use common::*;

const CANARY: &str = "CANARY-7f3a9";

fn files_contain(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file()
            && fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
        {
            hits.push(p.display().to_string());
        }
    }
    hits
}

#[test]
fn canary_never_leaks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(3));
    let mut debug = String::new();
    for i in 0..6 {
        let e = event(i, CANARY);
        debug += &format!("{e:?} {:?}", log.append(&e).unwrap());
    }
    log.checkpoint().unwrap();
    assert!(files_contain(&dir, CANARY.as_bytes()).is_empty());
    assert!(files_contain(&dir, b"7f3a9").is_empty());

    let subject = PatientId::new(CANARY).unwrap();
    let report = subject_report(
        log.store(),
        &*log.keys(),
        &subject,
        StaffIdentities::Include,
    )
    .unwrap();
    assert_eq!(report.entries.len(), 6);
    debug += &format!("{report:?} {log:?}");
    FileStore::scan_dir(&dir, &mut |_, e| {
        if let Entry::Record(b) = e {
            let r = Record::decode(&b).unwrap();
            debug += &format!("{r:?} {:?}", personal(&r, &*log.keys()).unwrap());
        }
        Ok(())
    })
    .unwrap();

    // Errors: a damaged record, a bad id, an erased subject.
    let mut errors = Vec::new();
    let mut raw = fs::read(FileStore::log_path(&dir)).unwrap();
    raw[60] ^= 0xff;
    let damaged = tmp.path().join("damaged");
    fs::create_dir(&damaged).unwrap();
    fs::write(FileStore::log_path(&damaged), &raw).unwrap();
    errors.push(
        verify_store(&LogDir(damaged), &verifier, None)
            .unwrap_err()
            .to_string(),
    );
    errors.push(
        PatientId::new(format!("{CANARY}\n"))
            .unwrap_err()
            .to_string(),
    );
    let (receipt, _) = log.erase_subject(&erasure(CANARY)).unwrap();
    errors.push(log.erase_subject(&erasure(CANARY)).unwrap_err().to_string());
    errors.push(
        subject_report(
            log.store(),
            &*log.keys(),
            &subject,
            StaffIdentities::Withhold,
        )
        .unwrap_err()
        .to_string(),
    );
    debug += &format!("{receipt:?} {errors:?}");
    assert!(!debug.contains("7f3a9"), "{debug}");
    assert!(!debug.contains("staff-"), "staff ids leaked into Debug");
    assert!(files_contain(&dir, b"7f3a9").is_empty());
    verify_store(&LogDir(dir.clone()), &verifier, None).unwrap();
}

#[test]
fn erasure_shreds_fields_and_keeps_the_log_verifiable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(4));
    for i in 0..10 {
        log.append(&event(i, if i % 2 == 0 { "ALICE" } else { "BOB" }))
            .unwrap();
    }
    let before = log.checkpoint().unwrap();
    let alice = PatientId::new("ALICE").unwrap();
    let bob = PatientId::new("BOB").unwrap();
    let r = subject_report(log.store(), &*log.keys(), &alice, StaffIdentities::Withhold).unwrap();
    assert_eq!(r.entries.len(), 5);
    assert!(r.entries.iter().all(|e| e.actor_id.is_none()));
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        json.contains("\"purpose\":\"treatment\"") && !json.contains("staff-"),
        "{json}"
    );

    let (erasure_receipt, key_id) = log.erase_subject(&erasure("ALICE")).unwrap();
    assert!(matches!(
        subject_report(log.store(), &*log.keys(), &alice, StaffIdentities::Withhold),
        Err(Error::UnknownSubject)
    ));
    assert_eq!(
        subject_report(log.store(), &*log.keys(), &bob, StaffIdentities::Include)
            .unwrap()
            .entries
            .len(),
        5
    );
    // Alice's records (and the erasure record) are now sealed under a
    // destroyed key; the log, including the earlier checkpoint, verifies.
    let mut erased = 0;
    FileStore::scan_dir(&dir, &mut |_, e| {
        if let Entry::Record(b) = e {
            let r = Record::decode(&b).unwrap();
            if let gdpr_audit::report::Personal::Erased(k) = personal(&r, &*log.keys()).unwrap() {
                assert_eq!(k, key_id);
                erased += 1;
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(erased, 6);
    assert_eq!(erasure_receipt.position, 10);
    verify_store(&LogDir(dir.clone()), &verifier, Some(&before)).unwrap();
    let (size, root, proof) = log.inclusion_proof(0).unwrap();
    assert_eq!(size, 11);
    let mut first = None;
    FileStore::scan_dir(&dir, &mut |_, e| {
        if let (Entry::Record(b), None) = (e, &first) {
            first = Some(b);
        }
        Ok(())
    })
    .unwrap();
    gdpr_audit::merkle::verify_inclusion(&root, size, &first.unwrap(), 0, &proof).unwrap();
}

#[test]
fn pruned_log_stays_verifiable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(5));
    for i in 0..3 {
        log.append(&event(i, "P-1")).unwrap();
    }
    let first_checkpoint = log.checkpoint().unwrap();
    for i in 3..13 {
        log.append(&event(i, "P-1")).unwrap();
    }
    let latest = log.checkpoint().unwrap();
    let before_len = fs::metadata(FileStore::log_path(&dir)).unwrap().len();
    log.prune_before(8).unwrap();
    assert!(fs::metadata(FileStore::log_path(&dir)).unwrap().len() < before_len);
    let report = verify_store(&LogDir(dir.clone()), &verifier, Some(&latest)).unwrap();
    assert_eq!((report.pruned, report.records), (8, 5));
    log.append(&event(20, "P-1")).unwrap();
    let after = log.checkpoint().unwrap();
    drop(log);
    let report = verify_store(&LogDir(dir.clone()), &verifier, Some(&after)).unwrap();
    assert_eq!((report.pruned, report.records), (8, 6));
    // A checkpoint from before the pruned prefix cannot be checked any more.
    assert!(matches!(
        verify_store(&LogDir(dir.clone()), &verifier, Some(&first_checkpoint)),
        Err(Error::BadInput { .. })
    ));
    // Tampering with the anchor is detected.
    let anchor_path = dir.join("anchor.json");
    let anchor = fs::read_to_string(&anchor_path).unwrap();
    let tampered = anchor.replacen("\"size\": 8", "\"size\": 7", 1);
    assert_ne!(anchor, tampered);
    fs::write(&anchor_path, tampered).unwrap();
    assert!(verify_store(&LogDir(dir.clone()), &verifier, None).is_err());
}
