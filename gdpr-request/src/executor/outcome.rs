//! What an execution did, per system.

use gdpr_core::purpose::Purpose;
use gdpr_core::request::{Reason, RequestId, Stage, SystemName};
use gdpr_core::store::{ErasureReport, RecordId};
use serde::{Deserialize, Serialize};

use super::audit::AuditRecord;

/// A record kept on a system (Art. 17(3), § 35 BDSG) and where its
/// restriction is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct KeptRecord {
    /// The system's record id.
    pub record: RecordId,
    /// The assessment's outcome name (`keep`, `restrict-instead`).
    pub outcome: String,
    /// The only purposes it may still be processed for.
    pub purposes: Vec<Purpose>,
    /// The applied reasons, with their citations.
    pub reasons: Vec<Reason>,
    /// Where the restriction is held.
    pub restricted_in: RestrictedIn,
}

/// Where a kept record's restriction is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RestrictedIn {
    /// The restriction register (`gdpr_request::register`), with the
    /// purposes that keep the record.
    Register,
}

/// An Art. 18 restriction placed or lifted on one system, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct RestrictionDone {
    /// `true` for a lifting (Art. 18(3)), `false` for a restriction.
    pub lifted: bool,
    /// The system's own mark, read back, when it carries one (e.g.
    /// Orthanc's `GdprRestriction` metadata, a FHIR security label);
    /// `None`: held in the register only.
    pub system_mark: Option<String>,
    /// Why the system carries no mark, when it does not.
    pub unsupported: Option<String>,
    /// The records restricted (or lifted) in the register, read back.
    pub register_records: u64,
}

/// What became of one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct SystemOutcome {
    /// The configured system.
    pub system: SystemName,
    /// The erasure reconciled with the final verification (built by
    /// `ErasureReport::reconcile`, so nothing is "erased" that
    /// verification found); `None` when the system failed before it could
    /// be verified.
    pub report: Option<ErasureReport>,
    /// The records kept, restricted.
    pub kept: Vec<KeptRecord>,
    /// Files exported (access, portability).
    pub exported_files: Option<u64>,
    /// The Art. 18 restriction placed or lifted (restriction requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<RestrictionDone>,
    /// Why the system could not finish, when it could not (the store's
    /// typed error, in words without patient values).
    pub failure: Option<String>,
}

impl SystemOutcome {
    pub(crate) fn new(system: SystemName) -> Self {
        Self {
            system,
            report: None,
            kept: Vec::new(),
            exported_files: None,
            restriction: None,
            failure: None,
        }
    }

    /// Whether this system finished and verification confirmed it.
    pub fn is_complete(&self) -> bool {
        self.failure.is_none() && self.report.as_ref().is_none_or(ErasureReport::is_verified)
    }
}

/// The result of [`Executor::run`](super::Executor::run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The request.
    pub request: RequestId,
    /// Where it ended (`completed`, `partially-completed`, `refused`).
    pub stage: Stage,
    /// Every system.
    pub systems: Vec<SystemOutcome>,
    /// The request's own audit records (stage transitions, shredding).
    pub audit_records: Vec<AuditRecord>,
    /// Steps taken from the journal instead of being run again.
    pub replayed_steps: u64,
    /// Bytes of a torn journal line cut off on resume.
    pub torn_tail: Option<u64>,
    /// The recipients to notify (GDPR Art. 19) of an erasure or a
    /// restriction, from the audit log's disclosure events and the host's
    /// disclosures; empty for other kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<gdpr_core::request::Notification>,
}
