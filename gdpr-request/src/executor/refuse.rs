//! Refusing a request (GDPR Art. 12(4), 12(5), 11(2)): a stage step like
//! any other — checked, journaled, audited — and an outcome that acts on
//! no system, so that `run`, `status` and the certificate report it.

use gdpr_core::request::{Event, Refusal, Stage};

use super::{Executor, RunOutcome};
use crate::Error;
use crate::request_dir::OUTCOME_FILE;

impl Executor {
    /// Refuses the request on the grounds of `refusal` (the remedies of
    /// Art. 77 and 79 are told with it, Art. 12(4)) and saves its outcome:
    /// no system is acted on. Allowed from receipt up to approval, before
    /// execution starts; each ground must fit the request's kind. The same
    /// refusal given again (after a crash) has no second effect.
    ///
    /// # Errors
    /// [`Error::Request`] for an illegal refusal (a completed request, a
    /// ground that does not apply), which leaves no trace: no journal
    /// line, no audit record; [`Error::Audit`], [`Error::Io`].
    pub async fn refuse(&mut self, refusal: Refusal) -> Result<RunOutcome, Error> {
        let event = Event::Refused { refusal };
        let taken = self
            .request
            .history()
            .transitions()
            .iter()
            .any(|t| t.event == event);
        if !taken {
            // Checked on a copy first: the journal and the log are only
            // touched by a refusal the request model accepts.
            let at = self
                .last_at()
                .checked_add(jiff::SignedDuration::from_nanos(1))
                .unwrap_or_else(|_| self.last_at());
            let mut probe = self.request.clone();
            probe.step(event.clone(), self.setup.actor.id.clone(), at)?;
        }
        self.step(event).await?;
        self.refused_outcome().await
    }

    /// The outcome of a refused request (no system acted on), saved; also
    /// what `run` answers for a request refused before its outcome was
    /// saved (a crash right after the refusal).
    pub(super) async fn refused_outcome(&mut self) -> Result<RunOutcome, Error> {
        if self.request.stage() != Stage::Refused {
            return Err(self.wrong("a refused request"));
        }
        let outcome = RunOutcome {
            request: self.request.id().clone(),
            stage: Stage::Refused,
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
