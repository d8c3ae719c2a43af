//! Running the `gdpr` binary in the request tests: its exit code and
//! output, checked for values that must never be printed; and the setup
//! those tests share (a folder store named `archive`, the audit log, the
//! options naming them, a request's patient index).
#![allow(dead_code)]

#[cfg(feature = "postgres-tests")]
pub mod pg;

use std::io::Write;
use std::path::Path;

use gdpr_dicom::synthetic::SyntheticInstance;
use std::process::{Command, Stdio};

/// One run of the `gdpr` binary.
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Runs `gdpr ARGS` in `dir` with `stdin` as its input and `env` added to
/// its environment, and asserts that none of `never` (identifying or
/// sealed values) is in its output.
pub fn run(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &Path)], never: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for value in never {
        assert!(
            !run.stdout.contains(value) && !run.stderr.contains(value),
            "an identifying or sealed value was printed by {args:?}"
        );
    }
    run
}

/// A test file's runner of `gdpr ARGS` in a directory with a standard
/// input, checked for that file's canaries ([`run`] with its settings).
pub type Gdpr = fn(&Path, &[&str], &str) -> Run;

/// A folder store in `dir/store` holding one synthetic instance (UID root
/// `root`) per `(patient, study, study date)` (`None`: the synthetic
/// default date), as `{patient}-{study}.dcm`, and `dir/systems.toml`
/// naming it as system `archive`.
pub fn folder_store(dir: &Path, root: &str, studies: &[(&str, u32, Option<&str>)]) {
    let store = dir.join("store");
    std::fs::create_dir(&store).unwrap();
    for (pid, study, date) in studies {
        let mut inst = SyntheticInstance::new(root, pid, *study, 1, 1);
        if let Some(date) = date {
            inst.study_date = (*date).into();
        }
        inst.write_to(&store.join(format!("{pid}-{study}.dcm")))
            .unwrap();
    }
    std::fs::write(
        dir.join("systems.toml"),
        format!(
            "[systems.archive]\nkind = \"folder\"\npath = \"{}\"\n",
            store.display()
        ),
    )
    .unwrap();
}

/// A test directory with [`folder_store`] of `studies`, [`sample_pack`]
/// and [`audit_init`].
pub fn request_fixture(
    gdpr: Gdpr,
    root: &str,
    studies: &[(&str, u32, Option<&str>)],
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    folder_store(dir.path(), root, studies);
    sample_pack(dir.path());
    audit_init(gdpr, dir.path());
    dir
}

/// The sample imaging retention pack, copied to `dir/pack.toml`.
pub fn sample_pack(dir: &Path) {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/samples/imaging-pack.toml");
    std::fs::copy(pack, dir.join("pack.toml")).unwrap();
}

/// `gdpr audit init audit --key-out audit.key` in `dir`, which must succeed.
pub fn audit_init(gdpr: Gdpr, dir: &Path) {
    let init = gdpr(
        dir,
        &["audit", "init", "audit", "--key-out", "audit.key"],
        "",
    );
    assert_eq!(init.code, 0, "{}", init.stderr);
}

/// `gdpr audit verify audit` with its public key in `dir`, which must
/// succeed.
pub fn audit_verifies(gdpr: Gdpr, dir: &Path) {
    let args = [
        "audit",
        "verify",
        "audit",
        "--public-key",
        "audit/public.key",
    ];
    let log = gdpr(dir, &args, "");
    assert_eq!(log.code, 0, "{}", log.stderr);
}

/// `args`, then the options naming the folder store's systems, the audit
/// log and its key, and `--actor actor`.
pub fn with_ctx<'a>(args: &[&'a str], actor: &'a str) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(&[
        "--config",
        "systems.toml",
        "--audit-log",
        "audit",
        "--audit-key",
        "audit.key",
        "--actor",
        actor,
    ]);
    v
}

/// The patient index naming `patient` by its DICOM patient id on system
/// `archive`.
pub fn index(patient: &str) -> String {
    format!("version = 1\n\n[systems.archive]\ndicom-patient-id = \"{patient}\"\n")
}

/// `gdpr request new --id ID --kind KIND` with `patient`'s index on
/// stdin, which must succeed.
pub fn new_request(gdpr: Gdpr, dir: &Path, (id, kind): (&str, &str), patient: &str) {
    let new = ["request", "new", "--id", id, "--kind", kind, "--index", "-"];
    let r = gdpr(dir, &new, &index(patient));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `gdpr request verify-certificate FILE` against the audit log's public
/// key in `dir`.
pub fn verify_certificate(gdpr: Gdpr, dir: &Path, file: &str) -> Run {
    let args = [
        "request",
        "verify-certificate",
        file,
        "--public-key",
        "audit/public.key",
    ];
    gdpr(dir, &args, "")
}

/// Writes the quality-assurance activity on legitimate interests
/// (Art. 6(1)(f), which Art. 21(1) reaches) to `dir/qa.json` and a
/// physician's request of it for `patient`, an hour from now, to
/// `dir/ask-{patient}.json`; returns the two file names.
pub fn qa_ask(dir: &Path, patient: &str) -> (String, String) {
    std::fs::write(
        dir.join("qa.json"),
        r#"{"name":"qa","purpose":"quality-assurance","basis":{"kind":"special-category",
           "art6":"legitimate-interests","art9":"health-care"},
           "categories":["imaging-examination"],"identifiability":"identified"}"#,
    )
    .unwrap();
    let ask = format!("ask-{patient}.json");
    ask_file(dir, &ask, patient, "quality-assurance");
    ("qa.json".into(), ask)
}

/// Writes a physician's request for `patient`'s imaging examinations
/// for `purpose`, an hour from now, to `dir/file`.
pub fn ask_file(dir: &Path, file: &str, patient: &str, purpose: &str) {
    let at = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    std::fs::write(
        dir.join(file),
        format!(
            r#"{{"at":"{at}","actor":{{"id":"dr-weber","role":"physician",
            "secrecy":{{"kind":"professional","source":"§ 203(1) Nr. 1 StGB"}}}},
            "purpose":"{purpose}","categories":["imaging-examination"],
            "patient":{{"id":"{patient}"}}}}"#
        ),
    )
    .unwrap();
}

/// `gdpr authorize --activity ACTIVITY --request REQUEST` with `place`
/// (the options naming the registers): its exit code and JSON answer.
pub fn authorize(
    gdpr: Gdpr,
    dir: &Path,
    (activity, request): (&str, &str),
    place: &[&str],
) -> (i32, serde_json::Value) {
    let mut args = vec!["authorize", "--activity", activity, "--request", request];
    args.extend_from_slice(place);
    let r = gdpr(dir, &args, "");
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}: {}", r.code, r.stderr));
    (r.code, v)
}
