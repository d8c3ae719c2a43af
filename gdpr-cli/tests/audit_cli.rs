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

/// A fresh log: (directory, signing key, public key) as strings.
fn new_log(tmp: &Path) -> (String, String, String) {
    let dir = tmp.join("log");
    let key = tmp.join("signer.key");
    let (d, k) = (dir.to_str().unwrap(), key.to_str().unwrap());
    let o = gdpr(&["audit", "init", d, "--key-out", k], None);
    assert!(o.status.success(), "{}", text(&o));
    let p = dir.join("public.key");
    (d.to_owned(), k.to_owned(), p.to_str().unwrap().to_owned())
}

fn append_lines(tmp: &Path, d: &str, k: &str, lines: &str) -> Output {
    let input = tmp.join("in.jsonl");
    fs::write(&input, lines).unwrap();
    gdpr(
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
    )
}

#[test]
fn append_refuses_subject_ids_that_could_not_be_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, k, p) = new_log(tmp.path());
    let long = format!("CANARY{}", "x".repeat(60));
    for bad in [
        "{\"id\":\"\"}".to_owned(),
        "{\"id\":\"CANARY\\u0007\"}".to_owned(),
        format!("{{\"id\":\"{long}\"}}"),
        "{\"id\":\"CANARY\",\"issuer\":\" \"}".to_owned(),
    ] {
        let line = EVENT.replace("{\"id\":\"CANARY-PID-99\"}", &bad);
        let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n{line}\n"));
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(text(&o).contains("line 2"), "{}", text(&o));
        assert!(text(&o).contains("1 to 64 characters"), "{}", text(&o));
        assert!(!text(&o).contains("CANARY"), "{}", text(&o));
    }
    // Only the good first line of each run was appended (it comes before
    // the bad one); the log still exports.
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p], None);
    assert!(text(&o).contains("VALID: 4 records"), "{}", text(&o));
    let o = gdpr(&["audit", "export", &d, "--format", "jsonl"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn export_lists_an_unreadable_record_and_exits_1() {
    use gdpr_audit::FileKeyStore;
    use gdpr_audit::FileStore;
    use gdpr_audit::event::AuditEvent;
    use gdpr_audit::record::Record;
    use gdpr_audit::seal::SealedFields;
    use gdpr_audit::signing::Signer;
    use gdpr_audit::store::{AuditStore, Entry};
    use gdpr_audit::{AuditLog, CheckpointPolicy};
    use gdpr_core::subject::PatientId;

    let tmp = tempfile::tempdir().unwrap();
    let (d, k, p) = new_log(tmp.path());
    let other = EVENT.replace("CANARY-PID-99", "OTHER-1");
    let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n{other}\n"));
    assert!(o.status.success(), "{}", text(&o));
    // A record whose personal fields cannot be read, written below the
    // checks (as a damaged or older writer would have).
    let dir = Path::new(&d);
    let keys = FileKeyStore::open(FileStore::keys_path(dir)).unwrap();
    let key_id = keys
        .find(&PatientId::new("CANARY-PID-99").unwrap())
        .unwrap();
    drop(keys);
    let signer = Signer::parse(&fs::read_to_string(&k).unwrap()).unwrap();
    let log = AuditLog::with_stores(
        FileStore::open(dir, false).unwrap(),
        FileKeyStore::open(FileStore::keys_path(dir)).unwrap(),
        signer,
        CheckpointPolicy::default(),
    )
    .unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&other).unwrap();
    value["recorded"] = "2026-11-25T10:00:00Z".into();
    let event: AuditEvent = serde_json::from_value(value).unwrap();
    let last = log.append(&event).unwrap();
    let sealed = SealedFields::from_parts(key_id, [7; 24], vec![9; 40]).unwrap();
    let record = Record::new(&event, last.position + 1, last.leaf_hash, Some(sealed)).unwrap();
    let ticket = log
        .store()
        .stage(&[Entry::Record(record.encode())])
        .unwrap();
    log.store().commit(ticket).unwrap();
    drop(log);
    let o = append_lines(tmp.path(), &d, &k, &format!("{other}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p], None);
    assert!(text(&o).contains("VALID: 5 records"), "{}", text(&o));

    for args in [
        vec!["--format", "jsonl"],
        vec!["--format", "jsonl", "--redact"],
        vec!["--format", "fhir"],
        vec!["--format", "dicom"],
        vec!["--format", "jsonl", "--subject", "CANARY-PID-99"],
    ] {
        let mut all = vec!["audit", "export", &d];
        all.extend(&args);
        let o = gdpr(&all, None);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains("PARTIAL: 1 records could not be read"),
            "{}",
            text(&o)
        );
        assert!(text(&o).contains("unreadable"), "{args:?}: {}", text(&o));
    }
    let o = gdpr(&["audit", "export", &d, "--format", "jsonl"], None);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "record")
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[3]["personal"]["status"], "unreadable");
    assert_eq!(lines[3]["personal"]["cause"], "decrypt-failed");
    assert_eq!(lines[4]["personal"]["status"], "readable");
}

#[test]
fn verify_reports_a_damaged_key_store_apart_from_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, k, p) = new_log(tmp.path());
    let other = EVENT.replace("CANARY-PID-99", "OTHER-1");
    let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n{other}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("key store intact (2 subject keys)"),
        "{}",
        text(&o)
    );
    let keys = Path::new(&d).join("keys");
    let good = fs::read(&keys).unwrap();
    for at in [3, 40, 120, good.len() - 5] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        fs::write(&keys, &bad).unwrap();
        let o = gdpr(&["audit", "verify", &d, "--public-key", &p], None);
        assert_eq!(o.status.code(), Some(1), "byte {at}: {}", text(&o));
        assert!(
            text(&o).contains("KEY STORE DAMAGED: key store damaged at byte"),
            "{}",
            text(&o)
        );
        assert!(!text(&o).contains("VALID") && !text(&o).contains("TAMPERED"));
    }
    fs::write(&keys, &good).unwrap();
}

