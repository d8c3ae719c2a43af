//! `gdpr ehr` end to end against the FAKE OpenEMR of gdpr-ehr's tests
//! (gdpr-ehr/tests/support/fake_openemr/, included from there, not copied:
//! OpenEMR itself cannot be installed here), and its refusals of hostile
//! input. The real FHIR server's tests are in `ehr_fhir.rs`.

#[path = "../../gdpr-ehr/tests/support/fake_openemr/mod.rs"]
mod fake_openemr;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fake_openemr::{CLIENT_ID, FakeOpenEmr};
use serde_json::json;

const CANARY: &str = "CANARY-ehr-5c1e";
const SYSTEM: &str = "urn:oid:1.2.276.0.76.3.1.1";

/// The output of one `gdpr` run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or(serde_json::Value::Null)
    }
}

fn gdpr(args: &[&str], stdin: &[u8]) -> Run {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses early may not read its standard input.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `gdpr ehr ACTION --config … --system emr --patient-id-file FILE ARGS…`.
fn ehr(action: &str, config: &Path, patient: &str, args: &[&str], stdin: &[u8]) -> Run {
    let mut all = vec![
        "ehr",
        action,
        "--config",
        config.to_str().unwrap(),
        "--system",
        "emr",
        "--patient-id-file",
        patient,
    ];
    all.extend_from_slice(args);
    gdpr(&all, stdin)
}

/// Two patients: `pa` (the subject: an allergy, a problem-list condition,
/// an encounter diagnosis, a medication-list entry, an observation) and
/// `pb` (an allergy).
fn seed(fake: &FakeOpenEmr) {
    for (id, value) in [("pa", format!("MRN-{CANARY}")), ("pb", "MRN-OTHER".into())] {
        fake.add(json!({"resourceType": "Patient", "id": id,
            "identifier": [{"system": SYSTEM, "value": value}],
            "name": [{"family": format!("{CANARY}-{id}")}], "birthDate": "1970-01-01"}));
    }
    let of = |p: &str| json!({"reference": format!("Patient/{p}")});
    for (id, p) in [("a1", "pa"), ("b1", "pb")] {
        fake.add(json!({"resourceType": "AllergyIntolerance", "id": id, "patient": of(p)}));
    }
    for (id, cat) in [("c1", "problem-list-item"), ("c2", "encounter-diagnosis")] {
        fake.add(
            json!({"resourceType": "Condition", "id": id, "subject": of("pa"),
            "category": [{"coding": [{"system":
                "http://terminology.hl7.org/CodeSystem/condition-category", "code": cat}]}]}),
        );
    }
    fake.add(
        json!({"resourceType": "MedicationRequest", "id": "m1", "status": "active",
        "intent": "order", "medicationCodeableConcept": {"text": "x"}, "subject": of("pa")}),
    );
    fake.add(
        json!({"resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"text": "x"}, "subject": of("pa"), "effectiveDateTime": "2020-01-01"}),
    );
    let mut s = fake.state.lock().unwrap();
    s.pids.insert("pa".into(), 1);
    s.pids.insert("pb".into(), 2);
    s.medication_rows.insert(7, "m1".into());
}

/// A systems.toml naming the fake as `emr` (a private_key_jwt client; the
/// token endpoint is the site's default), and the patient file.
fn setup(dir: &Path, root: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("client.pem");
    std::fs::write(&key, fake_openemr::jwt::CLIENT_RSA_KEY).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.join("systems.toml");
    std::fs::write(
        &config,
        format!(
            "[systems.emr]\nkind = \"openemr\"\nurl = \"{root}\"\nclient_id = \"{CLIENT_ID}\"\n\
             client_key_file = \"{}\"\nclient_key_algorithm = \"RS384\"\n\
             scopes = [\"system/*.read\"]\npage_size = 2\n",
            key.display()
        ),
    )
    .unwrap();
    let patient = dir.join("patient.txt");
    std::fs::write(&patient, format!("{SYSTEM}|MRN-{CANARY}\n")).unwrap();
    (config, patient)
}

fn audit_log(dir: &Path) -> (String, String) {
    let (log, key) = (dir.join("audit"), dir.join("audit.key"));
    let init = gdpr(
        &[
            "audit",
            "init",
            log.to_str().unwrap(),
            "--key-out",
            key.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(init.code, 0, "{}", init.stderr);
    (
        log.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    )
}

fn assert_no_canary(runs: &[&Run]) {
    for run in runs {
        for line in run.stdout.lines().chain(run.stderr.lines()) {
            assert!(
                !line.contains(CANARY),
                "a patient value was printed: {line}"
            );
            assert!(
                !line.contains("MRN-"),
                "a patient value was printed: {line}"
            );
        }
    }
}

#[test]
fn openemr_locate_export_erase_with_the_residual_report() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(fake_openemr::start(Duration::from_secs(300)));
    seed(&fake);
    let dir = tempfile::tempdir().unwrap();
    let (config, patient) = setup(dir.path(), &fake.root);
    let file = patient.to_str().unwrap();

    let located = ehr("locate", &config, file, &["--json"], b"");
    assert_eq!(located.code, 0, "{}", located.stderr);
    let records = located.json()["records"].as_array().unwrap().clone();
    let mut ids: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "AllergyIntolerance:a1",
            "Condition:c1",
            "Condition:c2",
            "MedicationRequest:m1",
            "Observation:o1",
            "Patient:pa"
        ]
    );
    // The Patient's birth date is not listed.
    assert!(!located.stdout.contains("1970"), "{}", located.stdout);
    // The summary form, from standard input.
    let text = ehr(
        "locate",
        &config,
        "-",
        &[],
        format!("{SYSTEM}|MRN-{CANARY}\r\n").as_bytes(),
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.starts_with("emr (openemr): 6 records"),
        "{}",
        text.stdout
    );

    let out = dir.path().join("export");
    let export = ehr(
        "export",
        &config,
        file,
        &["--out", out.to_str().unwrap(), "--json"],
        b"",
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(export.json()["records"], 6);
    assert_eq!(export.json()["complete"], true);
    assert!(out.join("manifest.json").is_file() && out.join("bundle.json").is_file());

    // Erasure needs the audit log and a confirmation.
    let refused = ehr("erase", &config, file, &["--yes"], b"");
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--audit-log"), "{}", refused.stderr);
    let (log, key) = audit_log(dir.path());
    let audit = ["--audit-log", &log, "--audit-key", &key];
    let unconfirmed = ehr("erase", &config, file, &audit, b"erase\n");
    assert_eq!(unconfirmed.code, 2, "{}", unconfirmed.stderr);
    assert!(fake.has("AllergyIntolerance/a1"), "erased without --yes");

    let mut args = audit.to_vec();
    args.push("--yes");
    let erased = ehr("erase", &config, file, &args, b"");
    // OpenEMR deletes no patient: what its API deletes is gone, the rest is
    // reported with its area and the administrator task; exit 1, partial.
    assert_eq!(erased.code, 1, "{}{}", erased.stdout, erased.stderr);
    assert!(
        erased.stdout.contains("erasure partial: 3 records erased"),
        "{}",
        erased.stdout
    );
    for left in [
        "Patient:pa",
        "Condition:c2",
        "Observation:o1",
        "log:deleted-rows",
    ] {
        assert!(
            erased
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("  left {left}: "))),
            "{left} not reported: {}",
            erased.stdout
        );
    }
    assert!(erased.stdout.contains("`log` table"), "{}", erased.stdout);
    for gone in [
        "AllergyIntolerance/a1",
        "Condition/c1",
        "MedicationRequest/m1",
    ] {
        assert!(!fake.has(gone), "{gone} still there");
    }
    for kept in ["AllergyIntolerance/b1", "Patient/pb", "Observation/o1"] {
        assert!(fake.has(kept), "{kept} was erased");
    }
    // The audit log holds the erasure (and the refused attempt's nothing),
    // names no patient value, and verifies.
    let export = gdpr(
        &["audit", "export", &log, "--format", "jsonl", "--redact"],
        b"",
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    let events: Vec<&str> = export
        .stdout
        .lines()
        .filter(|l| l.contains(r#""type":"record""#))
        .collect();
    assert_eq!(events.len(), 1, "{}", export.stdout);
    assert!(events[0].contains("erasure"), "{}", export.stdout);
    let public = format!("{log}/public.key");
    let verify = gdpr(&["audit", "verify", &log, "--public-key", &public], b"");
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

    assert_no_canary(&[&located, &text, &export, &refused, &unconfirmed, &erased]);
    assert!(!export.stdout.contains(CANARY));
}

#[test]
fn hostile_identifier_input_is_exit_2_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: every refusal comes before the network.
    let (config, patient) = setup(dir.path(), "http://127.0.0.1:9");
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let fifo = dir.path().join("fifo-input");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let cases: Vec<(String, &str)> = vec![
        (
            dir.path().join("missing-input").display().to_string(),
            "missing-input",
        ),
        (fifo.display().to_string(), "fifo-input"),
        (file("huge-input", &vec![b'x'; 10 << 20]), "huge-input"),
        (file("empty-input", b""), "empty-input"),
        (
            file("bare-input", format!("{CANARY}\n").as_bytes()),
            "bare-input",
        ),
        (
            file("two-lines", format!("{SYSTEM}|{CANARY}\nx|y\n").as_bytes()),
            "two-lines",
        ),
        (
            file("bad-id", format!("Patient/{CANARY} x").as_bytes()),
            "bad-id",
        ),
        (file("binary", &[0xff, 0xfe, b'|', 0x00]), "binary"),
        ("/dev/zero".to_owned(), "/dev/zero"),
        (dir.path().display().to_string(), "is a directory"),
    ];
    let out = dir.path().join("never-written");
    let export_args = ["--out", out.to_str().unwrap()];
    for (path, named) in &cases {
        for (action, args) in [("locate", &[][..]), ("export", &export_args[..])] {
            let run = ehr(action, &config, path, args, b"");
            assert_eq!(run.code, 2, "{path}: {}", run.stderr);
            assert!(run.stderr.contains(named), "{path}: {}", run.stderr);
            assert_no_canary(&[&run]);
        }
    }
    assert!(!out.exists(), "an export was started on bad input");
    let stdin = ehr("locate", &config, "-", &[], CANARY.as_bytes());
    assert_eq!(stdin.code, 2);
    assert!(stdin.stderr.contains("standard input"), "{}", stdin.stderr);
    let huge = ehr("locate", &config, "-", &[], &vec![b'|'; 1 << 20]);
    assert_eq!(huge.code, 2);
    assert!(huge.stderr.contains("standard input"), "{}", huge.stderr);
    // The identifier is never an argument.
    let argv = gdpr(
        &[
            "ehr",
            "locate",
            "--config",
            config.to_str().unwrap(),
            "--system",
            "emr",
            "--patient-id",
            "x|y",
        ],
        b"",
    );
    assert_eq!(argv.code, 2, "{}", argv.stderr);
    // A system that is not configured, and a bad systems file.
    let p = patient.to_str().unwrap();
    let run = gdpr(
        &[
            "ehr",
            "locate",
            "--config",
            config.to_str().unwrap(),
            "--system",
            "nope",
            "--patient-id-file",
            p,
        ],
        b"",
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no system named `nope`"),
        "{}",
        run.stderr
    );
    assert_no_canary(&[&stdin, &huge, &argv, &run]);
}

/// A system that fails: the error names the system (its name in the
/// systems file) and the step, never the patient; exit 1.
#[test]
fn a_failing_system_is_named_with_the_step() {
    let dir = tempfile::tempdir().unwrap();
    // A loopback port nobody listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (config, patient) = setup(dir.path(), &format!("http://127.0.0.1:{port}"));
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("max_attempts = 1\ntimeout_seconds = 5\n");
    std::fs::write(&config, text).unwrap();
    let run = ehr("locate", &config, patient.to_str().unwrap(), &[], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("system emr: "), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("system emr: POST {token_url} (client credentials) failed"),
        "the step: {}",
        run.stderr
    );
    assert_no_canary(&[&run]);
}

#[test]
fn a_request_reaches_an_openemr_system_named_by_a_fhir_identifier() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(fake_openemr::start(Duration::from_secs(300)));
    seed(&fake);
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = setup(dir.path(), &fake.root);
    let (log, key) = audit_log(dir.path());
    let requests = dir.path().join("requests");
    let requests = requests.to_str().unwrap();
    let index =
        format!("version = 1\n[systems.emr]\nfhir-identifier = \"{SYSTEM}|MRN-{CANARY}\"\n");
    let new = gdpr(
        &[
            "request",
            "--requests",
            requests,
            "new",
            "--id",
            "dsr-ehr-1",
            "--kind",
            "erasure-consent-withdrawn",
            "--index",
            "-",
        ],
        index.as_bytes(),
    );
    assert_eq!(new.code, 0, "{}", new.stderr);
    let register = dir.path().join("register");
    let pack = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/samples/imaging-pack.toml"
    );
    let assess = gdpr(
        &[
            "request",
            "--requests",
            requests,
            "assess",
            "dsr-ehr-1",
            "--config",
            config.to_str().unwrap(),
            "--audit-log",
            &log,
            "--audit-key",
            &key,
            "--register",
            register.to_str().unwrap(),
            "--pack",
            pack,
        ],
        b"",
    );
    // Every record of the patient on OpenEMR is assessed (the imaging pack
    // has no rule for them: a person decides), none of the other patient's.
    assert_eq!(assess.code, 0, "{}", assess.stderr);
    let mut assessed: Vec<&str> = assess
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("emr\t"))
        .filter_map(|l| l.split('\t').next())
        .collect();
    assessed.sort();
    assert_eq!(
        assessed,
        [
            "AllergyIntolerance:a1",
            "Condition:c1",
            "Condition:c2",
            "MedicationRequest:m1",
            "Observation:o1",
            "Patient:pa"
        ],
        "{}",
        assess.stdout
    );
    assert_no_canary(&[&new, &assess]);
}
