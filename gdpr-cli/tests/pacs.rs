//! `gdpr pacs` end to end on a folder store of generated DICOM files.

use std::path::Path;
use std::process::{Command, Stdio};

use gdpr_dicom::synthetic::SyntheticInstance;

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.77";

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    for (pid, studies) in [("CANARY-CLI-1", 2), ("OTHER-CLI-2", 1)] {
        for study in 1..=studies {
            let mut inst = SyntheticInstance::new(ROOT, pid, study, 1, 1);
            inst.modality = if study == 1 {
                "CT".into()
            } else {
                "RTDOSE".into()
            };
            inst.write_to(&store.join(format!("{pid}-{study}.dcm")))
                .unwrap();
        }
    }
    let config = dir.path().join("systems.toml");
    std::fs::write(
        &config,
        format!(
            "[systems.archive]\nkind = \"folder\"\npath = \"{}\"\n",
            store.display()
        ),
    )
    .unwrap();
    (dir, config)
}

fn gdpr(args: &[&str], config: &Path) -> (i32, serde_json::Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .arg("pacs")
        .args(args)
        .args(["--config", config.to_str().unwrap(), "--system", "archive"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (
        output.status.code().unwrap(),
        json,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn locate_export_erase_from_the_command_line() {
    let (dir, config) = setup();
    let (code, json, _) = gdpr(&["locate", "--patient-id", "CANARY-CLI-1"], &config);
    assert_eq!(code, 0);
    let studies = json["studies"].as_array().unwrap();
    assert_eq!(studies.len(), 2);
    let categories: Vec<_> = studies
        .iter()
        .map(|s| s["category"].as_str().unwrap())
        .collect();
    assert!(categories.contains(&"radiotherapy"));
    assert!(categories.contains(&"imaging-examination"));
    assert!(
        studies
            .iter()
            .all(|s| s["study_uid"].as_str().unwrap().starts_with(ROOT))
    );
    assert!(
        studies
            .iter()
            .all(|s| s["id"].as_str().unwrap().starts_with("study-"))
    );
    assert!(studies.iter().all(|s| s["study_date"].is_string()));

    let out = dir.path().join("export");
    let (code, json, _) = gdpr(
        &[
            "export",
            "--patient-id",
            "CANARY-CLI-1",
            "--out",
            out.to_str().unwrap(),
        ],
        &config,
    );
    assert_eq!(code, 0);
    assert_eq!(json["files"], 2);
    assert!(out.join("manifest.json").exists());

    // A sealed audit log, made as a DPO would.
    let audit = dir.path().join("audit");
    let key = dir.path().join("audit.key");
    let status = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(["audit", "init", audit.to_str().unwrap(), "--key-out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let audit_arg = audit.to_str().unwrap();
    let key_arg = key.to_str().unwrap();
    // Without an audit log, nothing is erased.
    let (code, _, stderr) = gdpr(&["erase", "--patient-id", "CANARY-CLI-1", "--yes"], &config);
    assert_eq!(code, 2);
    assert!(stderr.contains("--audit-log"), "{stderr}");
    // Without --yes and without a terminal, nothing is erased.
    let (code, _, stderr) = gdpr(
        &[
            "erase",
            "--patient-id",
            "CANARY-CLI-1",
            "--audit-log",
            audit_arg,
            "--audit-key",
            key_arg,
        ],
        &config,
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("--yes"), "{stderr}");
    let (_, json, _) = gdpr(&["locate", "--patient-id", "CANARY-CLI-1"], &config);
    assert_eq!(json["studies"].as_array().unwrap().len(), 2);

    let (code, json, _) = gdpr(
        &[
            "erase",
            "--patient-id",
            "CANARY-CLI-1",
            "--yes",
            "--audit-log",
            audit_arg,
            "--audit-key",
            key_arg,
            "--actor",
            "dpo.jones",
        ],
        &config,
    );
    assert_eq!(code, 0);
    // Exactly one event (the erasure) in the sealed log, and the log verifies.
    let export = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args([
            "audit", "export", audit_arg, "--format", "jsonl", "--redact",
        ])
        .output()
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    let text = String::from_utf8(export.stdout).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(r#""type":"record""#))
        .collect();
    assert_eq!(lines.len(), 1, "one audit event per operation: {text}");
    assert!(lines[0].contains("erasure"), "{text}");
    assert!(lines[0].contains("data-subject-request"), "{text}");
    assert!(!text.contains("CANARY"), "redacted export leaks: {text}");
    let verify = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(["audit", "verify", audit_arg, "--public-key"])
        .arg(audit.join("public.key"))
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    assert_eq!(json["verified"], true);
    // The folder store checks derived copies itself: nothing unchecked.
    assert_eq!(json["not_checked"], serde_json::json!([]));
    assert_eq!(json["erased"].as_array().unwrap().len(), 2);
    assert!(json["left"].as_array().unwrap().is_empty());

    let (_, json, _) = gdpr(&["locate", "--patient-id", "CANARY-CLI-1"], &config);
    assert!(json["studies"].as_array().unwrap().is_empty());
    let (_, json, _) = gdpr(&["locate", "--patient-id", "OTHER-CLI-2"], &config);
    assert_eq!(json["studies"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_configuration_is_exit_code_2_and_names_no_patient() {
    let (dir, config) = setup();
    let (code, _, stderr) = gdpr(
        &["locate", "--patient-id", "CANARY-CLI-1"],
        &dir.path().join("missing.toml"),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.toml"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(["pacs", "locate", "--patient-id", "CANARY-CLI-1"])
        .args(["--system", "nope", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("archive"), "{stderr}");
    assert!(!stderr.contains("CANARY"), "{stderr}");
}

fn gdpr_audit_cmd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .arg("audit")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_command_that_records_signs_its_records() {
    let (dir, config) = setup();
    let audit = dir.path().join("audit");
    let key = dir.path().join("audit.key");
    let (a, k) = (audit.to_str().unwrap(), key.to_str().unwrap());
    let public = audit.join("public.key");
    let p = public.to_str().unwrap();
    assert!(
        gdpr_audit_cmd(&["init", a, "--key-out", k])
            .status
            .success()
    );
    let log_file = audit.join("log");
    let before_erase = std::fs::read(&log_file).unwrap();
    let (code, _, stderr) = gdpr(
        &[
            "erase",
            "--patient-id",
            "CANARY-CLI-1",
            "--yes",
            "--audit-log",
            a,
            "--audit-key",
            k,
        ],
        &config,
    );
    assert_eq!(code, 0, "{stderr}");
    let verify = gdpr_audit_cmd(&["verify", a, "--public-key", p]);
    let said = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(
        said.contains("last at size 1, 0 records after it not yet signed"),
        "{said}"
    );
    // An auditor keeps the latest checkpoint; cutting the erasure's
    // records off is then caught.
    let export = gdpr_audit_cmd(&["export", a, "--format", "jsonl", "--redact"]);
    let text = String::from_utf8(export.stdout).unwrap();
    let latest = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .rfind(|v| v["type"] == "checkpoint")
        .unwrap();
    let trusted = dir.path().join("trusted.cp");
    std::fs::write(&trusted, latest["note"].as_str().unwrap()).unwrap();
    std::fs::write(&log_file, &before_erase).unwrap();
    let verify = gdpr_audit_cmd(&[
        "verify",
        a,
        "--public-key",
        p,
        "--trusted-checkpoint",
        trusted.to_str().unwrap(),
    ]);
    assert_eq!(verify.status.code(), Some(1), "{verify:?}");

    // locate and export with an audit log sign their records too.
    std::fs::remove_dir_all(&audit).unwrap();
    std::fs::remove_file(&key).unwrap();
    assert!(
        gdpr_audit_cmd(&["init", a, "--key-out", k])
            .status
            .success()
    );
    let out = dir.path().join("export");
    for args in [
        vec!["locate", "--patient-id", "OTHER-CLI-2"],
        vec![
            "export",
            "--patient-id",
            "OTHER-CLI-2",
            "--out",
            out.to_str().unwrap(),
        ],
    ] {
        let mut all = args.clone();
        all.extend(["--audit-log", a, "--audit-key", k]);
        let (code, _, stderr) = gdpr(&all, &config);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        let verify = gdpr_audit_cmd(&["verify", a, "--public-key", p]);
        let said = String::from_utf8_lossy(&verify.stdout).into_owned();
        assert!(
            said.contains(", 0 records after it not yet signed"),
            "{said}"
        );
        assert!(
            !said.contains("last at size 0,"),
            "{args:?} recorded nothing: {said}"
        );
    }
}

#[test]
fn a_tampered_audit_log_exits_1_under_pacs_as_under_audit() {
    let (dir, config) = setup();
    let audit = dir.path().join("audit");
    let key = dir.path().join("audit.key");
    let (a, k) = (audit.to_str().unwrap(), key.to_str().unwrap());
    assert!(
        gdpr_audit_cmd(&["init", a, "--key-out", k])
            .status
            .success()
    );
    let args = [
        "locate",
        "--patient-id",
        "OTHER-CLI-2",
        "--audit-log",
        a,
        "--audit-key",
        k,
    ];
    let (code, _, stderr) = gdpr(&args, &config);
    assert_eq!(code, 0, "{stderr}");
    // Flip a byte inside the first record's frame (after its 5-byte header).
    let log_file = audit.join("log");
    let mut bytes = std::fs::read(&log_file).unwrap();
    bytes[5 + 20] ^= 1;
    std::fs::write(&log_file, &bytes).unwrap();
    let (code, _, stderr) = gdpr(&args, &config);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("tampered"), "{stderr}");
    let p = audit.join("public.key");
    let verify = gdpr_audit_cmd(&["verify", a, "--public-key", p.to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(1), "{verify:?}");
    let append = gdpr_audit_cmd(&["checkpoint", a, "--key", k]);
    assert_eq!(append.status.code(), Some(1), "{append:?}");
}

/// `gdpr pacs` with `--patient-id-file FILE` (or `-`, standard input).
fn gdpr_with_stdin(args: &[&str], config: &Path, stdin: &[u8]) -> (i32, serde_json::Value, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .arg("pacs")
        .args(args)
        .args(["--config", config.to_str().unwrap(), "--system", "archive"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (
        output.status.code().unwrap(),
        json,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_patient_id_comes_from_a_file_or_stdin_and_never_from_argv() {
    let (dir, config) = setup();
    let file = dir.path().join("patient.txt");
    std::fs::write(&file, "CANARY-CLI-1\n").unwrap();
    let f = file.to_str().unwrap();
    let (code, json, _) = gdpr(&["locate", "--patient-id-file", f], &config);
    assert_eq!(code, 0);
    assert_eq!(json["studies"].as_array().unwrap().len(), 2);
    // Standard input, with a Windows line end.
    let (code, json, _) = gdpr_with_stdin(
        &["locate", "--patient-id-file", "-"],
        &config,
        b"OTHER-CLI-2\r\n",
    );
    assert_eq!(code, 0);
    assert_eq!(json["studies"].as_array().unwrap().len(), 1);
    // Two lines, an empty file, /dev/zero and both options: exit 2, naming
    // the input but never its content.
    std::fs::write(&file, "CANARY-CLI-1\nOTHER-CLI-2\n").unwrap();
    let (code, _, stderr) = gdpr(&["locate", "--patient-id-file", f], &config);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("patient.txt") && !stderr.contains("CANARY"),
        "{stderr}"
    );
    std::fs::write(&file, "").unwrap();
    assert_eq!(gdpr(&["locate", "--patient-id-file", f], &config).0, 2);
    let (code, _, stderr) = gdpr(&["locate", "--patient-id-file", "/dev/zero"], &config);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/dev/zero"), "{stderr}");
    let (code, _, _) = gdpr(
        &[
            "locate",
            "--patient-id-file",
            f,
            "--patient-id",
            "CANARY-CLI-1",
        ],
        &config,
    );
    assert_eq!(code, 2);
    // Erasure through the file: the other patient's file stays.
    std::fs::write(&file, "CANARY-CLI-1").unwrap();
    let audit = dir.path().join("audit");
    let key = dir.path().join("audit.key");
    let init = gdpr_audit_cmd(&[
        "init",
        audit.to_str().unwrap(),
        "--key-out",
        key.to_str().unwrap(),
    ]);
    assert!(init.status.success());
    let (code, json, stderr) = gdpr(
        &[
            "erase",
            "--patient-id-file",
            f,
            "--yes",
            "--audit-log",
            audit.to_str().unwrap(),
            "--audit-key",
            key.to_str().unwrap(),
        ],
        &config,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verified"], true);
    assert_eq!(
        gdpr(&["locate", "--patient-id", "OTHER-CLI-2"], &config).1["studies"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
