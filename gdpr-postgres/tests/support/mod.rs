//! Shared by the tests against the real PostgreSQL that
//! `scripts/postgres.sh start` runs (its `GDPR_TEST_PG_*` variables): with
//! the feature `postgres-tests` on, a missing server fails the test.
#![allow(dead_code)]

pub mod cluster;
pub mod worker;

use std::path::PathBuf;
use std::sync::Once;

use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::SourceSystem;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use gdpr_postgres::{PgConfig, Tenant};
use jiff::Timestamp;

/// An environment variable scripts/postgres.sh exports; panics (fails the
/// test) when it is missing.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the feature postgres-tests needs a running PostgreSQL; \
             run `eval \"$(scripts/postgres.sh start)\"` (scripts/test.sh does)"
        )
    })
}

/// The connection settings of the database owner.
pub fn owner() -> PgConfig {
    PgConfig::parse(&format!(
        "host={} port={} user={} dbname={}",
        env("GDPR_TEST_PG_HOST"),
        env("GDPR_TEST_PG_PORT"),
        env("GDPR_TEST_PG_OWNER"),
        env("GDPR_TEST_PG_DB")
    ))
    .unwrap()
    .password_file(&PathBuf::from(env("GDPR_TEST_PG_OWNER_PASSWORD_FILE")))
    .unwrap()
}

/// The superuser's settings on database `db` (only for what the
/// application never does: making scratch databases, restarts).
pub fn superuser(db: &str) -> PgConfig {
    PgConfig::parse(&format!(
        "host={} port={} user=postgres dbname={db}",
        env("GDPR_TEST_PG_HOST"),
        env("GDPR_TEST_PG_PORT"),
    ))
    .unwrap()
    .password_file(&PathBuf::from(env("GDPR_TEST_PG_SUPER_PASSWORD_FILE")))
    .unwrap()
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
