//! The stages of a request, from receipt to answer, and the transitions
//! between them. Every transition is dated and names its actor; the history
//! is the request's record for accountability (Art. 5(2)) and each entry
//! has a stable name for the audit log ([`Event::name`]).
//!
//! ```text
//! received → identity-verified → assessed → approved → executing → verifying
//!                                                      → completed | partially-completed
//! received | identity-verified | assessed | approved → refused
//! any stage before the answer: extended (once, Art. 12(3))
//! ```

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::actor::ActorId;
use crate::request::deadline::Extension;
use crate::request::error::RequestError;
use crate::request::refusal::Refusal;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Stage {
    /// Received; the deadline runs from the day of receipt.
    Received,
    /// The requester was identified as the subject (Art. 12(6)).
    IdentityVerified,
    /// What the law allows was assessed (for erasure: per record).
    Assessed,
    /// The assessment was approved.
    Approved,
    /// The systems are being acted on.
    Executing,
    /// The result is being verified on every system.
    Verifying,
    /// Done and verified on every system.
    Completed,
    /// Done on some systems or records, with a residue the answer names.
    PartiallyCompleted,
    /// Refused, with reasons and the remedies (Art. 12(4)).
    Refused,
}

impl Stage {
    /// The stable name, as in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::IdentityVerified => "identity-verified",
            Self::Assessed => "assessed",
            Self::Approved => "approved",
            Self::Executing => "executing",
            Self::Verifying => "verifying",
            Self::Completed => "completed",
            Self::PartiallyCompleted => "partially-completed",
            Self::Refused => "refused",
        }
    }

    /// Whether the request is answered (no further step is allowed).
    pub const fn is_answered(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::PartiallyCompleted | Self::Refused
        )
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One step in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// The request arrived.
    Received,
    /// The requester's identity was verified.
    IdentityVerified,
    /// The assessment was made.
    Assessed,
    /// The assessment was approved.
    Approved,
    /// Execution on the systems began.
    ExecutionStarted,
    /// Verification on the systems began.
    VerificationStarted,
    /// The request was completed and verified.
    Completed,
    /// The request was partially completed.
    PartiallyCompleted,
    /// The request was refused.
    Refused {
        /// The grounds and remedies.
        refusal: Refusal,
    },
    /// The deadline was extended (does not change the stage).
    Extended {
        /// The extension as told.
        extension: Extension,
    },
}

impl Event {
    /// The stable name, for JSON and the audit log
    /// (`"request.<name>"` is a good audit action).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::IdentityVerified => "identity-verified",
            Self::Assessed => "assessed",
            Self::Approved => "approved",
            Self::ExecutionStarted => "execution-started",
            Self::VerificationStarted => "verification-started",
            Self::Completed => "completed",
            Self::PartiallyCompleted => "partially-completed",
            Self::Refused { .. } => "refused",
            Self::Extended { .. } => "extended",
        }
    }

    /// The stage this event leads to from `from`, or `None` when it is not
    /// allowed there. An extension keeps the stage.
    pub fn next_stage(&self, from: Stage) -> Option<Stage> {
        use Stage as S;
        let to = match (from, self) {
            (S::Received, Self::IdentityVerified) => S::IdentityVerified,
            (S::IdentityVerified, Self::Assessed) => S::Assessed,
            (S::Assessed, Self::Approved) => S::Approved,
            (S::Approved, Self::ExecutionStarted) => S::Executing,
            (S::Executing, Self::VerificationStarted) => S::Verifying,
            (S::Verifying, Self::Completed) => S::Completed,
            (S::Verifying, Self::PartiallyCompleted) => S::PartiallyCompleted,
            (
                S::Received | S::IdentityVerified | S::Assessed | S::Approved,
                Self::Refused { .. },
            ) => S::Refused,
            (s, Self::Extended { .. }) if !s.is_answered() => s,
            _ => return None,
        };
        Some(to)
    }
}

