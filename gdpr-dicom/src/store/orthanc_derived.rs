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

use super::http::{Http, check_status, parse_json};
use super::orthanc::{OrthancStore, record_id};

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
                })
            })
            .collect()
    }
}

async fn list(http: &Http, level: &'static str) -> Result<Vec<String>, StoreError> {
    let operation = if level == "patients" {
        "GET /patients"
    } else {
        "GET /studies"
    };
    let url = http.url(&[level]);
    http.json(operation, |c| c.get(url.clone())).await
}

async fn studies_of(http: &Http, patient: &str) -> Result<Vec<String>, StoreError> {
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
    http: &Arc<Http>,
    level: &'static str,
    candidates: impl Iterator<Item = String>,
    origins: &BTreeSet<String>,
) -> Result<Vec<(String, String)>, StoreError> {
    let operation = if level == "patients" {
        "GET /patients/{id}/metadata"
    } else {
        "GET /studies/{id}/metadata"
    };
    let mut found = Vec::new();
    let mut tasks = JoinSet::new();
    let mut candidates = candidates.peekable();
    while candidates.peek().is_some() || !tasks.is_empty() {
        while tasks.len() < CONCURRENCY {
            let Some(id) = candidates.next() else { break };
            let http = Arc::clone(http);
            tasks.spawn(async move {
                let url = http.url(&[level, &id, "metadata"]);
                let (status, body) = http
                    .call(operation, |c| c.get(url.clone()).query(&[("expand", "")]))
                    .await?;
                let metadata = match check_status(operation, status) {
                    Ok(()) => parse_json::<BTreeMap<String, serde_json::Value>>(operation, &body)?,
                    // Deleted meanwhile: nothing left to find.
                    Err(StoreError::NotFound { .. }) => BTreeMap::new(),
                    Err(e) => return Err(e),
                };
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
        for link in LINKS {
            if let Some(origin) = metadata.get(link).and_then(|v| v.as_str())
                && origins.contains(origin)
            {
                found.push((id.clone(), origin.to_owned()));
                break;
            }
        }
    }
    Ok(found)
}
