//! `gdpr request grounds ID --grounds FILE`: the controller's compelling
//! legitimate grounds, or legal claims, against the objection a completed
//! objection request registered (GDPR Art. 21(1)) — journaled, audited,
//! the reason sealed in the request directory (never printed or logged),
//! the grounds carried on the objection in the register (file or
//! PostgreSQL), where `authorize` then permits the processing they cover.

use std::path::Path;
use std::process::ExitCode;

use gdpr_core::request::GroundsFile;
use serde_json::json;

use super::Context;
use super::exec::{bad, open, print};
use crate::error::CliError;

/// The grounds file (`--grounds`), at most 64 KiB; an error names the
/// file and the line or field, never a value of the file.
fn read_grounds(path: &Path) -> Result<GroundsFile, CliError> {
    let text = zeroize::Zeroizing::new(crate::input::read_text(path, 64 << 10)?);
    GroundsFile::from_toml(&text).map_err(|e| bad(format!("{}: {e}", path.display())))
}

/// Runs `gdpr request grounds`.
pub(super) async fn grounds(
    root: &Path,
    id: &str,
    context: &Context,
    file: &Path,
    json_out: bool,
) -> Result<ExitCode, CliError> {
    // Read and checked before anything is opened: a hostile file changes
    // nothing.
    let grounds = read_grounds(file)?;
    let (mut ex, _, _) = open(root, id, context).await?;
    let done = ex.record_grounds(&grounds).await?;
    let g = &done.grounds;
    let value = json!({
        "request": done.request,
        "grounds": g,
        "audit-record": done.audit_record,
        "replayed": done.replayed,
    });
    let purposes = if g.purposes.is_empty() {
        "every purpose objected to".to_owned()
    } else {
        g.purposes
            .iter()
            .map(|p| serde_json::to_value(p).map(|v| v.as_str().unwrap_or_default().to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?
            .join(", ")
    };
    let text = format!(
        "request {id}: {} ({}) {} on the objection, for {purposes}; audit record {}",
        g.ground,
        g.citation,
        if done.replayed {
            "already recorded"
        } else {
            "recorded"
        },
        done.audit_record.position
    );
    print(json_out, &value, &text)?;
    Ok(ExitCode::SUCCESS)
}
