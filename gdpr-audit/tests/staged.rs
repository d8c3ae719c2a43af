//! `AuditLog::stage_batch` + `commit`: the next batch is written while the
//! previous one syncs; receipts only come from `commit`, positions follow
//! the staging order, and the log verifies.

mod common;

use gdpr_audit::LogDir;
use gdpr_audit::verify_store;

use common::*;

#[test]
fn staged_batches_commit_in_order_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(3));
    let batch = |from: u64| {
        (from..from + 4)
            .map(|i| event(i, "P-1"))
            .collect::<Vec<_>>()
    };
    let first = log.stage_batch(&batch(0)).unwrap();
    let second = log.stage_batch(&batch(4)).unwrap();
    assert_eq!((first.len(), second.len()), (4, 4));
    assert_eq!(log.len(), 8);
    let a = log.commit(first).unwrap();
    let b = log.commit(second).unwrap();
    let positions: Vec<u64> = a.iter().chain(&b).map(|r| r.position).collect();
    assert_eq!(positions, (0..8).collect::<Vec<_>>());
    assert_eq!(log.append_batch(&batch(8)).unwrap()[0].position, 8);
    log.checkpoint().unwrap();
    drop(log);
    let report = verify_store(&LogDir(dir), &verifier, None).unwrap();
    assert_eq!(report.records, 12);
}

/// A batch sealed ahead (`seal_batch`, on another thread in a bulk
/// import) is written with those sealed fields: the records verify and
/// open to their subjects. The keys of its new subjects are in the key
/// store file before any record sealed with them is written, so a crash
/// between the two steps leaves keys without records, never the reverse.
#[test]
fn a_batch_sealed_ahead_has_its_keys_on_disk_first_and_opens() {
    use gdpr_audit::FileKeyStore;
    use gdpr_audit::FileStore;
    use gdpr_audit::batch::EventBatch;
    use gdpr_audit::report::{StaffIdentities, subject_report};
    use gdpr_audit::store::EntrySource;
    use gdpr_core::subject::PatientId;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(3));
    let mut batch = EventBatch::new();
    for i in 0..6 {
        batch.push(&event(i, &format!("NEW-{}", i % 2))).unwrap();
    }
    log.seal_batch(&mut batch).unwrap();
    assert!(batch.is_sealed());
    let subjects = [
        PatientId::new("NEW-0").unwrap(),
        PatientId::new("NEW-1").unwrap(),
    ];
    // The "crash" point: sealed, nothing written. The keys are durable
    // already (read back from the file), the log holds nothing.
    let on_disk = FileKeyStore::open(FileStore::keys_path(&dir)).unwrap();
    for s in &subjects {
        assert_eq!(on_disk.find(s), log.keys().find(s), "key on disk first");
        assert!(on_disk.find(s).is_some());
    }
    let mut records = 0;
    log.store()
        .entries(&mut |_, _| {
            records += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(records, 0);

    let receipts = log.commit(log.stage_encoded(&batch).unwrap()).unwrap();
    assert_eq!(receipts.len(), 6);
    for s in &subjects {
        let r = subject_report(log.store(), &*log.keys(), s, StaffIdentities::Withhold).unwrap();
        assert_eq!(r.entries.len(), 3);
    }
    log.checkpoint().unwrap();
    drop(log);
    assert_eq!(
        verify_store(&LogDir(dir), &verifier, None).unwrap().records,
        6
    );
}

/// Sealing is undone by a push, and fields sealed under another log's
/// keys are sealed again under this log's when written.
#[test]
fn sealing_is_undone_by_a_push_and_not_used_by_another_log() {
    use gdpr_audit::batch::EventBatch;
    use gdpr_audit::report::{StaffIdentities, subject_report};
    use gdpr_core::subject::PatientId;

    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = create(&tmp.path().join("a"), None);
    let (b, verifier) = create(&tmp.path().join("b"), None);
    let mut batch = EventBatch::new();
    batch.push(&event(0, "P-1")).unwrap();
    a.seal_batch(&mut batch).unwrap();
    batch.push(&event(1, "P-1")).unwrap();
    assert!(!batch.is_sealed());
    a.seal_batch(&mut batch).unwrap();
    b.commit(b.stage_encoded(&batch).unwrap()).unwrap();
    let p1 = PatientId::new("P-1").unwrap();
    let r = subject_report(b.store(), &*b.keys(), &p1, StaffIdentities::Withhold).unwrap();
    assert_eq!(r.entries.len(), 2);
    b.checkpoint().unwrap();
    let dir = tmp.path().join("b");
    drop(b);
    assert_eq!(
        verify_store(&LogDir(dir), &verifier, None).unwrap().records,
        2
    );
}

/// `seal_batch_known` seals only batches whose subjects all have keys:
/// for a new subject (or an erased one) it creates nothing and leaves the
/// batch unsealed; for known subjects the batch it seals is written with
/// those fields and opens to its subject.
#[test]
fn sealing_known_subjects_creates_no_key_and_opens() {
    use gdpr_audit::FileKeyStore;
    use gdpr_audit::FileStore;
    use gdpr_audit::batch::EventBatch;
    use gdpr_audit::report::{StaffIdentities, subject_report};
    use gdpr_core::subject::PatientId;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, None);
    let new = PatientId::new("NEW-0").unwrap();
    let mut batch = EventBatch::new();
    batch.push(&event(0, "NEW-0")).unwrap();
    assert!(!log.seal_batch_known(&mut batch).unwrap());
    assert!(!batch.is_sealed());
    assert!(log.keys().find(&new).is_none(), "no key in memory");
    let on_disk = FileKeyStore::open(FileStore::keys_path(&dir)).unwrap();
    assert!(on_disk.find(&new).is_none(), "no key on disk");

    // In its turn the batch is sealed and the key created.
    log.seal_batch(&mut batch).unwrap();
    log.commit(log.stage_encoded(&batch).unwrap()).unwrap();
    let mut known = EventBatch::new();
    for i in 1..4 {
        known.push(&event(i, "NEW-0")).unwrap();
    }
    assert!(log.seal_batch_known(&mut known).unwrap());
    assert!(known.is_sealed());
    assert_eq!(
        log.commit(log.stage_encoded(&known).unwrap())
            .unwrap()
            .len(),
        3
    );
    let r = subject_report(log.store(), &*log.keys(), &new, StaffIdentities::Withhold).unwrap();
    assert_eq!(r.entries.len(), 4);

    // An erased subject has no key to seal under: left to `seal_batch`,
    // which refuses it.
    gdpr_audit::KeyStore::erase(&mut *log.keys(), &new).unwrap();
    let mut erased = EventBatch::new();
    erased.push(&event(4, "NEW-0")).unwrap();
    assert!(!log.seal_batch_known(&mut erased).unwrap());
    assert!(!erased.is_sealed());
    assert!(log.seal_batch(&mut erased).is_err());
    log.checkpoint().unwrap();
    drop(log);
    assert_eq!(
        verify_store(&LogDir(dir), &verifier, None).unwrap().records,
        4
    );
}

