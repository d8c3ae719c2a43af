//! Two nodes resuming the same request: each step has one effect and is
//! reported once (issue 15). Each node is an executor with its own
//! PostgreSQL connections (audit log writer, journal under its lease,
//! register) over the same folder store and request directory; the audit
//! log (records and subject keys), the journal and the register are one
//! tenant's in the real PostgreSQL of scripts/postgres.sh.
//!
//! - both nodes start at once: one runs, the other waits for the lease and
//!   then finds every step done;
//! - a node is killed (SIGKILL, a child process) at every step boundary and
//!   the other node resumes once its lease has expired;
//! - a node that stalls past its lease is taken over and records nothing
//!   more.
#![cfg(feature = "postgres-tests")]

mod nodes;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gdpr_audit::verify_store;
use gdpr_core::request::Stage;
use gdpr_core::store::ItemStatus;
use gdpr_postgres::{HeadLock, LeaseSettings, PgAuditLog, PgAuditStore, PgRegister};
use gdpr_request::{BoundaryHook, Phase, RunOutcome};
use nodes::*;
use support::*;

const ROOT: &str = "GDPR_PG_NODE_ROOT";
const ROLE: &str = "GDPR_PG_NODE_ROLE";
const AT: &str = "GDPR_PG_NODE_KILL_AT";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// A site with the request approved, its other patient's files, and the
/// tenant's role.
fn approved_site(prefix: &str) -> (Site, String, BTreeMap<std::path::PathBuf, Vec<u8>>) {
    let (tenant, config, password) = new_tenant_with_password(prefix);
    let site = Site::new(config, &password);
    runtime().block_on(site.approved_erasure());
    let other = site.files("other");
    (site, tenant.role().to_owned(), other)
}

/// What one uninterrupted node leaves: the number of audit records and of
/// register entries (the same on every site: same fixture, same request).
fn single_node_counts() -> (u64, usize) {
    let (site, role, other) = approved_site("single");
    let log = site.log();
    let outcome = runtime().block_on(async {
        let (mut ex, _) = site
            .node("node-a", quick(), log.clone(), None)
            .await
            .unwrap();
        ex.run().await.unwrap()
    });
    ran_once(&site, &role, &outcome, log, &other)
}

