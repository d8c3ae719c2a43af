//! The process killed (SIGKILL) while it records the controller's grounds
//! against an objection (GDPR Art. 21(1), `Executor::record_grounds`) — at
//! every step boundary (the journal's writes, and inside the audit step
//! once its record is appended) and around the register's write — then
//! recorded again: the grounds are recorded once, with one time, in
//! `grounds.json`, the register and one audit record alike; the journal
//! replays and the audit log verifies.
//!
//! The harness is `support/kill.rs`, as in `crash.rs` and
//! `crash_manual.rs`: the parent spawns this test binary as a child running
//! only `child_runs_until_the_chosen_boundary`, which stops where
//! `GDPR_REQUEST_KILL_AT` says (writing a marker and sleeping), and the
//! parent kills it there.

mod support;

use std::sync::Arc;

use gdpr_audit::action::Action;
use gdpr_audit::store::{Entry, EntrySource};
use gdpr_audit::{AuditLog, verify_dir};
use gdpr_core::request::{GroundsFile, RequestId, RequestKind, Stage};
use gdpr_request::journal::StepState;
use gdpr_request::{Executor, FileRegister, GroundsOutcome, RequestDir, RestrictionRegister};
use support::kill::{self, every_boundary, kill_in_child};
use support::stopping::{StopAt, Stopping};
use support::*;

const ID: &str = "dsr-grounds";
/// The child's modes that stop around the register's write of the grounds.
const BEFORE_WRITE: &str = "before-register-write";
const AFTER_WRITE: &str = "after-register-write";

const GROUNDS: &str = "version = 1\nground = \"compelling-legitimate-grounds\"\n\
    purposes = [\"quality-assurance\"]\nassessment = \"DPO case 2026-14\"\n\
    by = \"dpo-1\"\nreason = \"CANARY-REASON the fraud inquiry\"\n";

fn grounds() -> GroundsFile {
    GroundsFile::from_toml(GROUNDS).unwrap()
}

/// The executor of the objection over the fixture's register, or over a
/// register that stops at `stop`.
async fn open_grounds(
    fx: &Fixture,
    log: Arc<AuditLog>,
    stop: Option<StopAt>,
    hook: Option<gdpr_request::BoundaryHook>,
) -> Executor {
    let inner = FileRegister::open(&fx.path("register")).unwrap();
    let register: Arc<dyn RestrictionRegister> = match stop {
        Some(at) => Arc::new(Stopping {
            inner,
            marker: kill::marker(fx.root()),
            at,
        }),
        None => Arc::new(inner),
    };
    open_over(fx, ID, log, register, hook).await
}

#[tokio::test]
async fn child_runs_until_the_chosen_boundary() {
    // Only as a child of the tests below.
    let Some((root, at)) = kill::child_args() else {
        return;
    };
    let fx = Fixture::at(&root);
    let mut ex = match at.as_str() {
        BEFORE_WRITE => open_grounds(&fx, fx.log(), Some(StopAt::BeforeGrounds), None).await,
        AFTER_WRITE => open_grounds(&fx, fx.log(), Some(StopAt::GroundsWritten), None).await,
        n => {
            let hook = kill::stop_at_boundary(n.parse().unwrap(), kill::marker(&root));
            open_grounds(&fx, fx.log(), None, Some(hook)).await
        }
    };
    ex.record_grounds(&grounds()).await.unwrap();
    kill::finished(&root);
}

/// A fresh fixture whose objection (to every purpose) ran to completion:
/// the register holds it, without grounds.
async fn objected() -> Fixture {
    let fx = Fixture::new();
    let kind = RequestKind::Objection {
        purposes: Vec::new(),
    };
    approved_request(&fx, ID, kind).await;
    let outcome = open(&fx, ID, fx.log(), None).await.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    fx
}

/// The log's grounds records (source `gdpr-request`, action `update`: no
/// other request record is an update): their positions and times.
fn grounds_records(log: &AuditLog) -> Vec<(u64, jiff::Timestamp)> {
    let mut out = Vec::new();
    EntrySource::entries(log.store(), &mut |_, e| {
        if let Entry::Record(bytes) = e {
            let r = gdpr_audit::record::Record::decode(&bytes).unwrap();
            if r.source().as_str() == gdpr_request::SOURCE && r.action() == Action::Update {
                out.push((r.position(), r.recorded()));
            }
        }
        Ok(())
    })
    .unwrap();
    out
}

