//! The certificate of a request: a signed JSON document (format version 1,
//! schema in `docs/certificate.schema.json`) listing the request and its
//! history, the assessment, every system with what was erased (confirmed
//! gone by verification), what is left and why, what is kept and why
//! (with citations), and the audit checkpoint covering the operation with
//! the inclusion proofs of the request's own audit records.
//!
//! Built only from the stored [`RunOutcome`], whose per-system reports come
//! from `ErasureReport::reconcile`: a certificate never says "erased" for
//! something verification did not confirm gone. The signature (Ed25519,
//! the audit log's key) covers the canonical JSON of every field but
//! `signature`, after the context line `gdpr-request certificate v1`.
//!
//! A refused request (GDPR Art. 12(4)) has a certificate too: stage
//! `refused`, no system, the history ending in the refusal with its
//! grounds (each with its provision) and the remedies told.

mod check;

use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::{AuditLog, Signer};
use gdpr_core::Citation;
use gdpr_core::request::{
    Assessment, Notification, Refusal, Remedies, RequestId, RequestKind, Stage, SystemName,
    Transition,
};
use gdpr_core::store::{ErasureReport, Item, ItemStatus};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use check::verify_certificate;

use crate::Error;
use crate::executor::{KeptRecord, RunOutcome};
use crate::request_dir::{OUTCOME_FILE, RequestDir};
use crate::sign::{self, DocumentSignature};

/// The certificate format's version.
pub const CERTIFICATE_VERSION: u32 = 1;
pub(crate) const CONTEXT: &str = "gdpr-request certificate v1";

/// A signed certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct Certificate {
    /// [`CERTIFICATE_VERSION`].
    pub version: u32,
    /// When it was issued.
    pub issued: Timestamp,
    /// The request (never the subject's identifiers).
    pub request: CertifiedRequest,
    /// The erasure assessment, for an erasure.
    pub assessment: Option<Assessment>,
    /// Every system.
    pub systems: Vec<CertifiedSystem>,
    /// The audit log's evidence.
    pub audit: AuditEvidence,
    /// The recipients to notify (GDPR Art. 19) of an erasure or a
    /// restriction, each with the date of every disclosure (absent when
    /// there are none, so version 1 documents without it stay valid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<Notification>,
    /// The refusal of a refused request (GDPR Art. 12(4)): each ground with
    /// its provision, and the remedies told; the same as the history's
    /// last step (absent for other stages, so version 1 documents without
    /// it stay valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<CertifiedRefusal>,
    /// The controller's findings the erasure assessment was made with
    /// (`assess --findings`): scope, ground, citation, source and who made
    /// each; never its reason, which stays sealed with the request (absent
    /// when there are none, so version 1 documents without it stay valid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::findings::CertifiedFinding>,
    /// Over everything else.
    pub signature: DocumentSignature,
}

/// A refusal as certified: the reasons as data, each with its citation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertifiedRefusal {
    /// Every ground, with the provision it rests on.
    pub grounds: Vec<CertifiedGround>,
    /// The remedies the subject is told of (Art. 77, 79, under Art. 12(4)).
    pub remedies: Remedies,
}

/// One ground of a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertifiedGround {
    /// Its stable name (`manifestly-unfounded-or-excessive`, `other`, …).
    pub ground: String,
    /// The provision.
    pub citation: Citation,
}

impl CertifiedRefusal {
    /// The refusal as certified.
    pub fn of(refusal: &Refusal) -> Self {
        Self {
            grounds: refusal
                .grounds()
                .iter()
                .map(|g| CertifiedGround {
                    ground: g.name().to_owned(),
                    citation: g.citation(),
                })
                .collect(),
            remedies: refusal.remedies().clone(),
        }
    }
}

/// The request as certified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertifiedRequest {
    /// Its id.
    pub id: RequestId,
    /// What was asked.
    pub kind: RequestKind,
    /// Where it ended (`completed`, `partially-completed`, `refused`).
    pub stage: Stage,
    /// Every step, dated, with its actor.
    pub history: Vec<Transition>,
}

/// One item of a system's erasure, as verification left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertifiedItem {
    /// The record id, `file` for an unreadable file, or the area.
    pub item: String,
    /// What verification found.
    pub status: CertifiedStatus,
    /// Why, for what is not erased.
    pub reason: Option<String>,
}

/// What became of an item, as verification found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CertifiedStatus {
    /// Confirmed gone by verification (or already gone).
    Erased,
    /// Still there (found by verification, or refused by the system).
    Left,
    /// A file that could not be read: the subject's data may remain.
    Unreadable,
    /// An area verification did not check: the subject's data may remain.
    NotChecked,
}

impl From<ItemStatus> for CertifiedStatus {
    fn from(s: ItemStatus) -> Self {
        match s {
            ItemStatus::Erased => Self::Erased,
            ItemStatus::Left => Self::Left,
            ItemStatus::Unreadable => Self::Unreadable,
            // NotChecked, and any status added later: never "erased".
            _ => Self::NotChecked,
        }
    }
}

