//! Data-subject requests (GDPR Art. 12 and 15 to 21), as pure types: what
//! is asked and of whom on which system, the stages from receipt to answer,
//! the deadline, and the per-record assessment of an erasure. Execution on
//! the systems, the journal and the certificate are built on these types
//! elsewhere; nothing here does I/O or reads a clock.
//!
//! - [`RequestKind`] — access (Art. 15), portability (Art. 20), erasure
//!   (Art. 17), restriction (Art. 18) and its lifting, rectification
//!   (Art. 16, a tracked manual task), objection (Art. 21, recorded into
//!   [`SubjectState`](crate::subject::SubjectState) by
//!   [`RequestKind::record_into`]).
//! - [`SubjectMap`] — the subject per configured system
//!   ([`SubjectRef`](crate::store::SubjectRef)), from the operator or a
//!   patient-index file ([`SubjectMap::from_index_toml`]).
//! - [`DataSubjectRequest`] and [`History`] — the stages and their dated
//!   transitions ([`Event::name`] is the audit name).
//! - [`Deadline`] — Art. 12(3) per Regulation (EEC, Euratom) No 1182/71,
//!   on a [`Calendar`] (time zone and [`HolidayCalendar`]).
//! - [`assess_erasure`] — every record found: erase, keep (restricted to
//!   its purposes), restrict instead, or decide manually, with reasons.
//! - [`recipients_to_notify`] — Art. 19.
//!
//! ```
//! use gdpr_core::actor::ActorId;
//! use gdpr_core::erasure::ErasureGround;
//! use gdpr_core::request::{
//!     ApprovalPolicy, Calendar, DataSubjectRequest, Event, HolidayCalendar, RequestId,
//!     RequestKind, Stage, SubjectMap,
//! };
//! use jiff::civil::date;
//! use jiff::tz::TimeZone;
//!
//! let subjects = SubjectMap::from_index_toml(
//!     "version = 1\n[systems.pacs]\ndicom-patient-id = \"MRN-1\"\n",
//! )?;
//! let clerk = ActorId::new("clerk-1")?;
//! let mut request = DataSubjectRequest::receive(
//!     RequestId::new("dsr-2026-0001")?,
//!     RequestKind::Erasure { ground: ErasureGround::ConsentWithdrawn },
//!     subjects,
//!     ApprovalPolicy::SecondActor,
//!     "2026-01-30T09:00:00Z".parse()?,
//!     clerk.clone(),
//! );
//! request.step(Event::IdentityVerified, clerk, "2026-02-02T09:00:00Z".parse()?)?;
//! assert_eq!(request.stage(), Stage::IdentityVerified);
//!
//! let de = HolidayCalendar::builtin("DE")?.expect("DE is built in");
//! let calendar = Calendar::new(TimeZone::get("Europe/Berlin")?, de);
//! // Received Friday 30 January 2026: one month ends on 28 February, a
//! // Saturday; Art. 3(4) moves it to Monday 2 March.
//! assert_eq!(request.deadline(&calendar)?.due, date(2026, 3, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod assess;
mod assessment;
mod calendar;
mod deadline;
mod error;
mod findings;
mod findings_file;
mod follow;
mod grounds_file;
mod kind;
mod lifecycle;
mod recipients;
mod refusal;
pub mod source;
mod subjects;
mod tracked;

pub use assess::{FoundRecord, assess_erasure};
pub use assessment::{
    ASSESSMENT_FORMAT_VERSION, Assessment, Reason, ReasonCode, RecordAssessment, RecordOutcome,
};
pub use calendar::{Holiday, HolidayCalendar, easter_sunday};
pub use deadline::{Calendar, Deadline, DeadlineStatus, Extension, ExtensionGround};
pub use error::RequestError;
pub use findings::{Exemption, Findings, Scope};
pub use findings_file::{
    ControllerFinding, FindingGround, FindingId, FindingReason, FindingsFile, MAX_FINDINGS,
    MAX_REASON_BYTES,
};
pub use grounds_file::{GroundsFile, OverrideGround};
pub use kind::RequestKind;
pub use lifecycle::{ApprovalPolicy, Event, History, Stage, Transition};
pub use recipients::{Disclosure, DisclosureDetail, Notification, Recipient, recipients_to_notify};
pub use refusal::{Refusal, RefusalGround, Remedies};
pub use source::Source;
pub use subjects::{PatientIndex, SubjectMap, SystemName};
pub use tracked::{DataSubjectRequest, REQUEST_FORMAT_VERSION, RequestId};

use crate::purpose::Purpose;
use crate::retention::LegalHold;

/// The purpose a legal hold keeps a record for: litigation → legal claims,
/// a research freeze → research, public health → public health, an
/// authority's order → the legal obligation.
pub fn hold_purpose(hold: LegalHold) -> Purpose {
    match hold {
        LegalHold::Litigation => Purpose::LegalClaims,
        LegalHold::ResearchFreeze => Purpose::Research,
        LegalHold::PublicHealth => Purpose::PublicHealth,
        LegalHold::LegalObligation => Purpose::LegalObligation,
    }
}
