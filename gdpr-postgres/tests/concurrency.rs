//! Many writers on one tenant's log: N processes × M appends give exactly
//! N×M records in one chain that verifies, every acknowledged record in
//! place; threads of one node sharing one log and connection share
//! calls (group commit), each getting its own records' receipts.
#![cfg(feature = "postgres-tests")]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use gdpr_audit::merkle::leaf_hash;
use gdpr_audit::store::Entry;
use gdpr_audit::{
    AuditLog, CheckpointPolicy, FileKeyStore, Receipt, Signer, Verifier, verify_store,
};
use gdpr_postgres::{HeadLock, PgAuditStore};
use support::worker::{Mode, check_acks, read_acks, spawn};
use support::*;
use tempfile::TempDir;

#[test]
fn worker() {
    support::worker::run_if_asked();
}

#[test]
fn n_processes_by_m_appends_make_one_chain_that_verifies() {
    const N: usize = 4;
    const M: u64 = 40;
    let (tenant, config, password) = new_tenant_with_password("conc");
    let signer = Signer::generate("test.example/conc").unwrap();
    let mut children: Vec<_> = (0..N)
        .map(|_| spawn("worker", tenant.role(), &password, &signer, Mode::Append(M)))
        .collect();
    let mut acks = BTreeMap::new();
    for c in &mut children {
        read_acks(c, &mut acks, |_| false);
        assert!(c.wait().unwrap().success(), "a worker failed");
    }
    let total = N as u64 * M;
    assert_eq!(acks.len() as u64, total);
    // Positions 0..N×M, each acknowledged once.
    assert_eq!(
        acks.keys().copied().collect::<Vec<_>>(),
        (0..total).collect::<Vec<_>>()
    );
    assert_eq!(check_acks(&config, &acks), total);
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let report = verify_store(&store, &signer.verifier(), None).unwrap();
    assert_eq!(report.records, total);
    // Every worker signs by its policy (every 25 records of the shared log).
    assert!(report.checkpoints >= total / 25, "{report:?}");
}

/// A log on a fresh tenant, shared by the threads of one node (its key
/// store in the directory returned).
fn node_log(prefix: &str, policy: CheckpointPolicy) -> (Arc<Log>, Verifier, TempDir) {
    let (_, config) = new_tenant(prefix);
    let tmp = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let signer = Signer::generate("test.example/group").unwrap();
    let verifier = signer.verifier();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(store, keys, signer, policy).unwrap();
    (Arc::new(log), verifier, tmp)
}

type Log = AuditLog<PgAuditStore, FileKeyStore>;

/// `threads` threads each make `appends` appends of `per` events through
/// `log`; every receipt, by thread, in order.
fn append_from_threads(log: &Arc<Log>, threads: u64, appends: u64, per: u64) -> Vec<Receipt> {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = Arc::clone(log);
            std::thread::spawn(move || {
                let mut receipts = Vec::new();
                for i in 0..appends {
                    let events: Vec<_> = (0..per)
                        .map(|k| event(t * 10_000 + i * per + k, Some("P-7")))
                        .collect();
                    let got = log.append_batch(&events).unwrap();
                    assert_eq!(got.len() as u64, per);
                    // One append's records are consecutive.
                    assert!(got.windows(2).all(|w| w[1].position == w[0].position + 1));
                    receipts.extend(got);
                }
                receipts
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

/// Every receipt's leaf hash is that of the record at its position in the
/// log as PostgreSQL holds it; returns the entries.
fn check_receipts(store: &PgAuditStore, receipts: &[Receipt]) -> Vec<Entry> {
    let all = entries(store);
    let leaves: Vec<_> = all
        .iter()
        .filter_map(|e| match e {
            Entry::Record(b) => Some(leaf_hash(b)),
            _ => None,
        })
        .collect();
    for r in receipts {
        assert_eq!(leaves[usize::try_from(r.position).unwrap()], r.leaf_hash);
    }
    all
}

#[test]
fn threads_of_one_node_share_calls_and_get_their_own_receipts() {
    let (log, verifier, _keys) = node_log("group", CheckpointPolicy::default());
    let receipts = append_from_threads(&log, 8, 30, 1);
    let mut positions: Vec<u64> = receipts.iter().map(|r| r.position).collect();
    positions.sort_unstable();
    assert_eq!(positions, (0..240).collect::<Vec<_>>());
    check_receipts(log.store(), &receipts);
    // Each call of gdpr.audit_append (with its flush) is one transaction;
    // appends that waited while one was in flight shared the next.
    let calls = log.store().transactions();
    eprintln!("240 appends from 8 threads in {calls} calls");
    assert!(calls < 240, "{calls}");
    log.checkpoint().unwrap();
    let report = verify_store(log.store(), &verifier, None).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (240, 0));
}

#[test]
fn checkpoints_by_count_fall_inside_shared_calls() {
    let policy = CheckpointPolicy {
        every_records: Some(7),
        every: None,
    };
    let (log, verifier, _keys) = node_log("groupcp", policy);
    let receipts = append_from_threads(&log, 6, 20, 3);
    assert_eq!(receipts.len(), 360);
    let all = check_receipts(log.store(), &receipts);
    // A checkpoint after every 7th record, wherever the appends were cut.
    let mut records = 0;
    let mut notes = Vec::new();
    for e in &all {
        match e {
            Entry::Record(_) => records += 1,
            Entry::Checkpoint(_) => notes.push(records),
            _ => unreachable!(),
        }
    }
    assert_eq!(notes, (1..=360 / 7).map(|k| k * 7).collect::<Vec<_>>());
    // Unshared, each append is a call and each checkpoint one more (the
    // call that brings its note).
    let calls = log.store().transactions();
    eprintln!("120 appends, {} checkpoints, {calls} calls", notes.len());
    assert!(calls < 120 + notes.len() as u64, "{calls}");
    let report = verify_store(log.store(), &verifier, None).unwrap();
    assert_eq!(report.records, 360);
    assert_eq!(report.checkpoints, notes.len() as u64);
}
