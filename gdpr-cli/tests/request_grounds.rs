//! `gdpr request grounds ID --grounds FILE` (GDPR Art. 21(1)) on the file
//! register: the controller's compelling grounds recorded on the objection
//! a completed objection request registered — journaled, audited once,
//! the reason sealed (in clear nowhere on disk or in any output), and
//! honoured by the next `gdpr authorize --register`; a hostile file, a
//! request of another kind and other grounds exit 2 and change nothing.

mod support;

use std::path::Path;

use support::{Run, with_ctx};

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.81";
const TARGET: &str = "CANARY-CLI-GROUNDS-1";
const REASON: &str = "CANARY-REASON tumour board minutes";

fn gdpr(dir: &Path, args: &[&str], stdin: &str) -> Run {
    support::run(dir, args, stdin, &[], &[TARGET, "CANARY-REASON"])
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let studies = [(TARGET, 1, None), ("OTHER-CLI-GROUNDS-2", 1, None)];
    support::folder_store(dir.path(), ROOT, &studies);
    support::audit_init(gdpr, dir.path());
    dir
}

fn new_request(d: &Path, id: &str, kind: &str) {
    support::new_request(gdpr, d, (id, kind), TARGET);
}

/// `gdpr authorize` of quality assurance on legitimate interests for
/// the target, with the file register: exit code and JSON.
fn ask(d: &Path) -> (i32, serde_json::Value) {
    let (activity, ask) = support::qa_ask(d, TARGET);
    let place = ["--register", "restrictions", "--audit-log", "audit"];
    support::authorize(gdpr, d, (&activity, &ask), &place)
}

/// The number of records in the audit log (verified).
fn audit_records(d: &Path) -> u64 {
    let key = std::fs::read_to_string(d.join("audit/public.key")).unwrap();
    let verifier = gdpr_audit::Verifier::parse(&key).unwrap();
    gdpr_audit::verify_dir(d.join("audit"), &verifier, None)
        .unwrap()
        .records
}

/// Every byte under `d` (request directories, register, audit log).
fn nowhere_in_clear(d: &Path, needle: &[u8]) {
    for entry in walk(d) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} holds the reason in clear",
            entry.display()
        );
    }
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn grounds_file(ground: &str, reason: &str) -> String {
    format!(
        "version = 1\nground = \"{ground}\"\npurposes = [\"quality-assurance\"]\n\
         assessment = \"DPO case 2026-14\"\nby = \"dpo-1\"\nreason = \"{reason}\"\n"
    )
}

/// An objection request taken to completion: the register holds it.
fn objected(d: &Path) {
    new_request(d, "dsr-o", "objection");
    for (cmd, by) in [("assess", "dpo-1"), ("approve", "dpo-2"), ("run", "dpo-1")] {
        let r = gdpr(d, &with_ctx(&["request", cmd, "dsr-o"], by), "");
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
    }
}

