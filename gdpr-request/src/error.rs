//! The crate's one error type.

use gdpr_core::request::{RequestError, Stage};
use gdpr_core::store::StoreError;

/// What went wrong executing a request. Messages name files by their role
/// and systems by their configured name, never a patient value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file of the request directory could not be read or written.
    #[error("cannot {what}: {source}; check the request directory's permissions and free space")]
    Io {
        /// What was being done (`"append to the journal"`).
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// A file of the request directory is not in its format (hand-edited or
    /// damaged somewhere other than a torn last line).
    #[error("{what} is damaged at line {line}: restore it from a backup")]
    Damaged {
        /// Which file (`"the journal"`, `"the restriction register"`).
        what: &'static str,
        /// The 1-based line.
        line: u64,
    },
    /// A JSON document of this crate could not be read (line and column only).
    #[error("{what} is not valid (line {line}, column {column})")]
    Format {
        /// Which document.
        what: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The request model refused a step (illegal transition, undecided
    /// assessment, …).
    #[error(transparent)]
    Request(Box<RequestError>),
    /// A system failed in a way retries did not cure.
    #[error("system {system}: {source}")]
    Store {
        /// The configured system name.
        system: String,
        /// The store's typed error.
        source: Box<StoreError>,
    },
    /// The audit log refused to record (fail-closed: nothing proceeds
    /// unrecorded).
    #[error("audit log: {0}")]
    Audit(Box<gdpr_audit::Error>),
    /// The operation does not fit the request's stage or kind.
    #[error("the request is {stage:?}; {needed}")]
    WrongStage {
        /// Where the request is.
        stage: Stage,
        /// What the operation needs.
        needed: &'static str,
    },
    /// The request names a system no store was given for.
    #[error("no store is configured for system {system}; add it to systems.toml")]
    UnknownSystem {
        /// The system's name.
        system: String,
    },
    /// A request id that names no directory of its own (`.`, `..`).
    #[error("a request id cannot be `.` or `..`: choose another")]
    ReservedId,
    /// The request's key was shredded at the end of its retention: its
    /// subject identifiers are unreadable for good
    /// ([`sealing`](crate::sealing)).
    #[error(
        "the request's identifiers were shredded at the end of their retention; \
         the request can be shown without them, not run"
    )]
    Shredded,
    /// The export package could not be built (a DICOM header, the
    /// DICOMDIR, the summary, the encryption).
    #[error(transparent)]
    Package(Box<crate::package::PackageError>),
    /// A certificate or manifest does not verify.
    #[error("the document does not verify: {0}")]
    Unverified(#[from] crate::Fault),
    /// The register in use does not hold objections, or holds none for
    /// the subject and request named.
    #[error(
        "no objection register, or no objection of this request in it: run the objection \
         request first (objections are held by the file register, --register DIR, and by the \
         PostgreSQL one, --postgres FILE)"
    )]
    NoObjection,
    /// A shared backend of the journal or the register (a database)
    /// failed or refused, e.g. because another node now runs the request.
    #[error("{what} failed: {source}")]
    Backend {
        /// What was being done (`"recording a journal step"`).
        what: &'static str,
        /// The backend's error (never a patient value).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Self {
        Self::Request(Box::new(e))
    }
}

impl From<gdpr_audit::Error> for Error {
    fn from(e: gdpr_audit::Error) -> Self {
        Self::Audit(Box::new(e))
    }
}

impl Error {
    pub(crate) fn store(system: &impl std::fmt::Display, source: StoreError) -> Self {
        Self::Store {
            system: system.to_string(),
            source: Box::new(source),
        }
    }

    pub(crate) fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        move |source| Self::Io { what, source }
    }

    pub(crate) fn format(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |e| Self::Format {
            what,
            line: e.line(),
            column: e.column(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_error_stays_small() {
        assert!(std::mem::size_of::<super::Error>() <= 48);
    }
}
