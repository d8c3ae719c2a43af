//! TLS to the real PostgreSQL (scripts/postgres.sh runs it with `ssl = on`
//! and a throw-away CA; the server's certificate names only IP:127.0.0.1):
//! a verified connection is TLS as PostgreSQL sees it and carries the
//! library's work; a wrong CA, or a name the certificate does not hold
//! under `verify-full`, is refused; a remote host without TLS is refused
//! before any connection is tried.
#![cfg(feature = "postgres-tests")]

mod support;

use std::path::PathBuf;

use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer, verify_store};
use gdpr_postgres::{HeadLock, PgAuditStore, PgConfig};
use support::*;

/// The owner's settings over TLS with `sslmode` and the CA in `ca_var`.
fn owner_tls(host: &str, mode: &str, ca_var: &str) -> Result<PgConfig, gdpr_postgres::PgError> {
    Ok(PgConfig::parse(&format!(
        "host={host} port={} user={} dbname={} sslmode={mode} sslrootcert='{}'",
        env("GDPR_TEST_PG_PORT"),
        env("GDPR_TEST_PG_OWNER"),
        env("GDPR_TEST_PG_DB"),
        env(ca_var),
    ))?
    .password_file(&PathBuf::from(env("GDPR_TEST_PG_OWNER_PASSWORD_FILE")))
    .unwrap())
}

/// Whether PostgreSQL sees this session as TLS (`pg_stat_ssl`).
fn server_sees_tls(config: &PgConfig) -> bool {
    let mut c = config.connect().unwrap();
    c.query_one(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .unwrap()
    .get(0)
}

/// An error with its causes, one after the other.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

#[test]
fn a_verified_connection_is_tls_and_carries_the_audit_log() {
    let config = owner_tls("127.0.0.1", "verify-full", "GDPR_TEST_PG_CA_FILE").unwrap();
    assert!(config.uses_tls());
    assert!(server_sees_tls(&config));
    // The plain loopback default is still plain (and the server says so).
    assert!(!owner().uses_tls());
    assert!(!server_sees_tls(&owner()));
    // A tenant's log over TLS: appends, verification.
    migrated();
    let (tenant, _, password) = new_tenant_with_password("tls");
    let as_tenant = config
        .clone()
        .user(tenant.role())
        .password(password.as_bytes());
    assert!(server_sees_tls(&as_tenant));
    let store = PgAuditStore::open(&as_tenant, HeadLock::Row).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let signer = Signer::generate("test.example/tls").unwrap();
    let verifier = signer.verifier();
    let log = AuditLog::with_stores(
        store,
        FileKeyStore::create(dir.path().join("keys")).unwrap(),
        signer,
        CheckpointPolicy::default(),
    )
    .unwrap();
    for i in 0..5 {
        log.append(&event(i, Some("P-TLS-1"))).unwrap();
    }
    drop(log);
    let reader = PgAuditStore::open(&as_tenant, HeadLock::Row).unwrap();
    let report = verify_store(&reader, &verifier, None).unwrap();
    assert_eq!(report.records, 5);
}

#[test]
fn verify_ca_checks_the_chain_and_verify_full_also_the_name() {
    // The certificate names IP:127.0.0.1, not `localhost`.
    let full = owner_tls("localhost", "verify-full", "GDPR_TEST_PG_CA_FILE").unwrap();
    let e = full.connect().err().map(|e| chain(&e)).expect("refused");
    assert!(e.contains("certificate not valid for name"), "{e}");
    let ca = owner_tls("localhost", "verify-ca", "GDPR_TEST_PG_CA_FILE").unwrap();
    assert!(server_sees_tls(&ca));
    let require = owner_tls("localhost", "require", "GDPR_TEST_PG_CA_FILE").unwrap();
    assert!(server_sees_tls(&require));
}

#[test]
fn a_server_the_ca_does_not_vouch_for_is_refused() {
    for mode in ["verify-full", "verify-ca", "require"] {
        let wrong = owner_tls("127.0.0.1", mode, "GDPR_TEST_PG_WRONG_CA_FILE").unwrap();
        let e = wrong.connect().err().map(|e| chain(&e)).expect("refused");
        assert!(e.contains("UnknownIssuer"), "{mode}: {e}");
    }
}

#[test]
fn a_remote_host_without_tls_is_refused_before_connecting() {
    // 192.0.2.1 (TEST-NET-1) is never routed: a connection attempt would
    // hang or fail with a network error, not with this refusal.
    for mode in ["disable", "allow", "prefer"] {
        let e = PgConfig::parse(&format!("host=192.0.2.1 port=5432 user=a sslmode={mode}"))
            .unwrap_err();
        assert!(matches!(e, gdpr_postgres::PgError::Config { .. }), "{e}");
        assert!(e.to_string().contains("needs TLS"), "{e}");
    }
    // No CA file: TLS (the default) cannot verify, refused as well.
    let e = PgConfig::parse("host=192.0.2.1 port=5432 user=a").unwrap_err();
    assert!(e.to_string().contains("sslrootcert"), "{e}");
    // With the CA, a remote host gets TLS with full verification.
    let ok = PgConfig::parse(&format!(
        "host=192.0.2.1 port=5432 user=a sslrootcert={}",
        env("GDPR_TEST_PG_CA_FILE")
    ))
    .unwrap();
    assert!(ok.uses_tls());
    assert!(format!("{ok:?}").contains("VerifyFull"));
}