#[test]
fn recorded_grounds_are_sealed_audited_once_and_let_authorize_permit() {
    let dir = setup();
    let d = dir.path();
    objected(d);
    let (code, v) = ask(d);
    assert_eq!(code, 3, "the objection stops it: {v}");
    let before = audit_records(d);

    std::fs::write(
        d.join("grounds.toml"),
        grounds_file("compelling-legitimate-grounds", REASON),
    )
    .unwrap();
    let args = [
        "request",
        "grounds",
        "dsr-o",
        "--grounds",
        "grounds.toml",
        "--json",
    ];
    let r = gdpr(d, &with_ctx(&args, "dpo-1"), "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["grounds"]["ground"], "compelling-legitimate-grounds");
    assert_eq!(out["grounds"]["citation"], "GDPR Art. 21(1)");
    assert_eq!(out["grounds"]["purposes"][0], "quality-assurance");
    assert_eq!(out["audit-record"]["event"], "objection-grounds-recorded");
    assert_eq!(out["replayed"], false);
    assert_eq!(audit_records(d), before + 1, "one audit record");
    let register = std::fs::read_to_string(d.join("restrictions/objections.jsonl")).unwrap();
    assert_eq!(
        register.lines().count(),
        2,
        "the objection, then its grounds"
    );
    assert!(register.lines().nth(1).unwrap().contains("overridden-by"));
    let stored = std::fs::read_to_string(d.join("requests/dsr-o/grounds.json")).unwrap();
    assert!(stored.contains("reason-sealed"), "{stored}");
    nowhere_in_clear(d.join("requests").as_path(), b"CANARY-REASON");
    nowhere_in_clear(d.join("restrictions").as_path(), b"CANARY-REASON");
    nowhere_in_clear(d.join("audit").as_path(), b"CANARY-REASON");

    let (code, v) = ask(d);
    assert_eq!(code, 0, "the grounds cover quality assurance: {v}");
    let safeguard = v["safeguards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "compelling-grounds")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(safeguard["citation"], "GDPR Art. 21(1)");

    // The same grounds again: replayed, nothing recorded twice.
    let again = gdpr(d, &with_ctx(&args, "dpo-1"), "");
    assert_eq!(again.code, 0, "{}", again.stderr);
    let out2: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(out2["replayed"], true);
    assert_eq!(out2["audit-record"], out["audit-record"]);
    assert_eq!(audit_records(d), before + 1);
    let register2 = std::fs::read_to_string(d.join("restrictions/objections.jsonl")).unwrap();
    assert_eq!(register2, register);

    // Other grounds on the same objection: exit 2, nothing changed.
    std::fs::write(
        d.join("other.toml"),
        grounds_file("legal-claims", "CANARY-REASON other"),
    )
    .unwrap();
    let other = ["request", "grounds", "dsr-o", "--grounds", "other.toml"];
    let r = gdpr(d, &with_ctx(&other, "dpo-1"), "");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(audit_records(d), before + 1);
    assert_eq!(
        std::fs::read_to_string(d.join("restrictions/objections.jsonl")).unwrap(),
        register
    );
}

#[test]
fn a_hostile_grounds_file_or_another_kind_of_request_exits_2_and_changes_nothing() {
    let dir = setup();
    let d = dir.path();
    objected(d);
    let register = std::fs::read_to_string(d.join("restrictions/objections.jsonl")).unwrap();
    let before = audit_records(d);
    let journal = std::fs::read(d.join("requests/dsr-o/journal.jsonl")).unwrap();
    let hostile = [
        ("ground.toml", grounds_file("CANARY-GROUND", REASON)),
        (
            "marketing.toml",
            grounds_file("legal-claims", REASON).replace("quality-assurance", "direct-marketing"),
        ),
        (
            "extra.toml",
            format!(
                "{}extra = \"CANARY-EXTRA\"\n",
                grounds_file("legal-claims", REASON)
            ),
        ),
        ("empty-reason.toml", grounds_file("legal-claims", "")),
        (
            "broken.toml",
            "version = 1\nground = \"CANARY-BROKEN".to_owned(),
        ),
        ("huge.toml", format!("# {}\n", "x".repeat(100 << 10))),
    ];
    for (name, text) in &hostile {
        std::fs::write(d.join(name), text).unwrap();
        let args = ["request", "grounds", "dsr-o", "--grounds", name];
        let r = gdpr(d, &with_ctx(&args, "dpo-1"), "");
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
        assert!(!r.stderr.contains("CANARY"), "{name}: {}", r.stderr);
    }
    let missing = ["request", "grounds", "dsr-o", "--grounds", "missing.toml"];
    let r = gdpr(d, &with_ctx(&missing, "dpo-1"), "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.toml"), "{}", r.stderr);
    assert!(!d.join("requests/dsr-o/grounds.json").exists());
    assert_eq!(audit_records(d), before);
    assert_eq!(
        std::fs::read_to_string(d.join("restrictions/objections.jsonl")).unwrap(),
        register
    );
    assert_eq!(
        std::fs::read(d.join("requests/dsr-o/journal.jsonl")).unwrap(),
        journal
    );

    // Grounds on a request of another kind, or an objection not yet run.
    std::fs::write(d.join("good.toml"), grounds_file("legal-claims", REASON)).unwrap();
    new_request(d, "dsr-a", "access");
    new_request(d, "dsr-o2", "objection");
    for id in ["dsr-a", "dsr-o2"] {
        let args = ["request", "grounds", id, "--grounds", "good.toml"];
        let r = gdpr(d, &with_ctx(&args, "dpo-1"), "");
        assert_eq!(r.code, 2, "{id}: {}", r.stderr);
        assert!(!d.join(format!("requests/{id}/grounds.json")).exists());
    }
    assert_eq!(audit_records(d), before);
}
