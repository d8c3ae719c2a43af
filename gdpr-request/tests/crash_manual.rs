//! The process killed (SIGKILL) at every step boundary of the steps that
//! act on no system — `extend` (Art. 12(3)), `complete --task-done`
//! (rectification, Art. 16) and the objection's run (Art. 21) — and inside
//! the objection's registration, then re-run: the final state is right,
//! each step has one effect and one audit record, the journal replays
//! and the audit log verifies.
//!
//! As in `crash.rs` (the harness is `support/kill.rs`), the parent spawns
//! this test binary as a child running only
//! `child_runs_until_the_chosen_boundary`; the child stops at the boundary
//! numbered `GDPR_REQUEST_KILL_AT` of the operation named by
//! `GDPR_REQUEST_KILL_OP` (writing a marker and sleeping), and the parent
//! kills it there.

mod support;

use std::sync::Arc;

use gdpr_audit::verify_dir;
use gdpr_core::objection::Objection;
use gdpr_core::request::{
    Calendar, Extension, ExtensionGround, HolidayCalendar, RequestKind, Stage,
};
use gdpr_request::journal::StepState;
use gdpr_request::{
    BoundaryHook, Executor, FileRegister, RequestDir, RestrictionRegister, RunOutcome,
};
use support::kill::{self, every_boundary, kill_in_child};
use support::stopping::{StopAt, Stopping};
use support::*;

const OP: &str = "GDPR_REQUEST_KILL_OP";
const ID: &str = "dsr-manual";
/// The child's boundary that stops inside the objection's registration:
/// the register written, the journal not yet told.
const INSIDE: &str = "inside-register";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Extend,
    Complete,
    Objection,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Extend => "extend",
            Op::Complete => "complete",
            Op::Objection => "objection",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "extend" => Op::Extend,
            "complete" => Op::Complete,
            _ => Op::Objection,
        }
    }
}

fn calendar() -> Calendar {
    Calendar::new(
        jiff::tz::TimeZone::UTC,
        HolidayCalendar::builtin("DE").unwrap().unwrap(),
    )
}

/// The extension, told one second after receipt (the same value in the
/// child and in the re-run: a second, different one would be refused).
fn extension(ex: &Executor) -> Extension {
    let received = ex.request().history().transitions()[0].at;
    Extension::new(
        2,
        vec![ExtensionGround::Complexity],
        received + jiff::SignedDuration::from_secs(1),
    )
    .unwrap()
}

/// The executor of the fixture's request over `register`.
async fn open_over(
    fx: &Fixture,
    log: Arc<gdpr_audit::AuditLog>,
    register: Arc<dyn RestrictionRegister>,
    hook: Option<BoundaryHook>,
) -> Executor {
    support::open_over(fx, ID, log, register, hook).await
}

async fn act(op: Op, ex: &mut Executor) -> Option<RunOutcome> {
    match op {
        Op::Extend => {
            let e = extension(ex);
            ex.extend(e, &calendar()).await.unwrap();
            None
        }
        Op::Complete => Some(ex.complete_task().await.unwrap()),
        Op::Objection => Some(ex.run().await.unwrap()),
    }
}

#[tokio::test]
async fn child_runs_until_the_chosen_boundary() {
    // Only as a child of the tests below.
    let (Some((root, at)), Ok(op)) = (kill::child_args(), std::env::var(OP)) else {
        return;
    };
    let fx = Fixture::at(&root);
    let op = Op::parse(&op);
    let marker = kill::marker(&root);
    let register = FileRegister::open(&fx.path("register")).unwrap();
    let mut ex = if at == INSIDE {
        let stopping = Stopping {
            inner: register,
            marker,
            at: StopAt::ObjectionWritten,
        };
        open_over(&fx, fx.log(), Arc::new(stopping), None).await
    } else {
        let hook = kill::stop_at_boundary(at.parse().unwrap(), marker);
        open_over(&fx, fx.log(), Arc::new(register), Some(hook)).await
    };
    act(op, &mut ex).await;
    kill::finished(&root);
}

/// Runs the child of `op` until it stops at `at` (then kills it) or
/// finishes: whether it was killed, and where it stopped.
async fn kill_op_at(fx: &Fixture, op: Op, at: String) -> (bool, String) {
    kill_in_child(fx.root(), at, vec![(OP, op.name().to_owned())]).await
}

/// A fresh fixture with the request `op` acts on: received (extend) or
/// approved (rectification, objection to every purpose).
async fn prepared(op: Op) -> Fixture {
    let fx = Fixture::new();
    match op {
        Op::Extend => {
            RequestDir::create(&fx.path("requests"), &request(ID, RequestKind::Access)).unwrap();
        }
        Op::Complete => approved_request(&fx, ID, RequestKind::Rectification).await,
        Op::Objection => {
            let kind = RequestKind::Objection {
                purposes: Vec::new(),
            };
            approved_request(&fx, ID, kind).await;
        }
    }
    fx
}

