//! The result of an erasure assessment: every record found, once, with
//! what becomes of it and why. Persisted with a format version (the
//! certificate and the journal carry it).

use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::category::RecordCategory;
use crate::erasure::ErasureGround;
use crate::purpose::Purpose;
use crate::request::subjects::SystemName;
use crate::store::RecordId;

/// The format version of a persisted assessment.
pub const ASSESSMENT_FORMAT_VERSION: u32 = 1;

/// What becomes of one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum RecordOutcome {
    /// Erase it (Art. 17(1)).
    Erase,
    /// Keep it under a statute or an exemption of Art. 17(3), restricted to
    /// the purposes that keep it; erase it when they end.
    Keep {
        /// The only purposes it may still be processed for (never empty).
        purposes: Vec<Purpose>,
    },
    /// Restrict processing instead of erasing (§ 35 BDSG with Art. 18).
    RestrictInstead,
    /// The rules cannot be applied (a missing fact, an elimination
    /// procedure that must precede destruction): a person decides; nothing
    /// is erased meanwhile.
    DecideManually,
}

impl RecordOutcome {
    /// The stable name, as in JSON.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Erase => "erase",
            Self::Keep { .. } => "keep",
            Self::RestrictInstead => "restrict-instead",
            Self::DecideManually => "decide-manually",
        }
    }
}

/// What a reason is about, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// The ground of Art. 17(1) that makes erasure due.
    ErasureGround,
    /// A statutory retention period still runs (Art. 17(3)(b)).
    StatutoryRetention,
    /// Every retention period that applied has ended.
    RetentionEnded,
    /// A legal hold keeps the record.
    LegalHold,
    /// An exemption of Art. 17(3)(c)–(e) the controller established.
    Exemption,
    /// A § 35 BDSG substitute: restrict instead of erase.
    RestrictInstead,
    /// A destruction request under Art. 7:455 BW.
    DestructionRequest,
    /// The retention rules cannot be applied to the record.
    Undetermined,
    /// An elimination procedure must precede destruction.
    EliminationProcedure,
    /// The purposes a kept record is restricted to.
    RestrictedToPurposes,
    /// A record kept, restricted or erased with the subject's other
    /// records on the same system (a pack's follows rule: master data).
    FollowsRecords,
}

/// One reason, with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Reason {
    /// What it is about.
    pub code: ReasonCode,
    /// The provision (a rule's source, an article).
    pub citation: Citation,
    /// Whether it shaped the outcome.
    pub applied: bool,
    /// What it means here (no patient value, no date of the record).
    pub message: String,
}

/// The assessment of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RecordAssessment {
    /// The configured system.
    pub system: SystemName,
    /// The system's record id.
    pub record: RecordId,
    /// The record's category.
    pub category: RecordCategory,
    /// What becomes of it.
    pub outcome: RecordOutcome,
    /// Whether the subject must be told of a restriction (§ 35(2) S. 2
    /// BDSG).
    pub inform_subject: bool,
    /// Every reason, applied ones first.
    pub reasons: Vec<Reason>,
}

/// The assessment of an erasure request: every record found, in the order
/// given, exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Assessment {
    /// [`ASSESSMENT_FORMAT_VERSION`].
    pub version: u32,
    /// The ground of Art. 17(1) invoked.
    pub ground: ErasureGround,
    /// The day the retention rules were applied on.
    pub on: jiff::civil::Date,
    /// The jurisdiction of the rule pack.
    pub jurisdiction: String,
    /// Every record.
    pub records: Vec<RecordAssessment>,
}

impl Assessment {
    /// The records with `outcome`'s name (`"erase"`, `"keep"`, …).
    pub fn with_outcome<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a RecordAssessment> {
        self.records
            .iter()
            .filter(move |r| r.outcome.name() == name)
    }

    /// Whether every record has a decided outcome (none to decide
    /// manually), so the request can be approved and executed.
    pub fn is_decided(&self) -> bool {
        self.records
            .iter()
            .all(|r| r.outcome != RecordOutcome::DecideManually)
    }
}
