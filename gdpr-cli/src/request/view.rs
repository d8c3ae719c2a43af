//! `gdpr request show|status|list`: what a request is and where it stands,
//! with its deadline (Art. 12(3)); never the subject's identifiers.

use std::path::Path;
use std::process::ExitCode;

use gdpr_core::request::{Calendar, HolidayCalendar, RequestId, Scope};
use gdpr_request::findings::CertifiedFinding;
use gdpr_request::{RequestDir, RunOutcome};
use serde_json::json;

use super::CalendarArgs;
use super::exec::{bad, print, request_id, summary};
use crate::error::CliError;

/// The controller's calendar named by `args`.
pub(super) fn calendar(args: &CalendarArgs) -> Result<Calendar, CliError> {
    let zone = jiff::tz::TimeZone::get(&args.time_zone)
        .map_err(|_| bad(format!("--time-zone: unknown time zone {}", args.time_zone)))?;
    let holidays = HolidayCalendar::builtin(&args.holidays)
        .map_err(|e| bad(format!("--holidays: {e}")))?
        .ok_or_else(|| {
            bad("--holidays: no built-in calendar of that name (DE, DE-BY, FR, NL, AT)")
        })?;
    Ok(Calendar::new(zone, holidays))
}

/// The request's deadline as JSON: the computed periods (receipt, end of
/// the first month, due date, the extension's months, the sources) and
/// where it stands now (days left, overdue).
pub(super) fn deadline_json(
    req: &gdpr_core::request::DataSubjectRequest,
    cal: &Calendar,
    status: &gdpr_core::request::DeadlineStatus,
) -> Result<serde_json::Value, CliError> {
    let deadline = req
        .deadline(cal)
        .map_err(|e| bad(format!("deadline: {e}")))?;
    let mut value = serde_json::to_value(deadline).map_err(|e| bad(e.to_string()))?;
    let now = serde_json::to_value(status).map_err(|e| bad(e.to_string()))?;
    if let (Some(all), Some(now)) = (value.as_object_mut(), now.as_object()) {
        all.extend(now.clone());
    }
    Ok(value)
}

pub(super) fn show(
    root: &Path,
    id: &str,
    cal: &CalendarArgs,
    json_out: bool,
) -> Result<ExitCode, CliError> {
    let dir = RequestDir::open(root, &request_id(id)?)?;
    let req = dir.load_request()?;
    let cal = calendar(cal)?;
    let deadline = req
        .deadline_status(&cal, jiff::Timestamp::now())
        .map_err(|e| bad(format!("deadline: {e}")))?;
    let mut value = summary(&req);
    value["deadline"] = deadline_json(&req, &cal, &deadline)?;
    let outcome = dir.path().join(gdpr_request::OUTCOME_FILE);
    if outcome.exists() {
        let text = crate::input::read_text(&outcome, 64 << 20)?;
        let o: RunOutcome = crate::input::parse_json("outcome.json", &text)?;
        value["outcome"] = serde_json::to_value(&o).map_err(|e| bad(e.to_string()))?;
    }
    let findings = dir.load_findings()?;
    if !findings.is_empty() {
        value["findings"] = serde_json::to_value(&findings).map_err(|e| bad(e.to_string()))?;
    }
    if req.history().extension().is_some() {
        value["extension"] = super::extend::extension_json(&req);
    }
    if req.history().refusal().is_some() {
        value["refusal"] = super::refuse::refusal_json(&req);
    }
    let late = if deadline.overdue { ", OVERDUE" } else { "" };
    let mut lines = vec![format!(
        "request {}: {}; due {} ({} days left{late})",
        req.id(),
        req.stage().name(),
        deadline.due,
        deadline.days_left
    )];
    lines.extend(super::extend::extension_lines(&req));
    lines.extend(super::refuse::refusal_lines(&req));
    lines.extend(finding_lines(&findings));
    print(json_out, &value, &lines.join("\n"))?;
    Ok(super::stage_code(req.stage()))
}

/// One line per finding of the assessment: id, ground, provision, source,
/// scope and who made it; never its reason (sealed with the request).
pub(super) fn finding_lines(findings: &[CertifiedFinding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let on = match &f.scope {
                Scope::System { system } => format!("every record on {system}"),
                Scope::Record { system, record } => format!("{system} {record}"),
                _ => "every record of the request".to_owned(),
            };
            let source = f
                .source
                .as_ref()
                .map_or_else(String::new, |s| format!(", {s}"));
            format!(
                "  finding {}: {} ({}{source}) on {on}, by {}; reason sealed",
                f.id,
                f.ground,
                f.citation,
                f.by.expose()
            )
        })
        .collect()
}

pub(super) fn list(root: &Path, json_out: bool) -> Result<ExitCode, CliError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(root).map_err(|source| CliError::Io {
        path: root.display().to_string(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(id) = RequestId::new(&name) else {
            continue;
        };
        if let Ok(req) = RequestDir::open(root, &id).and_then(|d| d.load_request()) {
            out.push((name, req.stage()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let text: Vec<String> = out
        .iter()
        .map(|(n, s)| format!("{n}\t{}", s.name()))
        .collect();
    let value = json!(
        out.iter()
            .map(|(n, s)| json!({"id": n, "stage": s}))
            .collect::<Vec<_>>()
    );
    print(json_out, &value, &text.join("\n"))?;
    Ok(ExitCode::SUCCESS)
}
