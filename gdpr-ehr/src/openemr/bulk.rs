//! OpenEMR's Bulk Data export (FHIR Bulk Data Access v1, as OpenEMR's
//! FHIR_README documents it), used for one patient's export **only** where
//! it can be limited to that patient: OpenEMR has no `patient` parameter
//! and `Patient/$export` returns every patient, but it makes a `Group` per
//! Practitioner of the patients whose primary care provider they are. A
//! Group whose only member is the subject is exported with
//! `Group/{id}/$export`; every other case uses the per-type searches.
//!
//! The flow: kick-off with `Prefer: respond-async` → 202 with
//! `Content-Location` (on the base URL) → poll it, waiting as `Retry-After`
//! asks (202 while running) → 200 with the manifest (`output` files; a
//! non-empty `error` list fails the export: some resources were not
//! exported) → each NDJSON file streamed to a scratch file in the export
//! directory (never whole in memory), then read line by line, at most
//! [`MAX_LINE`] bytes a line and [`BATCH`] resources at a time (a longer
//! line, or one that is not a whole JSON object, such as the cut end of a
//! partial download, fails the export). A job answering 4xx/5xx failed.
//! Errors name the step, never a patient value or a URL; the host names the
//! system (gdpr-request, `gdpr ehr`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use gdpr_connect::blocking;
use gdpr_connect::reqwest::StatusCode;
use gdpr_connect::reqwest::header::{CONTENT_LOCATION, HeaderMap, RETRY_AFTER};
use gdpr_core::store::{ProtocolCause, StoreError};
use url::Url;

use crate::client::{FhirClient, invalid};
use crate::compartment::mentions_patient;
use crate::export::BULK_SCRATCH as SCRATCH;
use crate::model::{Resource, logical_id};

const KICK_OFF: &str = "GET /Group/{id}/$export";
const STATUS: &str = "GET {bulk status}";
const DOWNLOAD: &str = "GET {bulk output file}";

/// The longest NDJSON line read (one resource): 16 MiB. FHIR servers cap a
/// resource far below this (attachments go to Binary); a longer line is a
/// broken or hostile file, refused without reading it whole.
pub const MAX_LINE: usize = 16 << 20;

/// Resources read from a bulk file per batch.
pub const BATCH: usize = 1000;

/// How long a bulk job may run before the export gives up, in polls (each
/// waits as `Retry-After` asks, 1 to 60 s).
pub const MAX_POLLS: usize = 360;

/// One output file of a finished job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The resource type it holds.
    pub kind: String,
    /// Where to download it (on the base URL).
    pub url: Url,
}

/// The id of a Group whose only member is Patient `patient_id`, if the
/// server has one (a search is a hint: each Group is checked).
///
/// # Errors
/// As [`crate::client::Pages::next_page`].
pub async fn one_patient_group(
    client: &FhirClient,
    patient_id: &str,
) -> Result<Option<String>, StoreError> {
    let reference = format!("Patient/{patient_id}");
    let mut pages = client.search("Group", &[("member", &reference)]);
    while let Some(page) = pages.next_page().await? {
        for group in crate::client::matches(page) {
            if is_only_member(&group, patient_id) {
                return Ok(logical_id(&group).map(str::to_owned));
            }
        }
    }
    Ok(None)
}

/// Whether `group` lists exactly one member, and that member is the patient.
fn is_only_member(group: &Resource, patient_id: &str) -> bool {
    let Some(members) = group.get("member").and_then(|m| m.as_array()) else {
        return false;
    };
    let actual = group.get("actual").and_then(|a| a.as_bool()) != Some(false);
    actual
        && members.len() == 1
        && members[0]
            .get("entity")
            .and_then(|e| e.get("reference"))
            .and_then(|r| r.as_str())
            .is_some_and(|r| {
                r == format!("Patient/{patient_id}")
                    || r.ends_with(&format!("/Patient/{patient_id}"))
            })
}

