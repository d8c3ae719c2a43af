//! The objection register (GDPR Art. 21) on the real PostgreSQL: shared by
//! every node of a tenant and by no other tenant, an entry recorded once
//! however often (or however concurrently) it is recorded, the
//! controller's grounds recorded as the objection's latest entry; and an
//! objection request executed by two nodes: one registration, each step
//! done once, also when a node re-runs the registration after another
//! node took its lease over.
#![cfg(feature = "postgres-tests")]

mod nodes;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gdpr_core::objection::{CompellingGrounds, Objection};
use gdpr_core::request::{RequestId, Stage};
use gdpr_core::store::RecordId;
use gdpr_postgres::PgRegister;
use gdpr_request::register::RestrictionRegister;
use gdpr_request::{BoundaryHook, Error, ObjectionEntry, ObjectionRegister, Phase};
use nodes::*;
use support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

fn subject(n: u8) -> RecordId {
    RecordId::new(format!("gdpr-subject:{}", format!("{n:02x}").repeat(16))).unwrap()
}

fn entry(n: u8, request: &str) -> ObjectionEntry {
    ObjectionEntry::new(
        subject(n),
        RequestId::new(request).unwrap(),
        Objection::to_all("2026-02-01T00:00:00Z".parse().unwrap()),
    )
}

/// (rows, history rows) of `role` in the objection register.
fn counts(role: &str) -> (i64, i64) {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let row = sup
        .query_one(
            "SELECT (SELECT count(*) FROM gdpr.objection WHERE tenant = $1),
                    (SELECT count(*) FROM gdpr.objection_history WHERE tenant = $1)",
            &[&role],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn objections_are_shared_recorded_once_and_overridden_by_recorded_grounds() {
    let (tenant, config) = new_tenant("objection");
    let (_, other_tenant) = new_tenant("objection_other");
    runtime().block_on(async {
        let host = PgRegister::open(&config).await.unwrap();
        let gateway = PgRegister::open(&config).await.unwrap();
        let stranger = PgRegister::open(&other_tenant).await.unwrap();
        let objections = host.objections().expect("PgRegister holds objections");
        let e = entry(1, "dsr-o1");
        objections.record_objection(&e).await.unwrap();
        objections.record_objection(&e).await.unwrap();
        assert_eq!(gateway.objections_of(&subject(1)).await.unwrap(), [e]);
        assert!(gateway.objections_of(&subject(2)).await.unwrap().is_empty());
        assert!(
            stranger
                .objections_of(&subject(1))
                .await
                .unwrap()
                .is_empty()
        );

        let grounds = CompellingGrounds {
            recorded_at: "2026-02-10T00:00:00Z".parse().unwrap(),
            purposes: Vec::new(),
            assessment: "DPO case 14".into(),
        };
        let request = RequestId::new("dsr-o1").unwrap();
        gateway
            .record_grounds(&subject(1), &request, grounds.clone())
            .await
            .unwrap();
        let now = host.objections_of(&subject(1)).await.unwrap();
        assert_eq!(now.len(), 1, "one objection, its grounds its latest entry");
        assert_eq!(now[0].objection.overridden_by, Some(grounds.clone()));
        let missing = stranger
            .record_grounds(&subject(1), &request, grounds)
            .await
            .unwrap_err();
        assert!(matches!(missing, Error::NoObjection), "{missing}");
        assert_eq!(host.objection_entries().await.unwrap(), now);
    });
    assert_eq!(counts(tenant.role()), (1, 2), "objection, then its grounds");
}

#[test]
fn the_same_objection_recorded_by_many_nodes_at_once_is_recorded_once() {
    let (tenant, config) = new_tenant("objection_race");
    let rt = runtime();
    for round in 0..8u8 {
        let e = entry(round, &format!("dsr-race-{round}"));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (config, e) = (config.clone(), e.clone());
                rt.spawn(async move {
                    let node = PgRegister::open(&config).await.unwrap();
                    node.record_objection(&e).await
                })
            })
            .collect();
        rt.block_on(async {
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        });
    }
    assert_eq!(counts(tenant.role()), (8, 8), "one row and one change each");
}

