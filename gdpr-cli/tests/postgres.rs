//! `gdpr db migrate` and `gdpr audit verify|prove --postgres` against the
//! real PostgreSQL of scripts/postgres.sh (feature `postgres-tests`: fails
//! when it is missing). The password comes from GDPR_PG_PASSWORD_FILE,
//! never from an argument.
#![cfg(feature = "postgres-tests")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::SourceSystem;
use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_postgres::{HeadLock, PgAuditStore, PgConfig, Tenant};

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| {
        panic!("{k} is not set: postgres-tests need `eval \"$(scripts/postgres.sh start)\"`")
    })
}

fn conn_string(user: &str) -> String {
    format!(
        "host={} port={} user={user} dbname={}",
        env("GDPR_TEST_PG_HOST"),
        env("GDPR_TEST_PG_PORT"),
        env("GDPR_TEST_PG_DB")
    )
}

fn gdpr(args: &[&str], password_file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .env("GDPR_PG_PASSWORD_FILE", password_file)
        .output()
        .unwrap()
}

fn event(n: i64) -> AuditEvent {
    let actor = Actor {
        id: ActorId::new("dr.a").unwrap(),
        role: Role::Physician,
        secrecy: Secrecy::None,
    };
    let basis = LawfulBasis::SpecialCategory(HealthBasis::new(
        Art6Basis::Contract,
        Art9Condition::HealthCare,
    ));
    AuditEvent::builder(
        EventType::PatientRecord,
        Action::Read,
        actor,
        Purpose::Treatment,
        basis,
        SourceSystem::new("PACS").unwrap(),
    )
    .build(jiff::Timestamp::from_second(1_700_000_000 + n).unwrap())
}

#[test]
fn migrate_verify_and_prove_a_log_on_postgres() {
    let tmp = tempfile::tempdir().unwrap();
    let owner_conn = tmp.path().join("owner.conn");
    std::fs::write(&owner_conn, conn_string(&env("GDPR_TEST_PG_OWNER"))).unwrap();
    let owner_pw = PathBuf::from(env("GDPR_TEST_PG_OWNER_PASSWORD_FILE"));
    let out = gdpr(
        &["db", "migrate", "--postgres", owner_conn.to_str().unwrap()],
        &owner_pw,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("schema at version"));

    // A tenant with three records and a checkpoint.
    let mut name = [0u8; 5];
    getrandom::fill(&mut name).unwrap();
    let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
    let tenant = Tenant::new(&format!("cli_{name}")).unwrap();
    let owner = PgConfig::parse(&conn_string(&env("GDPR_TEST_PG_OWNER")))
        .unwrap()
        .password_file(&owner_pw)
        .unwrap();
    tenant.create(&mut owner.connect().unwrap(), &name).unwrap();
    let config = owner.clone().user(tenant.role()).password(name.as_bytes());
    let signer = Signer::generate("test.example/cli").unwrap();
    let public = tmp.path().join("audit.pub");
    std::fs::write(&public, format!("{}\n", signer.verifier())).unwrap();
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default()).unwrap();
    for i in 0..3 {
        log.append(&event(i)).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);

    let conn = tmp.path().join("tenant.conn");
    std::fs::write(&conn, conn_string(tenant.role())).unwrap();
    let pw = tmp.path().join("tenant.password");
    std::fs::write(&pw, &name).unwrap();
    let (c, p) = (conn.to_str().unwrap(), public.to_str().unwrap());
    let out = gdpr(
        &["audit", "verify", "--postgres", c, "--public-key", p],
        &pw,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("VALID: 3 records"), "{stdout}");
    let out = gdpr(&["audit", "prove", "--postgres", c, "--index", "1"], &pw);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proof: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (proof["index"].as_u64(), proof["tree_size"].as_u64()),
        (Some(1), Some(3))
    );

    // A record altered in the database (by a superuser; its body is byte 42
    // on of the entry, held in gdpr.audit_body since schema 6): exit 1, TAMPERED.
    let mut sup = PgConfig::parse(&conn_string("postgres"))
        .unwrap()
        .password_file(env("GDPR_TEST_PG_SUPER_PASSWORD_FILE").as_ref())
        .unwrap()
        .connect()
        .unwrap();
    sup.execute(
        "UPDATE gdpr.audit_body b SET body = overlay(b.body placing '\\xff' from 19 for 1)
         FROM gdpr.audit_run r
         WHERE b.tenant = $1 AND r.tenant = $1 AND b.batch = r.batch
           AND b.ord = r.first_ord + (1 - r.first_seq) AND r.first_seq <= 1
           AND 1 < r.first_seq + r.count",
        &[&tenant.role()],
    )
    .unwrap();
    let out = gdpr(
        &["audit", "verify", "--postgres", c, "--public-key", p],
        &pw,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("TAMPERED"));
    // A wrong password: exit 2, and the password never appears.
    std::fs::write(&pw, "not-the-password").unwrap();
    let out = gdpr(
        &["audit", "verify", "--postgres", c, "--public-key", p],
        &pw,
    );
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("not-the-password") && !all.contains(&name));
}
