//! A data-subject request as the controller tracks it: what is asked, of
//! whom on which system, the approval policy, and the checked history.
//! Persisted as JSON with a format version.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::actor::ActorId;
use crate::request::deadline::{Calendar, Deadline, DeadlineStatus, Extension};
use crate::request::error::RequestError;
use crate::request::kind::RequestKind;
use crate::request::lifecycle::{ApprovalPolicy, Event, History, Stage, Transition};
use crate::request::refusal::{Refusal, RefusalGround};
use crate::request::subjects::SubjectMap;

/// The format version of a persisted request.
pub const REQUEST_FORMAT_VERSION: u32 = 1;

/// A request's own identifier (`dsr-2026-0042`): 1 to 64 characters from
/// `A-Z a-z 0-9 . _ : -`. It names the request, never the patient, so it
/// prints.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(String);

impl RequestId {
    /// Parses a request id.
    ///
    /// # Errors
    /// [`crate::Error::InvalidIdentifier`] when it breaks the rule.
    pub fn new(value: impl Into<String>) -> Result<Self, crate::Error> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !ok {
            return Err(crate::Error::InvalidIdentifier {
                what: "request id",
                rule: "1 to 64 characters from A-Z a-z 0-9 . _ : -",
            });
        }
        Ok(Self(value))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RequestId {
    type Error = crate::Error;
    fn try_from(value: String) -> Result<Self, crate::Error> {
        Self::new(value)
    }
}

impl From<RequestId> for String {
    fn from(id: RequestId) -> String {
        id.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A data-subject request and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", try_from = "RequestFile")]
pub struct DataSubjectRequest {
    version: u32,
    id: RequestId,
    kind: RequestKind,
    subjects: SubjectMap,
    approval: ApprovalPolicy,
    history: History,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RequestFile {
    version: u32,
    id: RequestId,
    kind: RequestKind,
    subjects: SubjectMap,
    approval: ApprovalPolicy,
    history: Vec<Transition>,
}

impl TryFrom<RequestFile> for DataSubjectRequest {
    type Error = RequestError;
    fn try_from(f: RequestFile) -> Result<Self, RequestError> {
        if f.version != REQUEST_FORMAT_VERSION {
            return Err(RequestError::UnsupportedVersion {
                what: "request",
                found: f.version,
            });
        }
        Ok(Self {
            version: f.version,
            id: f.id,
            kind: f.kind,
            subjects: f.subjects,
            approval: f.approval,
            history: History::replay(f.history, f.approval)?,
        })
    }
}

impl DataSubjectRequest {
    /// A request received at `at`, logged by `actor`.
    pub fn receive(
        id: RequestId,
        kind: RequestKind,
        subjects: SubjectMap,
        approval: ApprovalPolicy,
        at: Timestamp,
        actor: ActorId,
    ) -> Self {
        Self {
            version: REQUEST_FORMAT_VERSION,
            id,
            kind,
            subjects,
            approval,
            history: History::received(at, actor),
        }
    }

    /// The request's identifier.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// What is asked.
    pub fn kind(&self) -> &RequestKind {
        &self.kind
    }

    /// The subject on each system.
    pub fn subjects(&self) -> &SubjectMap {
        &self.subjects
    }

    /// Who must approve.
    pub fn approval(&self) -> ApprovalPolicy {
        self.approval
    }

    /// The history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        self.history.stage()
    }

    /// Takes a step (`event`) by `actor` at `at` and returns the recorded
    /// transition, ready for the audit log. Use [`Self::extend`] for an
    /// extension (it needs the calendar).
    ///
    /// # Errors
    /// The errors of [`History::push`]; [`RequestError::IllegalTransition`]
    /// for an extension given here.
    pub fn step(
        &mut self,
        event: Event,
        actor: ActorId,
        at: Timestamp,
    ) -> Result<&Transition, RequestError> {
        if matches!(event, Event::Extended { .. }) {
            return Err(RequestError::IllegalTransition {
                from: self.stage(),
                step: "extended (use DataSubjectRequest::extend)",
            });
        }
        if let Event::Refused { refusal } = &event {
            self.check_refusal(refusal)?;
        }
        self.push(event, actor, at)
    }

    /// Extends the deadline (Art. 12(3)): once, told at or after receipt
    /// and within the first period.
    ///
    /// # Errors
    /// [`RequestError::ExtensionTooLate`] (told after the first period or
    /// before receipt), [`RequestError::ExtendedTwice`], and the errors of
    /// [`History::push`] and [`Deadline::compute`].
    pub fn extend(
        &mut self,
        extension: Extension,
        calendar: &Calendar,
        actor: ActorId,
        at: Timestamp,
    ) -> Result<&Transition, RequestError> {
        Deadline::compute(calendar, self.history.received_at(), Some(&extension))?;
        self.push(Event::Extended { extension }, actor, at)
    }

    /// A refusal's grounds fit the request: each applies to its kind, and
    /// identity is not refused as unestablished once it was verified.
    fn check_refusal(&self, refusal: &Refusal) -> Result<(), RequestError> {
        let verified = self
            .history
            .transitions()
            .iter()
            .any(|t| t.event == Event::IdentityVerified);
        for g in refusal.grounds() {
            let why = if !g.fits(&self.kind) {
                "it answers another kind of request"
            } else if verified && *g == RefusalGround::IdentityNotEstablished {
                "the identity was verified"
            } else {
                continue;
            };
            return Err(RequestError::RefusalGroundDoesNotApply {
                ground: g.name(),
                why,
            });
        }
        Ok(())
    }

    fn push(
        &mut self,
        event: Event,
        actor: ActorId,
        at: Timestamp,
    ) -> Result<&Transition, RequestError> {
        self.history
            .push(Transition { event, at, actor }, self.approval)?;
        let last = self.history.transitions().last();
        // push succeeded, so the history has a last transition.
        last.ok_or(RequestError::OutOfOrder { step: "unknown" })
    }

    /// The deadline under `calendar`.
    ///
    /// # Errors
    /// The errors of [`Deadline::compute`].
    pub fn deadline(&self, calendar: &Calendar) -> Result<Deadline, RequestError> {
        Deadline::compute(
            calendar,
            self.history.received_at(),
            self.history.extension(),
        )
    }

    /// The deadline seen at `now`, or, once answered, at the answer: an
    /// answered request is overdue only if it was answered late.
    ///
    /// # Errors
    /// The errors of [`Deadline::compute`].
    pub fn deadline_status(
        &self,
        calendar: &Calendar,
        now: Timestamp,
    ) -> Result<DeadlineStatus, RequestError> {
        let at = self.history.answered_at().unwrap_or(now);
        Ok(self.deadline(calendar)?.status(calendar, at))
    }
}