/// Records the grounds again after the kill and checks that the request
/// directory, the register, the audit log and the journal agree on one
/// recording; a further call replays it.
async fn rerun_and_check(fx: &Fixture, stopped: &str) -> GroundsOutcome {
    let log = fx.log();
    let mut ex = open_grounds(fx, log.clone(), None, None).await;
    let out = ex.record_grounds(&grounds()).await.unwrap();
    let at = out.grounds.recorded_at;
    assert_eq!(out.grounds.ground, "compelling-legitimate-grounds");
    assert_eq!(out.grounds.citation.as_str(), "GDPR Art. 21(1)");
    // The request directory holds them, with the same time.
    let dir = RequestDir::open(&fx.path("requests"), &RequestId::new(ID).unwrap()).unwrap();
    assert_eq!(dir.load_grounds().unwrap().as_ref(), Some(&out.grounds));
    // The register: the objection, then it once more with the grounds.
    let entries = FileRegister::open(&fx.path("register"))
        .unwrap()
        .objection_entries()
        .unwrap();
    assert_eq!(entries.len(), 2, "the grounds written once ({stopped})");
    assert_eq!(entries[0].objection.overridden_by, None);
    assert_eq!(
        entries[1].objection.overridden_by,
        Some(grounds().to_grounds(at)),
        "the register's time is the directory's ({stopped})"
    );
    // One audit record, the one reported, dated as the grounds.
    assert_eq!(
        grounds_records(&log),
        vec![(out.audit_record.position, at)],
        "one audit record ({stopped})"
    );
    assert_eq!(out.audit_record.event, "objection-grounds-recorded");
    // The grounds add no transition: one record per transition still.
    let transitions = ex.request().history().transitions().len();
    assert_eq!(stage_records(&log).len(), transitions, "{stopped}");
    // Both steps done; the journal replays whole.
    for step in ["objection/grounds", "objection/grounds-audit"] {
        let state = step_state(fx, ID, step).await;
        assert!(
            matches!(state, Some(StepState::Done(_))),
            "{step} {state:?}"
        );
    }
    assert!(journal(fx, ID).await.torn_tail.is_none());
    drop(ex);
    // Recording them again replays them: nothing is written.
    let again = open_grounds(fx, log.clone(), None, None)
        .await
        .record_grounds(&grounds())
        .await
        .unwrap();
    assert!(again.replayed, "{stopped}");
    assert_eq!(
        (&again.grounds, &again.audit_record),
        (&out.grounds, &out.audit_record)
    );
    assert_eq!(grounds_records(&log).len(), 1);
    drop(log);
    verify_dir(fx.path("audit"), &fx.signer().verifier(), None).unwrap();
    out
}

#[tokio::test]
async fn grounds_killed_at_every_boundary_then_recorded_again_are_recorded_once() {
    let mut after_append = 0;
    let killed = every_boundary(async |at| {
        let fx = objected().await;
        let (was_killed, stopped) = kill_in_child(fx.root(), at.to_string(), Vec::new()).await;
        if stopped == "objection/grounds-audit Recorded" {
            // Killed with the record appended and the step only begun: the
            // re-run must find it, not append a second one.
            after_append += 1;
            assert_eq!(grounds_records(&fx.log()).len(), 1);
            let state = step_state(&fx, ID, "objection/grounds-audit").await;
            assert_eq!(state, Some(StepState::Begun));
        }
        rerun_and_check(&fx, &stopped).await;
        was_killed
    })
    .await;
    // `objection/grounds` (begun, done), `objection/grounds-audit` (begun,
    // record appended, done).
    assert!(killed >= 5, "only {killed} boundaries");
    assert_eq!(after_append, 1, "the kill after the append was reached");
}

#[tokio::test]
async fn grounds_killed_before_the_register_write_keep_the_time_of_grounds_json() {
    let fx = objected().await;
    let (killed, stopped) = kill_in_child(fx.root(), BEFORE_WRITE.to_owned(), Vec::new()).await;
    assert!(killed);
    // grounds.json holds the grounds; the register and the log do not.
    let dir = RequestDir::open(&fx.path("requests"), &RequestId::new(ID).unwrap()).unwrap();
    let written = dir.load_grounds().unwrap().expect("grounds.json written");
    let register = FileRegister::open(&fx.path("register")).unwrap();
    assert_eq!(register.objection_entries().unwrap().len(), 1);
    assert!(grounds_records(&fx.log()).is_empty());
    let state = step_state(&fx, ID, "objection/grounds").await;
    assert_eq!(state, Some(StepState::Begun));
    let out = rerun_and_check(&fx, &stopped).await;
    assert_eq!(out.grounds, written, "the re-run keeps the written time");
}

#[tokio::test]
async fn grounds_killed_after_the_register_write_are_written_once() {
    let fx = objected().await;
    let (killed, stopped) = kill_in_child(fx.root(), AFTER_WRITE.to_owned(), Vec::new()).await;
    assert!(killed);
    // The register holds the grounds; the journal holds the step begun.
    let register = FileRegister::open(&fx.path("register")).unwrap();
    let entries = register.objection_entries().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[1].objection.overridden_by.is_some());
    assert!(grounds_records(&fx.log()).is_empty());
    let state = step_state(&fx, ID, "objection/grounds").await;
    assert_eq!(state, Some(StepState::Begun));
    let out = rerun_and_check(&fx, &stopped).await;
    assert_eq!(
        entries[1].objection.overridden_by,
        Some(grounds().to_grounds(out.grounds.recorded_at))
    );
}
