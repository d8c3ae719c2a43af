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
    let fx = Fixture::at(&root);
    if at == INSIDE {
        return stop_inside_the_erasure(&fx, &root).await;
    }
    let (assessing, at) = match at.strip_prefix(ASSESS) {
        Some(n) => (true, n.parse::<usize>().unwrap()),
        None => (false, at.parse::<usize>().unwrap()),
    };
    let seen = Arc::new(AtomicUsize::new(0));
    let marker = root.join("stopped-at");
    let hook: BoundaryHook = Arc::new(move |key, phase| {
        if seen.fetch_add(1, Ordering::SeqCst) == at {
            std::fs::write(&marker, format!("{key} {phase:?}")).unwrap();
            std::thread::sleep(Duration::from_secs(600));
        }
    });
    if assessing {
        let mut ex = open(&fx, ID, fx.log(), Some(hook)).await;
        ex.step(gdpr_core::request::Event::IdentityVerified)
            .await
            .unwrap();
        ex.assess(&pack(), &gdpr_core::request::Findings::none(), &holds(), ON)
            .await
            .unwrap();
        std::fs::write(root.join("finished"), "").unwrap();
        return;
    }
    open(&fx, ID, fx.log(), Some(hook))
        .await
        .run()
        .await
        .unwrap();
    std::fs::write(root.join("finished"), "").unwrap();
}

/// The child's mode (a prefix of the boundary number) that stops inside the
/// assessment: identity verified, the journaled `locate/<system>` that the
/// run reuses, assessed.
const ASSESS: &str = "assess:";
const ON: jiff::civil::Date = jiff::civil::date(2026, 3, 2);

/// The child's mode that stops right after the erasure took effect, before
/// the store returned (so before the journal could record it).
const INSIDE: &str = "inside-erase";

async fn stop_inside_the_erasure(fx: &Fixture, root: &std::path::Path) {
    let marker = root.join("stopped-at");
    let hook: support::hooked::EraseHook = Arc::new(move |when| {
        if when == support::hooked::When::After {
            std::fs::write(&marker, "inside erase").unwrap();
            std::thread::sleep(Duration::from_secs(600));
        }
        Ok(())
    });
    let store = support::hooked::Hooked {
        inner: gdpr_dicom::store::FolderStore::open("pacs", fx.path("archive")).unwrap(),
        hook,
    };
    let mut stores: std::collections::BTreeMap<_, Box<dyn gdpr_core::store::SubjectStore>> =
        std::collections::BTreeMap::new();
    stores.insert(pacs(), Box::new(store));
    let id = gdpr_core::request::RequestId::new(ID).unwrap();
    let dir = gdpr_request::RequestDir::open(&fx.path("requests"), &id).unwrap();
    let mut ex = open_with(fx, &dir, stores, fx.log(), TARGET).await;
    ex.run().await.unwrap();
}

