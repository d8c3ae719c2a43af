//! A patient's request to destroy the file before its period ends
//! (Art. 7:455 BW): the provider destroys it within three months of the
//! request, unless keeping it is of substantial interest to someone other
//! than the patient, or a statute forbids destruction.
//!
//! Only rules marked `destroyable_on_request` yield to such a request; any
//! other rule still running keeps the record (that statute forbids it), and
//! so does a legal hold.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::Citation;
use crate::retention::decision::{Status, Undetermined};
use crate::retention::hold::HoldSet;
use crate::retention::pack::RulePack;
use crate::retention::record::RetentionRecord;
use crate::retention::rule::Rule;

/// A request to destroy a record, with what the provider knows about the
/// obstacles Art. 7:455(2) BW names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionRequest {
    received: Date,
    other_persons_interest: bool,
    statute: Option<Citation>,
}

impl DestructionRequest {
    /// A request received on `received`, with no obstacle known.
    pub const fn received(received: Date) -> Self {
        Self {
            received,
            other_persons_interest: false,
            statute: None,
        }
    }

    /// Keeping the record is of substantial interest to someone other than
    /// the patient (a judgement the provider makes and documents).
    #[must_use]
    pub fn with_other_persons_interest(mut self) -> Self {
        self.other_persons_interest = true;
        self
    }

    /// A statute outside the pack forbids destruction (cite it).
    #[must_use]
    pub fn with_statute_forbidding(mut self, statute: Citation) -> Self {
        self.statute = Some(statute);
        self
    }

    /// The day the request was received.
    pub const fn received_on(&self) -> Date {
        self.received
    }
}

/// Why a destruction request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal<'p> {
    /// No rule that applies gives the patient this right (the pack has no
    /// rule marked `destroyable_on_request`): handle the request as a
    /// GDPR Art. 17 request instead.
    NoSuchRight,
    /// A legal hold keeps the record.
    Held(HoldSet),
    /// The rules cannot be applied; fix the record first.
    Undetermined(Undetermined<'p>),
    /// Another rule of the pack, which does not yield to the request, is
    /// still running: that statute forbids destruction.
    RuleForbids(&'p Rule),
    /// A statute outside the pack forbids destruction.
    StatuteForbids(Citation),
    /// Keeping the record is of substantial interest to someone other than
    /// the patient (Art. 7:455(2) BW).
    OtherPersonsInterest,
}

/// The answer to a destruction request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestOutcome<'p> {
    /// Destroy the record on or before `by` (inclusive).
    Destroy {
        /// The last day of the deadline.
        by: Date,
        /// The provision that grants the request.
        source: Citation,
    },
    /// Keep the record, and tell the patient why.
    Refuse(Refusal<'p>),
}

/// The source of the right and its deadline.
const ART_7_455: &str = "Art. 7:455(1), (2) BW";

impl RulePack {
    /// Decides a patient's request to destroy `record` (Art. 7:455 BW). The
    /// deadline is three months after the request; where that month is
    /// shorter the last day of the month (30 November → 28 or 29 February),
    /// the earlier reading, so the right is never served late.
    pub fn decide_destruction_request(
        &self,
        record: &RetentionRecord,
        request: &DestructionRequest,
    ) -> RequestOutcome<'_> {
        let at = request.received;
        let d = self.decide(record, at);
        if d.status() == Status::Held {
            return RequestOutcome::Refuse(Refusal::Held(d.holds()));
        }
        if let Some(u) = d.undetermined() {
            return RequestOutcome::Refuse(Refusal::Undetermined(u));
        }
        if !d.rules().any(Rule::is_destroyable_on_request) {
            return RequestOutcome::Refuse(Refusal::NoSuchRight);
        }
        let running = |rule: &Rule| {
            !rule.is_destroyable_on_request()
                && rule
                    .end(record, self.convention())
                    .is_ok_and(|e| e.until >= at)
        };
        if let Some(rule) = d.rules().find(|r| running(r)) {
            return RequestOutcome::Refuse(Refusal::RuleForbids(rule));
        }
        if let Some(statute) = &request.statute {
            return RequestOutcome::Refuse(Refusal::StatuteForbids(statute.clone()));
        }
        if request.other_persons_interest {
            return RequestOutcome::Refuse(Refusal::OtherPersonsInterest);
        }
        RequestOutcome::Destroy {
            by: at.checked_add(3.months()).unwrap_or(Date::MAX),
            source: Citation::from_static(ART_7_455),
        }
    }
}
