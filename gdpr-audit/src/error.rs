//! The one error type of `gdpr-audit`.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::cause::{Malformed, Tamper};

/// Everything that can go wrong in `gdpr-audit`.
///
/// Messages never contain a personal value (a patient reference, free text,
/// an object identifier): only what was wrong with it and what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field of an audit event broke its format rule.
    #[error("invalid {what}: expected {rule}")]
    InvalidField {
        /// Which field.
        what: &'static str,
        /// The rule it must follow.
        rule: &'static str,
    },
    /// A value rejected by `gdpr-core` (an actor id, a patient id, …).
    #[error(transparent)]
    Core(#[from] gdpr_core::Error),
    /// Bytes that should hold a canonical record, checkpoint or key were not
    /// in the one accepted form.
    #[error(
        "non-canonical {what} at byte {offset}: {cause} ({detail}); the data was altered or written by an incompatible version"
    )]
    NonCanonical {
        /// What was being decoded.
        what: &'static str,
        /// Byte offset within the item where decoding stopped.
        offset: u64,
        /// Why it was rejected.
        cause: Malformed,
        /// Which field or check, in words.
        detail: &'static str,
    },
    /// Verification found the log altered. `position` is the first record
    /// (0-based) whose evidence does not hold.
    #[error("log tampered at record {position} (byte {offset} of the log file): {cause}")]
    Tampered {
        /// The first bad record position.
        position: u64,
        /// Byte offset in the log file, where known (0 otherwise).
        offset: u64,
        /// Why the evidence fails.
        cause: Tamper,
    },
    /// The key store failed its own checks (a checksum, its header, a
    /// duplicate entry): it was damaged or altered. The log itself may be
    /// intact; records sealed under a lost key cannot be read. Restore the
    /// key store from backup.
    #[error(
        "key store damaged at byte {offset}: {cause} ({detail}); restore it from backup (the log's chain is checked separately)"
    )]
    KeyStoreDamaged {
        /// Byte offset in the key store file.
        offset: u64,
        /// What failed.
        cause: Malformed,
        /// Which check, in words.
        detail: &'static str,
    },
    /// The key given is not this log's: the log verifies under its own
    /// public key (`DIR/public.key`), which is another key. Reported by
    /// [`crate::verify_dir`] and [`crate::AuditLog::open`] instead of
    /// [`Error::Tampered`] only in that case (a forged checkpoint does not
    /// verify under the log's own key, so it stays tampering).
    #[error("this key does not belong to this log: {reason}")]
    ForeignKey {
        /// Which key, and what to do.
        reason: &'static str,
    },
    /// A checkpoint or key file could not be parsed.
    #[error("bad {what}: {reason}")]
    BadInput {
        /// What was being parsed (checkpoint, public key, …).
        what: &'static str,
        /// What was wrong, and what to do.
        reason: Cow<'static, str>,
    },
    /// The data subject was erased (Art. 17): a tombstone keeps later
    /// events from silently getting a fresh, readable key.
    #[error(
        "this data subject was erased (Art. 17); nothing was recorded. If a new relationship with the person began, say so first (AuditLog::begin_relationship; gdpr audit begin-relationship)"
    )]
    SubjectErased,
    /// No key exists for the subject: never recorded, or erased (Art. 17).
    #[error("no key for this data subject: never recorded in this log, or erased")]
    UnknownSubject,
    /// Personal fields could not be decrypted (wrong key or altered ciphertext).
    #[error(
        "personal fields of record {position} could not be decrypted: the key store does not belong to this log, or the record was altered"
    )]
    Decrypt {
        /// The record position.
        position: u64,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}; check the path and permissions")]
    Io {
        /// The file concerned (a log or key-store path, never patient-derived).
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The operating system's random number generator failed.
    #[error(
        "the operating system's random number generator failed; retry, and check the system's entropy source"
    )]
    Random,
    /// A database backend (PostgreSQL, …) failed: the connection, a
    /// statement or the commit. An append that returns it was not
    /// acknowledged; it may or may not have committed.
    #[error("{operation} failed: {source}; check the database connection and its log")]
    Backend {
        /// What was being done (a fixed text, never a value).
        operation: &'static str,
        /// What the backend said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The log is already open for writing by another process.
    #[error("{path} is locked by another writer; close it or wait")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A tamper finding at `position`.
    pub(crate) fn tampered(position: u64, offset: u64, cause: Tamper) -> Self {
        Self::Tampered {
            position,
            offset,
            cause,
        }
    }

    /// Why the log was judged altered, for [`Error::Tampered`].
    pub fn tamper(&self) -> Option<&Tamper> {
        match self {
            Self::Tampered { cause, .. } => Some(cause),
            _ => None,
        }
    }

    /// Whether this error means the log was altered (CLI exit code 1), as
    /// opposed to bad input or an I/O problem (exit code 2).
    pub fn is_tampering(&self) -> bool {
        matches!(self, Self::Tampered { .. })
    }

    /// Whether this error means the key store was damaged (CLI exit code 1,
    /// reported apart from a tampered log).
    pub fn is_key_store_damage(&self) -> bool {
        matches!(self, Self::KeyStoreDamaged { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 56,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn tampering_is_classified() {
        let e = Error::tampered(3, 0, Tamper::BrokenLink { record: 4 });
        assert!(e.is_tampering());
        assert_eq!(e.tamper(), Some(&Tamper::BrokenLink { record: 4 }));
        assert!(!Error::UnknownSubject.is_tampering());
    }
}
