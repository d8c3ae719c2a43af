//! The request journal and the restriction register on the real
//! PostgreSQL: entries replay as written, a request has one holder at a
//! time, a node whose lease was taken over records nothing, a finished
//! node's lease is free at once, and the register is shared by every node.
#![cfg(feature = "postgres-tests")]

mod support;

use std::time::Duration;

use gdpr_core::purpose::Purpose;
use gdpr_core::request::{RequestId, SystemName};
use gdpr_core::restriction::RestrictionGround;
use gdpr_core::store::RecordId;
use gdpr_postgres::{LeaseSettings, NodeName, PgConfig, PgError, PgJournal, PgRegister};
use gdpr_request::journal::{Journal, StepKey, StepState};
use gdpr_request::register::{RestrictionEntry, RestrictionRegister};
use jiff::Timestamp;
use serde_json::json;
use support::*;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn key(s: &str) -> StepKey {
    StepKey::new(&["erase", "pacs", s]).unwrap()
}

fn lease(ttl: u64, wait: u64) -> LeaseSettings {
    LeaseSettings::new(Duration::from_secs(ttl), Duration::from_secs(wait)).unwrap()
}

async fn claim(
    config: &PgConfig,
    id: &str,
    node: &str,
    settings: LeaseSettings,
) -> Result<PgJournal, PgError> {
    PgJournal::claim(
        config,
        &RequestId::new(id).unwrap(),
        &NodeName::new(node).unwrap(),
        settings,
    )
    .await
}

#[test]
fn steps_replay_as_recorded_and_the_next_holder_sees_them() {
    let (_, config) = new_tenant("journal");
    block_on(async {
        let a = claim(&config, "dsr-1", "node-a", lease(30, 0))
            .await
            .unwrap();
        assert_eq!(a.epoch(), 1);
        a.begin(&key("s1")).await.unwrap();
        a.done(&key("s1"), &json!({"n": 1, "big": u64::MAX}))
            .await
            .unwrap();
        a.begin(&key("s2")).await.unwrap();
        // Held: another node is refused at once and told who holds it.
        let busy = claim(&config, "dsr-1", "node-b", lease(30, 0))
            .await
            .unwrap_err();
        assert!(
            matches!(&busy, PgError::Busy { holder } if holder == "node-a"),
            "{busy}"
        );
        // Another request is free.
        claim(&config, "dsr-2", "node-b", lease(30, 0))
            .await
            .unwrap();
        drop(a);
        // Released at drop: node b claims without waiting for the ttl.
        let b = claim(&config, "dsr-1", "node-b", lease(30, 5))
            .await
            .unwrap();
        assert_eq!(b.epoch(), 2);
        let r = b.replay().await.unwrap();
        assert_eq!(r.done(&key("s1")), Some(&json!({"n": 1, "big": u64::MAX})));
        assert_eq!(r.steps.get(&key("s2")), Some(&StepState::Begun));
        assert_eq!((r.records, r.torn_tail), (3, None));
    });
}

