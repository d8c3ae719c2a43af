//! The sweep: every `gdpr` subcommand that reads a file is fed hostile
//! inputs (truncated, huge, deeply nested, binary, wrong types, control
//! characters, `/dev/zero`, a FIFO with no writer, dangling and looping
//! symbolic links, a directory given as a file, an empty file) and must:
//! not abort or hang, exit 2 (or its documented code) with a message naming
//! the input, print no identifier planted in the input, and write nothing
//! (or nothing half-written).
//!
//! "Unreadable file": the suite may run as root, which `chmod 000` does not
//! stop, so a directory given as a file and a dangling symbolic link stand
//! in for it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Planted in every input; must never appear in any output stream.
const CANARY: &str = "CANARY-PAT-90417";
/// A run longer than this is a hang, and a failure.
const DEADLINE: Duration = Duration::from_secs(60);

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/samples")
        .join(name)
        .display()
        .to_string()
}

/// What a run printed and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    })
}

/// The binary under test: `GDPR_SWEEP_BIN` if set (a copy, when several
/// worktrees share one target directory and may relink `gdpr` meanwhile),
/// else the one cargo built.
fn binary() -> PathBuf {
    std::env::var_os("GDPR_SWEEP_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_gdpr").into(), PathBuf::from)
}

/// Runs `gdpr args`, killing it (and failing) after [`DEADLINE`].
fn gdpr(args: &[String]) -> Run {
    let mut child: Child = Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gdpr starts");
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gdpr {args:?} hung for {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// The text formats inputs come in; each has its own "wrong types" case.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    JsonLines,
    Toml,
    Key,
}

/// One hostile input: its name, its path, and whether the problem is in
/// the content (so a line-by-line command may report it per line).
struct Case {
    name: &'static str,
    path: PathBuf,
    content_only: bool,
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn wrong_types(format: Format) -> String {
    match format {
        Format::Json => format!(
            r#"{{"name": 5, "at": ["{CANARY}"], "actor": {{"id": ["{CANARY}"], "role": {{"{CANARY}": 1}}}},
                "purpose": "{CANARY}", "categories": "{CANARY}", "controller": ["{CANARY}"],
                "activity": {{"{CANARY}": true}}, "criteria": "{CANARY}", "{CANARY}": null}}"#
        ),
        Format::JsonLines => format!(
            "{{\"id\": [\"{CANARY}\"], \"category\": 5}}\n{{\"id\": \"r\", \"category\": \"{CANARY}\"}}\n\
             {{\"id\": \"r\", \"category\": \"patient-record\", \"birth_date\": \"{CANARY}\"}}\n\
             {{\"id\": \"r\", \"category\": \"patient-record\", \"{CANARY}\": 1}}\n"
        ),
        Format::Toml => format!(
            "[systems.archive]\nkind = \"{CANARY}\"\npath = 5\n[[rule]]\nid = [\"{CANARY}\"]\n\
             password = {CANARY}\n"
        ),
        Format::Key => format!("{CANARY}{CANARY}\n"),
    }
}

/// The hostile inputs for `format`, written into `dir`.
fn hostile(dir: &Path, format: Format) -> Vec<Case> {
    let c = |name, path, content_only| Case {
        name,
        path,
        content_only,
    };
    let truncated = format!("{{\"id\": \"{CANARY}\", \"category\": [\"patient-rec");
    let mut nested = "[".repeat(200_000).into_bytes();
    nested.extend_from_slice(format!("\"{CANARY}\"").as_bytes());
    let mut binary = vec![0xff, 0xfe, 0x00, 0x01, 0xc3, 0x28];
    binary.extend_from_slice(CANARY.as_bytes());
    binary.extend_from_slice(&[0x80, 0x00, b'\n', 0xf0, 0x9f]);
    let control = format!("{{\"id\": \"{CANARY}\x07\x1b[2J\x00\", \"category\":\t\x01}}\n");
    let huge = write(
        dir,
        "huge",
        format!("{{\"id\": \"{CANARY}\", \"x\": \"").as_bytes(),
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(24 << 20)
        .unwrap();
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(format!("/nonexistent/{CANARY}.json"), &dangling).unwrap();
    let looping = dir.join("loop");
    std::os::unix::fs::symlink(&looping, &looping).unwrap();
    let directory = dir.join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    let mut cases = vec![
        c(
            "truncated",
            write(dir, "truncated", truncated.as_bytes()),
            true,
        ),
        c("nested", write(dir, "nested", &nested), true),
        c("binary", write(dir, "binary", &binary), true),
        c(
            "wrong types",
            write(dir, "wrong-types", wrong_types(format).as_bytes()),
            true,
        ),
        c(
            "control characters",
            write(dir, "control", control.as_bytes()),
            true,
        ),
        c("empty", write(dir, "empty", b""), true),
        c("huge", huge, false),
        c("/dev/zero", PathBuf::from("/dev/zero"), false),
        c("FIFO without writer", fifo, false),
        c("dangling symlink", dangling, false),
        c("symlink loop", looping, false),
        c("directory", directory, false),
    ];
    // chmod 000 stops everyone but root; as root the directory and the
    // dangling link above stand in for an unreadable file.
    let locked = write(dir, "unreadable", format!("\"{CANARY}\"").as_bytes());
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        cases.push(c("unreadable", locked, false));
    }
    cases
}

