//! `gdpr audit append` end to end: what is said on every way out (bad line,
//! full disk, killed run), resuming without duplicates, duplicate keys and
//! overlong lines refused.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const EVENT: &str = r#"{"event_type":"patient-record","action":"read","outcome":"success","actor":{"id":"dr.x","role":"physician","secrecy":{"kind":"professional","source":"§ 203(1) Nr. 1 StGB"}},"purpose":"treatment","lawful_basis":{"kind":"special-category","art6":"contract","art9":"health-care"},"subject":{"id":"PID-N"},"object":{"kind":"study","id":"1.2.840.N"},"source":"PACS-1","tenant":"hospital-a"}"#;

/// Event `n` (its subject and object id carry `n`).
fn event(n: usize) -> String {
    EVENT
        .replace("PID-N", &format!("PID-{}", n % 97))
        .replace("840.N", &format!("840.{n}"))
}

fn events(n: usize) -> String {
    (0..n).map(|i| event(i) + "\n").collect()
}

struct Log {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    dir: String,
    key: String,
}

impl Log {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_owned();
        let dir = root.join("log").to_str().unwrap().to_owned();
        let key = root.join("signer.key").to_str().unwrap().to_owned();
        let o = gdpr(&["audit", "init", &dir, "--key-out", &key]);
        assert!(o.status.success(), "{}", text(&o));
        Self {
            _tmp: tmp,
            root,
            dir,
            key,
        }
    }

    fn input(&self, name: &str, content: &str) -> String {
        let p = self.root.join(name);
        fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_owned()
    }

    fn append(&self, input: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "audit", "append", &self.dir, "--key", &self.key, "--input", input,
        ];
        args.extend_from_slice(extra);
        gdpr(&args)
    }

    /// The number of records `audit verify` finds (the log must verify).
    fn records(&self) -> u64 {
        let public = Path::new(&self.dir).join("public.key");
        let o = gdpr(&[
            "audit",
            "verify",
            &self.dir,
            "--public-key",
            public.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        let n = out
            .strip_prefix("VALID: ")
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        n.parse().unwrap()
    }

    fn log_len(&self) -> u64 {
        fs::metadata(Path::new(&self.dir).join("log"))
            .unwrap()
            .len()
    }
}

fn gdpr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn success_says_positions_and_input_lines() {
    let log = Log::new();
    let input = log.input(
        "ok.jsonl",
        &format!("{}\n{}\n\n{}\n", event(0), event(1), event(2)),
    );
    let o = log.append(&input, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("appended 3 records (positions 0..=2 (input lines 1..=4))"),
        "{out}"
    );
    assert!(text(&o).contains("--resume-from-size 0"), "{}", text(&o));
}

#[test]
fn bad_line_in_the_middle_says_what_was_appended_and_skip_resumes() {
    let log = Log::new();
    let mut lines: Vec<String> = (0..8).map(event).collect();
    let good_sixth = lines[5].clone();
    lines[5] = lines[5].replace("\"read\"", "\"CANARY-ACTION\"");
    let input = log.input("bad.jsonl", &(lines.join("\n") + "\n"));
    let o = log.append(&input, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains(&format!("{input} line 6: ")), "{t}");
    assert!(
        t.contains("appended before it: positions 0..=4 (input lines 1..=5)"),
        "{t}"
    );
    assert!(t.contains("rerun with --skip 5"), "{t}");
    assert!(!t.contains("CANARY"), "{t}");
    assert_eq!(log.records(), 5);

    lines[5] = good_sixth;
    let input = log.input("fixed.jsonl", &(lines.join("\n") + "\n"));
    let o = log.append(&input, &["--skip", "5"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("appended 3 records (positions 5..=7 (input lines 6..=8))"),
        "{}",
        text(&o)
    );
    assert_eq!(log.records(), 8);
}

#[test]
fn duplicate_key_is_refused_naming_file_line_and_key_not_value() {
    let log = Log::new();
    let dup = event(1).replace(
        r#""subject":{"id":"PID-1"}"#,
        r#""subject":{"id":"PID-1"},"subject":{"id":"CANARY-OTHER"}"#,
    );
    let input = log.input("dup.jsonl", &format!("{}\n{dup}\n", event(0)));
    let o = log.append(&input, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(&format!("{input} line 2: duplicate key `subject`")),
        "{t}"
    );
    assert!(!t.contains("CANARY") && !t.contains("PID-1"), "{t}");
    // Nested too.
    let nested = event(1).replace(
        r#""role":"physician""#,
        r#""role":"physician","role":"nurse""#,
    );
    let input = log.input("dup2.jsonl", &format!("{nested}\n"));
    let o = log.append(&input, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("line 1: duplicate key `role`"),
        "{}",
        text(&o)
    );
    assert_eq!(log.records(), 1);
}

#[test]
fn overlong_line_is_refused_naming_file_and_line() {
    let log = Log::new();
    let long = format!("{}\n{}\n", event(0), "x".repeat(200_000));
    let input = log.input("long.jsonl", &long);
    let o = log.append(&input, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(&format!("{input} line 2: longer than 65536 bytes")),
        "{t}"
    );
}

#[test]
fn dev_zero_fails_at_the_cap_not_after_gigabytes() {
    let log = Log::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args([
            "audit",
            "append",
            &log.dir,
            "--key",
            &log.key,
            "--input",
            "/dev/zero",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("`--input /dev/zero` still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("/dev/zero line 1: longer than 65536 bytes"),
        "{}",
        text(&o)
    );
}

/// A full disk (simulated with RLIMIT_FSIZE: writes past the limit fail
/// with EFBIG) in the second batch: the first is reported durable, the
/// second as not appended (the store rolls it back), `--skip` resumes.
#[test]
fn full_disk_reports_the_durable_batches_and_the_failed_one() {
    // How many bytes a batch of 1,000 takes, measured on a scratch log.
    let scratch = Log::new();
    let before = scratch.log_len();
    let o = scratch.append(&scratch.input("b.jsonl", &events(1000)), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let batch = scratch.log_len() - before;

    let log = Log::new();
    let input = log.input("many.jsonl", &events(8000));
    let limit_kib = (log.log_len() + batch * 3 / 2) / 1024;
    let script = format!(
        "trap '' XFSZ; ulimit -f {limit_kib}; exec \"$0\" audit append \"$1\" --key \"$2\" --input \"$3\""
    );
    let o = Command::new("bash")
        .args([
            "-c",
            &script,
            env!("CARGO_BIN_EXE_gdpr"),
            &log.dir,
            &log.key,
            &input,
        ])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("appended positions 0..=999 (input lines 1..=1000)"),
        "{t}"
    );
    assert!(
        t.contains("durably appended: positions 0..=999 (input lines 1..=1000)"),
        "{t}"
    );
    assert!(
        t.contains("the batch of input lines 1001..=2000: NOT appended"),
        "{t}"
    );
    assert!(t.contains("rerun with --skip 1000"), "{t}");
    assert_eq!(log.records(), 1000);

    let o = log.append(&input, &["--skip", "1000"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(log.records(), 8000);
}

/// A run killed outright says nothing at the end; its first line names
/// the arguments that make a rerun skip what the log already holds.
#[test]
fn killed_run_resumes_from_the_size_it_printed() {
    let log = Log::new();
    // Something appended before, so the size is not zero.
    let o = log.append(&log.input("first.jsonl", &events(3)), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let n = 30_000;
    let input = log.input("many.jsonl", &format!("\n{}", events(n)));
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args([
            "audit", "append", &log.dir, "--key", &log.key, "--input", &input,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 && !line.starts_with("appended positions") {
        line.clear();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let resume = first
        .split("rerun it with ")
        .nth(1)
        .expect(&first)
        .trim()
        .to_owned();
    assert_eq!(resume, "--skip 0 --resume-from-size 3");
    let args: Vec<&str> = resume.split(' ').collect();
    let o = log.append(&input, &args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(log.records(), 3 + n as u64);
    // Resuming again appends nothing more.
    let o = log.append(&input, &args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("appended 0 records"), "{}", text(&o));
    assert_eq!(log.records(), 3 + n as u64);
}

#[test]
fn resume_with_a_size_beyond_the_log_or_the_input_is_refused() {
    let log = Log::new();
    let input = log.input("two.jsonl", &events(2));
    let o = log.append(&input, &["--resume-from-size", "5"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("holds only 0 records"), "{}", text(&o));
    let o = log.append(&log.input("five.jsonl", &events(5)), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = log.append(&input, &["--resume-from-size", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("nothing was appended"), "{}", text(&o));
    assert_eq!(log.records(), 5);
}
