//! The process killed (SIGKILL) at every step boundary of an erasure, then
//! resumed: the request ends completed, nothing is skipped, no step is
//! done twice, the other patient is untouched and the audit log verifies.
//!
//! The parent spawns this test binary as a child running only
//! `child_runs_until_the_chosen_boundary`; the child stops at the boundary
//! numbered `GDPR_REQUEST_KILL_AT` (writing a marker and sleeping), and
//! the parent kills it there.

mod support;

use std::sync::Arc;

use gdpr_audit::AuditLog;
use gdpr_audit::verify_dir;
use gdpr_core::request::RequestId;
use gdpr_core::request::Stage;
use gdpr_core::store::ItemStatus;
use gdpr_request::{RequestDir, RunOutcome, verify_certificate};
use support::kill::{self, every_boundary, kill_in_child};
use support::*;

const ID: &str = "dsr-kill";

/// The other patient's files, by path.
type Files = std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>;

#[tokio::test]
async fn child_runs_until_the_chosen_boundary() {
    // Only as a child of the test below.
    let Some((root, at)) = kill::child_args() else {
        return;
    };
    let fx = Fixture::at(&root);
    if at == INSIDE {
        return stop_inside_the_erasure(&fx, &root).await;
    }
    let (assessing, at) = match at.strip_prefix(ASSESS) {
        Some(n) => (true, n.parse::<usize>().unwrap()),
        None => (false, at.parse::<usize>().unwrap()),
    };
    let hook = kill::stop_at_boundary(at, kill::marker(&root));
    if assessing {
        let mut ex = open(&fx, ID, fx.log(), Some(hook)).await;
        ex.step(gdpr_core::request::Event::IdentityVerified)
            .await
            .unwrap();
        ex.assess(&pack(), &gdpr_core::request::Findings::none(), &holds(), ON)
            .await
            .unwrap();
        kill::finished(&root);
        return;
    }
    open(&fx, ID, fx.log(), Some(hook))
        .await
        .run()
        .await
        .unwrap();
    kill::finished(&root);
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
    let marker = kill::marker(root);
    let hook: support::hooked::EraseHook = Arc::new(move |when| {
        if when == support::hooked::When::After {
            kill::stop(&marker, "inside erase");
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

/// The erasure's end: the due study reported once, erased; the held one
/// kept; the other patient's files as they were.
fn assert_erased_once(fx: &Fixture, outcome: &RunOutcome, other: &Files, stopped: &str) {
    let items = outcome.systems[0].report.as_ref().unwrap().items();
    assert_eq!(items.len(), 1, "reported once ({stopped})");
    assert_eq!(items[0].status, ItemStatus::Erased);
    assert!(!fx.path("archive/due/1.dcm").exists());
    assert!(fx.path("archive/held/1.dcm").exists());
    assert_eq!(
        &fx.other_files(),
        other,
        "other patient touched ({stopped})"
    );
}

/// The journal replays (opening fails on a step recorded done twice) and
/// has no torn tail.
async fn assert_journal_replays(fx: &Fixture) {
    assert!(journal(fx, ID).await.torn_tail.is_none());
}

/// The instants of the request's transitions, as its directory holds them.
fn transitions(fx: &Fixture, request: &RequestId) -> Vec<jiff::Timestamp> {
    RequestDir::open(&fx.path("requests"), request)
        .unwrap()
        .load_request()
        .unwrap()
        .history()
        .transitions()
        .iter()
        .map(|t| t.at)
        .collect()
}

/// Closes `log` and verifies the audit log end to end.
fn assert_log_verifies(fx: &Fixture, log: Arc<AuditLog>) {
    drop(log);
    verify_dir(fx.path("audit"), &fx.signer().verifier(), None).unwrap();
}

#[tokio::test]
async fn killed_at_every_step_boundary_then_resumed_ends_right() {
    let killed = every_boundary(async |at| {
        let fx = Fixture::new();
        approved_erasure(&fx, ID).await;
        let other = fx.other_files();
        let (was_killed, stopped) = kill_in_child(fx.root(), at.to_string(), Vec::new()).await;
        let log = fx.log();
        let outcome = open(&fx, ID, log.clone(), None).await.run().await.unwrap();
        assert_eq!(outcome.stage, Stage::Completed, "killed at {stopped}");
        assert_erased_once(&fx, &outcome, &other, &stopped);
        assert_journal_replays(&fx).await;
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
        let mut recorded = stage_records(&log);
        recorded.sort();
        assert_eq!(
            recorded,
            transitions(&fx, &outcome.request),
            "one record per transition ({stopped})"
        );
        let request_dir = RequestDir::open(&fx.path("requests"), &outcome.request).unwrap();
        let cert = gdpr_request::certificate::issue(
            &request_dir,
            &log,
            &fx.signer(),
            jiff::Timestamp::now(),
        );
        let cert = serde_json::to_vec(&cert.unwrap()).unwrap();
        verify_certificate(&cert, &fx.signer().verifier()).unwrap();
        assert_log_verifies(&fx, log);
        was_killed
    })
    .await;
    assert!(killed >= 12, "only {killed} boundaries");
}

#[tokio::test]
async fn killed_after_an_erasure_took_effect_then_resumed_reports_it_once() {
    let fx = Fixture::new();
    approved_erasure(&fx, ID).await;
    let other = fx.other_files();
    let (killed, _) = kill_in_child(fx.root(), INSIDE.to_owned(), Vec::new()).await;
    assert!(killed);
    // The erasure happened; the journal holds the step as begun only.
    assert!(!fx.path("archive/due/1.dcm").exists());
    let before = journal(&fx, ID).await;
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
    journal(&fx, ID).await;
}

#[tokio::test]
async fn a_restriction_killed_at_every_step_boundary_then_resumed_ends_right() {
    use gdpr_request::RestrictionRegister;
    let killed = every_boundary(async |at| {
        let fx = Fixture::new();
        approved_request(&fx, ID, restriction()).await;
        let (was_killed, stopped) = kill_in_child(fx.root(), at.to_string(), Vec::new()).await;
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
        assert_eq!(
            stage_records(&log).len(),
            transitions(&fx, &outcome.request).len(),
            "one record per transition ({stopped})"
        );
        assert_log_verifies(&fx, log);
        was_killed
    })
    .await;
    assert!(killed >= 10, "only {killed} boundaries");
}

#[tokio::test]
async fn killed_at_every_boundary_of_the_assessment_then_resumed_ends_right() {
    use gdpr_core::request::{Event, Findings};
    let killed = every_boundary(async |at| {
        let fx = Fixture::new();
        gdpr_request::RequestDir::create(&fx.path("requests"), &request(ID, erasure())).unwrap();
        let other = fx.other_files();
        let mode = format!("{ASSESS}{at}");
        let (was_killed, stopped) = kill_in_child(fx.root(), mode, Vec::new()).await;
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
        assert_erased_once(&fx, &outcome, &other, &stopped);
        assert_journal_replays(&fx).await;
        assert_eq!(
            stage_records(&log).len(),
            transitions(&fx, &outcome.request).len(),
            "one record per transition ({stopped})"
        );
        assert_log_verifies(&fx, log);
        was_killed
    })
    .await;
    // received, identity verified (3 each with the audit record), locate
    // (2), assessed (3).
    assert!(killed >= 8, "only {killed} boundaries");
}
