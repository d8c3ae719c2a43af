//! The controller's grounds against an objection (GDPR Art. 21(1)),
//! recorded on a completed objection request: two journaled steps, the
//! grounds (`objection/grounds`: `grounds.json` with the reason sealed, and
//! the register's objection carrying them, each read back) and their audit
//! record (`objection/grounds-audit`).

use gdpr_audit::action::Action;
use gdpr_core::request::{GroundsFile, RequestId, RequestKind, Stage};
use serde::{Deserialize, Serialize};

use super::Executor;
use super::audit::{self, AuditRecord, GROUNDS_RECORDED};
use super::steps::Phase;
use crate::Error;
use crate::grounds::RecordedGrounds;
use crate::journal::StepKey;
use crate::register::subject_record;

/// What [`Executor::record_grounds`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct GroundsOutcome {
    /// The objection request.
    pub request: RequestId,
    /// The grounds as recorded (no reason).
    pub grounds: RecordedGrounds,
    /// Their audit record.
    pub audit_record: AuditRecord,
    /// Whether they had been recorded before (nothing was done now).
    pub replayed: bool,
}

impl Executor {
    /// Records the controller's grounds of `file` on the objection this
    /// completed objection request registered: journaled, sealed, in the
    /// register (read back) and audited. Recording the same grounds again
    /// (the reason aside) replays them; a step a crash interrupted runs
    /// again with the same time, so the register changes once.
    ///
    /// # Errors
    /// [`Error::WrongStage`] for another kind, a request not completed, or
    /// other grounds already recorded (no trace); [`Error::NoObjection`]
    /// when the register holds no objection of this request;
    /// [`Error::Audit`], [`Error::Io`].
    pub async fn record_grounds(&mut self, file: &GroundsFile) -> Result<GroundsOutcome, Error> {
        if !matches!(self.request.kind(), RequestKind::Objection { .. }) {
            return Err(self.wrong("an objection request"));
        }
        if self.request.stage() != Stage::Completed {
            return Err(self.wrong("a completed objection request (run it first)"));
        }
        let earlier = self.dir.load_grounds()?;
        if earlier.as_ref().is_some_and(|g| !g.same_as(file)) {
            return Err(self.wrong("no other grounds recorded on this objection"));
        }
        let key = StepKey::new(&["objection", "grounds"])?;
        let replayed = self.steps.replay().done(&key).is_some();
        // The time of grounds a crash left written is kept: the register
        // then receives the same entry and changes once.
        let at = earlier.map_or_else(|| self.after_last(), |g| g.recorded_at);
        let grounds = RecordedGrounds::of(file, at);
        let register = self.register.clone();
        let objections = register.objections().ok_or(Error::NoObjection)?;
        let subject = self
            .log
            .subject_key(&self.setup.audit_subject, false)?
            .map(|id| subject_record(&id))
            .ok_or(Error::NoObjection)?;
        let (dir, request) = (&self.dir, self.request.id().clone());
        let recorded: RecordedGrounds = self
            .steps
            .run(key, || async move {
                dir.save_grounds(&grounds, file, &request)?;
                let wanted = file.to_grounds(grounds.recorded_at);
                objections
                    .record_grounds(&subject, &request, wanted.clone())
                    .await?;
                let back = objections.objections_of(&subject).await?;
                let held = back.iter().any(|e| {
                    e.request == request && e.objection.overridden_by.as_ref() == Some(&wanted)
                });
                if !held {
                    return Err(Error::Damaged {
                        what: "the objection register (grounds read back differ)",
                        line: 0,
                    });
                }
                Ok(grounds)
            })
            .await?;
        let audit_record = self.audit_grounds(&recorded).await?;
        Ok(GroundsOutcome {
            request: self.request.id().clone(),
            grounds: recorded,
            audit_record,
            replayed,
        })
    }

    /// The audit record of `grounds` (step `objection/grounds-audit`): a
    /// run that died after the append (the boundary [`Phase::Recorded`])
    /// finds its record instead of writing a second one.
    async fn audit_grounds(&mut self, grounds: &RecordedGrounds) -> Result<AuditRecord, Error> {
        let key = StepKey::new(&["objection", "grounds-audit"])?;
        let rerun = matches!(
            self.steps.replay().steps.get(&key),
            Some(crate::journal::StepState::Begun)
        );
        let fence = self.audit_fence();
        let (log, request) = (&self.log, &self.request);
        let (actor, subject) = (&self.setup.actor, &self.setup.audit_subject);
        let (hook, boundary) = (self.steps.clone(), key.clone());
        self.steps
            .run(key, || async move {
                if rerun
                    && let Some(found) = audit::find_record(
                        &**log,
                        request.id(),
                        GROUNDS_RECORDED,
                        Action::Update,
                        grounds.recorded_at,
                        fence,
                    )?
                {
                    return Ok(found);
                }
                let record = audit::grounds_recorded(&**log, request, actor, subject, grounds)?;
                hook.boundary(&boundary, Phase::Recorded);
                Ok(record)
            })
            .await
    }

    /// Now, strictly after the request's last transition.
    fn after_last(&self) -> jiff::Timestamp {
        let next = self
            .last_at()
            .checked_add(jiff::SignedDuration::from_nanos(1))
            .unwrap_or_else(|_| self.last_at());
        jiff::Timestamp::now().max(next)
    }
}
