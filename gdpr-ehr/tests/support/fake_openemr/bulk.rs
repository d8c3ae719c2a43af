//! The Bulk Data export of the FAKE OpenEMR (see the module above), as
//! OpenEMR's FHIR_README and the Bulk Data Access IG v1 describe it:
//!
//! - `GET /fhir/Group/{id}/$export` with `Prefer: respond-async` → 202,
//!   empty body, `Content-Location: …/fhir/$bulkdata-status?job={job}`;
//!   without the header → 400; an unknown Group → 404.
//! - `GET /fhir/$bulkdata-status?job={job}` → 202 with `Retry-After: 1` and
//!   `X-Progress` while running (the first poll), then 200 with the
//!   manifest (`transactionTime`, `request`, `requiresAccessToken`,
//!   `output` `[{type, url}]`, `error` `[]`); a failing job (`bulk_fails`)
//!   → 500 with an OperationOutcome; an unknown job → 404.
//! - `GET /fhir/Document/{n}/Binary` → the NDJSON file (every resource of
//!   the Group's members' compartments of one type: those naming a member,
//!   and the member Patients), cut short when `bulk_cut` is set
//!   (only the n-th file: `bulk_cut_file`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::{Shared, gate};

/// One bulk job: its NDJSON files by type, and the polls it still answers 202.
#[derive(Default, Clone)]
pub struct Job {
    pub files: Vec<(String, String)>,
    pub running_polls: usize,
}

/// The files of Group `group`'s export: by type, the resources naming a
/// member (and the member Patients themselves).
fn files_of(resources: &BTreeMap<String, Value>, group: &Value) -> Vec<(String, String)> {
    let members: Vec<String> = group["member"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["entity"]["reference"].as_str().map(str::to_owned))
        .collect();
    let mut by_type: BTreeMap<String, String> = BTreeMap::new();
    for (key, resource) in resources {
        let (kind, _) = key.split_once('/').unwrap();
        let text = resource.to_string();
        let named = members
            .iter()
            .any(|m| *m == *key || text.contains(&format!("\"{m}\"")));
        if named && kind != "Group" {
            let file = by_type.entry(kind.to_owned()).or_default();
            file.push_str(&text);
            file.push('\n');
        }
    }
    by_type.into_iter().collect()
}

pub(super) async fn kick_off(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(group): Path<String>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    if headers.get("prefer").and_then(|v| v.to_str().ok()) != Some("respond-async") {
        return (StatusCode::BAD_REQUEST, "Prefer: respond-async is required").into_response();
    }
    let Some(found) = s.resources.get(&format!("Group/{group}")).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let files = files_of(&s.resources, &found);
    let id = format!("job-{}", s.bulk_jobs.len() + 1);
    s.bulk_jobs.insert(
        id.clone(),
        Job {
            files,
            running_polls: 1,
        },
    );
    let location = format!("{}/$bulkdata-status?job={id}", s.base);
    (StatusCode::ACCEPTED, [(header::CONTENT_LOCATION, location)]).into_response()
}

pub(super) async fn status(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    s.bulk_polls += 1;
    let (fails, base) = (s.bulk_fails, s.base.clone());
    let Some(job) = query.get("job").and_then(|j| s.bulk_jobs.get_mut(j)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if job.running_polls > 0 {
        job.running_polls -= 1;
        let running = [
            (header::RETRY_AFTER, "1"),
            (header::HeaderName::from_static("x-progress"), "in progress"),
        ];
        return (StatusCode::ACCEPTED, running).into_response();
    }
    if fails {
        let outcome = json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "exception", "diagnostics": "export failed"}]});
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(outcome)).into_response();
    }
    let output: Vec<Value> = job
        .files
        .iter()
        .enumerate()
        .map(|(n, (kind, _))| json!({"type": kind, "url": format!("{base}/Document/{}/Binary", n + 1)}))
        .collect();
    let manifest = json!({"transactionTime": "2026-01-01T00:00:00Z",
        "request": format!("{base}/Group/$export"), "requiresAccessToken": true,
        "output": output, "error": []});
    axum::Json(manifest).into_response()
}

pub(super) async fn document(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(n): Path<usize>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    // The last job's files (one job at a time in these tests).
    let last = s.bulk_jobs.len();
    let Some((_, mut body)) = s
        .bulk_jobs
        .get(&format!("job-{last}"))
        .and_then(|job| job.files.get(n.wrapping_sub(1)).cloned())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if s.bulk_cut || s.bulk_cut_file == Some(n) {
        body.truncate(body.len() / 2);
    }
    ([(header::CONTENT_TYPE, "application/fhir+ndjson")], body).into_response()
}