#[test]
fn a_node_whose_lease_was_taken_over_records_nothing() {
    let (tenant, config) = new_tenant("fence");
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let a = block_on(async {
        let a = claim(&config, "dsr-f", "node-a", lease(30, 0))
            .await
            .unwrap();
        a.begin(&key("s1")).await.unwrap();
        a
    });
    // Node a stalls (a long pause, a partition): its lease runs out.
    let n = sup
        .execute(
            "UPDATE gdpr.request_lease SET expires_at = clock_timestamp() - interval '1 second'
             WHERE tenant = $1 AND request = 'dsr-f'",
            &[&tenant.role()],
        )
        .unwrap();
    assert_eq!(n, 1);
    block_on(async {
        // Expired, not yet claimed by anyone: a already records nothing.
        assert!(a.done(&key("s1"), &json!(0)).await.is_err());
        let b = claim(&config, "dsr-f", "node-b", lease(30, 0))
            .await
            .unwrap();
        assert_eq!(b.epoch(), 2);
        // a wakes up and tries to go on: refused, nothing recorded.
        let e = a.done(&key("s1"), &json!(1)).await.unwrap_err();
        assert!(e.to_string().contains("taken over"), "{e}");
        assert!(a.begin(&key("s2")).await.is_err());
        b.done(&key("s1"), &json!(2)).await.unwrap();
        let r = b.replay().await.unwrap();
        assert_eq!(r.records, 2);
        assert_eq!(r.done(&key("s1")), Some(&json!(2)));
        drop(a); // its release names epoch 1: b's lease stays
        let still = claim(&config, "dsr-f", "node-c", lease(30, 0)).await;
        assert!(matches!(still, Err(PgError::Busy { .. })));
    });
    let epochs: Vec<i64> = sup
        .query(
            "SELECT epoch FROM gdpr.journal_entry WHERE tenant = $1 ORDER BY seq",
            &[&tenant.role()],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(epochs, [1, 2]);
}

#[test]
fn a_live_nodes_lease_is_renewed_while_it_runs() {
    let (_, config) = new_tenant("expiry");
    block_on(async {
        // A live holder renews every third of its 1 s lease: still held
        // after 2.5 s. (A killed holder's lease expiring: tests/two_nodes.rs.)
        let a = claim(&config, "dsr-e", "node-a", lease(1, 0))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            claim(&config, "dsr-e", "node-b", lease(1, 0))
                .await
                .is_err()
        );
        a.begin(&key("s1")).await.unwrap();
        drop(a);
        let b = claim(&config, "dsr-e", "node-b", lease(1, 5))
            .await
            .unwrap();
        assert_eq!(b.epoch(), 2);
    });
}

fn entry(record: &str, ground: Option<RestrictionGround>) -> RestrictionEntry {
    let system = SystemName::new("pacs").unwrap();
    let record = RecordId::new(record).unwrap();
    let request = RequestId::new("dsr-r").unwrap();
    match ground {
        Some(g) => RestrictionEntry::art18(system, record, g, request, Timestamp::UNIX_EPOCH),
        None => {
            let mut e = RestrictionEntry::new(
                system,
                record,
                vec![Purpose::LegalClaims],
                request,
                Timestamp::UNIX_EPOCH,
            );
            e.citation = Some(gdpr_core::Citation::new("§ 630f(3) BGB"));
            e
        }
    }
}

#[test]
fn the_register_is_shared_recorded_once_and_lifted_by_a_later_entry() {
    let (tenant, config) = new_tenant("register");
    let (_, other_tenant) = new_tenant("register_other");
    let pacs = SystemName::new("pacs").unwrap();
    let rec = RecordId::new("study-1").unwrap();
    block_on(async {
        let host = PgRegister::open(&config).await.unwrap();
        let gateway = PgRegister::open(&config).await.unwrap();
        let stranger = PgRegister::open(&other_tenant).await.unwrap();
        let art18 = entry("study-1", Some(RestrictionGround::AccuracyContested));
        let kept = entry("study-1", None);
        host.record(&kept).await.unwrap();
        host.record(&art18).await.unwrap();
        host.record(&art18).await.unwrap();
        assert_eq!(
            gateway.in_force(&pacs, &rec).await.unwrap(),
            [art18.clone(), kept.clone()]
        );
        assert_eq!(
            gateway.lookup(&pacs, &rec).await.unwrap(),
            Some(art18.clone())
        );
        let other = RecordId::new("study-2").unwrap();
        assert_eq!(gateway.lookup(&pacs, &other).await.unwrap(), None);
        assert!(stranger.lookup(&pacs, &rec).await.unwrap().is_none());
        let mut lifted = art18.clone();
        lifted.lifted = Some(Timestamp::UNIX_EPOCH);
        gateway.record(&lifted).await.unwrap();
        assert_eq!(host.lookup(&pacs, &rec).await.unwrap(), Some(kept.clone()));
        assert_eq!(host.entries().await.unwrap(), [lifted, kept]);
    });
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let history: i64 = sup
        .query_one(
            "SELECT count(*) FROM gdpr.restriction_history WHERE tenant = $1",
            &[&tenant.role()],
        )
        .unwrap()
        .get(0);
    assert_eq!(history, 3, "the repeated entry changed nothing");
}
