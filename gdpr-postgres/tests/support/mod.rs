//! Shared by the tests against the real PostgreSQL that
//! `scripts/postgres.sh start` runs (its `GDPR_TEST_PG_*` variables): with
//! the feature `postgres-tests` on, a missing server fails the test.
#![allow(dead_code)]

pub mod cluster;
pub mod worker;

use std::sync::Once;

use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::SourceSystem;
use gdpr_audit::store::{Entry, EntrySource};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use gdpr_postgres::{PgConfig, Tenant};
use gdpr_test_support::servers::Postgres;
use jiff::Timestamp;

/// The feature that asks for the real server.
const FEATURE: &str = "postgres-tests";

/// An environment variable scripts/postgres.sh exports; panics (fails the
/// test) when it is missing.
pub fn env(name: &str) -> String {
    gdpr_test_support::servers::setting(name, FEATURE, "scripts/postgres.sh")
}

/// The server's settings.
pub fn pg() -> Postgres {
    Postgres::from_env(FEATURE)
}

/// The connection settings of the database owner.
pub fn owner() -> PgConfig {
    owner_on(&pg().db)
}

/// The owner's settings on database `db` (a scratch database).
pub fn owner_on(db: &str) -> PgConfig {
    let pg = pg();
    PgConfig::parse(&pg.conn(&pg.owner, db))
        .unwrap()
        .password_file(&pg.owner_password_file)
        .unwrap()
}

/// A scratch database migrated only up to an older schema, with one
/// tenant: for the tests of a migration. Dropped (`WITH (FORCE)`) with the
/// value.
pub struct OldSchema {
    /// The database's name.
    pub db: String,
    /// The schema versions applied.
    pub applied: Vec<i32>,
    /// The owner's connection to it.
    pub owner: postgres::Client,
    /// The tenant's settings.
    pub config: PgConfig,
    sup: postgres::Client,
}

impl OldSchema {
    /// A database named `prefix` and random digits, at `schema`, with a
    /// tenant named likewise.
    pub fn new(prefix: &str, schema: i32) -> Self {
        let db = format!("gdpr_{prefix}_{}", random_hex(6));
        let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
        sup.batch_execute(&format!(
            "CREATE DATABASE {db} OWNER {}",
            env("GDPR_TEST_PG_OWNER")
        ))
        .unwrap();
        let mut owner = owner_on(&db).connect().unwrap();
        let applied = gdpr_postgres::migrate::migrate_to(&mut owner, schema).unwrap();
        let tenant = Tenant::new(&format!("{prefix}_{}", random_hex(6))).unwrap();
        let password = random_hex(16);
        tenant.create(&mut owner, &password).unwrap();
        let config = owner_on(&db)
            .user(tenant.role())
            .password(password.as_bytes());
        Self {
            db,
            applied,
            owner,
            config,
            sup,
        }
    }
}

impl Drop for OldSchema {
    fn drop(&mut self) {
        let drop_db = format!("DROP DATABASE {} WITH (FORCE)", self.db);
        let _ = self.sup.batch_execute(&drop_db);
    }
}

/// The superuser's settings on database `db` (only for what the
/// application never does: making scratch databases, restarts).
pub fn superuser(db: &str) -> PgConfig {
    let pg = pg();
    PgConfig::parse(&pg.conn("postgres", db))
        .unwrap()
        .password_file(&pg.super_password_file)
        .unwrap()
}

/// Every entry of `source`, in order.
pub fn entries(source: &impl EntrySource) -> Vec<Entry> {
    let mut out = Vec::new();
    source
        .entries(&mut |_, e| {
            out.push(e);
            Ok(())
        })
        .unwrap();
    out
}

/// The leaf hash of every record of `source`, in order (the checkpoints
/// left out): what a receipt's leaf hash is checked against.
pub fn record_leaves(source: &impl EntrySource) -> Vec<[u8; 32]> {
    entries(source)
        .iter()
        .filter_map(|e| match e {
            Entry::Record(b) => Some(gdpr_audit::merkle::leaf_hash(b)),
            _ => None,
        })
        .collect()
}