/// Kicks off `Group/{group}/$export` and waits for its manifest.
///
/// # Errors
/// [`StoreError::Protocol`] for a kick-off not answered 202 with a
/// `Content-Location` on the base URL, a failed job (4xx/5xx), a manifest
/// listing errors or one that cannot be read, and a job still running after
/// [`MAX_POLLS`] polls; as gdpr-connect's `Client::call` otherwise.
pub async fn run_job(client: &FhirClient, group: &str) -> Result<Vec<Output>, StoreError> {
    let mut url = client.http().url(&["Group", group, "$export"]);
    url.query_pairs_mut()
        .append_pair("_outputFormat", "application/fhir+ndjson");
    let (status, headers, _) = client
        .http()
        .call_with_headers(KICK_OFF, |c| {
            c.get(url.clone())
                .header("Accept", "application/fhir+json")
                .header("Prefer", "respond-async")
        })
        .await?;
    if status != StatusCode::ACCEPTED {
        return Err(unexpected(KICK_OFF, status));
    }
    let location = headers
        .get(CONTENT_LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            invalid(
                KICK_OFF,
                "the bulk kick-off gave no Content-Location to poll",
            )
        })?;
    let status_url = client.on_base(KICK_OFF, location)?;
    poll(client, status_url).await
}

async fn poll(client: &FhirClient, url: Url) -> Result<Vec<Output>, StoreError> {
    for _ in 0..MAX_POLLS {
        let (status, headers, body) = client
            .http()
            .call_with_headers(STATUS, |c| {
                c.get(url.clone()).header("Accept", "application/json")
            })
            .await?;
        match status {
            StatusCode::ACCEPTED => tokio::time::sleep(wait(&headers)).await,
            StatusCode::OK => return manifest(client, &body),
            other => {
                return Err(StoreError::Protocol {
                    operation: STATUS,
                    cause: ProtocolCause::UnexpectedStatus(other.as_u16()),
                    detail: format!(
                        "the bulk export job failed (HTTP {}); see the server's log, or export \
                         by per-type searches",
                        other.as_u16()
                    ),
                });
            }
        }
    }
    Err(invalid(
        STATUS,
        "the bulk export job was still running after the most polls allowed; try again later",
    ))
}

/// The wait a 202 asks for: `Retry-After` seconds, 1 to 60 (1 when absent
/// or an HTTP-date).
fn wait(headers: &HeaderMap) -> Duration {
    let seconds = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds.clamp(1, 60))
}

fn manifest(client: &FhirClient, body: &[u8]) -> Result<Vec<Output>, StoreError> {
    let manifest: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| invalid(STATUS, "the bulk export manifest is not JSON"))?;
    if manifest["error"].as_array().is_some_and(|e| !e.is_empty()) {
        return Err(invalid(
            STATUS,
            "the bulk export manifest lists errors: some resources were not exported; export by \
             per-type searches instead",
        ));
    }
    let files = manifest["output"]
        .as_array()
        .ok_or_else(|| invalid(STATUS, "the bulk export manifest has no output list"))?;
    files
        .iter()
        .map(|file| {
            let (Some(kind), Some(url)) = (file["type"].as_str(), file["url"].as_str()) else {
                return Err(invalid(STATUS, "a bulk output file without type or url"));
            };
            Ok(Output {
                kind: kind.to_owned(),
                url: client.on_base(STATUS, url)?,
            })
        })
        .collect()
}

fn cut_line() -> StoreError {
    invalid(
        DOWNLOAD,
        "a bulk output file has a line that is not a whole JSON object (a partial \
         download?); run the export again",
    )
}

/// Reads the next line of at most `max` bytes (without its newline) into
/// `line`; `false` at the end of the file.
fn next_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> Result<bool, StoreError> {
    line.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let read = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', line)
        .map_err(|e| StoreError::Local {
            operation: "read a downloaded bulk output file",
            detail: e.kind().to_string(),
        })?;
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > max {
        return Err(invalid(
            DOWNLOAD,
            &format!(
                "a bulk output file has a line longer than {max} bytes (the most read for one \
                 resource): a broken or hostile file; nothing of it was exported"
            ),
        ));
    }
    Ok(read > 0)
}

