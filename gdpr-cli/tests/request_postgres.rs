//! `gdpr request … --postgres FILE --kek KEKFILE`: the request's audit
//! records, the journal and the restriction register in the real PostgreSQL of scripts/postgres.sh (feature
//! `postgres-tests`: fails when it is missing), the password from
//! GDPR_PG_PASSWORD_FILE; a request another node holds is refused (exit 2)
//! naming the node.
#![cfg(feature = "postgres-tests")]

mod support;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use gdpr_core::request::RequestId;
use gdpr_postgres::{KekRing, LeaseSettings, NodeName, PgConfig, PgJournal, Tenant};
use support::Run;

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.79";
const TARGET: &str = "CANARY-CLI-PG-1";

fn gdpr(dir: &Path, args: &[&str], stdin: &str) -> Run {
    support::run(
        dir,
        args,
        stdin,
        &[("GDPR_PG_PASSWORD_FILE", &dir.join("tenant.password"))],
        &[TARGET],
    )
}

/// A folder store, an audit log, and a fresh tenant whose connection
/// string and password are in files.
fn setup() -> (tempfile::TempDir, Tenant, PgConfig) {
    let studies = [
        (TARGET, 1, Some("19900105")),
        (TARGET, 2, Some("20240105")),
        ("OTHER-CLI-PG-2", 1, Some("19900105")),
    ];
    let dir = support::request_fixture(gdpr, ROOT, &studies);
    let t = support::pg::tenant(dir.path(), "clireq", "tenant");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut kek = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.path().join("kek"))
            .unwrap();
        kek.write_all(KekRing::generate_line(1).unwrap().as_bytes())
            .unwrap();
    }
    (dir, t.tenant, t.config)
}

fn with_ctx<'a>(args: &[&'a str], actor: &'a str) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(&[
        "--config",
        "systems.toml",
        "--kek",
        "kek",
        "--audit-key",
        "audit.key",
        "--postgres",
        "tenant.conn",
        "--actor",
        actor,
    ]);
    v
}

