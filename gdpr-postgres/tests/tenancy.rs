//! Tenant isolation enforced by PostgreSQL: a tenant's role owns nothing,
//! is no superuser, cannot bypass row-level security, and whatever SQL it
//! runs (a property test of attacks) reads and changes only its own rows.
#![cfg(feature = "postgres-tests")]

mod support;

use gdpr_audit::{AuditLog, CheckpointPolicy, Signer};
use gdpr_postgres::{HeadLock, KekRing, PgAuditStore, PgConfig, PgError, PgKeyStore, Tenant};
use proptest::prelude::*;
use support::*;

/// Appends `n` events as the tenant of `config`.
fn append_some(config: &PgConfig, n: u64) {
    let kek = KekRing::parse(&KekRing::generate_line(1).unwrap()).unwrap();
    let keys = PgKeyStore::open(config, kek).unwrap();
    let store = PgAuditStore::open(config, HeadLock::Row).unwrap();
    let signer = Signer::generate("test.example/tenancy").unwrap();
    let log = AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default()).unwrap();
    for i in 0..n {
        log.append(&support::event(i, Some("P-1"))).unwrap();
    }
    log.checkpoint().unwrap();
}

/// Everything the tenant of `config` can see of its own rows, as text.
fn fingerprint(c: &mut postgres::Client) -> String {
    let row = c
        .query_one(
            "SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(seq || tenant || checkpoint || encode(body, 'hex'), ',' ORDER BY seq)), '')
                     FROM gdpr.audit_entries),
                    (SELECT coalesce(string_agg(h::text, ','), '') FROM gdpr.audit_head h)
                    || (SELECT coalesce(string_agg(k::text, ',' ORDER BY blind), '') FROM gdpr.subject_key k)
                    || (SELECT coalesce(string_agg(m::text, ','), '') FROM gdpr.key_meta m)
                    || (SELECT count(*) || coalesce(md5(string_agg(b::text, ',' ORDER BY batch, ord)), '') FROM gdpr.audit_body b)
                    || (SELECT count(*) || coalesce(md5(string_agg(r::text, ',' ORDER BY first_seq)), '') FROM gdpr.audit_run r)
                    || (SELECT count(*) FROM gdpr.audit_entry)",
            &[],
        )
        .unwrap();
    format!("{}|{}", row.get::<_, String>(0), row.get::<_, String>(1))
}

