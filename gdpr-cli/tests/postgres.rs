//! `gdpr db migrate|remove-orphaned-bodies` and `gdpr audit verify|prove
//! --postgres` against the real PostgreSQL of scripts/postgres.sh (feature
//! `postgres-tests`: fails when it is missing). The password comes from GDPR_PG_PASSWORD_FILE,
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
    // on of the entry, held in gdpr.audit_body since schema 6, in the
    // array of its run's bodies since schema 10): exit 1, TAMPERED.
    let mut sup = pg::superuser().connect().unwrap();
    let altered = sup
        .execute(
            "UPDATE gdpr.audit_body k
                SET pack[r.first_ord + (1 - r.first_seq)] =
                    overlay(k.pack[r.first_ord + (1 - r.first_seq)] placing '\\xff' from 19 for 1)
               FROM gdpr.audit_run r
              WHERE k.tenant = $1 AND r.tenant = $1 AND k.batch = r.batch AND k.ord = 1
                AND r.first_seq <= 1 AND 1 < r.first_seq + r.count",
            &[&tenant.role()],
        )
        .unwrap();
    assert_eq!(altered, 1);
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

/// `gdpr db remove-orphaned-bodies`: the rest of a batch whose writer died
/// while signing the checkpoint that cut it is removed once old enough;
/// the log is unchanged and verifies; a bound under 10 minutes exits 2.
#[test]
fn remove_orphaned_bodies_removes_only_old_orphans_and_the_log_still_verifies() {
    use gdpr_audit::store::{AuditStore, Entry, EntrySource, Unchained};
    let tmp = tempfile::tempdir().unwrap();
    let t = pg::tenant(tmp.path(), "cli_orph", "tenant");
    let signer = Signer::generate("test.example/cli_orph").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let public = tmp.path().join("audit.pub");
    std::fs::write(&public, format!("{}\n", signer.verifier())).unwrap();
    let every_2 = CheckpointPolicy {
        every_records: Some(2),
        every: None,
    };
    // Five records of an embedded log: their bodies are what a writer sends.
    let embedded = AuditLog::create(tmp.path().join("dir"), Signer::generate("x/y").unwrap())
        .unwrap()
        .with_policy(CheckpointPolicy {
            every_records: None,
            every: None,
        });
    embedded
        .append_batch(&(0..5).map(|i| pg::event(i, None)).collect::<Vec<_>>())
        .unwrap();
    let mut records = Vec::new();
    embedded
        .store()
        .entries(&mut |_, e| {
            if let Entry::Record(r) = e {
                records.push(r);
            }
            Ok(())
        })
        .unwrap();
    let unchained: Vec<Unchained<'_>> = records
        .iter()
        .map(|r| Unchained {
            body: &r[41..],
            recorded: gdpr_audit::record::Record::decode(r).unwrap().recorded(),
        })
        .collect();
    // A writer meets the checkpoint after 2 records and dies signing it.
    let store = PgAuditStore::open(&t.config, HeadLock::Row).unwrap();
    let mut dies = |_: u64, _: &[u8; 32]| -> Result<String, gdpr_audit::Error> {
        Err(gdpr_audit::Error::Backend {
            operation: "signing",
            source: "the writer died".into(),
        })
    };
    assert!(
        store
            .append_unchained(&unchained, &every_2, 0, &mut dies)
            .is_err()
    );
    // The next writer signs it and chains on.
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let store = PgAuditStore::open(&t.config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(store, keys, Signer::parse(&secret).unwrap(), every_2).unwrap();
    log.append_batch(&(10..13).map(|i| pg::event(i, None)).collect::<Vec<_>>())
        .unwrap();
    log.checkpoint().unwrap();
    drop(log);

    let orphans = || -> i64 {
        let mut sup = pg::superuser().connect().unwrap();
        sup.query_one(
            "SELECT count(*) FROM gdpr.audit_body b WHERE b.tenant = $1 AND NOT EXISTS (
               SELECT 1 FROM gdpr.audit_run r WHERE r.tenant = b.tenant AND r.batch = b.batch
                 AND b.ord >= r.first_ord AND b.ord < r.first_ord + r.count)",
            &[&t.tenant.role()],
        )
        .unwrap()
        .get(0)
    };
    // Since schema 10 that writer left nothing: its call stored only the
    // two bodies it appended. Bodies in no run are what a writer of schema
    // 9 or before left: its batch's bodies stored as rows before its call
    // took the lock, then it died. Stored here as that writer did.
    assert_eq!(orphans(), 0);
    let bodies: Vec<&[u8]> = records[2..].iter().map(|r| &r[41..]).collect();
    t.config
        .connect()
        .unwrap()
        .execute(
            "WITH n AS (SELECT nextval('gdpr.audit_body_batch') AS batch)
             INSERT INTO gdpr.audit_body (batch, ord, body)
             SELECT n.batch, o, b FROM n, unnest($1::bytea[]) WITH ORDINALITY AS u(b, o)",
            &[&bodies],
        )
        .unwrap();
    let mut sup = pg::superuser().connect().unwrap();
    assert_eq!(orphans(), 3);
    let (c, p) = (t.conn.to_str().unwrap(), public.to_str().unwrap());
    let run = |extra: &[&str]| {
        let mut args = vec!["db", "remove-orphaned-bodies", "--postgres", c];
        args.extend_from_slice(extra);
        gdpr(&args, &t.password)
    };
    // Young: none removed.
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("removed 0 "));
    // An hour old (aged by the superuser): all three.
    sup.execute(
        "UPDATE gdpr.audit_body SET stored = stored - interval '1 hour' WHERE tenant = $1",
        &[&t.tenant.role()],
    )
    .unwrap();
    let out = run(&["--min-age-minutes", "90"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("removed 0 "));
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("removed 3 orphaned audit bodies"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(orphans(), 0);
    let out = run(&["--min-age-minutes", "9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--min-age-minutes 9"));
    let out = gdpr(
        &["audit", "verify", "--postgres", c, "--public-key", p],
        &t.password,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.starts_with("VALID: 5 records"), "{stdout}");
    // A wrong password: exit 2, and the password never appears.
    std::fs::write(&t.password, "not-the-password").unwrap();
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("not-the-password") && !all.contains(&t.secret));
}
