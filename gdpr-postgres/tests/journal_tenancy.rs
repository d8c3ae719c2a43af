//! Tenant isolation of the request journal, the leases, the
//! restriction register and the objection register, enforced by the database: as tenant A's role,
//! whatever SQL a property test tries, A reads only its own rows and
//! never changes B's — even for the same request id, system, record and
//! subject-wide id.
#![cfg(feature = "postgres-tests")]

mod support;

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use gdpr_core::objection::Objection;
use gdpr_core::request::{RequestId, SystemName};
use gdpr_core::restriction::RestrictionGround;
use gdpr_core::store::RecordId;
use gdpr_postgres::{LeaseSettings, NodeName, PgConfig, PgJournal, PgRegister, Tenant};
use gdpr_request::journal::{Journal, StepKey};
use gdpr_request::objections::{ObjectionEntry, ObjectionRegister};
use gdpr_request::register::{RestrictionEntry, RestrictionRegister};
use proptest::prelude::*;
use support::*;

const REQUEST: &str = "dsr-shared-id";

/// Journals two steps of request `REQUEST`, registers one restriction and
/// one objection (the same subject-wide id for every tenant),
/// as the tenant of `config`; the lease stays held (`forget`).
fn populate(config: &PgConfig) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let lease = LeaseSettings::new(Duration::from_secs(3600), Duration::ZERO).unwrap();
        let j = PgJournal::claim(
            config,
            &RequestId::new(REQUEST).unwrap(),
            &NodeName::new("node").unwrap(),
            lease,
        )
        .await
        .unwrap();
        let step = StepKey::new(&["erase", "pacs", "study-1"]).unwrap();
        j.begin(&step).await.unwrap();
        j.done(&step, &serde_json::json!({"erased": 1}))
            .await
            .unwrap();
        let r = PgRegister::open(config).await.unwrap();
        r.record(&RestrictionEntry::art18(
            SystemName::new("pacs").unwrap(),
            RecordId::new("study-1").unwrap(),
            RestrictionGround::AccuracyContested,
            RequestId::new(REQUEST).unwrap(),
            jiff::Timestamp::UNIX_EPOCH,
        ))
        .await
        .unwrap();
        r.record_objection(&ObjectionEntry::new(
            RecordId::new(format!("gdpr-subject:{}", "ab".repeat(16))).unwrap(),
            RequestId::new(REQUEST).unwrap(),
            Objection::to_all(jiff::Timestamp::UNIX_EPOCH),
        ))
        .await
        .unwrap();
        // Held for the rest of the run (its thread renews it).
        std::mem::forget(j);
    });
}

/// Everything tenant B sees of its own rows.
fn fingerprint(c: &mut postgres::Client) -> String {
    c.query_one(
        "SELECT (SELECT coalesce(string_agg(j::text, ',' ORDER BY seq), '') FROM
                   (SELECT tenant, request, seq, step, phase, result, epoch FROM gdpr.journal_entry) j)
             || '|' || (SELECT coalesce(string_agg(l.tenant || l.request || l.epoch || l.holder, ','), '')
                        FROM gdpr.request_lease l)
             || '|' || (SELECT coalesce(string_agg(r.tenant || r.system || r.record || r.entry, ','), '')
                        FROM gdpr.restriction r)
             || '|' || (SELECT coalesce(string_agg(h.tenant || h.entry, ',' ORDER BY seq), '')
                        FROM gdpr.restriction_history h)
             || '|' || (SELECT coalesce(string_agg(o.tenant || o.subject || o.request || o.entry, ','), '')
                        FROM gdpr.objection o)
             || '|' || (SELECT coalesce(string_agg(oh.tenant || oh.entry, ',' ORDER BY seq), '')
                        FROM gdpr.objection_history oh)",
        &[],
    )
    .unwrap()
    .get(0)
}