/// Up to `count` resources of `kind` from `reader`, one a line (blank
/// lines skipped); `None` at the end.
fn read_resources(
    reader: &mut impl BufRead,
    kind: &str,
    count: usize,
    max_line: usize,
) -> Result<Option<Vec<Resource>>, StoreError> {
    let (mut resources, mut line) = (Vec::new(), Vec::new());
    while resources.len() < count {
        if !next_line(reader, &mut line, max_line)? {
            return Ok((!resources.is_empty()).then_some(resources));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let resource: Resource = serde_json::from_slice(&line).map_err(|_| cut_line())?;
        if crate::model::resource_type(&resource) != Some(kind) {
            return Err(invalid(
                DOWNLOAD,
                "a bulk output file holds another resource type than its manifest says",
            ));
        }
        resources.push(resource);
    }
    Ok(Some(resources))
}

/// The file being read: its type and the scratch file's reader.
struct Open {
    kind: String,
    reader: BufReader<std::fs::File>,
}

/// The files of a finished bulk job as batches: each file streamed to a
/// scratch file, then read [`BATCH`] resources at a time; each resource
/// once, only those that name the patient.
pub struct BulkFiles<'a> {
    client: &'a FhirClient,
    outputs: std::vec::IntoIter<Output>,
    patient_id: String,
    scratch: PathBuf,
    open: Option<Open>,
    seen: std::collections::HashSet<String>,
}

impl<'a> BulkFiles<'a> {
    /// The files `outputs` of Patient `patient_id`'s export, streamed
    /// through a scratch file in `dir` (the export directory).
    pub fn new(client: &'a FhirClient, outputs: Vec<Output>, patient_id: &str, dir: &Path) -> Self {
        Self {
            client,
            outputs: outputs.into_iter(),
            patient_id: patient_id.to_owned(),
            scratch: dir.join(format!(".{SCRATCH}.partial")),
            open: None,
            seen: std::collections::HashSet::new(),
        }
    }

    /// Downloads the next output file into the scratch file and opens it;
    /// `false` when there is none left.
    async fn open_next(&mut self) -> Result<bool, StoreError> {
        let Some(output) = self.outputs.next() else {
            return Ok(false);
        };
        let url = output.url.clone();
        self.client
            .http()
            .download(DOWNLOAD, |c| c.get(url.clone()), &self.scratch)
            .await?;
        let file = std::fs::File::open(&self.scratch).map_err(|e| StoreError::Local {
            operation: "open a downloaded bulk output file",
            detail: e.kind().to_string(),
        })?;
        self.open = Some(Open {
            kind: output.kind,
            reader: BufReader::with_capacity(1 << 16, file),
        });
        Ok(true)
    }
}

#[async_trait::async_trait]
impl crate::store::Batches for BulkFiles<'_> {
    async fn next_batch(&mut self) -> Result<Option<Vec<Resource>>, StoreError> {
        loop {
            let Some(mut open) = self.open.take() else {
                if !self.open_next().await? {
                    return Ok(None);
                }
                continue;
            };
            // File reads off the executor, one batch at a time.
            let (open, batch) = blocking("bulk file reader", move || {
                let batch = read_resources(&mut open.reader, &open.kind, BATCH, MAX_LINE)?;
                Ok((open, batch))
            })
            .await?;
            let Some(batch) = batch else {
                let _ = std::fs::remove_file(&self.scratch);
                continue;
            };
            let (seen, id) = (&mut self.seen, &self.patient_id);
            let fresh = batch
                .into_iter()
                .filter(|r| mentions_patient(r, id))
                .filter(|r| {
                    seen.insert(format!(
                        "{}/{}",
                        open.kind,
                        logical_id(r).unwrap_or_default()
                    ))
                })
                .collect();
            self.open = Some(open);
            return Ok(Some(fresh));
        }
    }

    /// A bulk export resumes by running again: a new job's files are read
    /// from the start (the old job's may be gone) and every resource
    /// written before the checkpoint is skipped (`seen`), so what was
    /// written stays and nothing is written twice.
    fn cursor(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({"bulk": RESUME}))
    }

    fn resume(
        &mut self,
        cursor: &serde_json::Value,
        seen: Vec<String>,
    ) -> Result<bool, StoreError> {
        if cursor.get("bulk").and_then(serde_json::Value::as_str) != Some(RESUME) {
            return Ok(false);
        }
        self.seen.extend(seen);
        Ok(true)
    }
}

