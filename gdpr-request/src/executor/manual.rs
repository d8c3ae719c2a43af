//! The kinds that act on no system: rectification (GDPR Art. 16), a
//! manual task the operator does on the systems and then declares done,
//! and objection (GDPR Art. 21), recorded into the subject's state. Each
//! takes the stages from approval to completion as journaled, audited
//! steps and ends with an outcome that lists no system.

use gdpr_core::objection::Objection;
use gdpr_core::request::{Event, Stage};
use gdpr_core::subject::SubjectState;

use super::{Executor, RunOutcome};
use crate::Error;
use crate::journal::StepKey;
use crate::objections::ObjectionEntry;
use crate::register::subject_record;
use crate::request_dir::OUTCOME_FILE;

/// The file in the request directory holding what an objection recorded
/// into the subject's state (the objections only; no identifier), for the
/// host to merge into the state it keeps of the subject.
pub const SUBJECT_STATE_FILE: &str = "subject-state.json";

impl Executor {
    /// Declares an approved manual task (rectification, Art. 16) done by
    /// the executor's actor and completes the request: execution,
    /// verification and completion, each journaled and audited. The
    /// operator's declaration is the verification: no system is read.
    ///
    /// # Errors
    /// [`Error::WrongStage`] for a kind that is not a manual task or a
    /// request not approved (no trace); [`Error::Audit`], [`Error::Io`].
    pub async fn complete_task(&mut self) -> Result<RunOutcome, Error> {
        if !self.request.kind().is_manual() {
            return Err(self.wrong("a manual task (rectification)"));
        }
        // A stage step a killed run left begun (its audit record appended,
        // the journal not told) is journaled first, also when that step
        // was the completion: otherwise it would be reported by nobody.
        self.complete_begun_stages().await?;
        if self.request.stage() == Stage::Completed {
            return self.systemless_outcome().await;
        }
        if !matches!(
            self.request.stage(),
            Stage::Approved | Stage::Executing | Stage::Verifying
        ) {
            return Err(self.wrong("an approved request"));
        }
        self.finish_systemless().await
    }

    /// Runs (or resumes) an approved objection: the objection is recorded
    /// into a subject state (journaled step `objection/record`), saved as
    /// [`SUBJECT_STATE_FILE`] and read back; then registered in the
    /// objection register under the subject-wide record id (journaled step
    /// `objection/register`, read back), where `authorize` hosts and the
    /// gateway find it; then the request completed.
    ///
    /// # Errors
    /// [`Error::NoObjection`] when the register holds no objections (the
    /// request stays executing; nothing is registered).
    pub(super) async fn run_objection(&mut self) -> Result<RunOutcome, Error> {
        if self.request.stage() == Stage::Approved {
            self.step(Event::ExecutionStarted).await?;
        }
        // In force from the start of execution (the same instant on a
        // resumed run: it is in the history).
        let at = self
            .request
            .history()
            .transitions()
            .iter()
            .find(|t| t.event == Event::ExecutionStarted)
            .map_or_else(jiff::Timestamp::now, |t| t.at);
        let kind = self.request.kind().clone();
        let dir = &self.dir;
        let steps = self.steps.clone();
        let recorded: Vec<Objection> = steps
            .run(
                StepKey::new(&["objection", "record"])?,
                move || async move {
                    let mut state = SubjectState::default();
                    kind.record_into(&mut state, at)?;
                    dir.save(
                        SUBJECT_STATE_FILE,
                        &state.objections,
                        "write subject-state.json",
                    )?;
                    // "Recorded" only when the file reads back as written.
                    let back: Vec<Objection> =
                        dir.load(SUBJECT_STATE_FILE, "subject-state.json")?;
                    if back != state.objections {
                        return Err(Error::Damaged {
                            what: "subject-state.json (read back differs)",
                            line: 1,
                        });
                    }
                    Ok(state.objections)
                },
            )
            .await?;
        self.register_objections(recorded).await?;
        self.finish_systemless().await
    }

    /// Registers the `recorded` objections under the subject-wide record
    /// id (step `objection/register`): "registered" only when the register
    /// reads them back.
    async fn register_objections(&mut self, recorded: Vec<Objection>) -> Result<(), Error> {
        let register = self.register.clone();
        let objections = register.objections().ok_or(Error::NoObjection)?;
        // Invariant: `create` gives the subject a key when it has none.
        let subject = self
            .log
            .subject_key(&self.setup.audit_subject, true)?
            .map(|id| subject_record(&id))
            .ok_or(Error::NoObjection)?;
        let request = self.request.id().clone();
        let _registered: usize = self
            .steps
            .run(StepKey::new(&["objection", "register"])?, || async move {
                for objection in &recorded {
                    let entry =
                        ObjectionEntry::new(subject.clone(), request.clone(), objection.clone());
                    objections.record_objection(&entry).await?;
                }
                let back = objections.objections_of(&subject).await?;
                let held = back
                    .iter()
                    .filter(|e| e.request == request && recorded.contains(&e.objection))
                    .count();
                if held != recorded.len() {
                    return Err(Error::Damaged {
                        what: "the objection register (read back differs)",
                        line: 0,
                    });
                }
                Ok(held)
            })
            .await?;
        Ok(())
    }

    /// Takes verification and completion (after execution) and saves the
    /// outcome.
    async fn finish_systemless(&mut self) -> Result<RunOutcome, Error> {
        if self.request.stage() == Stage::Approved {
            self.step(Event::ExecutionStarted).await?;
        }
        if self.request.stage() == Stage::Executing {
            self.step(Event::VerificationStarted).await?;
        }
        if self.request.stage() == Stage::Verifying {
            self.step(Event::Completed).await?;
        }
        self.systemless_outcome().await
    }

    /// The saved outcome of a request that acted on no system.
    async fn systemless_outcome(&mut self) -> Result<RunOutcome, Error> {
        let outcome = RunOutcome {
            request: self.request.id().clone(),
            stage: self.request.stage(),
            systems: Vec::new(),
            audit_records: self.audit_records().await?,
            replayed_steps: self.steps.replayed(),
            torn_tail: self.steps.replay().torn_tail,
            notifications: Vec::new(),
        };
        self.dir
            .save(OUTCOME_FILE, &outcome, "write outcome.json")?;
        Ok(outcome)
    }
}
