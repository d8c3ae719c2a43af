//! `gdpr audit export|subject-report|erase-subject --postgres` and `gdpr
//! audit copy` (directory ⇄ PostgreSQL) against the real PostgreSQL of
//! scripts/postgres.sh (feature `postgres-tests`: fails when it is
//! missing).
#![cfg(feature = "postgres-tests")]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use gdpr_audit::{AuditLog, CheckpointPolicy, KeyStore, Signer};
use gdpr_core::subject::PatientId;
use gdpr_postgres::{HeadLock, KekRing, PgAuditStore, PgKeyStore};
use support::pg::{self, event, gdpr};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tenant(dir: &Path, prefix: &str) -> pg::TenantFiles {
    pg::tenant(dir, prefix, prefix)
}

/// The files of a log with its subject keys in PostgreSQL.
struct Files {
    /// The KEK ring's line (also in `kek`).
    kek_line: zeroize::Zeroizing<String>,
    /// The KEK file (0600).
    kek: PathBuf,
    /// The signing key file (0600).
    key: PathBuf,
    /// The public key file.
    public: PathBuf,
}

/// The audit log of tenant `t` with its subject keys in PostgreSQL under
/// a fresh KEK, signed by a fresh key of origin `test.example/{origin}`;
/// the KEK and the key files in `dir`.
fn keyed_log(
    dir: &Path,
    t: &pg::TenantFiles,
    origin: &str,
) -> (Files, AuditLog<PgAuditStore, PgKeyStore>) {
    let kek_line = KekRing::generate_line(1).unwrap();
    let kek = dir.join("kek");
    secret_file(&kek, &kek_line);
    let signer = Signer::generate(&format!("test.example/{origin}")).unwrap();
    let key = dir.join("audit.key");
    secret_file(&key, signer.to_secret_text().as_str());
    let public = dir.join("audit.pub");
    std::fs::write(&public, format!("{}\n", signer.verifier())).unwrap();
    let keys = PgKeyStore::open(&t.config, KekRing::parse(&kek_line).unwrap()).unwrap();
    let store = PgAuditStore::open(&t.config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default()).unwrap();
    let files = Files {
        kek_line,
        kek,
        key,
        public,
    };
    (files, log)
}

