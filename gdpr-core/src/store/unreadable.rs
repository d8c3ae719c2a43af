//! Stored files a store could not read: reported, never skipped, so that
//! an erasure is not verified while one of them may hold the subject.

use serde::{Deserialize, Serialize};

/// Why a stored file that claims to be DICOM could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UnreadableCause {
    /// Its structure is corrupt or hostile: a length past what encloses it,
    /// sequences nested too deeply, a header too large, a file meta group
    /// that cannot be read.
    Malformed,
    /// Its transfer syntax is unknown or cannot be decoded.
    UnsupportedEncoding,
    /// Its Study, Series or SOP Instance UID is missing, empty or not a valid
    /// UID (DICOM PS3.5 §9.1), so it cannot be indexed.
    InvalidUid,
    /// The operating system refused to read it.
    Io,
}

/// What a store knows about the subject's data in a file it could not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UnreadableStatus {
    /// The subject's identifier (or the UID of a study being erased) was
    /// found in the file's bytes: the subject's data may remain there.
    Left,
    /// Nothing of the subject was found in its bytes, but that proves
    /// nothing (another encoding, a compressed payload): it could not be
    /// checked.
    Unreadable,
}

/// A stored file that claims to be DICOM but could not be read, so the
/// store cannot tell whether it still holds the subject's data. Any such
/// file makes verification unconfirmed; the store neither erases nor
/// changes it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnreadableItem {
    /// Where it is, relative to the store's root (for the folder store a
    /// path such as `ct/0003.dcm`). Chosen by whoever wrote the file, so it
    /// may itself be identifying: `Debug` does not show it.
    pub location: String,
    /// Why it could not be read.
    pub cause: UnreadableCause,
    /// Whether the subject's data may remain in it.
    pub status: UnreadableStatus,
    /// What failed, free of patient values (e.g. "a value is longer than
    /// what encloses it, near byte 1234").
    pub detail: String,
}

impl UnreadableItem {
    /// A file at `location` that could not be read because of `cause`.
    pub fn new(
        location: impl Into<String>,
        cause: UnreadableCause,
        status: UnreadableStatus,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            location: location.into(),
            cause,
            status,
            detail: detail.into(),
        }
    }
}

// File names are sometimes patient names: never print them.
impl std::fmt::Debug for UnreadableItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnreadableItem")
            .field("location", &"<redacted>")
            .field("cause", &self.cause)
            .field("status", &self.status)
            .field("detail", &self.detail)
            .finish()
    }
}
