//! The errors of the request workflow.

use crate::request::lifecycle::Stage;

/// Everything that can go wrong while building, advancing or assessing a
/// data-subject request. Messages never contain a patient value, an actor's
/// identity or a value read from a file: only what was wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A step that the request's current stage does not allow.
    #[error(
        "a request in stage `{from}` cannot take the step `{step}`; see \
         docs/requests.md for the order of the stages"
    )]
    IllegalTransition {
        /// The stage the request is in.
        from: Stage,
        /// The stable name of the step tried.
        step: &'static str,
    },
    /// The policy asks for a second actor, and the approver assessed the
    /// request themselves.
    #[error(
        "the approval needs a second actor: the one who assessed the request cannot approve it"
    )]
    SameActorApproves,
    /// A step carries a time earlier than the step before it.
    #[error("the step `{step}` is dated before the previous step; steps are recorded in order")]
    OutOfOrder {
        /// The stable name of the step tried.
        step: &'static str,
    },
    /// The deadline was already extended once (Art. 12(3) allows one).
    #[error("the deadline was already extended; GDPR Art. 12(3) allows one extension")]
    ExtendedTwice,
    /// The extension was not told within the first month (Art. 12(3)).
    #[error(
        "the extension was told after the first month ended; GDPR Art. 12(3) \
         requires telling the subject within one month of receipt"
    )]
    ExtensionTooLate,
    /// An extension of zero or more than two months, or without a ground.
    #[error("invalid extension: {rule}")]
    InvalidExtension {
        /// The rule and how to fix it.
        rule: &'static str,
    },
    /// A refusal without a reason (Art. 12(4) requires them).
    #[error("a refusal must name at least one reason (GDPR Art. 12(4))")]
    RefusalWithoutReasons,
    /// A refusal ground that cannot answer a request of this kind (an
    /// Art. 17(3) exemption for an access request), or identity not
    /// established after the identity was verified.
    #[error(
        "the refusal ground `{ground}` does not apply to this request ({why}); \
         give a ground that does (docs/requests.md, \"Refusing a request\")"
    )]
    RefusalGroundDoesNotApply {
        /// The ground's stable name.
        ground: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// The holiday calendar does not cover a year a deadline reaches.
    #[error(
        "the holiday calendar {region} does not cover the year {year}; add the \
         year to its file (docs/requests.md, \"Adding a region\")"
    )]
    CalendarNotCovering {
        /// The calendar's region code.
        region: String,
        /// The year not covered.
        year: i16,
    },
    /// A holiday file is malformed.
    #[error("invalid holiday calendar: {detail}")]
    InvalidCalendar {
        /// What is wrong, with the line; never a value from the file.
        detail: String,
    },
    /// A patient-index file is malformed.
    #[error("invalid patient index: {detail}")]
    InvalidIndex {
        /// What is wrong, with the line and the system; never an identifier.
        detail: String,
    },
    /// A findings file (`assess --findings`) is malformed.
    #[error("invalid findings file: {detail}")]
    InvalidFindings {
        /// What is wrong, with the line or the finding's id; never a value
        /// from the file (a reason may hold health data).
        detail: String,
    },
    /// A grounds file (`grounds --grounds`, GDPR Art. 21(1)) is malformed.
    #[error("invalid grounds file: {detail}")]
    InvalidGrounds {
        /// What is wrong, with the line or the field; never a value from
        /// the file (a reason may hold health data).
        detail: String,
    },
    /// A finding names a system or record the request does not have, or a
    /// ground of another jurisdiction's law.
    #[error("finding {finding} does not apply: {why}; correct the findings file")]
    FindingDoesNotApply {
        /// The finding's id.
        finding: String,
        /// Why not (system and record ids, never a patient value).
        why: String,
    },
    /// A system name breaks its rule.
    #[error("invalid system name: expected 1 to 64 characters from a-z 0-9 _ -")]
    InvalidSystemName,
    /// The request names no subject for a system: the request never guesses
    /// a match, so that system is not acted on until one is given.
    #[error(
        "the request names no subject for system {system}; add its identifier \
         (operator input or the patient index) or leave the system out"
    )]
    NoSubjectFor {
        /// The configured system name.
        system: String,
    },
    /// No reference of the request can name the subject in the audit log
    /// ([`SubjectMap::audit_subject`](crate::request::SubjectMap::audit_subject)).
    #[error(
        "the audit log cannot name the subject from the request's references ({why}); \
         name the audit subject explicitly"
    )]
    NoAuditSubject {
        /// Which rule failed, without the value.
        why: &'static str,
    },
    /// The same record was given twice to an assessment.
    #[error("record {record} of system {system} was given twice; give each record once")]
    DuplicateRecord {
        /// The configured system name.
        system: String,
        /// The system's record id (contains no patient value by contract).
        record: String,
    },
    /// A persisted request or a data file has a format version this build
    /// does not read.
    #[error("unsupported {what} format version {found}; this build reads version 1")]
    UnsupportedVersion {
        /// Which format.
        what: &'static str,
        /// The version found.
        found: u32,
    },
    /// A date computation left jiff's range.
    #[error("a date computation left the supported range (years -9999 to 9999)")]
    DateOutOfRange,
    /// A value of the core crate broke its rule.
    #[error(transparent)]
    Core(#[from] crate::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<RequestError>() <= 56);
    }
}