/// Runs `sql` on `client` (simple protocol, autocommit: a write that got
/// through would stay); returns the `tenant` column of the rows read, if
/// any.
pub fn tenants_read(
    client: &mut postgres::Client,
    sql: &str,
) -> Result<Vec<String>, postgres::Error> {
    let mut tenants = Vec::new();
    for m in client.simple_query(sql)? {
        if let postgres::SimpleQueryMessage::Row(r) = m
            && let Some(Some(t)) = r
                .columns()
                .iter()
                .position(|c| c.name() == "tenant")
                .map(|i| r.get(i))
        {
            tenants.push(t.to_owned());
        }
    }
    Ok(tenants)
}

/// How many records the tenant's log of `config` holds, verified end to
/// end (chain, checkpoints) by `signer`'s key.
pub fn verified_records(config: &PgConfig, signer: &gdpr_audit::Signer) -> u64 {
    let store = gdpr_postgres::PgAuditStore::open(config, gdpr_postgres::HeadLock::Row).unwrap();
    gdpr_audit::verify_store(&store, &signer.verifier(), None)
        .unwrap()
        .records
}

/// Migrates the test database (once per process; concurrent test
/// processes wait on the migration lock).
pub fn migrated() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        gdpr_postgres::migrate(&mut owner().connect().unwrap()).unwrap();
    });
}

/// A random lower-case hex string of `n` bytes.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh tenant (its own role) and the settings to connect as it.
pub fn new_tenant(prefix: &str) -> (Tenant, PgConfig) {
    let (tenant, config, _) = new_tenant_with_password(prefix);
    (tenant, config)
}

/// [`new_tenant`] and its password (for worker processes).
pub fn new_tenant_with_password(prefix: &str) -> (Tenant, PgConfig, String) {
    migrated();
    let tenant = Tenant::new(&format!("{prefix}_{}", random_hex(6))).unwrap();
    let password = random_hex(16);
    tenant
        .create(&mut owner().connect().unwrap(), &password)
        .unwrap();
    let config = owner().user(tenant.role()).password(password.as_bytes());
    (tenant, config, password)
}

/// An audit event (with a data subject when `subject` is given).
pub fn event(n: u64, subject: Option<&str>) -> AuditEvent {
    let actor = Actor {
        id: ActorId::new("dr.a").unwrap(),
        role: Role::Physician,
        secrecy: Secrecy::None,
    };
    let basis = LawfulBasis::SpecialCategory(HealthBasis::new(
        Art6Basis::Contract,
        Art9Condition::HealthCare,
    ));
    let b = AuditEvent::builder(
        EventType::PatientRecord,
        Action::Read,
        actor,
        Purpose::Treatment,
        basis,
        SourceSystem::new("PACS").unwrap(),
    );
    let b = match subject {
        Some(s) => b.subject(PatientId::new(s).unwrap()),
        None => b,
    };
    let t = Timestamp::from_second(1_700_000_000 + i64::try_from(n).unwrap()).unwrap();
    b.build(t)
}

/// The bodies (after the 41-byte header) and recorded times, in
/// nanoseconds, of whole record encodings: what a writer sends
/// `gdpr.audit_append`.
pub fn bodies_and_times(records: &[Vec<u8>]) -> (Vec<&[u8]>, Vec<i64>) {
    let bodies = records.iter().map(|r| &r[41..]).collect();
    let times = records
        .iter()
        .map(|r| {
            let recorded = gdpr_audit::record::Record::decode(r).unwrap().recorded();
            i64::try_from(recorded.as_nanosecond()).unwrap()
        })
        .collect();
    (bodies, times)
}

/// A hash from the 64 hex digits `gdpr.audit_append` answers with.
pub fn hash_of_hex(hex: &str) -> [u8; 32] {
    (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap()
}
