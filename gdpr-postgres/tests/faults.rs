//! Faults during appends: a writer killed inside its transaction, lost
//! connections, PostgreSQL restarted with fast and immediate shutdown.
//! Nothing acknowledged is lost, nothing unacknowledged is half-written,
//! and the log verifies. A call shared by the appends of several threads
//! (group commit) that is cut fails every one of them; so does a lost
//! flushing connection, for every append it had not yet flushed.
#![cfg(feature = "postgres-tests")]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer};
use gdpr_postgres::{HeadLock, PgAuditStore, PgConfig};
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
    let log = writer(&config, &signer.to_secret_text(), &tmp.path().join("keys"));
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

/// A writer on `config` signing with the key in `secret`, its key store in
/// `keys` (a new file), with the default checkpoint policy.
fn writer(
    config: &PgConfig,
    secret: &str,
    keys: &std::path::Path,
) -> AuditLog<PgAuditStore, FileKeyStore> {
    AuditLog::with_stores(
        PgAuditStore::open(config, HeadLock::Row).unwrap(),
        FileKeyStore::create(keys).unwrap(),
        Signer::parse(secret).unwrap(),
        CheckpointPolicy::default(),
    )
    .unwrap()
}

/// Polls `ready` (every 20 ms, up to a minute: a bound, not a timing).
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("never happened: {what}");
}

/// Whether a backend of `role` (or the backend `pid`) waits for a lock.
fn waits_for_lock(sup: &mut postgres::Client, role: &str, pid: i32) -> bool {
    sup.query_one(
        "SELECT count(*) FROM pg_stat_activity
          WHERE (usename = $1 OR pid = $2) AND wait_event_type = 'Lock'",
        &[&role, &pid],
    )
    .unwrap()
    .get::<_, i64>(0)
        > 0
}

/// A superuser's connection in an open transaction (to hold the tenant's
/// append lock with [`hold`]; roll back to release), and its backend's pid.
fn holder() -> (postgres::Client, i32) {
    let mut c = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    c.batch_execute("BEGIN").unwrap();
    (c, pid)
}

/// Takes tenant `role`'s advisory append lock ([`HeadLock::Advisory`];
/// waits while another holds it). A heavyweight lock: its waiters are
/// served in the order they came. (The head row's lock is not: a waiter
/// behind a call that updates the row must follow the row to its new
/// version, and a later call can lock that version first — CI saw it.)
fn hold(c: &mut postgres::Client, role: &str) {
    c.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
        &[&role],
    )
    .unwrap();
}

/// What each thread of the node saw: its receipts, then the error that
/// stopped it.
type Seen = (Vec<gdpr_audit::Receipt>, String);

#[test]
fn a_backend_terminated_during_a_shared_call_fails_every_append_it_held() {
    let (tenant, config) = new_tenant("gcfault");
    let role = tenant.role().to_owned();
    let signer = Signer::generate("test.example/gcfault").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let store = PgAuditStore::open(&config, HeadLock::Advisory).unwrap();
    let secret = signer.to_secret_text();
    let log = std::sync::Arc::new(
        AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default()).unwrap(),
    );
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    // The first call waits for the append lock, held here; the other
    // threads' appends queue behind it.
    let (mut first, _) = holder();
    hold(&mut first, &role);
    let threads: Vec<std::thread::JoinHandle<Seen>> = (0..6u64)
        .map(|t| {
            let log = std::sync::Arc::clone(&log);
            std::thread::spawn(move || {
                let mut acks = Vec::new();
                for i in 0.. {
                    match log.append(&event(t * 1000 + i, None)) {
                        Ok(r) => acks.push(r),
                        Err(e) => return (acks, e.to_string()),
                    }
                }
                unreachable!()
            })
        })
        .collect();
    wait_until("a call waits for the append lock", || {
        waits_for_lock(&mut sup, &role, 0)
    });
    wait_until("the other appends queue", || log.queued_appends() >= 5);
    // A second holder queues for the lock behind that call: the next call
    // (which takes every queued append) waits for it.
    let (mut second, second_pid) = holder();
    let (tx, rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        hold(&mut second, &role);
        tx.send(()).unwrap();
        second
    });
    wait_until("the second holder waits", || {
        waits_for_lock(&mut sup, "", second_pid)
    });
    first.batch_execute("ROLLBACK").unwrap();
    rx.recv().unwrap();
    let role = tenant.role();
    wait_until("the shared call waits for the append lock", || {
        waits_for_lock(&mut sup, role, 0)
    });
    // Only the call's backend (the one waiting for the lock), not the
    // store's flushing connection.
    let killed = sup
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE usename = $1 AND wait_event_type = 'Lock'",
            &[&role],
        )
        .unwrap()
        .len();
    assert_eq!(killed, 1);
    holder.join().unwrap().batch_execute("ROLLBACK").unwrap();
    let seen: Vec<Seen> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let refused = "an earlier statement or commit failed";
    // Every append of the call cut got its error (not the refusal of the
    // appends after it), and there were several.
    let cut = seen.iter().filter(|(_, e)| !e.contains(refused)).count();
    assert!(cut >= 5, "{cut} appends got the cut call's error: {seen:?}");
    let acks: Vec<_> = seen.iter().flat_map(|(a, _)| a.clone()).collect();
    assert!(!acks.is_empty() && acks.len() < 6, "{}", acks.len());
    drop(log);
    // Every acknowledged record is in place with its leaf hash; the log
    // verifies, and a new writer appends after it.
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let leaves = record_leaves(&store);
    for r in &acks {
        assert_eq!(leaves[usize::try_from(r.position).unwrap()], r.leaf_hash);
    }
    let signer = Signer::parse(&secret).unwrap();
    assert_eq!(verified_records(&config, &signer), leaves.len() as u64);
}

