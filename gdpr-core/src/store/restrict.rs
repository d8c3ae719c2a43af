//! What marking a subject restricted (GDPR Art. 18) on a system did.

use serde::{Deserialize, Serialize};

/// The result of [`SubjectStore::restrict`](super::SubjectStore::restrict)
/// or [`SubjectStore::lift_restriction`](super::SubjectStore::lift_restriction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RestrictionOutcome {
    /// The system now carries the mark (after `restrict`) or no longer
    /// carries it (after `lift_restriction`), confirmed by reading it back.
    Marked {
        /// How the system marks it, e.g. a FHIR security label
        /// `http://terminology.hl7.org/CodeSystem/v3-ActCode|…` on each of
        /// the subject's resources.
        mark: String,
        /// How many records carry (or no longer carry) the mark.
        records: u64,
    },
    /// The system has no way to mark a subject restricted (or the adapter
    /// does not use it). The caller keeps the restriction in its own
    /// register and enforces it before every access.
    Unsupported {
        /// Why, in words.
        reason: String,
    },
}

impl RestrictionOutcome {
    /// Whether the system itself now carries the restriction state asked
    /// for.
    pub fn is_marked(&self) -> bool {
        matches!(self, Self::Marked { .. })
    }
}
