//! Extending the deadline (GDPR Art. 12(3)): once, by one or two further
//! months, while the first month runs, with its grounds told to the
//! subject. A stage step like any other — checked, journaled, audited —
//! that keeps the stage.

use gdpr_core::request::{Calendar, Event, Extension};

use super::Executor;
use crate::Error;

impl Executor {
    /// Extends the deadline by `extension`, checked against `calendar` (the
    /// controller's, as for the deadline): the extension must be told
    /// within the first month and be the request's first. The same
    /// extension given again (after a crash) has no second effect.
    ///
    /// # Errors
    /// [`Error::Request`] for an illegal extension (a second one, one told
    /// after the first month, an answered request), which leaves no trace:
    /// no journal line, no audit record; [`Error::Audit`], [`Error::Io`].
    pub async fn extend(&mut self, extension: Extension, calendar: &Calendar) -> Result<(), Error> {
        let event = Event::Extended { extension };
        let taken = self
            .request
            .history()
            .transitions()
            .iter()
            .any(|t| t.event == event);
        if !taken {
            // Checked on a copy first: the journal and the log are only
            // touched by an extension the request model accepts.
            let Event::Extended { extension } = &event else {
                return Err(self.wrong("an extension"));
            };
            let at = self
                .last_at()
                .checked_add(jiff::SignedDuration::from_nanos(1))
                .unwrap_or_else(|_| self.last_at());
            let mut probe = self.request.clone();
            probe.extend(
                extension.clone(),
                calendar,
                self.setup.actor.id.clone(),
                at.max(jiff::Timestamp::now()),
            )?;
        }
        let actor = self.setup.actor.clone();
        self.take(event, actor, Some(calendar)).await
    }
}
