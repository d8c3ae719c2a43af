//! The error every [`SubjectStore`](super::SubjectStore) implementation
//! returns.

/// What can go wrong when acting on a store. Messages never contain a patient
/// value or a URL carrying one: `operation` is a template such as
/// `"GET /studies/{id}"`, and `detail` is written by the adapter without
/// identifiers.
///
/// Kept separate from [`crate::Error`] (which reports invalid values in pure
/// code) because it is a contract between crates: adapters in `gdpr-dicom`
/// and `gdpr-ehr` return it and hosts match on it to decide whether to retry,
/// reconfigure or report a refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The resource does not exist (any more). For erasure this means
    /// "already erased"; adapters turn it into an idempotent success.
    #[error("{what} not found; it may already have been erased")]
    NotFound {
        /// What was looked for (a template, no value).
        what: &'static str,
    },
    /// The system refused the operation, with its reason (e.g. a retention
    /// lock). Resolve the reason on the system, then run again.
    #[error("the system refused {operation}: {reason}")]
    Refused {
        /// The operation (a template, no value).
        operation: &'static str,
        /// The system's reason, free of patient values.
        reason: String,
    },
    /// The system stayed unreachable, slow or failing after bounded retries.
    /// Nothing was lost; run again when the system is healthy.
    #[error(
        "{operation} failed after {attempts} attempts ({detail}); the system may be down or \
         overloaded: try again later"
    )]
    Transient {
        /// The operation (a template, no value).
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure, free of patient values.
        detail: String,
    },
    /// The store is configured wrongly (bad URL, missing password file, plain
    /// HTTP to a remote host). Fix the configuration.
    #[error("bad store configuration: {detail}")]
    Configuration {
        /// What is wrong and how to fix it.
        detail: String,
    },
    /// The system answered something the adapter does not understand
    /// (malformed JSON, an unexpected status). Check the system's version and
    /// logs.
    #[error("{operation}: unexpected answer from the system: {detail}")]
    Protocol {
        /// The operation (a template, no value).
        operation: &'static str,
        /// What was wrong, for a program to match on.
        cause: ProtocolCause,
        /// What was wrong with the answer, in words.
        detail: String,
    },
    /// The request named its subject in a way this system does not know
    /// (a FHIR identifier given to a PACS, a DICOM Patient ID to a FHIR
    /// server). Give the identifier this system uses.
    #[error("this system knows its subjects by {expected}, but the request named {given}")]
    UnsupportedSubject {
        /// The kind of reference the system needs.
        expected: &'static str,
        /// The kind of reference the request gave.
        given: &'static str,
    },
    /// A record handle of another kind of system was passed (a FHIR
    /// resource to a PACS, a study to a FHIR server): handles come from the
    /// same system's `locate`.
    #[error("this system holds {expected}, but was given {given}")]
    UnsupportedRecord {
        /// The kind of record the system holds.
        expected: &'static str,
        /// The kind of record it was given.
        given: &'static str,
    },
    /// A local file operation failed (export directory, folder store).
    #[error("{operation} failed: {detail}; check the path, permissions and free space")]
    Local {
        /// The operation (a template, no value).
        operation: &'static str,
        /// What the operating system said, free of patient values.
        detail: String,
    },
}

/// Why an answer was not understood ([`StoreError::Protocol`]), so that a
/// monitoring tool can tell a wrong status from a malformed body without
/// matching text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolCause {
    /// An HTTP status the operation does not expect (neither success, a
    /// missing resource nor a documented refusal).
    UnexpectedStatus(u16),
    /// A body that is not the JSON the operation expects.
    MalformedJson,
    /// A body that is not the container expected (multipart/related, ZIP).
    MalformedBody,
    /// A well-formed answer whose content breaks the protocol: a missing or
    /// invalid identifier or UID.
    InvalidContent,
    /// Data that should be DICOM Part 10 and is not (a file to import, a
    /// WADO-RS part).
    NotDicom,
}

impl StoreError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<StoreError>() <= 64);
    }

    #[test]
    fn protocol_errors_carry_a_cause_to_match() {
        let e = StoreError::Protocol {
            operation: "GET /studies/{id}",
            cause: ProtocolCause::UnexpectedStatus(409),
            detail: "HTTP 409".into(),
        };
        assert!(matches!(
            e,
            StoreError::Protocol {
                cause: ProtocolCause::UnexpectedStatus(409),
                ..
            }
        ));
        assert!(e.to_string().contains("HTTP 409"));
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = StoreError::Transient {
            operation: "GET /studies/{id}",
            attempts: 4,
            detail: "HTTP 500".into(),
        };
        assert!(e.to_string().contains("try again later"));
        assert!(e.is_transient());
    }
}
