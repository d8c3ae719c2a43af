//! `gdpr request refuse`: a refusal (GDPR Art. 12(4), 12(5), 11(2)) as a
//! step of the request — journaled, audited, certified — and how every
//! command shows it.

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use gdpr_core::Citation;
use gdpr_core::request::{DataSubjectRequest, Refusal, RefusalGround};
use serde_json::json;

use super::Context;
use super::exec::{bad, open, print, summary};
use crate::error::CliError;

/// A ground of refusal, as given on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Ground {
    /// The requester could not be identified as the subject (GDPR Art.
    /// 11(2), 12(2)); only before the identity is recorded as verified.
    IdentityNotEstablished,
    /// Manifestly unfounded or excessive (GDPR Art. 12(5)(b)).
    ManifestlyUnfoundedOrExcessive,
    /// A copy would adversely affect the rights of others (GDPR Art.
    /// 15(4)); access and portability.
    RightsOfOthers,
    /// Not processed on consent or contract by automated means (GDPR Art.
    /// 20(1)); portability.
    PortabilityConditionsNotMet,
    /// An Art. 17(3) exemption keeps the data; erasure.
    ErasureExemption,
    /// Compelling legitimate grounds or legal claims (GDPR Art. 21(1));
    /// objection.
    CompellingLegitimateGrounds,
}

impl Ground {
    fn ground(self) -> RefusalGround {
        match self {
            Self::IdentityNotEstablished => RefusalGround::IdentityNotEstablished,
            Self::ManifestlyUnfoundedOrExcessive => RefusalGround::ManifestlyUnfoundedOrExcessive,
            Self::RightsOfOthers => RefusalGround::RightsOfOthers,
            Self::PortabilityConditionsNotMet => RefusalGround::PortabilityConditionsNotMet,
            Self::ErasureExemption => RefusalGround::ErasureExemption,
            Self::CompellingLegitimateGrounds => RefusalGround::CompellingLegitimateGrounds,
        }
    }
}

/// The refusal of `grounds` and `provisions` (other cited provisions, e.g.
/// a member-state restriction under Art. 23 such as `§ 34 BDSG`).
fn refusal(grounds: &[Ground], provisions: &[String]) -> Result<Refusal, CliError> {
    let mut all: Vec<RefusalGround> = grounds.iter().map(|g| g.ground()).collect();
    for p in provisions {
        let p = p.trim();
        if p.is_empty() || p.len() > 128 || p.chars().any(char::is_control) {
            return Err(bad(
                "--provision: a citation of 1 to 128 characters without control characters \
                 (e.g. \"§ 34 BDSG\")",
            ));
        }
        all.push(RefusalGround::Other {
            citation: Citation::new(p),
        });
    }
    Refusal::new(all).map_err(|_| {
        bad("give at least one --ground or --provision: a refusal states its reasons (GDPR Art. 12(4))")
    })
}

/// `gdpr request refuse`: refuses the request, prints the refusal, exit 3.
pub(super) async fn refuse(
    root: &Path,
    id: &str,
    context: &Context,
    (grounds, provisions): (&[Ground], &[String]),
    json_out: bool,
) -> Result<ExitCode, CliError> {
    let refusal = refusal(grounds, provisions)?;
    let (mut ex, _, _) = open(root, id, context).await?;
    ex.refuse(refusal).await?;
    let mut value = summary(ex.request());
    value["refusal"] = refusal_json(ex.request());
    let mut lines = vec![format!("request {id}: refused")];
    lines.extend(refusal_lines(ex.request()));
    print(json_out, &value, &lines.join("\n"))?;
    Ok(super::stage_code(ex.request().stage()))
}

/// The refusal's grounds with their provisions and the remedies, as JSON
/// (`null` when the request was not refused).
pub(super) fn refusal_json(req: &DataSubjectRequest) -> serde_json::Value {
    req.history()
        .refusal()
        .map_or(serde_json::Value::Null, |r| {
            json!({
                "grounds": r.grounds().iter().map(|g| json!({
                    "ground": g.name(),
                    "citation": g.citation(),
                })).collect::<Vec<_>>(),
                "remedies": r.remedies(),
            })
        })
}

/// The refusal's lines for the terminal (none when not refused).
pub(super) fn refusal_lines(req: &DataSubjectRequest) -> Vec<String> {
    let Some(r) = req.history().refusal() else {
        return Vec::new();
    };
    let mut out: Vec<String> = r
        .grounds()
        .iter()
        .map(|g| format!("  ground: {} ({})", g.name(), g.citation()))
        .collect();
    let m = r.remedies();
    out.push(format!(
        "  the subject is told ({}) of the right to lodge a complaint with a supervisory \
         authority ({}) and to a judicial remedy ({})",
        m.told_under, m.complaint, m.judicial
    ));
    out
}