#[test]
fn a_public_key_of_another_log_is_bad_input_not_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let (d, k, _) = new_log(&a);
    let (_, _, p_other) = new_log(&b);
    let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p_other], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("this key does not belong to this log"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("TAMPERED"), "{}", text(&o));
    // The signing key of another log, likewise.
    let k_other = b.join("signer.key");
    let o = append_lines(
        tmp.path(),
        &d,
        k_other.to_str().unwrap(),
        &format!("{EVENT}\n"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("this key does not belong to this log"),
        "{}",
        text(&o)
    );
    // The log's own key still verifies it.
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p_own(&d)], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

fn p_own(d: &str) -> String {
    Path::new(d).join("public.key").to_str().unwrap().to_owned()
}

#[test]
fn key_files_are_capped_and_the_signing_key_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let (d, k, p) = new_log(tmp.path());
    // /dev/zero as a public key, a checkpoint or a signing key: refused
    // quickly, naming the file.
    for args in [
        vec!["verify", &d, "--public-key", "/dev/zero"],
        vec![
            "verify",
            &d,
            "--public-key",
            &p,
            "--trusted-checkpoint",
            "/dev/zero",
        ],
        vec![
            "--allow-insecure-key-permissions",
            "checkpoint",
            &d,
            "--key",
            "/dev/zero",
        ],
    ] {
        let mut all = vec!["audit"];
        all.extend(&args);
        let o = gdpr(&all, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains("/dev/zero: larger than 64 KiB"),
            "{args:?}: {}",
            text(&o)
        );
    }
    // A signing key readable by others is refused, or used with a warning.
    fs::set_permissions(&k, fs::Permissions::from_mode(0o644)).unwrap();
    let o = gdpr(&["audit", "checkpoint", &d, "--key", &k], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("mode 644"), "{}", text(&o));
    assert!(text(&o).contains("chmod 600"), "{}", text(&o));
    let o = gdpr(
        &[
            "audit",
            "checkpoint",
            &d,
            "--key",
            &k,
            "--allow-insecure-key-permissions",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("warning:"), "{}", text(&o));
    fs::set_permissions(&k, fs::Permissions::from_mode(0o600)).unwrap();
    // A key store readable by others is warned about.
    let keys = Path::new(&d).join("keys");
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o640)).unwrap();
    let o = gdpr(&["audit", "checkpoint", &d, "--key", &k], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("the key store is accessible to group or others"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_failed_init_leaves_no_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("afile");
    fs::write(&blocker, "not a directory").unwrap();
    let dir = blocker.join("log");
    let key = tmp.path().join("signer.key");
    let o = gdpr(
        &[
            "audit",
            "init",
            dir.to_str().unwrap(),
            "--key-out",
            key.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        !key.exists(),
        "the key of a log that was never made remains"
    );
    // In an existing directory, only what init made is removed.
    let dir = tmp.path().join("existing");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    fs::create_dir(dir.join("keys")).unwrap();
    let o = gdpr(
        &[
            "audit",
            "init",
            dir.to_str().unwrap(),
            "--key-out",
            key.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!key.exists());
    assert!(!dir.join("log").exists() && !dir.join("public.key").exists());
    assert!(dir.join("notes.txt").exists() && dir.join("keys").is_dir());
}

#[test]
fn a_failed_prune_leaves_no_log_new() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, k, p) = new_log(tmp.path());
    let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let many = format!("{EVENT}\n").repeat(99);
    let o = append_lines(tmp.path(), &d, &k, &many);
    assert!(o.status.success(), "{}", text(&o));
    // A file size limit stands in for a full disk: writing log.new fails
    // part way.
    let o = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_gdpr"))
        .args(["audit", "prune", &d, "--key", &k, "--before", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let dir = Path::new(&d);
    assert!(!dir.join("log.new").exists(), "log.new left behind");
    assert!(!dir.join("anchor.json.tmp").exists());
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p], None);
    assert!(text(&o).contains("VALID: 100 records"), "{}", text(&o));
}

#[test]
fn events_about_an_erased_subject_wait_for_begin_relationship() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, k, p) = new_log(tmp.path());
    let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let erase = [
        "audit",
        "erase-subject",
        &d,
        "--subject",
        "CANARY-PID-99",
        "--key",
        &k,
    ];
    let o = gdpr(&erase, None);
    assert!(o.status.success(), "{}", text(&o));
    // Refused (bad input, exit 2), nothing appended, nothing identifying said.
    let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("begin-relationship"), "{}", text(&o));
    assert!(!text(&o).contains("CANARY"), "{}", text(&o));
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p], None);
    assert!(text(&o).contains("VALID: 2 records"), "{}", text(&o));
    // After the caller says a new relationship began, events are recorded.
    let begin = [
        "audit",
        "begin-relationship",
        &d,
        "--subject",
        "CANARY-PID-99",
        "--key",
        &k,
    ];
    let o = gdpr(&begin, None);
    assert!(o.status.success(), "{}", text(&o));
    let o = append_lines(tmp.path(), &d, &k, &format!("{EVENT}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let o = gdpr(&["audit", "verify", &d, "--public-key", &p], None);
    assert!(text(&o).contains("VALID: 3 records"), "{}", text(&o));
}