/// A dated step with its actor. JSON: the event's fields with `at` and
/// `actor` beside them, e.g.
/// `{"event":"approved","at":"2026-03-02T09:00:00Z","actor":"dpo-2"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
    /// When.
    pub at: Timestamp,
    /// Who did it (never printed by `Debug`).
    pub actor: ActorId,
}

/// Who must approve an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ApprovalPolicy {
    /// Any actor, the assessor included.
    AnyActor,
    /// A second actor, different from the one who assessed (four eyes).
    SecondActor,
}

/// The history of a request, checked transition by transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct History(Vec<Transition>);

impl History {
    /// A history that starts with the receipt.
    pub fn received(at: Timestamp, actor: ActorId) -> Self {
        Self(vec![Transition {
            event: Event::Received,
            at,
            actor,
        }])
    }

    /// Replays `transitions` under `policy`, checking each.
    ///
    /// # Errors
    /// As [`History::push`]; [`RequestError::IllegalTransition`] when the
    /// first is not the receipt.
    pub fn replay(
        transitions: Vec<Transition>,
        policy: ApprovalPolicy,
    ) -> Result<Self, RequestError> {
        let mut iter = transitions.into_iter();
        let first = match iter.next() {
            Some(t) if t.event == Event::Received => t,
            other => {
                return Err(RequestError::IllegalTransition {
                    from: Stage::Received,
                    step: other.map_or("nothing", |t| t.event.name()),
                });
            }
        };
        let mut history = Self::received(first.at, first.actor);
        for t in iter {
            history.push(t, policy)?;
        }
        Ok(history)
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        self.0.iter().skip(1).fold(Stage::Received, |stage, t| {
            // Every pushed transition was checked, so next_stage is Some.
            t.event.next_stage(stage).unwrap_or(stage)
        })
    }

    /// Appends a transition after checking it: allowed in the current
    /// stage, not dated before the last one, one extension at most, and
    /// under [`ApprovalPolicy::SecondActor`] approved by someone other
    /// than the assessor.
    ///
    /// # Errors
    /// [`RequestError::IllegalTransition`], [`RequestError::OutOfOrder`],
    /// [`RequestError::ExtendedTwice`], [`RequestError::SameActorApproves`].
    pub fn push(&mut self, t: Transition, policy: ApprovalPolicy) -> Result<(), RequestError> {
        let from = self.stage();
        let step = t.event.name();
        if t.event.next_stage(from).is_none() {
            return Err(RequestError::IllegalTransition { from, step });
        }
        if self.0.last().is_some_and(|last| t.at < last.at) {
            return Err(RequestError::OutOfOrder { step });
        }
        if matches!(t.event, Event::Extended { .. }) && self.extension().is_some() {
            return Err(RequestError::ExtendedTwice);
        }
        if t.event == Event::Approved && policy == ApprovalPolicy::SecondActor {
            let assessor = self.0.iter().rev().find(|e| e.event == Event::Assessed);
            if assessor.is_some_and(|a| a.actor == t.actor) {
                return Err(RequestError::SameActorApproves);
            }
        }
        self.0.push(t);
        Ok(())
    }

    /// Every transition, oldest first.
    pub fn transitions(&self) -> &[Transition] {
        &self.0
    }

    /// The receipt.
    pub fn received_at(&self) -> Timestamp {
        // A history always starts with its receipt (constructors above).
        self.0.first().map_or(Timestamp::UNIX_EPOCH, |t| t.at)
    }

    /// When the request was answered, if it was.
    pub fn answered_at(&self) -> Option<Timestamp> {
        let last = self.0.last()?;
        self.stage().is_answered().then_some(last.at)
    }

    /// The extension, if one was granted.
    pub fn extension(&self) -> Option<&Extension> {
        self.0.iter().find_map(|t| match &t.event {
            Event::Extended { extension } => Some(extension),
            _ => None,
        })
    }

    /// The refusal, if the request was refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.0.iter().find_map(|t| match &t.event {
            Event::Refused { refusal } => Some(refusal),
            _ => None,
        })
    }
}
