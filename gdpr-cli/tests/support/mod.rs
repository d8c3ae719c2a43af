//! Running the `gdpr` binary in the request tests: its exit code and
//! output, checked for values that must never be printed.

use std::io::Write;
use std::path::Path;
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
