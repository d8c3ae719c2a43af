//! The controller's findings of an erasure assessment, kept beside it in
//! `findings.json`: each finding's id, scope, ground with its citation and
//! source, and who made it — and its free-text reason **sealed** under the
//! request's key ([`crate::sealing`]), since it may hold health data. The
//! certificate and `show` carry every field but the reason.

use gdpr_core::Citation;
use gdpr_core::actor::ActorId;
use gdpr_core::request::{FindingId, FindingsFile, RequestId, Scope};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::sealing::{RequestKeys, Sealed};

/// The findings file in a request's directory.
pub const FINDINGS_FILE: &str = "findings.json";
/// Its format version.
pub const FINDINGS_FORMAT_VERSION: u32 = 1;

/// A finding as certified: everything but the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CertifiedFinding {
    /// Its id in the findings file.
    pub id: FindingId,
    /// What it covers (`subject`, `system`, `record`).
    pub scope: Scope,
    /// The ground's stable name (`public-health`, `subject-interests`, …).
    pub ground: String,
    /// The provision the ground rests on.
    pub citation: Citation,
    /// The measure, protocol, statute or by-law the controller named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Citation>,
    /// Who made the finding.
    pub by: ActorId,
}

/// A finding as stored: the certified part and the sealed reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct StoredFinding {
    finding: CertifiedFinding,
    reason_sealed: Sealed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Stored {
    version: u32,
    findings: Vec<StoredFinding>,
}

/// The findings of `file` sealed for request `id` under `keys`, as stored.
pub(crate) fn seal(
    file: &FindingsFile,
    keys: &RequestKeys,
    id: &RequestId,
) -> Result<serde_json::Value, Error> {
    let mut findings = Vec::with_capacity(file.findings.len());
    for f in &file.findings {
        let reason_sealed = keys.seal(id, f.reason.expose().as_bytes())?;
        findings.push(StoredFinding {
            finding: CertifiedFinding {
                id: f.id.clone(),
                scope: f.scope.clone(),
                ground: f.ground.name().to_owned(),
                citation: f.ground.citation(),
                source: f.ground.source().cloned(),
                by: f.by.clone(),
            },
            reason_sealed,
        });
    }
    serde_json::to_value(Stored {
        version: FINDINGS_FORMAT_VERSION,
        findings,
    })
    .map_err(Error::format("write findings.json"))
}

/// The certified part of stored findings.
pub(crate) fn certified(value: serde_json::Value) -> Result<Vec<CertifiedFinding>, Error> {
    let stored: Stored = serde_json::from_value(value).map_err(Error::format("findings.json"))?;
    if stored.version != FINDINGS_FORMAT_VERSION {
        return Err(Error::Request(Box::new(
            gdpr_core::request::RequestError::UnsupportedVersion {
                what: "findings.json",
                found: stored.version,
            },
        )));
    }
    Ok(stored.findings.into_iter().map(|s| s.finding).collect())
}

/// The reasons of stored findings, unsealed, by finding id (for the
/// controller's own reading; never printed by this crate).
pub(crate) fn reasons(
    value: serde_json::Value,
    keys: &RequestKeys,
    id: &RequestId,
) -> Result<Vec<(FindingId, zeroize::Zeroizing<String>)>, Error> {
    let stored: Stored = serde_json::from_value(value).map_err(Error::format("findings.json"))?;
    let mut out = Vec::with_capacity(stored.findings.len());
    for s in stored.findings {
        let plain = keys.unseal(id, &s.reason_sealed)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| Error::Damaged {
            what: "a sealed finding reason",
            line: 0,
        })?;
        out.push((s.finding.id, zeroize::Zeroizing::new(text)));
    }
    Ok(out)
}