/// The objection request completed by `outcome`'s node; one registered
/// entry (one history row) and every journal step done exactly once.
fn registered_once(site: &Site, role: &str, stage: Stage) {
    assert_eq!(stage, Stage::Completed);
    assert_eq!(counts(role), (1, 1), "one objection, recorded once");
    let entries = runtime().block_on(async {
        PgRegister::open(&site.config)
            .await
            .unwrap()
            .objection_entries()
            .await
            .unwrap()
    });
    assert_eq!(entries.len(), 1);
    assert!(entries[0].subject.as_str().starts_with("gdpr-subject:"));
    assert!(!entries[0].subject.as_str().contains(TARGET));
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let steps: Vec<(String, i64)> = sup
        .query(
            "SELECT step, count(*) FILTER (WHERE phase = 'done') FROM gdpr.journal_entry
             WHERE tenant = $1 GROUP BY step ORDER BY step",
            &[&role],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(
        steps.iter().any(|(s, _)| s == "objection/register"),
        "{steps:?}"
    );
    assert!(steps.iter().all(|(_, n)| *n == 1), "{steps:?}");
}

#[test]
fn two_nodes_running_one_objection_register_it_once() {
    let (tenant, config, password) = new_tenant_with_password("objection_nodes");
    let site = Arc::new(Site::new(config, &password));
    let rt = runtime();
    rt.block_on(site.approved_objection());
    let (a, b) = rt.block_on(async {
        let node = |name: &'static str| {
            let (site, log) = (site.clone(), site.log());
            let hook: BoundaryHook = Arc::new(|_, _| std::thread::sleep(Duration::from_millis(20)));
            tokio::spawn(async move {
                let (mut ex, epoch) = site.node(name, quick(), log, Some(hook)).await.unwrap();
                (ex.run().await.unwrap(), epoch)
            })
        };
        let (a, b) = (node("node-a"), node("node-b"));
        (a.await.unwrap(), b.await.unwrap())
    });
    assert_eq!(a.0, b.0, "both report the one outcome");
    assert_ne!(a.1, b.1);
    registered_once(&site, tenant.role(), a.0.stage);
}

#[test]
fn a_registration_re_run_by_a_node_whose_lease_was_taken_records_nothing_twice() {
    let (tenant, config, password) = new_tenant_with_password("objection_stall");
    let site = Arc::new(Site::new(config, &password));
    let rt = runtime();
    rt.block_on(site.approved_objection());
    let (stalled, resumed) = (site.path("stalled"), site.path("resumed"));
    // Node a stalls with the registration begun, until node b has
    // finished the request; then it registers again (the step's effect,
    // twice) and is refused when it tries to journal the step done.
    let hook: BoundaryHook = Arc::new(move |key, phase| {
        if phase == Phase::Before && key.as_str() == "objection/register" && !stalled.exists() {
            std::fs::write(&stalled, "").unwrap();
            let start = Instant::now();
            while !resumed.exists() && start.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    let a = {
        let (site, log) = (site.clone(), site.log());
        rt.spawn(async move {
            let (mut ex, _) = site.node("node-a", quick(), log, Some(hook)).await.unwrap();
            ex.run().await
        })
    };
    let start = Instant::now();
    while !site.path("stalled").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "node a never stalled"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    sup.execute(
        "UPDATE gdpr.request_lease SET expires_at = clock_timestamp() - interval '1 second'
         WHERE tenant = $1",
        &[&tenant.role()],
    )
    .unwrap();
    let outcome = rt.block_on(async {
        let (mut ex, _) = site
            .node("node-b", quick(), site.log(), None)
            .await
            .unwrap();
        ex.run().await.unwrap()
    });
    assert_eq!(counts(tenant.role()), (1, 1), "node b registered it");
    std::fs::write(site.path("resumed"), "").unwrap();
    let e = rt.block_on(a).unwrap().unwrap_err();
    assert!(e.to_string().contains("taken over"), "{e}");
    registered_once(&site, tenant.role(), outcome.stage);
}