/// Everything below `dir`: paths and sizes, to see that nothing was written.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let meta = std::fs::symlink_metadata(e.path()).unwrap();
        if meta.is_dir() {
            out.extend(snapshot(&e.path()));
        } else {
            out.push((e.path(), meta.len()));
        }
    }
    out.sort();
    out
}

/// Feeds each hostile input of `format` to `command` (which builds the
/// arguments from the input's path) and checks every promise.
/// `content_code` is the exit code for a problem in the content (2, or 1
/// for line-by-line commands that report malformed lines and go on).
fn sweep(format: Format, codes: Codes, written: &Path, command: impl Fn(&str) -> Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in hostile(dir.path(), format) {
        let before = snapshot(written);
        let path = case.path.display().to_string();
        let args = command(&path);
        let run = gdpr(&args);
        let expected = match (case.name, case.content_only) {
            // A FIFO with no writer reads as empty, never hangs.
            ("empty" | "FIFO without writer", _) => codes.empty,
            (_, true) => codes.content,
            _ => 2,
        };
        let mut wrong = Vec::new();
        if run.code != Some(expected) {
            wrong.push(format!("exit {:?}, expected {expected}", run.code));
        }
        if expected != 0 && !run.stderr.contains(&path) {
            wrong.push("the message does not name the input".into());
        }
        if run.stdout.contains(CANARY) || run.stderr.contains(CANARY) {
            wrong.push("the canary leaked".into());
        }
        if expected == 2 && !run.stdout.trim().is_empty() {
            wrong.push("something was printed as a result".into());
        }
        if snapshot(written) != before {
            wrong.push("files were written".into());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({:?}): {}\n  stderr: {}",
                case.name,
                args,
                wrong.join("; "),
                run.stderr.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Expected exit codes besides 2; see [`sweep`].
#[derive(Clone, Copy)]
struct Codes {
    content: i32,
    empty: i32,
}

/// Every hostile input exits 2.
const STRICT: Codes = Codes {
    content: 2,
    empty: 2,
};

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[test]
fn authorize_activity() {
    let none = tempfile::tempdir().unwrap();
    sweep(Format::Json, STRICT, none.path(), |p| {
        strings(&[
            "authorize",
            "--activity",
            p,
            "--request",
            &sample("request.json"),
        ])
    });
}

#[test]
fn authorize_request() {
    let none = tempfile::tempdir().unwrap();
    sweep(Format::Json, STRICT, none.path(), |p| {
        strings(&[
            "authorize",
            "--activity",
            &sample("activity.json"),
            "--request",
            p,
        ])
    });
}

#[test]
fn ropa() {
    let none = tempfile::tempdir().unwrap();
    sweep(Format::Json, STRICT, none.path(), |p| strings(&["ropa", p]));
}

#[test]
fn dpia() {
    let none = tempfile::tempdir().unwrap();
    sweep(Format::Json, STRICT, none.path(), |p| strings(&["dpia", p]));
}

#[test]
fn retention_evaluate() {
    // Malformed lines are reported one by one with exit 1 (documented);
    // an input that cannot be read as lines at all exits 2.
    let none = tempfile::tempdir().unwrap();
    sweep(
        Format::JsonLines,
        Codes {
            content: 1,
            empty: 0,
        },
        none.path(),
        |p| {
            strings(&[
                "retention",
                "evaluate",
                "--jurisdiction",
                "DE",
                "--at",
                "2026-01-01",
                "--input",
                p,
            ])
        },
    );
}

#[test]
fn retention_rules_user_pack() {
    let none = tempfile::tempdir().unwrap();
    sweep(
        Format::Toml,
        Codes {
            content: 2,
            empty: 0,
        },
        none.path(),
        |p| strings(&["retention", "rules", "--jurisdiction", "DE", "--rules", p]),
    );
}

#[test]
fn pacs_locate_config() {
    let none = tempfile::tempdir().unwrap();
    sweep(Format::Toml, STRICT, none.path(), |p| {
        strings(&[
            "pacs",
            "locate",
            "--config",
            p,
            "--system",
            "archive",
            "--patient-id",
            "P1",
        ])
    });
}

#[test]
fn request_new_index() {
    let requests = tempfile::tempdir().unwrap();
    let r = requests.path().display().to_string();
    sweep(Format::Toml, STRICT, requests.path(), |p| {
        strings(&[
            "request",
            "new",
            "--requests",
            &r,
            "--id",
            "dsr-1",
            "--kind",
            "access",
            "--index",
            p,
        ])
    });
}

#[test]
fn request_verify_certificate() {
    let (_guard, _, _, public) = audit_log();
    let k = public.display().to_string();
    let none = tempfile::tempdir().unwrap();
    sweep(Format::Json, STRICT, none.path(), |p| {
        strings(&["request", "verify-certificate", p, "--public-key", &k])
    });
}

#[test]
fn request_verify_certificate_public_key() {
    let none = tempfile::tempdir().unwrap();
    let cert = none.path().join("cert.json");
    std::fs::write(&cert, "{}").unwrap();
    let c = cert.display().to_string();
    sweep(Format::Key, STRICT, none.path(), |p| {
        strings(&["request", "verify-certificate", &c, "--public-key", p])
    });
}

/// A fresh audit log and its keys: (directory guard, log, key, public key).
fn audit_log() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let key = dir.path().join("audit.key");
    let run = gdpr(&strings(&[
        "audit",
        "init",
        log.to_str().unwrap(),
        "--key-out",
        key.to_str().unwrap(),
    ]));
    assert_eq!(run.code, Some(0), "audit init: {}", run.stderr);
    let public = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .chain(std::fs::read_dir(&log).unwrap().flatten().map(|e| e.path()))
        .find(|p| p.to_string_lossy().contains("pub"))
        .unwrap_or_else(|| key.with_extension("pub"));
    (dir, log, key, public)
}

#[test]
fn audit_append_input_lines() {
    let (_guard, log, key, _) = audit_log();
    let (l, k) = (log.display().to_string(), key.display().to_string());
    sweep(
        Format::JsonLines,
        Codes {
            content: 2,
            empty: 0,
        },
        &log,
        |p| strings(&["audit", "append", &l, "--key", &k, "--input", p]),
    );
}

#[test]
fn audit_append_key() {
    let (_guard, log, _, _) = audit_log();
    let l = log.display().to_string();
    sweep(Format::Key, STRICT, &log, |p| {
        strings(&[
            "audit",
            "append",
            &l,
            "--key",
            p,
            "--input",
            &sample("audit-events.jsonl"),
        ])
    });
}

#[test]
fn audit_verify_public_key() {
    let (_guard, log, _, _) = audit_log();
    let l = log.display().to_string();
    sweep(Format::Key, STRICT, &log, |p| {
        strings(&["audit", "verify", &l, "--public-key", p])
    });
}

#[test]
fn audit_export_log_dir() {
    let none = tempfile::tempdir().unwrap();
    sweep(Format::Key, STRICT, none.path(), |p| {
        strings(&["audit", "export", p, "--format", "jsonl"])
    });
}

#[test]
fn dicom_deidentify_key_file() {
    let out = tempfile::tempdir().unwrap();
    let input = tempfile::tempdir().unwrap();
    let o = out.path().join("out").display().to_string();
    let i = input.path().display().to_string();
    sweep(Format::Key, STRICT, out.path(), |p| {
        strings(&["dicom", "deidentify", "--key-file", p, "--out", &o, &i])
    });
}
