//! PostgreSQL restarted (fast and immediate shutdown) while writers
//! append: every acknowledged record survives, the writers resume, the
//! log verifies. On a private cluster, so no other test sees the restarts.
#![cfg(feature = "postgres-tests")]

mod support;

use std::collections::BTreeMap;

use gdpr_audit::{Signer, verify_store};
use gdpr_postgres::{HeadLock, PgAuditStore, Tenant};
use support::cluster::Cluster;
use support::worker::{Mode, check_acks, read_acks, spawn_in};
use support::*;

#[test]
fn worker() {
    support::worker::run_if_asked();
}

#[test]
fn restarts_with_fast_and_immediate_shutdown_lose_nothing_acknowledged() {
    let cluster = Cluster::start();
    let owner = cluster.owner();
    gdpr_postgres::migrate(&mut owner.connect().unwrap()).unwrap();
    let tenant = Tenant::new("restart").unwrap();
    let password = random_hex(16);
    tenant
        .create(&mut owner.connect().unwrap(), &password)
        .unwrap();
    let config = owner
        .clone()
        .user(tenant.role())
        .password(password.as_bytes());
    let signer = Signer::generate("test.example/restart").unwrap();
    let env = cluster.env();
    let mut children: Vec<_> = (0..3)
        .map(|_| {
            spawn_in(
                &env,
                "worker",
                tenant.role(),
                &password,
                &signer,
                Mode::Retry(150),
            )
        })
        .collect();
    // Restart while the workers append: after 20 acknowledgements, and
    // after 20 more.
    let mut acks = BTreeMap::new();
    let mut reopened = 0;
    for mode in ["fast", "immediate"] {
        let mut seen = 0;
        read_acks(&mut children[0], &mut acks, |l| {
            seen += usize::from(l.starts_with("ack "));
            reopened += usize::from(l == "reopened");
            seen >= 20
        });
        cluster.restart(mode);
    }
    for c in &mut children {
        read_acks(c, &mut acks, |l| {
            reopened += usize::from(l == "reopened");
            false
        });
        assert!(c.wait().unwrap().success(), "a worker failed");
    }
    assert_eq!(acks.len(), 450);
    assert!(reopened > 0, "no writer saw the fault: it came too late");
    let records = check_acks(&config, &acks);
    assert!(records >= 450);
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let report = verify_store(&store, &signer.verifier(), None).unwrap();
    assert_eq!(report.records, records);
    // The head row describes exactly the surviving entries (appends commit
    // asynchronously; a crash may only have lost a whole suffix).
    assert_eq!(
        store.entry_count().unwrap(),
        report.records + report.checkpoints
    );
}
