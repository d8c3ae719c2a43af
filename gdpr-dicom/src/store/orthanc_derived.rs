//! Finding derived copies in Orthanc: studies and patients whose
//! `AnonymizedFrom` or `ModifiedFrom` metadata points at the subject's
//! (erased) resources.
//!
//! Orthanc keeps no reverse index of these links, so the scan reads the
//! metadata of every study (and, when patient links are searched, every
//! patient) on the server: one request each, eight at a time. Its cost grows
//! with the size of the server, not of the subject.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gdpr_core::store::{Remnant, ResourceKind, StoreError};
use tokio::task::JoinSet;

use super::orthanc::{OrthancStore, record_id};
use gdpr_connect::{Client, check_status, parse_json};

const CONCURRENCY: usize = 8;
const LINKS: [&str; 2] = ["AnonymizedFrom", "ModifiedFrom"];

/// The origins whose derived copies are searched.
pub(crate) struct DerivedScan {
    /// Orthanc ids of the subject's studies.
    pub studies: BTreeSet<String>,
    /// Orthanc ids of the subject's patient records.
    pub patients: BTreeSet<String>,
}

impl DerivedScan {
    /// The derived studies found, each with the origin it points at.
    pub(crate) async fn run(&self, store: &OrthancStore) -> Result<Vec<Remnant>, StoreError> {
        let mut found: BTreeMap<String, String> = BTreeMap::new();
        if !self.studies.is_empty() {
            let all = list(&store.http, "studies").await?;
            let candidates = all.into_iter().filter(|id| !self.studies.contains(id));
            for (id, origin) in links(&store.http, "studies", candidates, &self.studies).await? {
                found.entry(id).or_insert(origin);
            }
        }
        if !self.patients.is_empty() {
            let all = list(&store.http, "patients").await?;
            let candidates = all.into_iter().filter(|id| !self.patients.contains(id));
            for (patient, origin) in
                links(&store.http, "patients", candidates, &self.patients).await?
            {
                for study in studies_of(&store.http, &patient).await? {
                    found.entry(study).or_insert_with(|| origin.clone());
                }
            }
        }
        found
            .into_iter()
            .map(|(id, origin)| {
                Ok(Remnant {
                    id: record_id("derived-copy scan", &id)?,
                    kind: ResourceKind::DerivedStudy,
                    derived_from: Some(record_id("derived-copy scan", &origin)?),
                    reason: None,
                })
            })
            .collect()
    }
}

impl DerivedScan {
    /// The last look before deleting a copy: whether the study `copy` still
    /// links to one of the origins, through its own metadata or its
    /// patient's. A copy that is gone or no longer linked is left alone.
    pub(crate) async fn still_linked(
        &self,
        store: &OrthancStore,
        copy: &str,
    ) -> Result<bool, StoreError> {
        let own = metadata(&store.http, "studies", copy).await?;
        if origin_in(&own, &self.studies).is_some() {
            return Ok(true);
        }
        if self.patients.is_empty() {
            return Ok(false);
        }
        let Some(patient) = store.parent_patient(copy).await? else {
            return Ok(false);
        };
        let theirs = metadata(&store.http, "patients", &patient).await?;
        Ok(origin_in(&theirs, &self.patients).is_some())
    }
}

async fn list(http: &Client, level: &'static str) -> Result<Vec<String>, StoreError> {
    let operation = if level == "patients" {
        "GET /patients"
    } else {
        "GET /studies"
    };
    let url = http.url(&[level]);
    http.json(operation, |c| c.get(url.clone())).await
}

/// The Orthanc ids of a patient's studies (none when it is gone).
pub(crate) async fn studies_of(http: &Client, patient: &str) -> Result<Vec<String>, StoreError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Patient {
        studies: Vec<String>,
    }
    const OP: &str = "GET /patients/{id}";
    let url = http.url(&["patients", patient]);
    let (status, body) = http.call(OP, |c| c.get(url.clone())).await?;
    match check_status(OP, status) {
        Ok(()) => Ok(parse_json::<Patient>(OP, &body)?.studies),
        Err(StoreError::NotFound { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// For each candidate, reads its metadata and keeps those linked to one of
/// `origins`, as (candidate, origin).
async fn links(
    http: &Arc<Client>,
    level: &'static str,
    candidates: impl Iterator<Item = String>,
    origins: &BTreeSet<String>,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut found = Vec::new();
    let mut tasks = JoinSet::new();
    let mut candidates = candidates.peekable();
    while candidates.peek().is_some() || !tasks.is_empty() {
        while tasks.len() < CONCURRENCY {
            let Some(id) = candidates.next() else { break };
            let http = Arc::clone(http);
            tasks.spawn(async move {
                let metadata = metadata(&http, level, &id).await?;
                Ok::<_, StoreError>((id, metadata))
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (id, metadata) = joined.map_err(|_| StoreError::Local {
            operation: "derived-copy scan",
            detail: "a scan task stopped unexpectedly".into(),
        })??;
        if let Some(origin) = origin_in(&metadata, origins) {
            found.push((id, origin));
        }
    }
    Ok(found)
}

/// The origin among `origins` that a resource's metadata links to.
fn origin_in(metadata: &Metadata, origins: &BTreeSet<String>) -> Option<String> {
    LINKS.iter().find_map(|link| {
        metadata
            .get(*link)
            .and_then(|v| v.as_str())
            .filter(|origin| origins.contains(*origin))
            .map(str::to_owned)
    })
}

type Metadata = BTreeMap<String, serde_json::Value>;

/// A resource's metadata (empty when it is gone).
async fn metadata(http: &Client, level: &'static str, id: &str) -> Result<Metadata, StoreError> {
    let operation = if level == "patients" {
        "GET /patients/{id}/metadata"
    } else {
        "GET /studies/{id}/metadata"
    };
    let url = http.url(&[level, id, "metadata"]);
    let (status, body) = http
        .call(operation, |c| c.get(url.clone()).query(&[("expand", "")]))
        .await?;
    match check_status(operation, status) {
        Ok(()) => parse_json(operation, &body),
        // Deleted meanwhile: nothing left to find.
        Err(StoreError::NotFound { .. }) => Ok(BTreeMap::new()),
        Err(e) => Err(e),
    }
}
