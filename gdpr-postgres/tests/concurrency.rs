//! Many writers on one tenant's log: N processes × M appends give exactly
//! N×M records in one chain that verifies, every acknowledged record in
//! place; threads of one node sharing one connection make one chain.
#![cfg(feature = "postgres-tests")]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer, verify_store};
use gdpr_postgres::{HeadLock, PgAuditStore};
use support::worker::{Mode, check_acks, read_acks, spawn};
use support::*;

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

#[test]
fn threads_of_one_node_make_one_chain() {
    let (_, config) = new_tenant("group");
    let tmp = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let signer = Signer::generate("test.example/group").unwrap();
    let verifier = signer.verifier();
    let store = PgAuditStore::open(&config, HeadLock::Advisory).unwrap();
    let log =
        Arc::new(AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default()).unwrap());
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..30u64)
                    .map(|i| {
                        log.append(&event(t * 100 + i, Some("P-7")))
                            .unwrap()
                            .position
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut positions: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (0..240).collect::<Vec<_>>());
    let commits = log.store().transactions();
    // Chained in the database, each append is one transaction (two more
    // when it makes a checkpoint due: one learns of it, one writes it).
    eprintln!("240 appends from 8 threads in {commits} transactions");
    assert!(commits >= 240, "{commits}");
    log.checkpoint().unwrap();
    let report = verify_store(log.store(), &verifier, None).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (240, 0));
}
