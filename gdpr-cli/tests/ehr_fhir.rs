//! `gdpr ehr` against the real FHIR R4 server (Helios HFS) that
//! scripts/fhir.sh starts (feature `fhir-tests`, on under --all-features;
//! without the server these tests fail). The helpers are gdpr-ehr's own
//! (gdpr-ehr/tests/support/), included from there.
#![cfg(feature = "fhir-tests")]

#[path = "../../gdpr-ehr/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;
use support::{Server, fhir_url, observation, patient, unique, validate, validator};

const CANARY: &str = "CANARY-fhir-9d2b";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn gdpr(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn ehr(action: &str, config: &Path, patient: &Path, args: &[&str]) -> Run {
    let mut all = vec![
        "ehr",
        action,
        "--config",
        config.to_str().unwrap(),
        "--system",
        "ehr",
        "--patient-id-file",
        patient.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    gdpr(&all)
}

/// The subject (an Encounter, two Observations) and a look-alike with the
/// same value under another system (one Observation); their logical ids.
async fn plant(server: &Server, system: &str) -> (String, String) {
    let value = format!("MRN-{CANARY}");
    let subject = server.create(patient(system, &value)).await;
    let twin = server
        .create(patient(&format!("{system}:other"), &value))
        .await;
    server.create(observation(&twin, "2021-01-01")).await;
    server
        .create(json!({"resourceType": "Encounter", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": format!("Patient/{subject}")},
            "period": {"start": "2020-01-01", "end": "2020-01-05"}}))
        .await;
    server.create(observation(&subject, "2020-01-02")).await;
    server.create(observation(&subject, "2020-01-03")).await;
    (subject, twin)
}

fn setup(dir: &Path, url: &str, system: &str) -> (PathBuf, PathBuf) {
    let config = dir.join("systems.toml");
    std::fs::write(
        &config,
        format!("[systems.ehr]\nkind = \"fhir\"\nurl = \"{url}\"\npage_size = 2\n"),
    )
    .unwrap();
    let patient = dir.join("patient.txt");
    std::fs::write(&patient, format!("{system}|MRN-{CANARY}\n")).unwrap();
    (config, patient)
}

fn assert_no_canary(runs: &[&Run]) {
    for run in runs {
        for line in run.stdout.lines().chain(run.stderr.lines()) {
            assert!(
                !line.contains(CANARY) && !line.contains("MRN-"),
                "a patient value was printed: {line}"
            );
        }
    }
}

#[test]
fn locate_export_erase_on_the_real_fhir_server() {
    let url = fhir_url();
    let validator = validator();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = Server::new(&url);
    let system = format!("urn:gdpr-cli-test:{}", unique());
    let (subject, twin) = runtime.block_on(plant(&server, &system));
    let dir = tempfile::tempdir().unwrap();
    let (config, patient) = setup(dir.path(), &url, &system);

    let located = ehr("locate", &config, &patient, &["--json"]);
    assert_eq!(located.code, 0, "{}", located.stderr);
    let value: serde_json::Value = serde_json::from_str(&located.stdout).unwrap();
    let mut kinds: Vec<&str> = value["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource_type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["Encounter", "Observation", "Observation", "Patient"]
    );
    assert!(located.stdout.contains(&format!("Patient:{subject}")));
    assert!(
        !located.stdout.contains(&twin),
        "the look-alike was located"
    );

    let out = dir.path().join("export");
    let export = ehr(
        "export",
        &config,
        &patient,
        &["--out", out.to_str().unwrap()],
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export.stdout.starts_with("ehr: 4 records exported"),
        "{}",
        export.stdout
    );
    let mut fhir_files = vec![out.join("bundle.json")];
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.ends_with(".ndjson") && name != "nonconformant-elements.ndjson" {
            fhir_files.push(path);
        }
    }
    let files: Vec<&Path> = fhir_files.iter().map(PathBuf::as_path).collect();
    validate(&validator, &files);

    let (log, key) = (dir.path().join("audit"), dir.path().join("audit.key"));
    let init = gdpr(&[
        "audit",
        "init",
        log.to_str().unwrap(),
        "--key-out",
        key.to_str().unwrap(),
    ]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let erased = ehr(
        "erase",
        &config,
        &patient,
        &[
            "--yes",
            "--audit-log",
            log.to_str().unwrap(),
            "--audit-key",
            key.to_str().unwrap(),
        ],
    );
    // Helios serves every deleted version from _history: the records are
    // gone from reads and searches, but none is verified gone and the
    // erasure is honestly partial (exit 1), each record printed as left
    // with the reason and the administrator's task.
    assert_eq!(erased.code, 1, "{}{}", erased.stdout, erased.stderr);
    assert!(
        erased
            .stdout
            .starts_with("ehr: erasure partial: 0 records erased and verified gone, 4 left"),
        "{}",
        erased.stdout
    );
    let history = erased
        .stdout
        .lines()
        .filter(|l| l.starts_with("  left ") && l.contains("_history"))
        .count();
    assert_eq!(history, 4, "{}", erased.stdout);
    let (status, _) = runtime.block_on(server.get(&format!("Patient/{subject}")));
    assert!(status == 404 || status == 410, "Patient read: {status}");
    let (status, _) = runtime.block_on(server.get(&format!("Patient/{twin}")));
    assert_eq!(status, 200, "the look-alike was erased");
    let public = log.join("public.key");
    let verify = gdpr(&[
        "audit",
        "verify",
        log.to_str().unwrap(),
        "--public-key",
        public.to_str().unwrap(),
    ]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

    // By logical id, after the erasure: nothing readable is left to find.
    std::fs::write(&patient, format!("Patient/{subject}")).unwrap();
    let again = ehr("locate", &config, &patient, &[]);
    assert_ne!(again.code, 0, "{}", again.stdout);
    assert_no_canary(&[&located, &export, &erased, &again]);
}
