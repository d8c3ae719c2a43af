//! `gdpr db migrate` and `gdpr audit verify|prove --postgres` against the
//! real PostgreSQL of scripts/postgres.sh (feature `postgres-tests`: fails
//! when it is missing). The password comes from GDPR_PG_PASSWORD_FILE,
//! never from an argument.
#![cfg(feature = "postgres-tests")]

mod support;

use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer};
use gdpr_postgres::{HeadLock, PgAuditStore};
use support::pg::{self, gdpr};

#[test]
fn migrate_verify_and_prove_a_log_on_postgres() {
    let tmp = tempfile::tempdir().unwrap();
    let owner_conn = tmp.path().join("owner.conn");
    std::fs::write(&owner_conn, pg::conn_string(&pg::server().owner)).unwrap();
    let owner_pw = pg::server().owner_password_file;
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
    let pg::TenantFiles {
        tenant,
        config,
        conn,
        password: pw,
        secret: name,
    } = pg::tenant(tmp.path(), "cli", "tenant");
    let signer = Signer::generate("test.example/cli").unwrap();
    let public = tmp.path().join("audit.pub");
    std::fs::write(&public, format!("{}\n", signer.verifier())).unwrap();
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default()).unwrap();
    for i in 0..3 {
        log.append(&pg::event(i, None)).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);

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
    let mut sup = pg::superuser().connect().unwrap();
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
