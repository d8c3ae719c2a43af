//! The crate's one error enum.
//!
//! Messages never contain a patient value (name, ID, date, UID) or an input
//! path (paths often hold names): they say what failed and what to do next.
//! New modules add their variants here (the enum is `#[non_exhaustive]`).

/// Everything that can go wrong in `gdpr-dicom`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option name that PS3.15 Table E.1-1 does not define.
    #[error(
        "unknown de-identification option; use one of retain-safe-private, retain-uids, \
         retain-device-identity, retain-institution-identity, retain-patient-characteristics, \
         retain-longitudinal-full-dates, retain-longitudinal-modified-dates, clean-descriptors, \
         clean-structured-content, clean-graphics"
    )]
    UnknownOption,
    /// Both longitudinal-temporal options were selected.
    #[error(
        "retain-longitudinal-full-dates and retain-longitudinal-modified-dates exclude each \
         other; choose one"
    )]
    ConflictingOptions,
    /// The project key is unusable.
    #[error("invalid project key: {reason}; create one with `gdpr dicom keygen KEYFILE`")]
    InvalidKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed; retry on a healthy system")]
    Random,
    /// The input is not a DICOM Part 10 file.
    #[error(
        "not a DICOM file: {reason}; only DICOM Part 10 files (with the DICM prefix) are accepted"
    )]
    NotDicom {
        /// What was found instead.
        reason: &'static str,
    },
    /// The input is a DICOM file but cannot be parsed.
    #[error(
        "malformed or truncated DICOM data near byte {offset}: {reason}; check the file's source, nothing was written for it"
    )]
    Malformed {
        /// What could not be parsed.
        reason: &'static str,
        /// Byte offset in the file (approximate).
        offset: u64,
    },
    /// The transfer syntax cannot be processed without decoding.
    #[error("transfer syntax {uid} is not supported: {reason}")]
    UnsupportedTransferSyntax {
        /// The transfer syntax UID (a standard UID, not patient data).
        uid: Box<str>,
        /// Why, and what to do.
        reason: &'static str,
    },
    /// An attribute needed to name or link the output is missing.
    #[error("required attribute missing: {name}; the file cannot be de-identified consistently")]
    MissingAttribute {
        /// Name and tag of the attribute.
        name: &'static str,
    },
    /// The pixel data may show burned-in identifying text.
    #[error(
        "refused: {reason}; there is no pixel cleaning, so check the image and set Burned In Annotation (0028,0301) to NO, or use the quarantine policy"
    )]
    BurnedIn {
        /// Why the file is suspected.
        reason: &'static str,
    },
    /// The content tree of a structured report holds items that could
    /// identify (free text, person names, dates, private codes) and the
    /// Clean Structured Content option is not selected.
    #[error(
        "refused (structured-content): {reason}; a dummy content tree would make the document meaningless, so use the clean-structured-content option (names, IDs and dates of the patient and your --scrub-pattern patterns are masked in its text) or leave the file out"
    )]
    StructuredContent {
        /// Which kind of item was found.
        reason: &'static str,
    },
    /// A custom text pattern is not a valid regular expression.
    #[error(
        "scrub pattern #{number} is not a valid regular expression (regex crate syntax); correct it"
    )]
    InvalidPattern {
        /// Its 1-based number among the custom patterns.
        number: usize,
    },
    /// The input holds the same instance as an earlier input (same SOP
    /// Instance UID, same de-identified content): it was skipped, the
    /// earlier input's output stands.
    #[error(
        "duplicate of input #{first_input} (same SOP Instance UID and content); skipped, that input's output stands"
    )]
    Duplicate {
        /// The 1-based number of the input whose output stands.
        first_input: usize,
    },
    /// The input has the same SOP Instance UID as an earlier input but
    /// different content: it was not written (one UID must name one
    /// instance).
    #[error(
        "uid-collision with input #{first_input}: same SOP Instance UID, different content; not written (one UID must name one instance): check the source of both files"
    )]
    UidCollision {
        /// The 1-based number of the input whose output stands.
        first_input: usize,
    },
    /// Re-encoding the de-identified header failed.
    #[error("could not encode the de-identified header: {reason}")]
    Encode {
        /// What failed.
        reason: &'static str,
    },
    /// A read or write failed.
    #[error("I/O error while {op}: {source}")]
    Io {
        /// What was being done ("reading the input", "renaming the output", …).
        op: &'static str,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl Error {
    /// The short, stable name of a refusal (`burned-in`,
    /// `structured-content`), or `None` when this error is not a refusal.
    pub fn refusal(&self) -> Option<&'static str> {
        match self {
            Error::BurnedIn { .. } => Some("burned-in"),
            Error::StructuredContent { .. } => Some("structured-content"),
            _ => None,
        }
    }

    pub(crate) fn io(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Io { op, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        // Five words at most: a boxed UID with a static reason is the largest.
        assert!(
            std::mem::size_of::<Error>() <= 40,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