/// Re-runs `op` after the kill and checks the final state: the stage, one
/// transition and one audit record per step, the objection registered
/// once, the journal and the audit log.
async fn rerun_and_check(fx: &Fixture, op: Op, stopped: &str) {
    let log = fx.log();
    let register = Arc::new(FileRegister::open(&fx.path("register")).unwrap());
    let mut ex = open_over(fx, log.clone(), register.clone(), None).await;
    let outcome = act(op, &mut ex).await;
    let request = ex.request().clone();
    let events: Vec<&str> = request
        .history()
        .transitions()
        .iter()
        .map(|t| t.event.name())
        .collect();
    let once = |name: &str| {
        assert_eq!(
            events.iter().filter(|e| **e == name).count(),
            1,
            "{name} in {events:?} ({op:?} killed at {stopped})"
        );
    };
    match op {
        Op::Extend => {
            assert_eq!(request.stage(), Stage::Received, "{stopped}");
            once("extended");
            assert_eq!(request.history().extension().map(|e| e.months()), Some(2));
        }
        Op::Complete | Op::Objection => {
            let outcome = outcome.unwrap();
            assert_eq!(
                outcome.stage,
                Stage::Completed,
                "{op:?} killed at {stopped}"
            );
            assert!(outcome.systems.is_empty(), "acted on no system");
            for e in ["execution-started", "verification-started", "completed"] {
                once(e);
                let reported = outcome
                    .audit_records
                    .iter()
                    .filter(|r| r.event == e)
                    .count();
                assert_eq!(reported, 1, "{e} reported once ({op:?}, {stopped})");
            }
        }
    }
    if op == Op::Objection {
        let state: Vec<Objection> = serde_json::from_str(
            &std::fs::read_to_string(fx.path("requests").join(ID).join("subject-state.json"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(state.len(), 1, "{stopped}");
        let entries = register.objection_entries().unwrap();
        assert_eq!(entries.len(), 1, "registered once ({stopped})");
        assert_eq!(entries[0].objection, state[0]);
        assert!(entries[0].subject.as_str().starts_with("gdpr-subject:"));
    }
    // Every transition has exactly one audit record (a crash after the
    // append is not appended again).
    assert_eq!(
        stage_records(&log).len(),
        events.len(),
        "one record per transition ({op:?} killed at {stopped})"
    );
    if op != Op::Extend {
        // The certificate of the completed request verifies offline.
        let dir = RequestDir::open(&fx.path("requests"), request.id()).unwrap();
        let cert =
            gdpr_request::certificate::issue(&dir, &log, &fx.signer(), jiff::Timestamp::now())
                .unwrap();
        let cert = serde_json::to_vec(&cert).unwrap();
        gdpr_request::verify_certificate(&cert, &fx.signer().verifier()).unwrap();
    }
    // Opening fails on a step recorded done twice.
    assert!(journal(fx, ID).await.torn_tail.is_none());
    drop(ex);
    drop(log);
    verify_dir(fx.path("audit"), &fx.signer().verifier(), None).unwrap();
}

async fn killed_at_every_boundary(op: Op) -> usize {
    every_boundary(async |at| {
        let fx = prepared(op).await;
        let (was_killed, stopped) = kill_op_at(&fx, op, at.to_string()).await;
        rerun_and_check(&fx, op, &stopped).await;
        was_killed
    })
    .await
}

#[tokio::test]
async fn an_extension_killed_at_every_boundary_then_given_again_is_taken_once() {
    // received and extended: begun, audit record appended, done.
    let killed = killed_at_every_boundary(Op::Extend).await;
    assert!(killed >= 6, "only {killed} boundaries");
}

#[tokio::test]
async fn a_completed_task_killed_at_every_boundary_then_completed_again_ends_right() {
    // execution, verification, completion: three boundaries each.
    let killed = killed_at_every_boundary(Op::Complete).await;
    assert!(killed >= 9, "only {killed} boundaries");
}

#[tokio::test]
async fn an_objection_killed_at_every_boundary_then_run_again_ends_right() {
    // The three stage steps, and `objection/record` and
    // `objection/register` (begun, done).
    let killed = killed_at_every_boundary(Op::Objection).await;
    assert!(killed >= 13, "only {killed} boundaries");
}

#[tokio::test]
async fn an_objection_killed_after_it_was_registered_is_registered_once() {
    let fx = prepared(Op::Objection).await;
    let (killed, _) = kill_op_at(&fx, Op::Objection, INSIDE.to_owned()).await;
    assert!(killed);
    // The register holds the objection; the journal holds the step begun.
    let register = FileRegister::open(&fx.path("register")).unwrap();
    assert_eq!(register.objection_entries().unwrap().len(), 1);
    let step = step_state(&fx, ID, "objection/register").await;
    assert_eq!(step, Some(StepState::Begun));
    rerun_and_check(&fx, Op::Objection, INSIDE).await;
}
