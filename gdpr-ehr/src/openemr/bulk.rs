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
//! exported) → each NDJSON file downloaded and parsed line by line (a line
//! that is not a whole JSON object, such as the cut end of a partial
//! download, fails the export). A job answering 4xx/5xx failed. Errors name
//! the step, never a patient value or a URL.

use std::time::Duration;

use gdpr_connect::reqwest::StatusCode;
use gdpr_connect::reqwest::header::{CONTENT_LOCATION, HeaderMap, RETRY_AFTER};
use gdpr_core::store::{ProtocolCause, StoreError};
use url::Url;

use crate::client::{FhirClient, invalid};
use crate::compartment::mentions_patient;
use crate::model::{Resource, logical_id};

const KICK_OFF: &str = "GET /Group/{id}/$export";
const STATUS: &str = "GET {bulk status}";
const DOWNLOAD: &str = "GET {bulk output file}";

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

/// Downloads one output file; returns its resources that name Patient
/// `patient_id` (the Patient itself included).
///
/// # Errors
/// [`StoreError::Protocol`] for a line that is not a whole JSON object (a
/// partial download) or a resource of another type than the file's; as
/// [`FhirClient::fetch`] otherwise.
pub async fn download(
    client: &FhirClient,
    output: &Output,
    patient_id: &str,
) -> Result<Vec<Resource>, StoreError> {
    let body = client
        .fetch(DOWNLOAD, output.url.clone())
        .await?
        .ok_or_else(|| invalid(DOWNLOAD, "a bulk output file is gone (404/410)"))?;
    parse_ndjson(&body, &output.kind).map(|all| {
        all.into_iter()
            .filter(|r| mentions_patient(r, patient_id))
            .collect()
    })
}

/// The resources of an NDJSON file of `kind`.
fn parse_ndjson(body: &[u8], kind: &str) -> Result<Vec<Resource>, StoreError> {
    let mut resources = Vec::new();
    for line in body
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
    {
        let resource: Resource = serde_json::from_slice(line).map_err(|_| {
            invalid(
                DOWNLOAD,
                "a bulk output file has a line that is not a whole JSON object (a partial \
                 download?); run the export again",
            )
        })?;
        if crate::model::resource_type(&resource) != Some(kind) {
            return Err(invalid(
                DOWNLOAD,
                "a bulk output file holds another resource type than its manifest says",
            ));
        }
        resources.push(resource);
    }
    Ok(resources)
}

/// The files of a finished bulk job as batches: one file at a time, each
/// resource once, only those that name the patient.
pub struct BulkFiles<'a> {
    client: &'a FhirClient,
    outputs: std::vec::IntoIter<Output>,
    patient_id: String,
    seen: std::collections::HashSet<String>,
}

impl<'a> BulkFiles<'a> {
    /// The files `outputs` of Patient `patient_id`'s export.
    pub fn new(client: &'a FhirClient, outputs: Vec<Output>, patient_id: &str) -> Self {
        Self {
            client,
            outputs: outputs.into_iter(),
            patient_id: patient_id.to_owned(),
            seen: std::collections::HashSet::new(),
        }
    }
}

#[async_trait::async_trait]
impl crate::store::Batches for BulkFiles<'_> {
    async fn next_batch(&mut self) -> Result<Option<Vec<Resource>>, StoreError> {
        let Some(output) = self.outputs.next() else {
            return Ok(None);
        };
        let resources = download(self.client, &output, &self.patient_id).await?;
        let seen = &mut self.seen;
        Ok(Some(
            resources
                .into_iter()
                .filter(|r| {
                    let key = format!("{}/{}", output.kind, logical_id(r).unwrap_or_default());
                    seen.insert(key)
                })
                .collect(),
        ))
    }
}

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

    #[test]
    fn a_cut_ndjson_file_is_refused() {
        let whole = b"{\"resourceType\":\"Observation\",\"id\":\"o1\"}\n{\"resourceType\":\"Observation\",\"id\":\"o2\"}\n";
        assert_eq!(parse_ndjson(whole, "Observation").unwrap().len(), 2);
        let cut = &whole[..whole.len() - 10];
        let err = parse_ndjson(cut, "Observation").unwrap_err();
        assert!(err.to_string().contains("partial download"), "{err}");
        assert!(parse_ndjson(whole, "Patient").is_err());
    }
}
