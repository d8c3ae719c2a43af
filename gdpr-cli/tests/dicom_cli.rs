//! `gdpr dicom keygen` and `gdpr dicom deidentify` as a user runs them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use gdpr_dicom::synthetic::{Instance, Kind, write};

fn gdpr(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn study(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 1..=n {
        let inst = Instance::numbered("1.2.826.0.1.3680043.10.9999.3", i);
        let f = std::fs::File::create(dir.join(format!("DOE_JANE_{i}.dcm"))).unwrap();
        write(Kind::Ct { rows: 8, cols: 8 }, &inst, f).unwrap();
    }
}

#[test]
fn keygen_writes_a_private_key_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = gdpr(&["dicom", "keygen", "project.key"], tmp.path());
    assert!(out.status.success());
    let key = tmp.path().join("project.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&key).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(text.trim()),
        "key printed"
    );
    let again = gdpr(&["dicom", "keygen", "project.key"], tmp.path());
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing key is never overwritten"
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);
}

#[test]
fn deidentify_reports_every_input_and_sets_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(gdpr(&["dicom", "keygen", "k"], tmp.path()).status.success());
    study(&tmp.path().join("in"), 3);

    let ok = gdpr(
        &[
            "dicom",
            "deidentify",
            "--key-file",
            "k",
            "--option",
            "retain-longitudinal-modified-dates",
            "--out",
            "out",
            "in",
        ],
        tmp.path(),
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    std::fs::write(
        tmp.path().join("in/DOE_JANE_notes.dcm"),
        "DOE^JANE SYN-000123",
    )
    .unwrap();
    let partial = gdpr(
        &[
            "dicom",
            "deidentify",
            "--key-file",
            "k",
            "--jobs",
            "2",
            "--report",
            "r.jsonl",
            "--out",
            "out2",
            "in",
        ],
        tmp.path(),
    );
    assert_eq!(partial.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&partial.stderr);
    assert!(
        !stderr.contains("DOE") && !stderr.contains("SYN-000123"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(tmp.path().join("r.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines.iter().filter(|l| l["status"] == "written").count(), 3);
    let failed = lines.iter().find(|l| l["status"] == "failed").unwrap();
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("not a DICOM file")
    );
    assert!(failed["output"].is_null());
    for l in lines.iter().filter(|l| l["status"] == "written") {
        assert!(
            Path::new(tmp.path())
                .join(l["output"].as_str().unwrap())
                .is_file()
        );
    }
    let mode = std::fs::metadata(tmp.path().join("r.jsonl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the report is sensitive");
}

#[test]
fn bad_arguments_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(gdpr(&["dicom", "keygen", "k"], tmp.path()).status.success());
    study(&tmp.path().join("in"), 1);
    let base = ["dicom", "deidentify", "--key-file", "k", "--out", "out"];
    let unknown = gdpr(
        &[&base[..], &["--option", "retain-everything", "in"]].concat(),
        tmp.path(),
    );
    assert_eq!(unknown.status.code(), Some(2));
    let both = gdpr(
        &[
            &base[..],
            &[
                "--option",
                "retain-longitudinal-full-dates",
                "--option",
                "retain-longitudinal-modified-dates",
                "in",
            ],
        ]
        .concat(),
        tmp.path(),
    );
    assert_eq!(both.status.code(), Some(2));
    std::fs::write(tmp.path().join("badkey"), "not a key").unwrap();
    let badkey = gdpr(
        &[
            "dicom",
            "deidentify",
            "--key-file",
            "badkey",
            "--out",
            "out",
            "in",
        ],
        tmp.path(),
    );
    assert_eq!(badkey.status.code(), Some(2));
    assert!(
        !tmp.path().join("out").exists()
            || std::fs::read_dir(tmp.path().join("out"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn burned_in_suspects_are_refused_or_quarantined_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(gdpr(&["dicom", "keygen", "k"], tmp.path()).status.success());
    study(&tmp.path().join("in"), 1);
    // Turn the CT into an ultrasound whose Burned In Annotation is not NO.
    let path = tmp.path().join("in/DOE_JANE_1.dcm");
    let mut bytes = std::fs::read(&path).unwrap();
    let m = bytes
        .windows(6)
        .position(|w| w == b"\x08\x00\x60\x00CS")
        .unwrap();
    bytes[m + 8..m + 10].copy_from_slice(b"US");
    let b = bytes
        .windows(6)
        .position(|w| w == b"\x28\x00\x01\x03CS")
        .unwrap();
    bytes[b + 8..b + 10].copy_from_slice(b"  ");
    std::fs::write(&path, bytes).unwrap();

    let refused = gdpr(
        &[
            "dicom",
            "deidentify",
            "--key-file",
            "k",
            "--report",
            "r1",
            "--out",
            "o1",
            "in",
        ],
        tmp.path(),
    );
    assert_eq!(refused.status.code(), Some(1));
    let r1 = std::fs::read_to_string(tmp.path().join("r1")).unwrap();
    assert!(r1.contains("\"status\":\"refused\""), "{r1}");
    assert!(
        !tmp.path()
            .join("o1")
            .read_dir()
            .unwrap()
            .any(|e| e.unwrap().path().is_dir())
    );

    let quarantined = gdpr(
        &[
            "dicom",
            "deidentify",
            "--key-file",
            "k",
            "--burned-in",
            "quarantine",
            "--report",
            "r2",
            "--out",
            "o2",
            "in",
        ],
        tmp.path(),
    );
    assert_eq!(quarantined.status.code(), Some(1));
    let r2 = std::fs::read_to_string(tmp.path().join("r2")).unwrap();
    assert!(r2.contains("\"status\":\"quarantined\""), "{r2}");
    assert!(tmp.path().join("o2/quarantine").is_dir());
}

fn no_outputs(dir: &Path) -> bool {
    !dir.exists() || std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn the_report_never_follows_a_link_and_is_made_private_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(gdpr(&["dicom", "keygen", "k"], tmp.path()).status.success());
    study(&tmp.path().join("in"), 2);
    let base = ["dicom", "deidentify", "--key-file", "k"];

    // A link planted at the report path: refused, its target untouched.
    std::fs::write(tmp.path().join("victim"), "keep me").unwrap();
    std::os::unix::fs::symlink("victim", tmp.path().join("r.jsonl")).unwrap();
    let linked = gdpr(
        &[&base[..], &["--report", "r.jsonl", "--out", "o1", "in"]].concat(),
        tmp.path(),
    );
    assert_eq!(linked.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&linked.stderr).contains("--report"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("victim")).unwrap(),
        "keep me"
    );
    assert!(
        no_outputs(&tmp.path().join("o1")),
        "outputs before the report"
    );

    // An unwritable report path fails before any output is written.
    let missing = gdpr(
        &[
            &base[..],
            &["--report", "no/such/dir/r", "--out", "o2", "in"],
        ]
        .concat(),
        tmp.path(),
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        no_outputs(&tmp.path().join("o2")),
        "outputs before the report"
    );

    // An existing world-readable report becomes 0600.
    std::fs::write(tmp.path().join("old.jsonl"), "stale").unwrap();
    std::fs::set_permissions(
        tmp.path().join("old.jsonl"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let ok = gdpr(
        &[&base[..], &["--report", "old.jsonl", "--out", "o3", "in"]].concat(),
        tmp.path(),
    );
    assert_eq!(ok.status.code(), Some(0));
    let meta = std::fs::metadata(tmp.path().join("old.jsonl")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let report = std::fs::read_to_string(tmp.path().join("old.jsonl")).unwrap();
    assert!(!report.contains("stale") && report.lines().count() == 2);
}

#[test]
fn absurd_jobs_and_an_output_folder_inside_the_input_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(gdpr(&["dicom", "keygen", "k"], tmp.path()).status.success());
    study(&tmp.path().join("in"), 1);
    let base = ["dicom", "deidentify", "--key-file", "k"];
    let started = std::time::Instant::now();
    let jobs = gdpr(
        &[&base[..], &["--jobs", "100000", "--out", "o", "in"]].concat(),
        tmp.path(),
    );
    assert_eq!(jobs.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&jobs.stderr).contains("--jobs"));
    assert!(no_outputs(&tmp.path().join("o")));
    // Not a timing assertion on speed: a refusal must not start the threads.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    for (out, input) in [("in/out", "in"), ("./in/../in/x/y", "in"), ("o2", "o2/in")] {
        if input == "o2/in" {
            study(&tmp.path().join(input), 1);
        }
        let r = gdpr(&[&base[..], &["--out", out, input]].concat(), tmp.path());
        assert_eq!(r.status.code(), Some(2), "--out {out} {input}");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(
            stderr.contains("--out") && stderr.contains("#1"),
            "{stderr}"
        );
    }
    assert!(!tmp.path().join("in/out").exists() && !tmp.path().join("in/x").exists());
}

#[test]
fn duplicates_are_skipped_and_uid_collisions_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(gdpr(&["dicom", "keygen", "k"], tmp.path()).status.success());
    study(&tmp.path().join("in"), 2);
    std::fs::copy(
        tmp.path().join("in/DOE_JANE_1.dcm"),
        tmp.path().join("in/DOE_JANE_1_copy.dcm"),
    )
    .unwrap();
    let base = ["dicom", "deidentify", "--key-file", "k", "--report"];
    let dup = gdpr(
        &[&base[..], &["r1", "--out", "o1", "in"]].concat(),
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&dup.stderr);
    assert_eq!(dup.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("2 written, 1 duplicate, 0 uid-collision"),
        "{stderr}"
    );
    let r1 = std::fs::read_to_string(tmp.path().join("r1")).unwrap();
    assert_eq!(r1.matches("\"status\":\"duplicate\"").count(), 1, "{r1}");

    // The same SOP Instance UID with another Instance Number.
    let mut other = Instance::numbered("1.2.826.0.1.3680043.10.9999.3", 1);
    other.instance_number = 42;
    let f = std::fs::File::create(tmp.path().join("in/DOE_JANE_1_z.dcm")).unwrap();
    write(Kind::Ct { rows: 8, cols: 8 }, &other, f).unwrap();
    let clash = gdpr(
        &[&base[..], &["r2", "--out", "o2", "in"]].concat(),
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&clash.stderr);
    assert_eq!(clash.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 uid-collision"), "{stderr}");
    let r2 = std::fs::read_to_string(tmp.path().join("r2")).unwrap();
    assert_eq!(
        r2.matches("\"status\":\"uid-collision\"").count(),
        1,
        "{r2}"
    );
    let files = collect(&tmp.path().join("o2"));
    assert_eq!(files.len(), 2, "{files:?}");
}

fn collect(dir: &Path) -> Vec<std::path::PathBuf> {
    gdpr_dicom::deid::collect_inputs(&[dir.to_owned()]).unwrap()
}

#[test]
fn report_text_is_refused_unless_cleaned_and_what_is_left_is_reported() {
    use gdpr_dicom::synthetic::sr::{comprehensive_sr, content_items, write_sr};
    let tmp = tempfile::tempdir().unwrap();
    assert!(gdpr(&["dicom", "keygen", "k"], tmp.path()).status.success());
    std::fs::create_dir_all(tmp.path().join("in")).unwrap();
    let i = Instance::numbered("1.2.826.0.1.3680043.10.9999.3", 9);
    let f = std::fs::File::create(tmp.path().join("in/DOE_JANE_report.dcm")).unwrap();
    write_sr(&comprehensive_sr(&i, content_items(&i)), f).unwrap();
    let base = ["dicom", "deidentify", "--key-file", "k", "--report"];

    let refused = gdpr(
        &[&base[..], &["r1", "--out", "o1", "in"]].concat(),
        tmp.path(),
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("structured-content") && !stderr.contains("DOE"),
        "{stderr}"
    );
    let r1 = std::fs::read_to_string(tmp.path().join("r1")).unwrap();
    assert!(
        r1.contains("\"status\":\"refused\"") && r1.contains("\"refusal\":\"structured-content\""),
        "{r1}"
    );

    let clean = ["--option", "clean-structured-content"];
    let cleaned = gdpr(
        &[&base[..], &["r2", "--out", "o2"], &clean[..], &["in"]].concat(),
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&cleaned.stderr);
    assert_eq!(cleaned.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("1 written with structured content to check"),
        "{stderr}"
    );
    let r2 = std::fs::read_to_string(tmp.path().join("r2")).unwrap();
    assert!(r2.contains("5 or more digits"), "{r2}");

    let patterned = gdpr(
        &[
            &base[..],
            &["r3", "--out", "o3"],
            &clean[..],
            &["--scrub-pattern", "(?i)prior exam \\d+", "in"],
        ]
        .concat(),
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&patterned.stderr);
    assert_eq!(patterned.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("to check"), "{stderr}");
    let r3 = std::fs::read_to_string(tmp.path().join("r3")).unwrap();
    assert!(r3.contains("\"uncleaned\":[]"), "{r3}");

    let bad = gdpr(
        &[
            &base[..],
            &["r4", "--out", "o4"],
            &clean[..],
            &["--scrub-pattern", "(", "in"],
        ]
        .concat(),
        tmp.path(),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("scrub pattern #1"));
    assert!(no_outputs(&tmp.path().join("o4")));
}