/// One system as certified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertifiedSystem {
    /// The configured system.
    pub system: SystemName,
    /// True only when verification confirmed every item gone.
    pub verified: bool,
    /// Every item, with its status ([`ErasureReport::items`]).
    pub items: Vec<CertifiedItem>,
    /// The reconciled report the items come from.
    pub report: Option<ErasureReport>,
    /// What was kept, restricted, and why.
    pub kept: Vec<KeptRecord>,
    /// Files exported (access, portability).
    pub exported_files: Option<u64>,
    /// The Art. 18 restriction placed or lifted (restriction requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<crate::executor::RestrictionDone>,
    /// Why the system could not finish.
    pub failure: Option<String>,
}

/// An audit record with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct ProvedRecord {
    /// The event (`approved`, `completed`, `subject-key-shredded`, …).
    pub event: String,
    /// Its position.
    pub position: u64,
    /// Its leaf hash, hex.
    pub leaf_hash: String,
    /// The RFC 9162 inclusion proof up to the checkpoint, hex.
    pub proof: Vec<String>,
}

/// The audit checkpoint and the proofs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditEvidence {
    /// The signed checkpoint note (C2SP tlog-checkpoint).
    pub checkpoint: String,
    /// The request's own audit records.
    pub records: Vec<ProvedRecord>,
}

pub(crate) fn item_rows(report: &ErasureReport) -> Vec<CertifiedItem> {
    report
        .items()
        .iter()
        .map(|o| CertifiedItem {
            item: match o.item {
                Item::Resource { id, .. } => id.to_string(),
                Item::File(_) => "file".into(),
                Item::Area(area) => serde_json::to_value(area)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "area".into()),
                _ => "other".into(),
            },
            status: o.status.into(),
            reason: o.reason.map(str::to_owned),
        })
        .collect()
}

/// Issues the certificate of the answered request in `dir`: a checkpoint of
/// `log` and the inclusion proofs of the request's audit records, signed
/// with `signer` (the audit log's key). A refused request's certificate
/// lists no system; its history ends with the refusal, its grounds with
/// their citations and the remedies told (GDPR Art. 12(4)).
///
/// # Errors
/// [`Error::WrongStage`] before the request is answered; [`Error::Audit`],
/// [`Error::Io`], [`Error::Format`].
pub fn issue(
    dir: &RequestDir,
    log: &AuditLog,
    signer: &Signer,
    issued: Timestamp,
) -> Result<Certificate, Error> {
    issue_from(dir, log, signer, issued)
}

/// [`issue`] from any [`RequestLog`](crate::RequestLog) (e.g. a log on PostgreSQL).
///
/// # Errors
/// As [`issue`].
pub fn issue_from(
    dir: &RequestDir,
    log: &dyn crate::RequestLog,
    signer: &Signer,
    issued: Timestamp,
) -> Result<Certificate, Error> {
    let request = dir.load_request()?;
    if !request.stage().is_answered() {
        return Err(Error::WrongStage {
            stage: request.stage(),
            needed: "an answered request (completed, partially completed or refused)",
        });
    }
    let outcome: RunOutcome = dir.load(OUTCOME_FILE, "outcome.json")?;
    let checkpoint = log.checkpoint()?;
    let size = Checkpoint::parse_unverified(&checkpoint)?.0.size();
    let mut records = Vec::new();
    for r in &outcome.audit_records {
        let (at, _root, proof) = log.inclusion_proof(r.position)?;
        if at != size {
            return Err(Error::Unverified(crate::Fault::Inconsistent {
                what: "the audit log grew while the certificate was issued; issue it again",
            }));
        }
        records.push(ProvedRecord {
            event: r.event.clone(),
            position: r.position,
            leaf_hash: r.leaf_hash.clone(),
            proof: proof.iter().map(|h| gdpr_audit::hex::encode(h)).collect(),
        });
    }
    let systems = outcome
        .systems
        .iter()
        .map(|s| CertifiedSystem {
            system: s.system.clone(),
            verified: s.report.as_ref().is_some_and(ErasureReport::is_verified),
            items: s.report.as_ref().map(item_rows).unwrap_or_default(),
            report: s.report.clone(),
            kept: s.kept.clone(),
            exported_files: s.exported_files,
            restriction: s.restriction.clone(),
            failure: s.failure.clone(),
        })
        .collect();
    let mut cert = Certificate {
        version: CERTIFICATE_VERSION,
        issued,
        request: CertifiedRequest {
            id: request.id().clone(),
            kind: request.kind().clone(),
            stage: request.stage(),
            history: request.history().transitions().to_vec(),
        },
        assessment: dir.load_assessment()?,
        systems,
        audit: AuditEvidence {
            checkpoint,
            records,
        },
        notifications: outcome.notifications.clone(),
        refusal: request.history().refusal().map(CertifiedRefusal::of),
        findings: dir.load_findings()?,
        signature: DocumentSignature {
            key: String::new(),
            value: String::new(),
        },
    };
    cert.signature = sign::sign(CONTEXT, &body(&cert)?, signer);
    Ok(cert)
}

/// The signed part: every field but `signature`.
pub(crate) fn body(cert: &Certificate) -> Result<serde_json::Value, Error> {
    let mut v = serde_json::to_value(cert).map_err(Error::format("certificate"))?;
    if let Some(map) = v.as_object_mut() {
        map.remove("signature");
    }
    Ok(v)
}