#[derive(Debug, Clone)]
enum Attack {
    Read(&'static str, &'static str),
    Update(&'static str, &'static str),
    Statement(&'static str),
}

const TABLES: &[&str] = &[
    "journal_entry",
    "request_lease",
    "restriction",
    "restriction_history",
    "objection",
    "objection_history",
];
const PREDICATES: &[&str] = &[
    "true",
    "tenant = '{B}'",
    "tenant <> current_user",
    "tenant IS NOT NULL",
    "tenant = session_user OR tenant = '{B}'",
];
const UPDATES: &[&str] = &[
    "UPDATE gdpr.request_lease SET epoch = epoch + 1, expires_at = now() WHERE {P}",
    "UPDATE gdpr.request_lease SET holder = 'attacker' WHERE {P}",
    "UPDATE gdpr.restriction SET lifted = true WHERE {P}",
    "UPDATE gdpr.restriction SET tenant = tenant WHERE {P}",
    "UPDATE gdpr.objection SET entry = '{}' WHERE {P}",
    "UPDATE gdpr.objection SET tenant = tenant WHERE {P}",
];
const STATEMENTS: &[&str] = &[
    "INSERT INTO gdpr.journal_entry (tenant, request, seq, step, phase, epoch) VALUES ('{B}', 'dsr-shared-id', 99, 'x', 'begin', 1)",
    "INSERT INTO gdpr.request_lease (tenant, request, epoch, holder, expires_at) VALUES ('{B}', 'r2', 1, 'x', now())",
    "INSERT INTO gdpr.restriction (tenant, system, record, art18, lifted, entry) VALUES ('{B}', 'pacs', 'study-9', true, false, '{}')",
    "INSERT INTO gdpr.restriction_history (tenant, system, record, art18, entry) VALUES ('{B}', 'pacs', 'x', true, '{}')",
    "INSERT INTO gdpr.objection (tenant, subject, request, entry) VALUES ('{B}', 'gdpr-subject:x', 'r9', '{}')",
    "INSERT INTO gdpr.objection_history (tenant, subject, request, entry) VALUES ('{B}', 'gdpr-subject:x', 'r9', '{}')",
    "UPDATE gdpr.objection SET tenant = '{B}'",
    "DELETE FROM gdpr.objection",
    "UPDATE gdpr.objection_history SET entry = '{}'",
    "ALTER TABLE gdpr.objection NO FORCE ROW LEVEL SECURITY",
    "COPY gdpr.objection_history TO STDOUT",
    "UPDATE gdpr.request_lease SET tenant = '{B}'",
    "UPDATE gdpr.restriction SET tenant = '{B}'",
    "UPDATE gdpr.journal_entry SET result = '1'",
    "DELETE FROM gdpr.journal_entry",
    "DELETE FROM gdpr.restriction",
    "DELETE FROM gdpr.request_lease",
    "TRUNCATE gdpr.journal_entry",
    "ALTER TABLE gdpr.restriction DISABLE ROW LEVEL SECURITY",
    "DROP POLICY tenant_rows ON gdpr.request_lease",
    "SET ROLE {B}",
    "COPY gdpr.restriction TO STDOUT",
];

fn attack() -> impl Strategy<Value = Attack> {
    let pred = proptest::sample::select(PREDICATES);
    prop_oneof![
        (proptest::sample::select(TABLES), pred.clone()).prop_map(|(t, p)| Attack::Read(t, p)),
        (proptest::sample::select(UPDATES), pred).prop_map(|(u, p)| Attack::Update(u, p)),
        proptest::sample::select(STATEMENTS).prop_map(Attack::Statement),
    ]
}

type Fixture = (
    Tenant,
    Mutex<postgres::Client>,
    Tenant,
    Mutex<postgres::Client>,
    String,
);

fn fixture() -> &'static Fixture {
    static TENANTS: OnceLock<Fixture> = OnceLock::new();
    TENANTS.get_or_init(|| {
        let a = new_tenant("jattacker");
        let b = new_tenant("jvictim");
        populate(&a.1);
        populate(&b.1);
        let mut b_conn = b.1.connect().unwrap();
        let before = fingerprint(&mut b_conn);
        assert!(before.contains("erased"), "{before}");
        assert!(before.contains("gdpr-subject:"), "{before}");
        (
            a.0,
            Mutex::new(a.1.connect().unwrap()),
            b.0,
            Mutex::new(b_conn),
            before,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_tenant_never_reads_or_changes_another_tenants_journal_or_registers(
        attacks in proptest::collection::vec(attack(), 1..6)
    ) {
        let (a_tenant, a, b_tenant, b, before) = fixture();
        let mut conn = a.lock().unwrap_or_else(|p| p.into_inner());
        let b_role = b_tenant.role();
        for attack in attacks {
            match attack {
                Attack::Read(table, p) => {
                    let sql = format!("SELECT * FROM gdpr.{table} WHERE {p}").replace("{B}", b_role);
                    let rows = tenants_read(&mut conn, &sql).expect("A may read its own rows");
                    prop_assert!(p != "true" || !rows.is_empty(), "A's own rows are there");
                    prop_assert!(rows.iter().all(|t| t == a_tenant.role()), "{rows:?}");
                }
                Attack::Update(u, p) => {
                    // Allowed on A's own rows only; B's are untouched (checked below).
                    let _ = tenants_read(&mut conn, &u.replace("{P}", p).replace("{B}", b_role));
                }
                Attack::Statement(s) => {
                    let r = tenants_read(&mut conn, &s.replace("{B}", b_role));
                    prop_assert!(r.is_err(), "{s} was allowed");
                }
            }
        }
        prop_assert_eq!(&fingerprint(&mut b.lock().unwrap()), before);
    }
}