#[test]
fn a_request_journaled_and_registered_in_postgres_and_refused_while_another_node_holds_it() {
    let (dir, _tenant, config) = setup();
    let d = dir.path();
    let index = support::index(TARGET);
    let new = gdpr(
        d,
        &[
            "request",
            "new",
            "--id",
            "dsr-pg",
            "--kind",
            "erasure-consent-withdrawn",
            "--index",
            "-",
        ],
        &index,
    );
    assert_eq!(new.code, 0, "{}", new.stderr);
    let assess = gdpr(
        d,
        &with_ctx(
            &["request", "assess", "dsr-pg", "--pack", "pack.toml"],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(assess.code, 0, "{}", assess.stderr);
    let approve = gdpr(d, &with_ctx(&["request", "approve", "dsr-pg"], "dpo-2"), "");
    assert_eq!(approve.code, 0, "{}", approve.stderr);

    // Another node holds the request: refused, naming that node.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let held = rt.block_on(async {
        PgJournal::claim(
            &config,
            &RequestId::new("dsr-pg").unwrap(),
            &NodeName::new("other-node").unwrap(),
            LeaseSettings::new(Duration::from_secs(60), Duration::ZERO).unwrap(),
        )
        .await
        .unwrap()
    });
    let busy = gdpr(d, &with_ctx(&["request", "run", "dsr-pg"], "dpo-1"), "");
    assert_eq!(busy.code, 2, "{}", busy.stderr);
    assert!(busy.stderr.contains("other-node"), "{}", busy.stderr);
    assert!(d.join(format!("store/{TARGET}-1.dcm")).exists());
    drop(held);

    let run = gdpr(
        d,
        &with_ctx(
            &["request", "run", "dsr-pg", "--json", "--lease-wait", "10"],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["stage"], "completed");
    assert!(!d.join(format!("store/{TARGET}-1.dcm")).exists());
    assert!(d.join("store/OTHER-CLI-PG-2-1.dcm").exists());
    // The journal is in PostgreSQL, not in the request directory; the
    // kept record is in PostgreSQL's register, not in a file.
    assert!(!d.join("requests/dsr-pg/journal.jsonl").exists());
    assert!(!d.join("restrictions/restrictions.jsonl").exists());
    let mut c = config.connect().unwrap();
    let (steps, kept): (i64, i64) = {
        let r = c
            .query_one(
                "SELECT (SELECT count(*) FROM gdpr.journal_entry WHERE request = 'dsr-pg' AND phase = 'done'),
                        (SELECT count(*) FROM gdpr.restriction WHERE NOT lifted)",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert!(steps >= 5, "{steps} steps journaled");
    assert_eq!(kept, 1, "the recent study is kept and registered");
    // Resuming the answered request runs nothing again.
    let resume = gdpr(d, &with_ctx(&["request", "resume", "dsr-pg"], "dpo-1"), "");
    assert_eq!(resume.code, 0, "{}", resume.stderr);
    let again: i64 = c
        .query_one(
            "SELECT count(*) FROM gdpr.journal_entry WHERE request = 'dsr-pg' AND phase = 'done'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(again, steps);

    // The request's own audit records are in the tenant's PostgreSQL log
    // (one per transition, by source), none in the directory; the
    // PostgreSQL log verifies and a certificate issued from it verifies.
    let (stage_records, total): (i64, i64) = {
        let rows = c
            .query(
                "SELECT body FROM gdpr.audit_entries WHERE NOT checkpoint",
                &[],
            )
            .unwrap();
        let stage = rows
            .iter()
            .filter(|r| {
                let body: Vec<u8> = r.get(0);
                let rec = gdpr_audit::record::Record::decode(&body).unwrap();
                rec.source().as_str() == gdpr_request::SOURCE
                    && rec.action() == gdpr_audit::action::Action::Execute
            })
            .count();
        (
            i64::try_from(stage).unwrap(),
            i64::try_from(rows.len()).unwrap(),
        )
    };
    let request: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("requests/dsr-pg/request.json")).unwrap())
            .unwrap();
    let transitions = request["history"].as_array().map_or(0, Vec::len);
    assert!(transitions >= 6, "{request}");
    assert_eq!(stage_records, i64::try_from(transitions).unwrap());
    assert!(total > stage_records, "the erasure's store records too");
    let file_log = gdpr_audit::verify_dir(
        d.join("audit"),
        &gdpr_audit::Verifier::parse(&std::fs::read_to_string(d.join("audit/public.key")).unwrap())
            .unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(file_log.records, 0, "nothing went to the directory");
    let verify = gdpr(
        d,
        &[
            "audit",
            "verify",
            "--postgres",
            "tenant.conn",
            "--public-key",
            "audit/public.key",
        ],
        "",
    );
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let cert = gdpr(
        d,
        &with_ctx(
            &["request", "certificate", "dsr-pg", "--out", "cert.json"],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(cert.code, 0, "{}", cert.stderr);
    let checked = support::verify_certificate(gdpr, d, "cert.json");
    assert_eq!(checked.code, 0, "{}{}", checked.stdout, checked.stderr);
    // --audit-log and --postgres together are refused (exit 2).
    let both = gdpr(
        d,
        &[
            "request",
            "resume",
            "dsr-pg",
            "--config",
            "systems.toml",
            "--audit-log",
            "audit",
            "--audit-key",
            "audit.key",
            "--postgres",
            "tenant.conn",
            "--kek",
            "kek",
        ],
        "",
    );
    assert_eq!(both.code, 2, "{}", both.stderr);
}

/// `gdpr authorize … --postgres tenant.conn --kek kek` of quality
/// assurance for `patient`: exit code and JSON.
fn authorize_pg(dir: &Path, patient: &str) -> (i32, serde_json::Value) {
    let (activity, ask) = support::qa_ask(dir, patient);
    let place = ["--postgres", "tenant.conn", "--kek", "kek"];
    support::authorize(gdpr, dir, (&activity, &ask), &place)
}

#[test]
fn an_objection_run_on_postgres_is_honoured_by_authorize_on_postgres() {
    let (dir, tenant, config) = setup();
    let d = dir.path();
    assert_eq!(authorize_pg(d, TARGET).0, 0, "before the objection");
    let index = support::index(TARGET);
    let new = [
        "request",
        "new",
        "--id",
        "dsr-pgo",
        "--kind",
        "objection",
        "--index",
        "-",
    ];
    assert_eq!(gdpr(d, &new, &index).code, 0);
    for (cmd, by) in [("assess", "dpo-1"), ("approve", "dpo-2"), ("run", "dpo-1")] {
        let r = gdpr(d, &with_ctx(&["request", cmd, "dsr-pgo"], by), "");
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
    }
    // Registered in PostgreSQL, under the subject-wide id; no file.
    assert!(!d.join("restrictions/objections.jsonl").exists());
    let mut c = config.connect().unwrap();
    let rows: Vec<(String, String)> = c
        .query("SELECT subject, request FROM gdpr.objection", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].0.starts_with("gdpr-subject:"), "{rows:?}");
    assert_eq!(rows[0].1, "dsr-pgo");
    // Resuming the completed request registers nothing again.
    let resume = gdpr(d, &with_ctx(&["request", "resume", "dsr-pgo"], "dpo-1"), "");
    assert_eq!(resume.code, 0, "{}", resume.stderr);
    let history: i64 = c
        .query_one("SELECT count(*) FROM gdpr.objection_history", &[])
        .unwrap()
        .get(0);
    assert_eq!(history, 1);

    let (code, v) = authorize_pg(d, TARGET);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["reasons"][0]["code"], "objection", "{v}");
    assert_eq!(v["reasons"][0]["citation"], "GDPR Art. 21(1)", "{v}");
    let (code, v) = authorize_pg(d, "OTHER-CLI-PG-2");
    assert_eq!(code, 0, "another patient: {v}");
    // A request file without `patient` is refused with --postgres (exit 2).
    std::fs::write(
        d.join("anonymous.json"),
        r#"{"at":"2026-03-01T00:00:00Z","actor":{"id":"dr-weber","role":"physician",
           "secrecy":{"kind":"professional","source":"§ 203(1) Nr. 1 StGB"}},
           "purpose":"quality-assurance","categories":["imaging-examination"]}"#,
    )
    .unwrap();
    let anonymous = gdpr(
        d,
        &[
            "authorize",
            "--activity",
            "qa.json",
            "--request",
            "anonymous.json",
            "--postgres",
            "tenant.conn",
            "--kek",
            "kek",
        ],
        "",
    );
    assert_eq!(anonymous.code, 2, "{}", anonymous.stderr);
    assert!(
        anonymous.stderr.contains("anonymous.json"),
        "{}",
        anonymous.stderr
    );

    // The controller's compelling grounds (Art. 21(1)), recorded with
    // `request grounds --postgres`: on the objection's row (once, also when
    // given again), the reason in clear nowhere in the database.
    std::fs::write(
        d.join("grounds.toml"),
        "version = 1\nground = \"compelling-legitimate-grounds\"\n\
         purposes = [\"quality-assurance\"]\nassessment = \"DPO case 2026-14\"\n\
         by = \"dpo-1\"\nreason = \"CANARY-REASON board minutes\"\n",
    )
    .unwrap();
    let args = ["request", "grounds", "dsr-pgo", "--grounds", "grounds.toml"];
    for _ in 0..2 {
        let r = gdpr(d, &with_ctx(&args, "dpo-1"), "");
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stdout.contains("CANARY-REASON"), "{}", r.stdout);
    }
    let (entries, history, clear): (i64, i64, i64) = {
        let r = c
            .query_one(
                "SELECT (SELECT count(*) FROM gdpr.objection WHERE entry LIKE '%overridden-by%'),
                        (SELECT count(*) FROM gdpr.objection_history),
                        (SELECT count(*) FROM gdpr.objection_history WHERE entry LIKE '%CANARY%')",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!((entries, history, clear), (1, 2, 0));
    let (code, v) = authorize_pg(d, TARGET);
    assert_eq!(code, 0, "the grounds cover quality assurance: {v}");
    assert!(
        v["safeguards"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "compelling-grounds"),
        "{v}"
    );
    drop(tenant);
}