/// The cursor of a bulk export's checkpoint (see `BulkFiles::resume`).
const RESUME: &str = "every output file again, skipping what was written";

fn unexpected(operation: &'static str, status: StatusCode) -> StoreError {
    StoreError::Protocol {
        operation,
        cause: ProtocolCause::UnexpectedStatus(status.as_u16()),
        detail: format!(
            "the bulk kick-off was answered HTTP {} instead of 202 Accepted",
            status.as_u16()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: serde_json::Value) -> Resource {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn only_a_group_of_the_patient_alone_limits_a_bulk_export() {
        let of = |members: serde_json::Value| {
            map(json!({"resourceType": "Group", "id": "g", "member": members}))
        };
        let p = |id: &str| json!({"entity": {"reference": format!("Patient/{id}")}});
        assert!(is_only_member(&of(json!([p("p1")])), "p1"));
        assert!(!is_only_member(&of(json!([p("p1"), p("p2")])), "p1"));
        assert!(!is_only_member(&of(json!([p("p2")])), "p1"));
        assert!(!is_only_member(&of(json!([p("p10")])), "p1"));
        assert!(!is_only_member(
            &map(json!({"resourceType": "Group", "member": [p("p1")], "actual": false})),
            "p1"
        ));
    }

    fn parse_ndjson(body: &[u8], kind: &str) -> Result<Vec<Resource>, StoreError> {
        let mut reader = std::io::Cursor::new(body);
        let mut all = Vec::new();
        while let Some(batch) = read_resources(&mut reader, kind, 1, 100)? {
            all.extend(batch);
        }
        Ok(all)
    }

    #[test]
    fn a_cut_ndjson_file_is_refused() {
        let whole = b"{\"resourceType\":\"Observation\",\"id\":\"o1\"}\n\n{\"resourceType\":\"Observation\",\"id\":\"o2\"}\n";
        assert_eq!(parse_ndjson(whole, "Observation").unwrap().len(), 2);
        // The last line without its newline is read too.
        assert_eq!(
            parse_ndjson(&whole[..whole.len() - 1], "Observation")
                .unwrap()
                .len(),
            2
        );
        let cut = &whole[..whole.len() - 10];
        let err = parse_ndjson(cut, "Observation").unwrap_err();
        assert!(err.to_string().contains("partial download"), "{err}");
        assert!(parse_ndjson(whole, "Patient").is_err());
    }

    #[test]
    fn a_line_over_the_bound_is_refused_without_reading_it_whole() {
        let long = format!(
            "{{\"resourceType\":\"Observation\",\"id\":\"o1\",\"note\":[{{\"text\":\"{}\"}}]}}\n",
            "x".repeat(200)
        );
        let err = parse_ndjson(long.as_bytes(), "Observation").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("GET {bulk output file}"), "the step: {text}");
        assert!(text.contains("longer than 100 bytes"), "{text}");
        // An endless line (no newline at all) is refused the same way.
        let mut endless = std::io::BufReader::new(std::io::repeat(b'x'));
        assert!(read_resources(&mut endless, "Observation", 1, 100).is_err());
    }
}
