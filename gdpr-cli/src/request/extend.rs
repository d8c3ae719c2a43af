//! `gdpr request extend`: the one extension of the deadline (GDPR Art.
//! 12(3)) by one or two further months, while the first month runs, its
//! grounds told to the subject — journaled, audited, and shown with the
//! new due date by `show`, `status` and `--json`.

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use gdpr_core::request::{DataSubjectRequest, Extension, ExtensionGround};
use serde_json::json;

use super::exec::{bad, open, print, summary};
use super::{CalendarArgs, Context};
use crate::error::CliError;

/// A ground of extension, as given on the command line (Art. 12(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Reason {
    /// The complexity of the request(s).
    Complexity,
    /// The number of requests.
    NumberOfRequests,
}

impl Reason {
    fn ground(self) -> ExtensionGround {
        match self {
            Self::Complexity => ExtensionGround::Complexity,
            Self::NumberOfRequests => ExtensionGround::NumberOfRequests,
        }
    }
}

/// `gdpr request extend`: extends the deadline, told to the subject now;
/// prints the new due date.
pub(super) async fn extend(
    root: &Path,
    id: &str,
    context: &Context,
    (months, reasons, cal): (u8, &[Reason], &CalendarArgs),
    json_out: bool,
) -> Result<ExitCode, CliError> {
    let mut grounds: Vec<ExtensionGround> = Vec::new();
    for r in reasons {
        if !grounds.contains(&r.ground()) {
            grounds.push(r.ground());
        }
    }
    let extension = Extension::new(months, grounds, jiff::Timestamp::now())
        .map_err(|e| bad(format!("--months/--reason: {e}")))?;
    let calendar = super::view::calendar(cal)?;
    let (mut ex, _, _) = open(root, id, context).await?;
    ex.extend(extension, &calendar).await?;
    let deadline = ex
        .request()
        .deadline_status(&calendar, jiff::Timestamp::now())
        .map_err(|e| bad(format!("deadline: {e}")))?;
    let mut value = summary(ex.request());
    value["deadline"] = super::view::deadline_json(ex.request(), &calendar, &deadline)?;
    value["extension"] = extension_json(ex.request());
    let mut lines = vec![format!(
        "request {id}: deadline extended; due {} ({} days left)",
        deadline.due, deadline.days_left
    )];
    lines.extend(extension_lines(ex.request()));
    print(json_out, &value, &lines.join("\n"))?;
    Ok(super::stage_code(ex.request().stage()))
}

/// The extension's months, grounds with their provision and when it was
/// told, as JSON (`null` when the deadline was not extended).
pub(super) fn extension_json(req: &DataSubjectRequest) -> serde_json::Value {
    req.history()
        .extension()
        .map_or(serde_json::Value::Null, |e| {
            json!({
                "months": e.months(),
                "grounds": e.grounds().iter().map(|g| json!({
                    "ground": g.name(),
                    "citation": g.citation(),
                })).collect::<Vec<_>>(),
                "told-at": e.told_at(),
            })
        })
}

/// The extension's line for the terminal (none when not extended).
pub(super) fn extension_lines(req: &DataSubjectRequest) -> Vec<String> {
    let Some(e) = req.history().extension() else {
        return Vec::new();
    };
    let grounds: Vec<String> = e
        .grounds()
        .iter()
        .map(|g| format!("{} ({})", g.name(), g.citation()))
        .collect();
    vec![format!(
        "  extended by {} month(s) on grounds: {}; told to the subject at {}",
        e.months(),
        grounds.join("; "),
        e.told_at()
    )]
}