/// Runs the child until it stops at boundary `at` (then kills it) or
/// finishes; true when it was killed.
fn kill_at(fx: &Fixture, at: &str) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_runs_until_the_chosen_boundary",
            "--nocapture",
        ])
        .env(DIR, fx.root())
        .env(AT, at)
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
        let was_killed = tokio::task::spawn_blocking(move || kill_at(&fx2, &at.to_string()))
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
        // Every transition has exactly one audit record, dated as in the
        // history (a crash after the append is not appended again).
        let request_dir =
            gdpr_request::RequestDir::open(&fx.path("requests"), &outcome.request).unwrap();
        let history: Vec<jiff::Timestamp> = request_dir
            .load_request()
            .unwrap()
            .history()
            .transitions()
            .iter()
            .map(|t| t.at)
            .collect();
        let mut recorded = stage_records(&log);
        recorded.sort();
        assert_eq!(recorded, history, "one record per transition ({stopped})");
        let cert = gdpr_request::certificate::issue(
            &request_dir,
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

#[tokio::test]
async fn killed_after_an_erasure_took_effect_then_resumed_reports_it_once() {
    let fx = Fixture::new();
    approved_erasure(&fx, ID).await;
    let other = fx.other_files();
    let fx2 = Fixture::at(fx.root());
    let killed = tokio::task::spawn_blocking(move || kill_at(&fx2, INSIDE))
        .await
        .unwrap();
    assert!(killed);
    // The erasure happened; the journal holds the step as begun only.
    assert!(!fx.path("archive/due/1.dcm").exists());
    let dir = fx.path("requests").join(ID);
    let before = FileJournal::open(&dir).unwrap().replay().await.unwrap();
    let erase_step = before
        .steps
        .iter()
        .find(|(k, _)| k.as_str().starts_with("erase/"))
        .map(|(_, v)| v.clone());
    assert_eq!(erase_step, Some(gdpr_request::journal::StepState::Begun));

    let outcome = open(&fx, ID, fx.log(), None).await.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    let report = outcome.systems[0].report.as_ref().unwrap();
    assert_eq!(report.items().len(), 1, "reported once");
    assert_eq!(report.items()[0].status, ItemStatus::Erased);
    assert!(
        report.erased()[0].already_absent,
        "the re-run found it gone"
    );
    assert!(fx.path("archive/held/1.dcm").exists());
    assert_eq!(fx.other_files(), other);
    FileJournal::open(&dir).unwrap().replay().await.unwrap();
}

#[tokio::test]
async fn a_restriction_killed_at_every_step_boundary_then_resumed_ends_right() {
    use gdpr_request::RestrictionRegister;
    let mut killed = 0;
    for at in 0.. {
        let fx = Fixture::new();
        approved_request(&fx, ID, restriction()).await;
        let fx2 = Fixture::at(fx.root());
        let was_killed = tokio::task::spawn_blocking(move || kill_at(&fx2, &at.to_string()))
            .await
            .unwrap();
        let stopped = std::fs::read_to_string(fx.path("stopped-at")).unwrap_or_default();
        let log = fx.log();
        let outcome = open(&fx, ID, log.clone(), None).await.run().await.unwrap();
        assert_eq!(outcome.stage, Stage::Completed, "killed at {stopped}");
        let done = outcome.systems[0].restriction.as_ref().unwrap();
        assert_eq!(done.register_records, 3, "killed at {stopped}");
        let register = gdpr_request::FileRegister::open(&fx.path("register")).unwrap();
        assert_eq!(
            register.entries().unwrap().len(),
            4,
            "one line per record and one subject-wide ({stopped})"
        );
        let other = register
            .in_force(&pacs(), &record_id(OTHER, 1))
            .await
            .unwrap();
        assert!(other.is_empty());
        let history = gdpr_request::RequestDir::open(&fx.path("requests"), &outcome.request)
            .unwrap()
            .load_request()
            .unwrap()
            .history()
            .transitions()
            .len();
        assert_eq!(
            stage_records(&log).len(),
            history,
            "one record per transition ({stopped})"
        );
        drop(log);
        verify_dir(fx.path("audit"), &fx.signer().verifier(), None).unwrap();
        if !was_killed {
            break;
        }
        killed += 1;
    }
    assert!(killed >= 10, "only {killed} boundaries");
}

#[tokio::test]
async fn killed_at_every_boundary_of_the_assessment_then_resumed_ends_right() {
    use gdpr_core::request::{Event, Findings};
    let mut killed = 0;
    for at in 0.. {
        let fx = Fixture::new();
        gdpr_request::RequestDir::create(&fx.path("requests"), &request(ID, erasure())).unwrap();
        let other = fx.other_files();
        let fx2 = Fixture::at(fx.root());
        let mode = format!("{ASSESS}{at}");
        let was_killed = tokio::task::spawn_blocking(move || kill_at(&fx2, &mode))
            .await
            .unwrap();
        let stopped = std::fs::read_to_string(fx.path("stopped-at")).unwrap_or_default();
        let log = fx.log();
        let mut ex = open(&fx, ID, log.clone(), None).await;
        if ex.request().stage() != Stage::Assessed {
            ex.step(Event::IdentityVerified).await.unwrap();
            let a = ex
                .assess(&pack(), &Findings::none(), &holds(), ON)
                .await
                .unwrap();
            assert_eq!(a.records.len(), 3, "every record once ({stopped})");
        }
        ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
        let outcome = ex.run().await.unwrap();
        assert_eq!(outcome.stage, Stage::Completed, "killed at {stopped}");
        let items = outcome.systems[0].report.as_ref().unwrap().items();
        assert_eq!(items.len(), 1, "reported once ({stopped})");
        assert_eq!(items[0].status, ItemStatus::Erased);
        assert!(!fx.path("archive/due/1.dcm").exists());
        assert!(fx.path("archive/held/1.dcm").exists());
        assert_eq!(fx.other_files(), other, "other patient touched ({stopped})");
        let dir = fx.path("requests").join(ID);
        let journal = FileJournal::open(&dir).unwrap().replay().await.unwrap();
        assert!(journal.torn_tail.is_none());
        let request_dir =
            gdpr_request::RequestDir::open(&fx.path("requests"), &outcome.request).unwrap();
        let history = request_dir
            .load_request()
            .unwrap()
            .history()
            .transitions()
            .len();
        assert_eq!(
            stage_records(&log).len(),
            history,
            "one record per transition ({stopped})"
        );
        drop(log);
        verify_dir(fx.path("audit"), &fx.signer().verifier(), None).unwrap();
        if !was_killed {
            break;
        }
        killed += 1;
    }
    // received, identity verified (3 each with the audit record), locate
    // (2), assessed (3).
    assert!(killed >= 8, "only {killed} boundaries");
}
