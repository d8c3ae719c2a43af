//! Faults during appends: a writer killed inside its transaction, lost
//! connections, PostgreSQL restarted with fast and immediate shutdown.
//! Nothing acknowledged is lost, nothing unacknowledged is half-written,
//! and the log verifies.
#![cfg(feature = "postgres-tests")]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer};
use gdpr_postgres::{HeadLock, PgAuditStore};
use support::worker::{Mode, check_acks, read_acks, spawn};
use support::*;

#[test]
fn worker() {
    support::worker::run_if_asked();
}

#[test]
fn a_writer_killed_inside_its_transaction_leaves_nothing_and_blocks_no_one() {
    let (tenant, config, password) = new_tenant_with_password("killed");
    let signer = Signer::generate("test.example/killed").unwrap();
    let mut child = spawn("worker", tenant.role(), &password, &signer, Mode::Hold(10));
    let mut acks = BTreeMap::new();
    read_acks(&mut child, &mut acks, |l| l.starts_with("staged"));
    assert_eq!(acks.len(), 10);
    // The staged batch is inside an open transaction holding the lock.
    child.kill().unwrap();
    child.wait().unwrap();
    // The server notices the dead client and rolls back; a new writer gets
    // the lock and chains after the 10 acknowledged records.
    let tmp = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(
        store,
        keys,
        Signer::parse(&signer.to_secret_text()).unwrap(),
        CheckpointPolicy::default(),
    )
    .unwrap();
    assert_eq!(log.len(), 10, "the killed writer's staged batch is visible");
    assert_eq!(log.append(&event(99, None)).unwrap().position, 10);
    drop(log);
    assert_eq!(check_acks(&config, &acks), 11);
    assert_eq!(verified_records(&config, &signer), 11);
}

#[test]
fn lost_connections_lose_nothing_acknowledged() {
    let (tenant, config, password) = new_tenant_with_password("lost");
    let signer = Signer::generate("test.example/lost").unwrap();
    let mut children: Vec<_> = (0..3)
        .map(|_| {
            spawn(
                "worker",
                tenant.role(),
                &password,
                &signer,
                Mode::Retry(150),
            )
        })
        .collect();
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let mut killed = 0u64;
    let mut acks = BTreeMap::new();
    let mut reopened = 0;
    // Cut the connections once the writers append (not while they open:
    // appends are quick, the kills must land among them).
    let mut seen = 0;
    read_acks(&mut children[0], &mut acks, |l| {
        seen += usize::from(l.starts_with("ack "));
        seen >= 5
    });
    for _ in 0..6 {
        killed += sup
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                &[&tenant.role()],
            )
            .unwrap()
            .len() as u64;
        std::thread::sleep(Duration::from_millis(60));
    }
    for c in &mut children {
        read_acks(c, &mut acks, |l| {
            reopened += usize::from(l == "reopened");
            false
        });
        assert!(c.wait().unwrap().success(), "a worker failed");
    }
    assert!(killed > 0, "no connection was cut");
    assert_eq!(acks.len(), 450);
    assert!(reopened > 0, "no writer saw the fault: it came too late");
    let records = check_acks(&config, &acks);
    // A write whose COMMIT was cut may have landed unacknowledged (and been
    // appended again): never fewer records than acknowledged.
    assert!(records >= 450);
    assert_eq!(verified_records(&config, &signer), records);
}