/// `gdpr audit erase-subject` of `subject` on the log of `t` with the KEK
/// and signing key files: its JSON answer (exit 0).
fn erase_subject(
    t: &pg::TenantFiles,
    (kek, key): (&Path, &Path),
    subject: &str,
) -> serde_json::Value {
    let (c, k, key) = (
        t.conn.to_str().unwrap(),
        kek.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    let args = [
        "audit",
        "erase-subject",
        "--postgres",
        c,
        "--kek",
        k,
        "--subject",
        subject,
        "--key",
        key,
    ];
    ok(&gdpr(&args, &t.password))
}

/// `gdpr audit export --format jsonl` of the log of `t` with the KEK file,
/// and `extra`.
fn export(t: &pg::TenantFiles, kek: &Path, extra: &[&str]) -> Output {
    let (c, k) = (t.conn.to_str().unwrap(), kek.to_str().unwrap());
    let mut args = vec![
        "audit",
        "export",
        "--postgres",
        c,
        "--kek",
        k,
        "--format",
        "jsonl",
    ];
    args.extend_from_slice(extra);
    gdpr(&args, &t.password)
}

/// `gdpr audit copy FROM TO` (`route`: `--from`/`--from-postgres` and
/// its place, `--to`/`--to-postgres` and its place) with the public key
/// and the KEK file.
fn copy(route: [&str; 4], (public, kek): (&str, &str), password: &Path) -> Output {
    let mut args = vec!["audit", "copy"];
    args.extend_from_slice(&route);
    args.extend_from_slice(&["--public-key", public, "--kek", kek]);
    gdpr(&args, password)
}

/// A secret file of mode 0600.
fn secret_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn ok(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_log_copied_to_postgres_and_back_keeps_its_checkpoints_and_proofs() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tenant(tmp.path(), "copy");
    let signer = Signer::generate("test.example/copy").unwrap();
    let public = tmp.path().join("audit.pub");
    std::fs::write(&public, format!("{}\n", signer.verifier())).unwrap();
    let p = public.to_str().unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    // The source: a directory with five records and a checkpoint.
    let src = tmp.path().join("src");
    let log = AuditLog::create(&src, Signer::parse(&secret).unwrap()).unwrap();
    for i in 0..5 {
        log.append(&event(i, Some("P-COPY-1"))).unwrap();
    }
    let saved = tmp.path().join("saved.note");
    std::fs::write(&saved, log.checkpoint().unwrap()).unwrap();
    drop(log);
    let s = src.to_str().unwrap();
    let c = t.conn.to_str().unwrap();
    let kek = tmp.path().join("kek");
    secret_file(&kek, &KekRing::generate_line(1).unwrap());
    let k = kek.to_str().unwrap();
    let proof_dir = ok(&gdpr(&["audit", "prove", s, "--index", "2"], &t.password));

    let o = copy(["--from", s, "--to-postgres", c], (p, k), &t.password);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).starts_with("COPIED: 5 records, "), "{}", text(&o));
    // The proof made on the source is the copy's proof; the source's
    // checkpoint is trusted by the copy.
    let proof_pg = ok(&gdpr(
        &["audit", "prove", "--postgres", c, "--index", "2"],
        &t.password,
    ));
    assert_eq!(proof_dir, proof_pg);
    let o = gdpr(
        &[
            "audit",
            "verify",
            "--postgres",
            c,
            "--public-key",
            p,
            "--trusted-checkpoint",
            saved.to_str().unwrap(),
        ],
        &t.password,
    );
    assert!(
        text(&o).starts_with("VALID: 5 records") && text(&o).contains("trusted checkpoint"),
        "{}",
        text(&o)
    );
    // Writers chain on after the copied head.
    let keys = gdpr_audit::FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let store = PgAuditStore::open(&t.config, HeadLock::Row).unwrap();
    let pg_log = AuditLog::with_stores(
        store,
        keys,
        Signer::parse(&secret).unwrap(),
        CheckpointPolicy::default(),
    )
    .unwrap();
    assert_eq!(pg_log.append(&event(9, None)).unwrap().position, 5);
    let note = pg_log.checkpoint().unwrap();
    drop(pg_log);
    std::fs::write(&saved, note).unwrap();

    // Back to a new directory.
    let back = tmp.path().join("back");
    let b = back.to_str().unwrap();
    let o = copy(["--from-postgres", c, "--to", b], (p, k), &t.password);
    assert!(text(&o).starts_with("COPIED: 6 records, "), "{}", text(&o));
    for index in ["2", "5"] {
        assert_eq!(
            ok(&gdpr(&["audit", "prove", b, "--index", index], &t.password)),
            ok(&gdpr(
                &["audit", "prove", "--postgres", c, "--index", index],
                &t.password
            ))
        );
    }
    let o = gdpr(
        &[
            "audit",
            "verify",
            b,
            "--public-key",
            p,
            "--trusted-checkpoint",
            saved.to_str().unwrap(),
        ],
        &t.password,
    );
    assert!(text(&o).starts_with("VALID: 6 records"), "{}", text(&o));

    // Never into a log that is not empty: exit 2, nothing written.
    for args in [
        [
            "audit",
            "copy",
            "--from",
            s,
            "--to-postgres",
            c,
            "--public-key",
            p,
            "--kek",
            k,
        ],
        [
            "audit",
            "copy",
            "--from-postgres",
            c,
            "--to",
            s,
            "--public-key",
            p,
            "--kek",
            k,
        ],
    ] {
        let o = gdpr(&args, &t.password);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }
    let o = gdpr(
        &["audit", "verify", "--postgres", c, "--public-key", p],
        &t.password,
    );
    assert!(text(&o).starts_with("VALID: 6 records"), "{}", text(&o));
    let o = gdpr(&["audit", "verify", s, "--public-key", p], &t.password);
    assert!(text(&o).starts_with("VALID: 5 records"), "{}", text(&o));
}