/// Checks that every step had one effect and one report; returns the
/// audit records and register entries.
fn ran_once(
    site: &Site,
    role: &str,
    outcome: &RunOutcome,
    log: Arc<PgAuditLog>,
    other: &BTreeMap<std::path::PathBuf, Vec<u8>>,
) -> (u64, usize) {
    assert_eq!(outcome.stage, Stage::Completed);
    let items = outcome.systems[0].report.as_ref().unwrap().items();
    assert_eq!(items.len(), 1, "reported once");
    assert_eq!(items[0].status, ItemStatus::Erased);
    assert!(!site.path("archive/due/1.dcm").exists());
    assert!(site.path("archive/held/1.dcm").exists());
    assert_eq!(&site.files("other"), other, "the other patient was touched");
    // One audit record per transition, dated as in the history.
    let mut recorded = stage_records(&log);
    recorded.sort();
    assert_eq!(recorded, history(site), "one record per transition");
    drop(log);
    // The one PostgreSQL log, as PostgreSQL holds it, verifies.
    let reader = PgAuditStore::open(&site.config, HeadLock::Row).unwrap();
    let report = verify_store(&reader, &site.signer().verifier(), None).unwrap();
    // Every step of the journal done exactly once.
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let undone: Vec<(String, i64)> = sup
        .query(
            "SELECT step, count(*) FILTER (WHERE phase = 'done') FROM gdpr.journal_entry
             WHERE tenant = $1 GROUP BY step HAVING count(*) FILTER (WHERE phase = 'done') <> 1",
            &[&role],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(undone.is_empty(), "steps not done exactly once: {undone:?}");
    let register = runtime().block_on(async {
        PgRegister::open(&site.config)
            .await
            .unwrap()
            .entries()
            .await
            .unwrap()
    });
    assert!(!register.is_empty(), "the kept records are registered");
    (report.records, register.len())
}

/// The epochs that recorded journal entries, with their counts.
fn writers(role: &str) -> BTreeMap<i64, i64> {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    sup.query(
        "SELECT epoch, count(*) FROM gdpr.journal_entry WHERE tenant = $1 GROUP BY epoch",
        &[&role],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[test]
fn two_nodes_starting_together_run_each_step_once() {
    let expected = single_node_counts();
    let (site, role, other) = approved_site("together");
    let site = Arc::new(site);
    let (a, b) = runtime().block_on(async {
        // Each node its own writer of the one log.
        let node = |name: &'static str| {
            let (site, log) = (site.clone(), site.log());
            // Slow steps, so that the other node's claim overlaps the run.
            let hook: BoundaryHook = Arc::new(|_, _| std::thread::sleep(Duration::from_millis(20)));
            tokio::spawn(async move {
                let (mut ex, epoch) = site.node(name, quick(), log, Some(hook)).await.unwrap();
                let started = Instant::now();
                (ex.run().await.unwrap(), epoch, started)
            })
        };
        let (a, b) = (node("node-a"), node("node-b"));
        (a.await.unwrap(), b.await.unwrap())
    });
    // One node claimed first (the setup node had epoch 1); the other waited.
    let (first, second) = if a.1 < b.1 { (a, b) } else { (b, a) };
    assert_eq!((first.1, second.1), (2, 3));
    assert_eq!(first.0, second.0, "both report the one outcome");
    // The second node recorded nothing: every step was done already.
    let by_epoch = writers(&role);
    assert!(by_epoch.get(&2).is_some_and(|&n| n > 0), "{by_epoch:?}");
    assert!(!by_epoch.contains_key(&3), "{by_epoch:?}");
    assert_eq!(
        ran_once(&site, &role, &first.0, site.log(), &other),
        expected
    );
}

#[test]
fn child_node_runs_until_the_chosen_boundary() {
    // Only as a child of the test below.
    let (Ok(root), Ok(role), Ok(at)) =
        (std::env::var(ROOT), std::env::var(ROLE), std::env::var(AT))
    else {
        return;
    };
    let site = Site::at(Path::new(&root), &role);
    let at: usize = at.parse().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let marker = site.path("stopped-at");
    let hook: BoundaryHook = Arc::new(move |key, phase| {
        if seen.fetch_add(1, Ordering::SeqCst) == at {
            std::fs::write(&marker, format!("{key} {phase:?}")).unwrap();
            std::thread::sleep(Duration::from_secs(600));
        }
    });
    let lease = LeaseSettings::new(Duration::from_secs(1), Duration::ZERO).unwrap();
    runtime().block_on(async {
        let (mut ex, _) = site
            .node("node-a", lease, site.log(), Some(hook))
            .await
            .unwrap();
        ex.run().await.unwrap();
    });
    std::fs::write(site.path("finished"), "").unwrap();
}

/// Runs node a in a child process until it stops at boundary `at` (then
/// kills it with SIGKILL) or finishes; true when it was killed.
fn kill_at(site: &Site, role: &str, at: usize) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_node_runs_until_the_chosen_boundary",
            "--nocapture",
        ])
        .env(ROOT, site.root())
        .env(ROLE, role)
        .env(AT, at.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if site.path("stopped-at").exists() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the child node failed at boundary {at}");
            assert!(site.path("finished").exists());
            return false;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "child node hung"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_node_killed_at_any_step_boundary_is_resumed_by_the_other_node() {
    let expected = single_node_counts();
    let mut killed = 0;
    for at in 0.. {
        let (site, role, other) = approved_site("killed");
        let was_killed = kill_at(&site, &role, at);
        let stopped = std::fs::read_to_string(site.path("stopped-at")).unwrap_or_default();
        let log = site.log();
        let (outcome, epoch) = runtime().block_on(async {
            // Node b waits for the dead node's lease (1 s) to expire.
            let (mut ex, epoch) = site
                .node("node-b", quick(), log.clone(), None)
                .await
                .unwrap();
            (ex.run().await.unwrap(), epoch)
        });
        assert_eq!(epoch, 3, "node b took over from node a ({stopped})");
        let counts = ran_once(&site, &role, &outcome, log, &other);
        assert_eq!(counts, expected, "killed at {stopped}");
        if !was_killed {
            break;
        }
        killed += 1;
    }
    assert!(killed >= 10, "only {killed} boundaries");
}

#[test]
fn a_node_stalled_past_its_lease_is_taken_over_and_records_nothing_more() {
    let expected = single_node_counts();
    let (site, role, other) = approved_site("stalled");
    let site = Arc::new(site);
    let stalled = site.path("stalled");
    let resumed = site.path("resumed");
    // Node a stalls right after its first erasure step is done, until
    // node b has finished the request.
    let hook: BoundaryHook = Arc::new(move |key, phase| {
        if phase == Phase::After && key.as_str().starts_with("erase/") && !stalled.exists() {
            std::fs::write(&stalled, "").unwrap();
            let start = Instant::now();
            while !resumed.exists() && start.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    let rt = runtime();
    let a = {
        let (site, log) = (site.clone(), site.log());
        rt.spawn(async move {
            let (mut ex, epoch) = site.node("node-a", quick(), log, Some(hook)).await.unwrap();
            (ex.run().await, epoch)
        })
    };
    while !site.path("stalled").exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Its lease runs out, as after a pause longer than the lease (the
    // superuser stands in for the clock: a's renewal thread is alive in
    // this process, and an expired lease is never renewed).
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    sup.execute(
        "UPDATE gdpr.request_lease SET expires_at = clock_timestamp() - interval '1 second'
         WHERE tenant = $1",
        &[&role],
    )
    .unwrap();
    let outcome = rt.block_on(async {
        let (mut ex, epoch) = site
            .node("node-b", quick(), site.log(), None)
            .await
            .unwrap();
        assert_eq!(epoch, 3);
        ex.run().await.unwrap()
    });
    std::fs::write(site.path("resumed"), "").unwrap();
    let (a_result, a_epoch) = rt.block_on(a).unwrap();
    assert_eq!(a_epoch, 2);
    let e = a_result.unwrap_err();
    assert!(e.to_string().contains("taken over"), "{e}");
    // Node a wrote nothing after node b claimed.
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let late: i64 = sup
        .query_one(
            "SELECT count(*) FROM gdpr.journal_entry j
             WHERE tenant = $1 AND epoch = 2 AND seq > (
               SELECT min(seq) FROM gdpr.journal_entry WHERE tenant = $1 AND epoch = 3)",
            &[&role],
        )
        .unwrap()
        .get(0);
    assert_eq!(late, 0);
    assert_eq!(
        ran_once(&site, &role, &outcome, site.log(), &other),
        expected
    );
}
