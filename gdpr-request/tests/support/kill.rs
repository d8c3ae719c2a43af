//! The SIGKILL harness of `crash.rs` and `crash_manual.rs`.
//!
//! The parent spawns its own test binary as a child running only the test
//! named [`CHILD_TEST`]; the child reads its fixture root and boundary from
//! [`DIR`] and [`AT`] (plus whatever the test adds), stops at that boundary
//! by writing a marker and sleeping ([`stop`]), and the parent kills it
//! there ([`kill_at`]). A child that reaches the end writes `finished`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gdpr_request::BoundaryHook;

/// The fixture root of the child.
pub const DIR: &str = "GDPR_REQUEST_CHILD_DIR";
/// Where the child stops: a boundary number or a named mode.
pub const AT: &str = "GDPR_REQUEST_KILL_AT";
/// The one test the child runs.
pub const CHILD_TEST: &str = "child_runs_until_the_chosen_boundary";

/// In the child: its fixture root and where to stop; `None` when the test
/// runs as an ordinary test (it then does nothing).
pub fn child_args() -> Option<(PathBuf, String)> {
    let (Ok(root), Ok(at)) = (std::env::var(DIR), std::env::var(AT)) else {
        return None;
    };
    Some((PathBuf::from(root), at))
}

/// The marker the child writes where it stops.
pub fn marker(root: &Path) -> PathBuf {
    root.join("stopped-at")
}

/// Writes `what` to `marker` and sleeps until the parent kills the process.
pub fn stop(marker: &Path, what: &str) {
    std::fs::write(marker, what).unwrap();
    std::thread::sleep(Duration::from_secs(600));
}

/// Marks the child's run as having reached its end.
pub fn finished(root: &Path) {
    std::fs::write(root.join("finished"), "").unwrap();
}

/// A boundary hook that stops (see [`stop`]) at the `at`-th boundary,
/// counting from 0, naming the step and phase in the marker.
pub fn stop_at_boundary(at: usize, marker: PathBuf) -> BoundaryHook {
    let seen = Arc::new(AtomicUsize::new(0));
    Arc::new(move |key, phase| {
        if seen.fetch_add(1, Ordering::SeqCst) == at {
            stop(&marker, &format!("{key} {phase:?}"));
        }
    })
}

/// Runs the child over `root` with `AT=at` and the `extra` variables until
/// it stops (then kills it with SIGKILL) or finishes; true when it was
/// killed. A child that fails, or finishes without its `finished` file,
/// fails the test.
pub fn kill_at(root: &Path, at: &str, extra: &[(&str, &str)]) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", CHILD_TEST, "--nocapture"])
        .env(DIR, root)
        .env(AT, at)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra {
        child.env(k, v);
    }
    let mut child = child.spawn().unwrap();
    let start = Instant::now();
    loop {
        if marker(root).exists() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the child failed at boundary {at}");
            assert!(root.join("finished").exists());
            return false;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "child hung");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// [`kill_at`] on a blocking thread (the child sleeps while the parent
/// polls); returns whether it was killed and where it stopped (the marker's
/// text, empty when it finished).
pub async fn kill_in_child(
    root: &Path,
    at: String,
    extra: Vec<(&'static str, String)>,
) -> (bool, String) {
    let owned = root.to_owned();
    let killed = tokio::task::spawn_blocking(move || {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        kill_at(&owned, &at, &extra)
    })
    .await
    .unwrap();
    let stopped = std::fs::read_to_string(marker(root)).unwrap_or_default();
    (killed, stopped)
}

/// Calls `round(at)` for the boundaries 0, 1, 2, … until a round reports
/// that its child was not killed (it ran to the end); returns how many
/// rounds killed it.
pub async fn every_boundary(mut round: impl AsyncFnMut(usize) -> bool) -> usize {
    let mut killed = 0;
    for at in 0.. {
        if !round(at).await {
            break;
        }
        killed += 1;
    }
    killed
}