/// The nonces of a sealed batch: 16 random bytes shared by the batch, then
/// each record's index in it; another batch draws other random bytes. No
/// nonce repeats.
#[test]
fn a_batch_seals_with_a_random_prefix_and_the_index() {
    use gdpr_audit::record::Record;
    use gdpr_audit::store::{Entry, EntrySource};

    let tmp = tempfile::tempdir().unwrap();
    let (log, _) = create(&tmp.path().join("log"), None);
    let batch = |from: u64| {
        (from..from + 5)
            .map(|i| event(i, &format!("P-{}", i % 3)))
            .collect::<Vec<_>>()
    };
    log.append_batch(&batch(0)).unwrap();
    log.append_batch(&batch(5)).unwrap();
    let mut nonces = Vec::new();
    log.store()
        .entries(&mut |_, e| {
            if let Entry::Record(bytes) = e {
                let r = Record::decode(&bytes).unwrap();
                nonces.push(*r.sealed().unwrap().nonce());
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(nonces.len(), 10);
    for (i, n) in nonces.iter().enumerate() {
        assert_eq!(n[..16], nonces[i / 5 * 5][..16], "prefix shared");
        assert_eq!(n[16..], ((i % 5) as u64).to_be_bytes(), "index");
    }
    assert_ne!(nonces[0][..16], nonces[5][..16], "a prefix per batch");
    let distinct: std::collections::HashSet<_> = nonces.iter().collect();
    assert_eq!(distinct.len(), 10);
}
