//! Typed causes of [`crate::Error::Tampered`], [`crate::Error::NonCanonical`]
//! and [`crate::Error::KeyStoreDamaged`], so that a monitoring tool can tell
//! a bad signature from a broken link without matching message text.

/// Why bytes were not in the one accepted (canonical) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// The bytes end before the last field.
    Truncated,
    /// Bytes follow the last field.
    TrailingBytes,
    /// A string field is not valid UTF-8.
    NotUtf8,
    /// A version byte (or magic) this version does not know.
    UnknownVersion,
    /// A name (event type, action, role, …) outside its vocabulary.
    UnknownName,
    /// A field breaks its format rule (an id, a label, a tag byte, a range).
    InvalidField,
    /// A checksum over the bytes does not match (key store).
    ChecksumMismatch,
    /// An entry appears twice (key store).
    Duplicate,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Truncated => "truncated",
            Self::TrailingBytes => "trailing bytes",
            Self::NotUtf8 => "not UTF-8",
            Self::UnknownVersion => "unknown version",
            Self::UnknownName => "unknown name",
            Self::InvalidField => "invalid field",
            Self::ChecksumMismatch => "checksum mismatch",
            Self::Duplicate => "duplicate entry",
        })
    }
}

/// Why verification judged a log altered ([`crate::Error::Tampered`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tamper {
    /// A record is not in the canonical encoding: its bytes were altered,
    /// or written by an incompatible version.
    NonCanonical {
        /// What was wrong with the bytes.
        cause: Malformed,
        /// Which field, in words.
        detail: &'static str,
    },
    /// A record claims another position than its place in the log: a
    /// record was deleted, inserted, duplicated or reordered.
    WrongPosition {
        /// The position the record claims.
        claimed: u64,
    },
    /// The hash chain is broken: a record's link is not the leaf hash of
    /// the record before it (one of the two was altered).
    BrokenLink {
        /// The record whose link fails.
        record: u64,
    },
    /// The records covered by a signed checkpoint do not reproduce its
    /// root: a record (a leaf) was altered.
    BadLeaf {
        /// The first record the checkpoint covers that no earlier one did.
        from: u64,
        /// One past the last record it covers.
        to: u64,
    },
    /// A checkpoint carries no valid signature by the trusted key.
    BadSignature,
    /// A checkpoint names another log than the trusted key's.
    ForeignOrigin,
    /// A checkpoint note in the log cannot be parsed.
    MalformedCheckpoint,
    /// A checkpoint claims another size than the records before it.
    CheckpointSize {
        /// The size the checkpoint claims.
        claimed: u64,
        /// The records before it.
        actual: u64,
    },
    /// The log differs from the trusted checkpoint: records before it
    /// were rewritten.
    Rewritten,
    /// The log holds fewer records than the trusted checkpoint covers:
    /// truncated or rolled back.
    Truncated {
        /// Records in the log.
        records: u64,
        /// Records the trusted checkpoint covers.
        trusted: u64,
    },
    /// Bytes after the last complete entry: an interrupted append (reopen
    /// the log for writing to drop it) or a truncation.
    TornTail {
        /// How many bytes.
        bytes: u64,
    },
    /// A complete entry frame is malformed.
    MalformedFrame {
        /// What is wrong with it.
        detail: &'static str,
    },
    /// The anchor of a pruned prefix does not hold.
    BadPruneAnchor {
        /// Which of its checks failed.
        detail: &'static str,
    },
    /// An inclusion proof does not hold.
    BadInclusionProof,
    /// A consistency proof does not hold.
    BadConsistencyProof,
}

impl std::fmt::Display for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NonCanonical { cause, detail } => {
                write!(f, "record does not decode canonically ({cause}: {detail})")
            }
            Self::WrongPosition { claimed } => write!(
                f,
                "record claims position {claimed}: a record was deleted, inserted, duplicated or reordered"
            ),
            Self::BrokenLink { record } => write!(
                f,
                "hash chain broken between records {} and {record}: one of them was altered",
                record.saturating_sub(1)
            ),
            Self::BadLeaf { from, to } => write!(
                f,
                "records {from}..{to} do not match the signed checkpoint: one of them was altered"
            ),
            Self::BadSignature => {
                f.write_str("checkpoint carries no valid signature by the trusted key")
            }
            Self::ForeignOrigin => f.write_str("checkpoint origin is not the trusted key's log"),
            Self::MalformedCheckpoint => f.write_str("checkpoint note is malformed"),
            Self::CheckpointSize { claimed, actual } => write!(
                f,
                "checkpoint claims {claimed} records where {actual} precede it"
            ),
            Self::Rewritten => f.write_str(
                "the log differs from the trusted checkpoint: records before it were rewritten",
            ),
            Self::Truncated { records, trusted } => write!(
                f,
                "the log has {records} records but the trusted checkpoint covers {trusted}: truncated or rolled back"
            ),
            Self::TornTail { bytes } => write!(
                f,
                "{bytes} bytes after the last complete entry: an interrupted append (reopen the log for writing to drop it) or a truncation"
            ),
            Self::MalformedFrame { detail } => write!(f, "malformed entry frame: {detail}"),
            Self::BadPruneAnchor { detail } => write!(f, "prune anchor does not hold: {detail}"),
            Self::BadInclusionProof => f.write_str("inclusion proof fails"),
            Self::BadConsistencyProof => f.write_str("consistency proof fails"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_stay_small() {
        assert!(std::mem::size_of::<Tamper>() <= 24);
        assert_eq!(std::mem::size_of::<Malformed>(), 1);
    }
}
