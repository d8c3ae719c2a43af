//! `gdpr request shred-expired`: destroys the request keys whose retention
//! ended ([`gdpr_request::sealing`]): the identifiers sealed in what the
//! controller keeps to prove it handled a request (Art. 5(2)) become
//! unreadable for good; the history, the assessment, the outcome and the
//! certificate stay. Without `--apply` it only lists what it would shred.

use std::path::Path;
use std::process::ExitCode;

use gdpr_request::sealing::{Expired, KeyState, RequestKeys, SealRetention, expired};
use serde_json::json;

use super::exec::{bad, print};
use crate::error::CliError;

/// The arguments of `shred-expired`.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct ShredArgs {
    /// Years after the answer that the sealed identifiers are kept
    /// (default 3: § 195 BGB's regular limitation period).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i16).range(0..=100))]
    years: i16,
    /// The time to judge by (RFC 3339, e.g. 2029-06-01T00:00:00Z);
    /// the clock's time when not given.
    #[arg(long)]
    now: Option<String>,
    /// Shred the keys; without it the command only lists them (dry run).
    #[arg(long)]
    apply: bool,
}

fn state_name(state: KeyState) -> &'static str {
    match state {
        KeyState::Live => "key present",
        KeyState::Shredded => "already shredded",
        _ => "never sealed",
    }
}

/// Runs `gdpr request shred-expired` on the requests under `root`.
pub(super) fn shred(root: &Path, args: &ShredArgs, json_out: bool) -> Result<ExitCode, CliError> {
    let now = match &args.now {
        Some(text) => text
            .parse::<jiff::Timestamp>()
            .map_err(|_| bad("--now: expected an RFC 3339 time such as 2029-06-01T00:00:00Z"))?,
        None => jiff::Timestamp::now(),
    };
    if !root.is_dir() {
        return Err(bad(format!(
            "--requests {}: not a directory of requests",
            root.display()
        )));
    }
    let retention = SealRetention { years: args.years };
    let due = expired(root, retention, now)?;
    let keys = RequestKeys::at(root);
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for e in &due {
        let action = match (e.key, args.apply) {
            (KeyState::Live, true) if keys.shred(&e.id)? => "shredded",
            (KeyState::Live, true) => "already shredded",
            (KeyState::Live, false) => "would shred",
            (state, _) => state_name(state),
        };
        lines.push(line(e, action));
        rows.push(json!({"id": e.id, "answered": e.answered, "until": e.until,
            "action": action}));
    }
    let verb = if args.apply {
        "shredded"
    } else {
        "would shred"
    };
    let acted = rows.iter().filter(|r| r["action"] == verb).count();
    lines.push(format!(
        "{acted} request key(s) {verb}{}",
        if args.apply {
            ""
        } else {
            " (dry run: add --apply)"
        }
    ));
    let value = json!({"apply": args.apply, "now": now, "years": args.years, "requests": rows});
    print(json_out, &value, &lines.join("\n"))?;
    Ok(ExitCode::SUCCESS)
}

fn line(e: &Expired, action: &str) -> String {
    format!(
        "{}\tanswered {}\tretention ended {}\t{action}",
        e.id,
        e.answered.strftime("%Y-%m-%d"),
        e.until.strftime("%Y-%m-%d")
    )
}