#[test]
fn export_report_and_erasure_work_on_a_postgres_log() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tenant(tmp.path(), "exp");
    let (f, log) = keyed_log(tmp.path(), &t, "exp");
    let (kek_line, kek, key, public) = (f.kek_line, f.kek, f.key, f.public);
    for i in 0..4 {
        let who = if i % 2 == 0 {
            "CANARY-PG-77"
        } else {
            "P-OTHER"
        };
        log.append(&event(i, Some(who))).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);
    let (c, k) = (t.conn.to_str().unwrap(), kek.to_str().unwrap());

    // A checkpoint of the PostgreSQL log, saved outside the database,
    // is then a trusted checkpoint of it.
    let o = gdpr(
        &[
            "audit",
            "checkpoint",
            "--postgres",
            c,
            "--kek",
            k,
            "--key",
            key.to_str().unwrap(),
        ],
        &t.password,
    );
    assert!(o.status.success(), "{}", text(&o));
    let saved = tmp.path().join("saved.note");
    std::fs::write(&saved, &o.stdout).unwrap();
    let o = gdpr(
        &[
            "audit",
            "verify",
            "--postgres",
            c,
            "--public-key",
            public.to_str().unwrap(),
            "--trusted-checkpoint",
            saved.to_str().unwrap(),
        ],
        &t.password,
    );
    assert!(
        text(&o).starts_with("VALID: 4 records") && text(&o).contains("trusted checkpoint"),
        "{}",
        text(&o)
    );

    let o = export(&t, &kek, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let lines = String::from_utf8_lossy(&o.stdout).lines().count();
    assert!(lines >= 4, "{}", text(&o));
    assert!(text(&o).contains("CANARY-PG-77"));
    assert!(text(&o).contains("exported 4 records (0 with erased personal fields)"));
    let o = export(&t, &kek, &["--redact"]);
    assert!(o.status.success() && !text(&o).contains("CANARY-PG-77"));
    let report = ok(&gdpr(
        &[
            "audit",
            "subject-report",
            "--postgres",
            c,
            "--kek",
            k,
            "--subject",
            "CANARY-PG-77",
        ],
        &t.password,
    ));
    assert_eq!(report["entries"].as_array().unwrap().len(), 2);

    // Without --kek: exit 2, saying what is missing.
    let o = gdpr(
        &["audit", "export", "--postgres", c, "--format", "jsonl"],
        &t.password,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--kek"), "{}", text(&o));

    let erased = erase_subject(&t, (&kek, &key), "CANARY-PG-77");
    assert_eq!(erased["erased"], true);
    assert_eq!(erased["erasure_record"], 4);
    // Checked in the database, not taken from the command's word.
    let keys = PgKeyStore::open(&t.config, KekRing::parse(&kek_line).unwrap()).unwrap();
    assert!(
        keys.is_erased(&PatientId::new("CANARY-PG-77").unwrap())
            .unwrap()
    );
    let o = gdpr(
        &[
            "audit",
            "subject-report",
            "--postgres",
            c,
            "--kek",
            k,
            "--subject",
            "CANARY-PG-77",
        ],
        &t.password,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = export(&t, &kek, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("CANARY-PG-77"));
    assert!(text(&o).contains("exported 5 records ("), "{}", text(&o));
    assert!(!text(&o).contains("(0 with erased"), "{}", text(&o));
    let o = gdpr(
        &[
            "audit",
            "verify",
            "--postgres",
            c,
            "--public-key",
            public.to_str().unwrap(),
        ],
        &t.password,
    );
    assert!(text(&o).starts_with("VALID: 5 records"), "{}", text(&o));
}

#[test]
fn subject_keys_follow_a_copied_log_both_ways_and_erased_subjects_stay_erased() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tenant(tmp.path(), "keysrc");
    let (f, log) = keyed_log(tmp.path(), &a, "keycopy");
    let (kek_line, kek, key, public) = (f.kek_line, f.kek, f.key, f.public);
    for i in 0..6 {
        let who = ["CANARY-KEEP-1", "CANARY-GONE-2", "P-THIRD"][(i % 3) as usize];
        log.append(&event(i, Some(who))).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);
    let (c, k, p) = (
        a.conn.to_str().unwrap(),
        kek.to_str().unwrap(),
        public.to_str().unwrap(),
    );
    let erased = erase_subject(&a, (&kek, &key), "CANARY-GONE-2");
    assert_eq!(erased["erased"], true);
    // A report on each side: the kept subject's two records decrypt; the
    // erased subject's do not (exit 2).
    let report = |place: &[&str], password: &Path, subject: &str| {
        let mut args = vec!["audit", "subject-report"];
        args.extend_from_slice(place);
        args.extend_from_slice(&["--subject", subject]);
        gdpr(&args, password)
    };
    let check = |place: &[&str], password: &Path| {
        let kept = ok(&report(place, password, "CANARY-KEEP-1"));
        assert_eq!(kept["entries"].as_array().unwrap().len(), 2, "{kept}");
        let positions: Vec<u64> = kept["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["position"].as_u64().unwrap())
            .collect();
        assert_eq!(positions, [0, 3]);
        // The export opens the kept subject's sealed fields, not the
        // erased one's.
        let mut args = vec!["audit", "export"];
        args.extend_from_slice(place);
        args.extend_from_slice(&["--format", "jsonl"]);
        let export = gdpr(&args, password);
        assert!(export.status.success(), "{}", text(&export));
        let out = String::from_utf8_lossy(&export.stdout);
        assert!(out.contains("CANARY-KEEP-1"));
        assert!(!out.contains("CANARY-GONE-2"));
        let gone = report(place, password, "CANARY-GONE-2");
        assert_eq!(gone.status.code(), Some(2), "{}", text(&gone));
        assert!(!text(&gone).contains("CANARY-GONE-2"));
    };
    check(&["--postgres", c, "--kek", k], &a.password);

    // PostgreSQL -> directory: the keys in the embedded key store's format.
    let dir = tmp.path().join("copied");
    let d = dir.to_str().unwrap();
    let o = copy(["--from-postgres", c, "--to", d], (p, k), &a.password);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2 subject keys and 1 erased subjects (tombstones) copied"),
        "{}",
        text(&o)
    );
    let file_keys = gdpr_audit::FileKeyStore::open(dir.join("keys")).unwrap();
    assert!(file_keys.is_erased(&PatientId::new("CANARY-GONE-2").unwrap()));
    drop(file_keys);
    check(&[d], &a.password);

    // Directory -> another tenant: wrapped under the KEK again.
    let b = tenant(tmp.path(), "keydst");
    let cb = b.conn.to_str().unwrap();
    let o = copy(["--from", d, "--to-postgres", cb], (p, k), &b.password);
    assert!(o.status.success(), "{}", text(&o));
    check(&["--postgres", cb, "--kek", k], &b.password);
    let pg_keys = PgKeyStore::open(&b.config, KekRing::parse(&kek_line).unwrap()).unwrap();
    assert!(
        pg_keys
            .is_erased(&PatientId::new("CANARY-GONE-2").unwrap())
            .unwrap()
    );
    // And out again: a copy of a copy carries the keys as well.
    drop(pg_keys);
    let dir2 = tmp.path().join("copied2");
    let o = gdpr(
        &[
            "audit",
            "copy",
            "--from-postgres",
            cb,
            "--to",
            dir2.to_str().unwrap(),
            "--public-key",
            p,
            "--kek",
            k,
        ],
        &b.password,
    );
    assert!(o.status.success(), "{}", text(&o));
    // Without --kek a PostgreSQL side is refused before anything is written.
    let dir3 = tmp.path().join("copied3");
    let o = gdpr(
        &[
            "audit",
            "copy",
            "--from-postgres",
            cb,
            "--to",
            dir3.to_str().unwrap(),
            "--public-key",
            p,
        ],
        &b.password,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!dir3.exists());
}
