//! Why a certificate or a manifest does not verify.

/// A verification failure, typed so that a program can tell a forged
/// signature from a broken proof or contradictory parts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// Signed by another key than the one given.
    #[error("signed by another key than the one given")]
    ForeignKey,
    /// The signature does not match the document (it was changed).
    #[error("the signature does not match the document: it was changed after signing")]
    BadSignature,
    /// A format version this verifier does not know.
    #[error("format version {found} is not supported by this verifier")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
    },
    /// The audit checkpoint is malformed or not signed by the key.
    #[error("the audit checkpoint does not verify under the key")]
    Checkpoint,
    /// An audit record's inclusion proof does not lead to the checkpoint.
    #[error("the inclusion proof of audit record {position} does not hold")]
    Proof {
        /// The record's position.
        position: u64,
    },
    /// The parts contradict each other.
    #[error("inconsistent: {what}")]
    Inconsistent {
        /// Which rule is broken.
        what: &'static str,
    },
}
