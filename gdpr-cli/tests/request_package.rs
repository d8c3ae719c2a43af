//! `gdpr request` and the audit log: an access request's package holds the
//! Art. 15 access report (staff by role unless `--staff-identities`) and
//! the recipients of the log's disclosure events merged with
//! `--disclosures`; an erasure prints the Art. 19 recipients to notify and
//! its certificate lists them. Another patient's disclosures never appear;
//! no patient identifier is printed.

mod support;

use std::path::Path;
use std::process::Command;

use support::with_ctx;

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.79";
const TARGET: &str = "CANARY-CLI-PKG-1";
const OTHER: &str = "OTHER-CLI-PKG-2";
const STAFF: &str = "dr.hidden.77";
const NAMED: &str = "Klinik Nord Radiologie";
const OTHERS: &str = "Praxis of the other patient";
const HOST: &str = "Krankenkasse Beispiel";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn gdpr(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for v in [TARGET, OTHER, OTHERS] {
        assert!(
            !run.stdout.contains(v) && !run.stderr.contains(v),
            "{v} was printed by {args:?}"
        );
    }
    run
}

fn line(patient: &str, action: &str, text: &str, day: u8) -> String {
    serde_json::json!({
        "event_type": "export", "action": action, "outcome": "success",
        "recorded": format!("2026-02-{day:02}T10:00:00Z"),
        "actor": {"id": STAFF, "role": "physician", "secrecy": {"kind": "none"}},
        "purpose": "care-coordination",
        "lawful_basis": {"kind": "special-category", "art6": "contract", "art9": "health-care"},
        "subject": {"id": patient},
        "object": {"kind": "document", "id": "letter-1"},
        "source": "EHR-1",
        "text": text,
    })
    .to_string()
}

/// A folder store with both patients, an audit log holding a read and a
/// disclosure of the target and a disclosure of the other patient, and a
/// host's disclosure file.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let studies = [(TARGET, 1, Some("19900105")), (OTHER, 1, Some("19900105"))];
    support::folder_store(d, ROOT, &studies);
    support::sample_pack(d);
    let init = gdpr(d, &["audit", "init", "audit", "--key-out", "audit.key"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let events = [
        line(TARGET, "read", "looked at the letter", 2),
        line(
            TARGET,
            "disclosure",
            &format!("letter about {TARGET}\nrecipient: {NAMED}"),
            3,
        ),
        line(OTHER, "disclosure", &format!("recipient: {OTHERS}"), 4),
    ];
    std::fs::write(d.join("events.jsonl"), events.join("\n") + "\n").unwrap();
    let append = gdpr(
        d,
        &[
            "audit",
            "append",
            "audit",
            "--key",
            "audit.key",
            "--input",
            "events.jsonl",
        ],
    );
    assert_eq!(append.code, 0, "{}", append.stderr);
    let host = format!(r#"[{{"recipient":"{HOST}","on":"2026-01-20","what":"invoice"}}]"#);
    std::fs::write(d.join("disclosures.json"), host).unwrap();
    let index = support::index(TARGET);
    std::fs::write(d.join("index.toml"), index).unwrap();
    dir
}

fn approved(d: &Path, id: &str, kind: &str) {
    let new = gdpr(
        d,
        &[
            "request",
            "new",
            "--id",
            id,
            "--kind",
            kind,
            "--index",
            "index.toml",
        ],
    );
    assert_eq!(new.code, 0, "{}", new.stderr);
    let mut assess = vec!["request", "assess", id];
    if kind.starts_with("erasure") {
        assess.extend(["--pack", "pack.toml"]);
    }
    let r = gdpr(d, &with_ctx(&assess, "dpo-1"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = gdpr(d, &with_ctx(&["request", "approve", id], "dpo-2"));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn the_access_package_holds_the_access_report_and_every_recipient() {
    let dir = setup();
    let d = dir.path();
    approved(d, "dsr-p", "access");
    let run = gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "run",
                "dsr-p",
                "--disclosures",
                "disclosures.json",
            ],
            "dpo-1",
        ),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let package = d.join("requests/dsr-p/package");
    let manifest = std::fs::read_to_string(package.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"access-report.html\"") && manifest.contains("\"access-report.json\"")
    );
    let json = std::fs::read_to_string(package.join("access-report.json")).unwrap();
    let html = std::fs::read_to_string(package.join("access-report.html")).unwrap();
    let summary = std::fs::read_to_string(package.join("summary.html")).unwrap();
    for (name, text) in [("json", &json), ("html", &html), ("summary", &summary)] {
        assert!(
            text.contains(NAMED) && text.contains(HOST),
            "{name}: a recipient is missing"
        );
        for v in [OTHERS, STAFF, TARGET] {
            assert!(!text.contains(v), "{name} shows {v}");
        }
    }
    assert!(html.contains("physician"));

    // The controller may name staff (C-579/21: when the patient needs it).
    approved(d, "dsr-q", "access");
    let run = gdpr(
        d,
        &with_ctx(&["request", "run", "dsr-q", "--staff-identities"], "dpo-1"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json =
        std::fs::read_to_string(d.join("requests/dsr-q/package/access-report.json")).unwrap();
    assert!(json.contains(STAFF));
}

#[test]
fn an_erasure_prints_and_certifies_the_recipients_to_notify() {
    let dir = setup();
    let d = dir.path();
    approved(d, "dsr-e", "erasure-consent-withdrawn");
    let run = gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "run",
                "dsr-e",
                "--disclosures",
                "disclosures.json",
            ],
            "dpo-1",
        ),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "to notify (GDPR Art. 19): {NAMED}, 1 disclosure(s) of clinical-note, first on 2026-02-03, last on 2026-02-03"
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(HOST), "{}", run.stdout);
    let cert = gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "certificate",
                "dsr-e",
                "--out",
                "cert.json",
                "--html",
                "cert.html",
            ],
            "dpo-1",
        ),
    );
    assert_eq!(cert.code, 0, "{}", cert.stderr);
    let verify = gdpr(
        d,
        &[
            "request",
            "verify-certificate",
            "cert.json",
            "--public-key",
            "audit/public.key",
        ],
    );
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    for file in ["cert.json", "cert.html"] {
        let text = std::fs::read_to_string(d.join(file)).unwrap();
        assert!(text.contains(NAMED) && text.contains(HOST), "{file}");
        for v in [OTHERS, TARGET, OTHER] {
            assert!(!text.contains(v), "{file} shows {v}");
        }
    }
}