#[test]
fn a_tenant_role_owns_nothing_and_cannot_bypass_policies() {
    let (tenant, config) = new_tenant("roles");
    append_some(&config, 2);
    let mut c = owner().connect().unwrap();
    let row = c
        .query_one(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,
                    (SELECT count(*) FROM pg_class WHERE relowner = r.oid),
                    (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
             FROM pg_roles r WHERE rolname = $1",
            &[&tenant.role()],
        )
        .unwrap();
    assert!(!row.get::<_, bool>(0), "superuser");
    assert!(!row.get::<_, bool>(1), "bypasses RLS");
    assert!(!row.get::<_, bool>(2) && !row.get::<_, bool>(3));
    assert_eq!(row.get::<_, i64>(4), 0, "owns relations");
    assert_eq!(row.get::<_, i64>(5), 0, "owns schemas");
    // Every table of the schema has RLS enabled and forced.
    let unforced: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'gdpr' AND c.relkind = 'r' AND c.relname <> 'schema_version'
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(unforced, 0);
    // FORCE binds the owner too: the owner sees no tenant's entries, in
    // any of the tables they are stored in or through the readers' view.
    let seen: i64 = c
        .query_one(
            "SELECT (SELECT count(*) FROM gdpr.audit_entry) + (SELECT count(*) FROM gdpr.audit_body)
                  + (SELECT count(*) FROM gdpr.audit_run) + (SELECT count(*) FROM gdpr.audit_entries)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
    // The tenant itself sees its two records through the view.
    let mut t = config.connect().unwrap();
    let own: i64 = t
        .query_one(
            "SELECT count(*) FROM gdpr.audit_entries WHERE NOT checkpoint",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(own, 2);
}

#[test]
fn migrations_are_idempotent_and_a_newer_schema_is_refused() {
    migrated();
    let mut c = owner().connect().unwrap();
    assert!(gdpr_postgres::migrate(&mut c).unwrap().is_empty());
    assert_eq!(
        gdpr_postgres::migrate::current(&mut c).unwrap(),
        gdpr_postgres::SCHEMA_VERSION
    );
    // A scratch database whose schema a newer library wrote.
    let db = format!("gdpr_scratch_{}", random_hex(4));
    let mut sup = superuser("postgres").connect().unwrap();
    sup.batch_execute(&format!("CREATE DATABASE {db} OWNER {}", pg().owner))
        .unwrap();
    let scratch = owner_on(&db);
    let mut s = scratch.connect().unwrap();
    let all: Vec<i32> = (1..=gdpr_postgres::SCHEMA_VERSION).collect();
    assert_eq!(gdpr_postgres::migrate(&mut s).unwrap(), all);
    let future = gdpr_postgres::SCHEMA_VERSION + 1;
    s.execute(
        "INSERT INTO gdpr.schema_version (version) VALUES ($1)",
        &[&future],
    )
    .unwrap();
    let refused = gdpr_postgres::migrate(&mut s).unwrap_err();
    assert!(matches!(refused, PgError::NewerSchema { found, .. } if found == future));
    assert!(gdpr_postgres::migrate::check(&mut s).is_err());
    drop(s);
    sup.batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .unwrap();
}

/// One attempt by tenant A on tenant B's rows.
#[derive(Debug, Clone)]
enum Attack {
    Read(&'static str, &'static str),
    Update(&'static str, &'static str),
    Insert(&'static str, i64),
    Delete(&'static str, &'static str),
    Statement(&'static str),
}

const TABLES: &[&str] = &[
    "audit_entry",
    "audit_body",
    "audit_run",
    "audit_entries",
    "audit_head",
    "key_meta",
    "subject_key",
];
/// The tables holding a log's entries (append-only for the application).
const ENTRY_TABLES: &[&str] = &["audit_entry", "audit_body", "audit_run"];
const PREDICATES: &[&str] = &[
    "true",
    "tenant = '{B}'",
    "tenant <> current_user",
    "tenant LIKE 'gdpr_t_%'",
    "tenant = session_user OR tenant = '{B}'",
];

fn attack() -> impl Strategy<Value = Attack> {
    let table = proptest::sample::select(TABLES);
    let pred = proptest::sample::select(PREDICATES);
    prop_oneof![
        (table.clone(), pred.clone()).prop_map(|(t, p)| Attack::Read(t, p)),
        (proptest::sample::select(&["audit_head", "subject_key", "key_meta"][..]), pred.clone())
            .prop_map(|(t, p)| Attack::Update(t, p)),
        (proptest::sample::select(ENTRY_TABLES), 0i64..1000).prop_map(|(t, n)| Attack::Insert(t, n)),
        (proptest::sample::select(ENTRY_TABLES), pred.clone()).prop_map(|(t, p)| Attack::Delete(t, p)),
        proptest::sample::select(
            &[
                "SET ROLE {B}",
                "SET SESSION AUTHORIZATION {B}",
                "SET row_security = off; SELECT * FROM gdpr.audit_entry",
                "ALTER TABLE gdpr.audit_entry DISABLE ROW LEVEL SECURITY",
                "ALTER TABLE gdpr.audit_entry NO FORCE ROW LEVEL SECURITY",
                "DROP POLICY tenant_rows ON gdpr.audit_entry",
                "CREATE POLICY open ON gdpr.audit_entry USING (true)",
                "TRUNCATE gdpr.audit_entry",
                "GRANT {B} TO CURRENT_USER",
                "UPDATE gdpr.audit_head SET tenant = '{B}'",
            "INSERT INTO gdpr.subject_key (tenant, blind, key_id) VALUES ('{B}', '\\x01', '\\x02')",
            "UPDATE gdpr.subject_key SET tenant = '{B}'",
            "DELETE FROM gdpr.subject_key WHERE tenant = '{B}'",
                "COPY gdpr.audit_entry TO STDOUT",
                "COPY gdpr.audit_body TO STDOUT",
                "SET row_security = off; SELECT * FROM gdpr.audit_entries",
                "SET row_security = off; SELECT * FROM gdpr.audit_body",
                "ALTER TABLE gdpr.audit_body NO FORCE ROW LEVEL SECURITY",
                "ALTER TABLE gdpr.audit_run DISABLE ROW LEVEL SECURITY",
                "DROP POLICY tenant_rows ON gdpr.audit_run",
                "TRUNCATE gdpr.audit_body, gdpr.audit_run",
                "ALTER VIEW gdpr.audit_entries SET (security_invoker = false)",
                "CREATE OR REPLACE VIEW gdpr.audit_entries AS SELECT * FROM gdpr.audit_entry",
                "UPDATE gdpr.audit_body SET body = '\\x00'",
                "UPDATE gdpr.audit_run SET prevs = prevs",
            ][..]
        )
        .prop_map(Attack::Statement),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_tenant_never_reads_or_changes_another_tenants_rows(attacks in proptest::collection::vec(attack(), 1..6)) {
        use std::sync::{Mutex, OnceLock};
        type Fixture = (Tenant, Mutex<postgres::Client>, Tenant, Mutex<postgres::Client>, String);
        static TENANTS: OnceLock<Fixture> = OnceLock::new();
        let (a_tenant, a, b_tenant, b, before) = TENANTS.get_or_init(|| {
            let a = new_tenant("attacker");
            let b = new_tenant("victim");
            append_some(&a.1, 3);
            append_some(&b.1, 5);
            let mut b_conn = b.1.connect().unwrap();
            let before = fingerprint(&mut b_conn);
            (a.0, Mutex::new(a.1.connect().unwrap()), b.0, Mutex::new(b_conn), before)
        });
        let mut conn = a.lock().unwrap();
        for attack in attacks {
            let sql_of = |s: &str| s.replace("{B}", b_tenant.role());
            match attack {
                Attack::Read(table, p) => {
                    let rows = tenants_read(&mut conn, &sql_of(&format!("SELECT * FROM gdpr.{table} WHERE {p}")))
                        .expect("A may read its own rows");
                    prop_assert!(rows.iter().all(|t| t == a_tenant.role()), "{rows:?}");
                }
                Attack::Update(table, p) => {
                    // Allowed on A's own rows only; B's are untouched (checked below).
                    let _ = tenants_read(&mut conn, &sql_of(&format!(
                        "UPDATE gdpr.{table} SET tenant = tenant WHERE {p}")));
                }
                Attack::Insert(table, n) => {
                    let n = n + 1_000_000;
                    let row = match table {
                        "audit_body" => format!("(tenant, batch, ord, body) VALUES ('{{B}}', {n}, 1, '\\x00')"),
                        "audit_run" => format!(
                            "(tenant, first_seq, first_pos, batch, first_ord, count, prevs) \
                             VALUES ('{{B}}', {n}, {n}, 1, 1, 1, '\\x{}')", "00".repeat(32)),
                        _ => format!("(tenant, seq, checkpoint, body) VALUES ('{{B}}', {n}, false, '\\x00')"),
                    };
                    let r = tenants_read(&mut conn, &sql_of(&format!("INSERT INTO gdpr.{table} {row}")));
                    prop_assert!(r.is_err(), "a row for another tenant was accepted");
                }
                Attack::Delete(table, p) => {
                    let r = tenants_read(&mut conn, &sql_of(&format!("DELETE FROM gdpr.{table} WHERE {p}")));
                    prop_assert!(r.is_err(), "entries are append-only");
                }
                Attack::Statement(s) => {
                    let r = tenants_read(&mut conn, &sql_of(s));
                    prop_assert!(r.is_err(), "{s} was allowed");
                }
            }
        }
        prop_assert_eq!(&fingerprint(&mut b.lock().unwrap()), before);
    }
}
