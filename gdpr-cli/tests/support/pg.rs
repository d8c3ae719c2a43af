//! The real PostgreSQL of scripts/postgres.sh for the `--postgres` tests
//! (feature `postgres-tests`; a missing setting fails the test): the
//! owner's and the superuser's settings, a fresh tenant with its
//! connection and password files, the tests' audit events.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::SourceSystem;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use gdpr_postgres::{PgConfig, Tenant};
use gdpr_test_support::servers::Postgres;

/// Runs `gdpr ARGS` with the password in `password_file`
/// (`GDPR_PG_PASSWORD_FILE`, never an argument).
pub fn gdpr(args: &[&str], password_file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .env("GDPR_PG_PASSWORD_FILE", password_file)
        .output()
        .unwrap()
}

/// The server's settings.
pub fn server() -> Postgres {
    Postgres::from_env("postgres-tests")
}

/// The connection string (no password) of `user` on the test database.
pub fn conn_string(user: &str) -> String {
    let pg = server();
    pg.conn(user, &pg.db)
}

/// The database owner's settings.
pub fn owner() -> PgConfig {
    let pg = server();
    PgConfig::parse(&pg.conn(&pg.owner, &pg.db))
        .unwrap()
        .password_file(&pg.owner_password_file)
        .unwrap()
}

/// The superuser's settings (only for what the application never does:
/// altering a record behind its back).
pub fn superuser() -> PgConfig {
    let pg = server();
    PgConfig::parse(&pg.conn("postgres", &pg.db))
        .unwrap()
        .password_file(&pg.super_password_file)
        .unwrap()
}

/// A new tenant: its settings, its connection file and password file.
pub struct TenantFiles {
    /// The tenant.
    pub tenant: Tenant,
    /// The settings to connect as it.
    pub config: PgConfig,
    /// The file holding its connection string.
    pub conn: PathBuf,
    /// The file holding its password.
    pub password: PathBuf,
    /// The password.
    pub secret: String,
}

/// Migrates the schema, then makes tenant `{prefix}_{random hex}` with a
/// random password; its connection string and password are written to
/// `dir/{files}.conn` and `dir/{files}.password`.
pub fn tenant(dir: &Path, prefix: &str, files: &str) -> TenantFiles {
    let owner = owner();
    gdpr_postgres::migrate(&mut owner.connect().unwrap()).unwrap();
    let mut name = [0u8; 6];
    getrandom::fill(&mut name).unwrap();
    let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
    let tenant = Tenant::new(&format!("{prefix}_{name}")).unwrap();
    let secret = format!("pw-{name}");
    tenant
        .create(&mut owner.connect().unwrap(), &secret)
        .unwrap();
    let conn = dir.join(format!("{files}.conn"));
    std::fs::write(&conn, conn_string(tenant.role())).unwrap();
    let password = dir.join(format!("{files}.password"));
    std::fs::write(&password, &secret).unwrap();
    TenantFiles {
        config: owner.user(tenant.role()).password(secret.as_bytes()),
        tenant,
        conn,
        password,
        secret,
    }
}

/// A read of a patient record at second `n` after 2023-11-14T22:13:20Z
/// (with a data subject when `subject` is given).
pub fn event(n: i64, subject: Option<&str>) -> AuditEvent {
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
    b.build(jiff::Timestamp::from_second(1_700_000_000 + n).unwrap())
}
