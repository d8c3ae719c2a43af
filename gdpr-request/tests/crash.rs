//! The process killed (SIGKILL) at every step boundary of an erasure, then
//! resumed: the request ends completed, nothing is skipped, no step is
//! done twice, the other patient is untouched and the audit log verifies.
//!
//! The parent spawns this test binary as a child running only
//! `child_runs_until_the_chosen_boundary`; the child stops at the boundary
//! numbered `GDPR_REQUEST_KILL_AT` (writing a marker and sleeping), and
//! the parent kills it there.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gdpr_audit::verify_dir;
use gdpr_core::request::Stage;
use gdpr_core::store::ItemStatus;
use gdpr_request::{BoundaryHook, FileJournal, Journal, verify_certificate};
use support::*;

const DIR: &str = "GDPR_REQUEST_CHILD_DIR";
const AT: &str = "GDPR_REQUEST_KILL_AT";
const ID: &str = "dsr-kill";

#[tokio::test]
async fn child_runs_until_the_chosen_boundary() {
    // Only as a child of the test below.
    let (Ok(root), Ok(at)) = (std::env::var(DIR), std::env::var(AT)) else {
        return;
    };
    let root = PathBuf::from(root);
    let at: usize = at.parse().unwrap();
    let fx = Fixture::at(&root);
    let seen = Arc::new(AtomicUsize::new(0));
    let marker = root.join("stopped-at");
    let hook: BoundaryHook = Arc::new(move |key, phase| {
        if seen.fetch_add(1, Ordering::SeqCst) == at {
            std::fs::write(&marker, format!("{key} {phase:?}")).unwrap();
            std::thread::sleep(Duration::from_secs(600));
        }
    });
    open(&fx, ID, fx.log(), Some(hook))
        .await
        .run()
        .await
        .unwrap();
    std::fs::write(root.join("finished"), "").unwrap();
}

/// Runs the child until it stops at boundary `at` (then kills it) or
/// finishes; true when it was killed.
fn kill_at(fx: &Fixture, at: usize) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_runs_until_the_chosen_boundary",
            "--nocapture",
        ])
        .env(DIR, fx.root())
        .env(AT, at.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if fx.path("stopped-at").exists() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the child failed at boundary {at}");
            assert!(fx.path("finished").exists());
            return false;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "child hung");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test]
async fn killed_at_every_step_boundary_then_resumed_ends_right() {
    let mut killed = 0;
    for at in 0.. {
        let fx = Fixture::new();
        approved_erasure(&fx, ID).await;
        let other = fx.other_files();
        let fx2 = Fixture::at(fx.root());
        let was_killed = tokio::task::spawn_blocking(move || kill_at(&fx2, at))
            .await
            .unwrap();
        let stopped = std::fs::read_to_string(fx.path("stopped-at")).unwrap_or_default();
        let log = fx.log();
        let outcome = open(&fx, ID, log.clone(), None).await.run().await.unwrap();
        assert_eq!(outcome.stage, Stage::Completed, "killed at {stopped}");
        let report = outcome.systems[0].report.as_ref().unwrap();
        let items = report.items();
        assert_eq!(items.len(), 1, "reported once ({stopped})");
        assert_eq!(items[0].status, ItemStatus::Erased);
        assert!(!fx.path("archive/due/1.dcm").exists());
        assert!(fx.path("archive/held/1.dcm").exists());
        assert_eq!(fx.other_files(), other, "other patient touched ({stopped})");
        // Opening the journal fails on a step recorded done twice.
        let dir = fx.path("requests").join(ID);
        let journal = FileJournal::open(&dir).unwrap().replay().await.unwrap();
        assert!(journal.torn_tail.is_none());
        let events: Vec<String> = outcome
            .audit_records
            .iter()
            .map(|r| r.event.clone())
            .collect();
        for must in ["execution-started", "verification-started", "completed"] {
            assert!(
                events.iter().any(|e| e == must),
                "{must} missing ({stopped})"
            );
        }
        let cert = gdpr_request::certificate::issue(
            &gdpr_request::RequestDir::open(&fx.path("requests"), &outcome.request).unwrap(),
            &log,
            &fx.signer(),
            jiff::Timestamp::now(),
        );
        let cert = serde_json::to_vec(&cert.unwrap()).unwrap();
        verify_certificate(&cert, &fx.signer().verifier()).unwrap();
        drop(log);
        verify_dir(fx.path("audit"), &fx.signer().verifier(), None).unwrap();
        if !was_killed {
            break;
        }
        killed += 1;
    }
    assert!(killed >= 12, "only {killed} boundaries");
}
