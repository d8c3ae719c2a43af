//! `gdpr audit` end to end, with the real binary: exit codes 0 / 1 / 2.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn gdpr(args: &[&str], stdin: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gdpr"));
    c.args(args);
    if let Some(p) = stdin {
        c.stdin(fs::File::open(p).unwrap());
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const EVENT: &str = r#"{"event_type":"patient-record","action":"read","outcome":"success","actor":{"id":"dr.x","role":"physician","secrecy":{"kind":"professional","source":"§ 203(1) Nr. 1 StGB"}},"purpose":"treatment","lawful_basis":{"kind":"special-category","art6":"contract","art9":"health-care"},"subject":{"id":"CANARY-PID-99"},"object":{"kind":"study","id":"1.2.840.99"},"source":"PACS-1","tenant":"hospital-a"}"#;

#[test]
fn audit_lifecycle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let key = tmp.path().join("signer.key");
    let d = dir.to_str().unwrap();
    let k = key.to_str().unwrap();
    let o = gdpr(&["audit", "init", d, "--key-out", k], None);
    assert!(o.status.success(), "{}", text(&o));
    let public = dir.join("public.key");
    let p = public.to_str().unwrap();

    let input = tmp.path().join("events.jsonl");
    let other = EVENT
        .replace("CANARY-PID-99", "OTHER-1")
        .replace("\"read\"", "\"update\"");
    fs::write(&input, format!("{EVENT}\n{other}\n\n{EVENT}\n")).unwrap();
    let o = gdpr(
        &[
            "audit",
            "append",
            d,
            "--key",
            k,
            "--input",
            input.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("appended 3 records"), "{}", text(&o));
    // Standard input works too.
    let one = tmp.path().join("one.jsonl");
    fs::write(&one, format!("{EVENT}\n")).unwrap();
    let o = gdpr(&["audit", "append", d, "--key", k], Some(&one));
    assert!(o.status.success(), "{}", text(&o));

    let o = gdpr(&["audit", "checkpoint", d, "--key", k], None);
    assert!(o.status.success());
    let trusted = tmp.path().join("trusted.cp");
    fs::write(&trusted, &o.stdout).unwrap();
    let t = trusted.to_str().unwrap();

    let o = gdpr(
        &[
            "audit",
            "verify",
            d,
            "--public-key",
            p,
            "--trusted-checkpoint",
            t,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("VALID: 4 records"), "{}", text(&o));

    let o = gdpr(&["audit", "prove", d, "--index", "2"], None);
    assert!(o.status.success(), "{}", text(&o));
    let proof: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(proof["tree_size"], 4);
    assert_eq!(proof["inclusion_proof"].as_array().unwrap().len(), 2);
    let o = gdpr(
        &["audit", "prove", d, "--index", "0", "--from-size", "3"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let proof: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(proof["consistency"]["proof"].as_array().unwrap().len(), 3);
    let o = gdpr(&["audit", "prove", d, "--index", "9"], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    let o = gdpr(
        &["audit", "subject-report", d, "--subject", "CANARY-PID-99"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["entries"].as_array().unwrap().len(), 3);
    assert!(!text(&o).contains("dr.x"), "staff identity without --staff");
    let o = gdpr(
        &[
            "audit",
            "subject-report",
            d,
            "--subject",
            "CANARY-PID-99",
            "--staff",
        ],
        None,
    );
    assert!(text(&o).contains("dr.x"));

    for (format, needle) in [
        ("jsonl", "\"inclusion_proof\""),
        ("fhir", "\"resourceType\":\"AuditEvent\""),
        ("dicom", "<EventID csd-code=\"110110\""),
    ] {
        let o = gdpr(&["audit", "export", d, "--format", format], None);
        assert!(o.status.success(), "{format}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(needle),
            "{format}"
        );
    }
    let o = gdpr(&["audit", "export", d, "--format", "fhir"], None);
    let bundle: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 4);

    // Erase the subject; the log still verifies, the export shows the gap.
    let o = gdpr(
        &[
            "audit",
            "erase-subject",
            d,
            "--subject",
            "CANARY-PID-99",
            "--key",
            k,
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let receipt: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let key_id = receipt["key_id"].as_str().unwrap().to_owned();
    let o = gdpr(
        &[
            "audit",
            "verify",
            d,
            "--public-key",
            p,
            "--trusted-checkpoint",
            t,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gdpr(
        &[
            "audit", "export", d, "--format", "jsonl", "--key-id", &key_id,
        ],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.matches("\"status\":\"erased\"").count(), 4, "{out}");
    assert!(!out.contains("CANARY"));
    let o = gdpr(
        &["audit", "subject-report", d, "--subject", "CANARY-PID-99"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    // Nothing on disk holds the canary in clear.
    for e in fs::read_dir(&dir).unwrap() {
        let b = fs::read(e.unwrap().path()).unwrap();
        assert!(!b.windows(6).any(|w| w == b"CANARY"));
    }

    // Tampering: exit 1 with the position; truncation caught by the trusted checkpoint.
    let log = dir.join("log");
    let orig = fs::read(&log).unwrap();
    let mut bad = orig.clone();
    let n = bad.len();
    bad[n / 2] ^= 0x04;
    fs::write(&log, &bad).unwrap();
    let o = gdpr(&["audit", "verify", d, "--public-key", p], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("TAMPERED: log tampered at record"),
        "{}",
        text(&o)
    );
    fs::write(&log, &orig[..orig.len() / 3]).unwrap();
    let o = gdpr(
        &[
            "audit",
            "verify",
            d,
            "--public-key",
            p,
            "--trusted-checkpoint",
            t,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    fs::write(&log, &orig).unwrap();

    // Pruning before the checkpoint at 4 keeps the rest verifiable.
    let o = gdpr(&["audit", "prune", d, "--key", k, "--before", "4"], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = gdpr(&["audit", "verify", d, "--public-key", p], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("(4 pruned before them)"), "{}", text(&o));
    let o = gdpr(&["audit", "prune", d, "--key", k, "--before", "3"], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // Bad input: exit 2, and the offending value is not echoed.
    let o = gdpr(&["audit", "verify", d, "--public-key", t], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let badin = tmp.path().join("bad.jsonl");
    fs::write(
        &badin,
        EVENT.replace("{\"id\":\"CANARY-PID-99\"}", "\"CANARY-PID-99\""),
    )
    .unwrap();
    let o = gdpr(
        &[
            "audit",
            "append",
            d,
            "--key",
            k,
            "--input",
            badin.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains("CANARY"), "{}", text(&o));
    assert!(text(&o).contains("line 1"), "{}", text(&o));
}

#[test]
fn documented_sample_appends_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let key = tmp.path().join("signer.key");
    let (d, k) = (dir.to_str().unwrap(), key.to_str().unwrap());
    assert!(
        gdpr(&["audit", "init", d, "--key-out", k], None)
            .status
            .success()
    );
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/samples/audit-events.jsonl"
    );
    let o = gdpr(&["audit", "append", d, "--key", k, "--input", sample], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("appended 3 records"), "{}", text(&o));
    let public = dir.join("public.key");
    let o = gdpr(
        &[
            "audit",
            "verify",
            d,
            "--public-key",
            public.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gdpr(
        &[
            "audit",
            "subject-report",
            d,
            "--subject",
            "PID-4711",
            "--issuer",
            "HOSPITAL-A",
        ],
        None,
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report["entries"].as_array().unwrap().len(),
        2,
        "{}",
        text(&o)
    );
}