#[test]
fn a_lost_flushing_connection_acknowledges_nothing_after_it() {
    let (tenant, config) = new_tenant("flushlost");
    let role = tenant.role().to_owned();
    let signer = Signer::generate("test.example/flushlost").unwrap();
    let secret = signer.to_secret_text();
    let tmp = tempfile::tempdir().unwrap();
    let log = writer(&config, &secret, &tmp.path().join("keys"));
    let first = log.append(&event(1, None)).unwrap();
    // The store has two backends now: the one that appends (its last
    // statement the call) and the one that flushes (its last statement the
    // flush). Cut the second.
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let backends = |sup: &mut postgres::Client| -> Vec<String> {
        sup.query(
            "SELECT query FROM pg_stat_activity WHERE usename = $1 ORDER BY query",
            &[&role],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let queries = backends(&mut sup);
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert!(queries[0].contains("gdpr.audit_append"), "{queries:?}");
    assert!(
        queries[1].contains("pg_logical_emit_message"),
        "{queries:?}"
    );
    let killed = sup
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE usename = $1 AND query LIKE '%pg_logical_emit_message%'",
            &[&role],
        )
        .unwrap()
        .len();
    assert_eq!(killed, 1);
    wait_until("the flushing backend is gone", || {
        backends(&mut sup).len() == 1
    });
    // The next call commits, but its flush fails: not acknowledged. The
    // connection is not reopened (one opened now could reach a server
    // restarted without the call), and the store refuses appends.
    let cut = log.append(&event(2, None)).unwrap_err().to_string();
    assert!(cut.contains("waiting until the append is durable"), "{cut}");
    let refused = log.append(&event(3, None)).unwrap_err().to_string();
    assert!(refused.contains("open the store again"), "{refused}");
    drop(log);
    // The acknowledged record is in place; the unacknowledged one was
    // committed (asynchronously) and is there whole; the log verifies and
    // a new writer chains on.
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let leaves = record_leaves(&store);
    assert_eq!(leaves.len(), 2);
    assert_eq!(leaves[0], first.leaf_hash);
    drop(store);
    let log = writer(&config, &secret, &tmp.path().join("keys2"));
    assert_eq!(log.append(&event(4, None)).unwrap().position, 2);
    drop(log);
    assert_eq!(
        verified_records(&config, &Signer::parse(&secret).unwrap()),
        3
    );
}

/// Sets the tenant role's own `synchronous_commit` (for its new sessions).
fn set_role_synchronous_commit(role: &str, value: &str) {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    sup.batch_execute(&format!(
        "ALTER ROLE \"{role}\" SET synchronous_commit = {value}"
    ))
    .unwrap();
}

#[test]
fn commits_that_would_not_wait_for_the_flush_are_refused_on_both_connections() {
    let (tenant, config) = new_tenant("asyncrole");
    let role = tenant.role().to_owned();
    // A store opened while the role's sessions commit asynchronously would
    // acknowledge what a crash can take back: refused at open.
    set_role_synchronous_commit(&role, "off");
    let refused = PgAuditStore::open(&config, HeadLock::Row).unwrap_err();
    assert!(
        refused.to_string().contains("synchronous_commit is off"),
        "{refused}"
    );
    // Opened while they wait; the setting changes before the first append:
    // the flushing connection, opened before the first call, is refused
    // too, and nothing is appended.
    set_role_synchronous_commit(&role, "on");
    let signer = Signer::generate("test.example/asyncrole").unwrap();
    let secret = signer.to_secret_text();
    let tmp = tempfile::tempdir().unwrap();
    let log = writer(&config, &secret, &tmp.path().join("keys"));
    set_role_synchronous_commit(&role, "off");
    let e = log.append(&event(1, None)).unwrap_err().to_string();
    assert!(e.contains("synchronous_commit is off"), "{e}");
    drop(log);
    set_role_synchronous_commit(&role, "on");
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    assert!(entries(&store).is_empty());
    drop(store);
    assert_eq!(
        verified_records(&config, &Signer::parse(&secret).unwrap()),
        0
    );
}
