//! [`FhirStore`]: one FHIR R4 server, and what the `SubjectStore` methods
//! are made of — the subject's records, their export, their erasure and
//! the check of what is left.

use std::path::Path;

use futures_util::{StreamExt, TryStreamExt};
use gdpr_connect::{Client, Endpoint, Outcome, blocking};
use gdpr_core::store::{StoreError, SystemIdentity, UnreadableItem};

use super::attachments::{BINARY_REASON, attachments_of, binary_id, fetch};
use super::erase::{Left, erase_resource, what_is_left};
use super::pipeline::{Checkpoints, Writing};
use super::unlink::unlink;
use super::walk::{Batches, Walk};
use crate::client::FhirClient;
use crate::compartment::{Classification, classify, mentions_patient};
use crate::export::WrittenFile;
use crate::model::{Resource, logical_id, resource_type};

/// How many deleted resources a verification reads back at once.
const CONCURRENT_CHECKS: usize = 8;

/// How to reach a FHIR R4 server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FhirConfig {
    /// The name of the system in audit records.
    pub name: String,
    /// The FHIR base URL (`https://ehr.example.org/fhir/r4`), TLS, retries,
    /// credentials (bearer tokens, OAuth 2 client credentials).
    pub endpoint: Endpoint,
    /// Resources per page asked for (`_count`).
    pub page_size: u32,
    /// The most pages one listing may have (a bound against servers that
    /// page forever).
    pub max_pages: usize,
    /// An export records a checkpoint every this many pages (at least 1),
    /// from which an interrupted export resumes ([`crate::export`]'s
    /// checkpoints: each costs a sync of the files written so far)...
    pub checkpoint_pages: usize,
    /// ... and at most once in this time, so that syncing stays a small
    /// part of a fast export.
    pub checkpoint_interval: std::time::Duration,
}

impl FhirConfig {
    /// Pages between an export's checkpoints unless configured.
    pub const DEFAULT_CHECKPOINT_PAGES: usize = 10;
    /// The least time between an export's checkpoints unless configured.
    pub const DEFAULT_CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

    /// A configuration with default options and no credentials.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            endpoint: Endpoint::new(url),
            page_size: FhirClient::DEFAULT_PAGE_SIZE,
            max_pages: FhirClient::DEFAULT_MAX_PAGES,
            checkpoint_pages: Self::DEFAULT_CHECKPOINT_PAGES,
            checkpoint_interval: Self::DEFAULT_CHECKPOINT_INTERVAL,
        }
    }
}

/// One resource of a patient's compartment, as classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its resource type.
    pub kind: String,
    /// Its logical id.
    pub id: String,
    /// Own record (category, dates) or shared (reason).
    pub class: Classification,
    /// Whether it names the patient (a Practitioner `$everything` gives
    /// along does not: it holds nothing of the subject).
    pub mentions_patient: bool,
}

/// Resources found, each Binary once: one named by a DocumentReference
/// wins over the same Binary given by `$everything` (it is reported).
#[derive(Default)]
pub(super) struct Collected {
    pub(super) found: Vec<Found>,
    /// The attachments of every DocumentReference given (to download).
    attachments: Vec<super::attachments::Attachment>,
    binaries: std::collections::HashMap<String, usize>,
}

impl Collected {
    pub(super) fn push(&mut self, item: Found) {
        if item.kind != "Binary" {
            self.found.push(item);
            return;
        }
        match self.binaries.get(&item.id) {
            Some(&at) if self.found[at].mentions_patient || !item.mentions_patient => {}
            Some(&at) => self.found[at] = item,
            None => {
                self.binaries.insert(item.id.clone(), self.found.len());
                self.found.push(item);
            }
        }
    }
}

/// What an export wrote.
#[derive(Debug)]
pub struct Written {
    /// The files (Bundle, NDJSON, side file, attachments and their index).
    pub files: Vec<WrittenFile>,
    /// Every resource exported, classified.
    pub found: Vec<Found>,
    /// Attachments that could not be exported, and why.
    pub not_exported: Vec<UnreadableItem>,
}

/// A FHIR R4 server as a store of subjects' records.
#[derive(Debug)]
pub struct FhirStore {
    identity: SystemIdentity,
    client: FhirClient,
    checkpoint_pages: usize,
    checkpoint_interval: std::time::Duration,
}

impl FhirStore {
    /// Connects (no request yet): URL checked, secrets loaded.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] as gdpr-connect's `Client::connect`.
    pub fn connect(config: &FhirConfig) -> Result<Self, StoreError> {
        let http = Client::connect(&config.endpoint)?;
        let identity = SystemIdentity::new(&config.name, "fhir", http.base().as_str());
        let client = FhirClient::new(http).with_paging(config.page_size, config.max_pages);
        Ok(Self {
            identity,
            client,
            checkpoint_pages: config.checkpoint_pages.max(1),
            checkpoint_interval: config.checkpoint_interval,
        })
    }

    /// The same store under another identity (an OpenEMR site is a FHIR
    /// server to this store, but named as itself in manifests and audits).
    pub(crate) fn named(mut self, identity: SystemIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// Who this store is.
    pub fn system(&self) -> &SystemIdentity {
        &self.identity
    }

    /// The FHIR client.
    pub fn client(&self) -> &FhirClient {
        &self.client
    }

    /// Every resource of the compartment of Patient `patient_id`, classified.
    ///
    /// # Errors
    /// As [`Walk::next_batch`].
    pub async fn records(&self, patient_id: &str) -> Result<Vec<Found>, StoreError> {
        let mut walk = Walk::start(&self.client, patient_id).await?;
        let mut found = Collected::default();
        while let Some(batch) = walk.next_batch().await? {
            self.add_found(&mut found, &batch, patient_id);
        }
        Ok(found.found)
    }

    /// Adds the classified resources of `batch` to `found`, and the Binaries
    /// the patient's own DocumentReferences point at (shared: never
    /// deleted, always reported), each Binary once (`binaries`: its
    /// position in `found`).
    pub(super) fn add_found(&self, found: &mut Collected, batch: &[Resource], patient_id: &str) {
        for resource in batch {
            found.attachments.extend(attachments_of(resource));
            let Some(record) = summary(resource, patient_id) else {
                continue;
            };
            let own = matches!(record.class, Classification::Own(_));
            let named = attachments_of(resource)
                .into_iter()
                .filter(|_| own)
                .filter_map(|a| binary_id(&self.client, &a.url))
                .map(|id| Found {
                    kind: "Binary".into(),
                    id,
                    class: Classification::Shared {
                        reason: BINARY_REASON,
                    },
                    mentions_patient: true,
                });
            for item in std::iter::once(record).chain(named) {
                found.push(item);
            }
        }
    }

    /// Writes the compartment of Patient `patient_id` into `dir` (the files
    /// of [`crate::export`] and the DocumentReferences' attachments, not yet
    /// the manifest), streaming page by page.
    ///
    /// # Errors
    /// As [`FhirStore::records`]; [`StoreError::Local`] for the files.
    pub async fn write_export(&self, patient_id: &str, dir: &Path) -> Result<Written, StoreError> {
        let mut walk = Walk::start(&self.client, patient_id).await?;
        self.write_export_from(patient_id, dir, &mut walk).await
    }

    /// [`FhirStore::write_export`] of the resources `source` gives (the
    /// compartment walk, or an OpenEMR bulk export's files).
    ///
    /// # Errors
    /// As `source`; [`StoreError::Local`] for the files.
    pub async fn write_export_from(
        &self,
        patient_id: &str,
        dir: &Path,
        source: &mut (dyn Batches + '_),
    ) -> Result<Written, StoreError> {
        let (writer, mut found) = self.resume_export(patient_id, dir, source).await?;
        let mut checkpoints = Checkpoints::new(self.checkpoint_pages, self.checkpoint_interval);
        // Each page is written on a blocking thread while the next one is
        // fetched (and parsed): at most two pages are held.
        let mut writing = Writing::Idle(Box::new(writer));
        let writer = loop {
            let (batch, writer) = writing.alongside(source.next_batch()).await?;
            let Some(batch) = batch else {
                break writer;
            };
            self.add_found(&mut found, &batch, patient_id);
            // Where the source stands after this page (before the next
            // fetch moves it on), for a checkpoint written after the page.
            let cursor = checkpoints.page().then(|| source.cursor()).flatten();
            writing = Writing::start(writer, batch, cursor);
        };
        // Every DocumentReference's attachments, those of the pages written
        // before a resume included.
        let attachments = std::mem::take(&mut found.attachments);
        let mut files = blocking("export worker", move || (*writer).finish()).await?;
        let (fetched, not_exported) = fetch(&self.client, &attachments, dir).await?;
        files.extend(fetched);
        Ok(Written {
            files,
            found: found.found,
            not_exported,
        })
    }

    /// Deletes the patient's own records (the Patient last), each re-checked
    /// right before its DELETE; shared resources are never deleted, but
    /// the patient's references are removed from those whose type allows
    /// it ([`super::unlink`]: `Done` for a shared resource means that).
    /// Returns what each attempt did, other shared resources that name the
    /// patient as refusals (shared ones that do not, such as a referenced
    /// Practitioner, hold nothing of the subject and are left out).
    ///
    /// # Errors
    /// As [`FhirStore::records`] and [`FhirClient::delete`].
    pub async fn delete_all(&self, patient_id: &str) -> Result<Vec<(Found, Outcome)>, StoreError> {
        let mut found = self.records(patient_id).await?;
        // The Patient last: its records first, so nothing points at nothing.
        found.sort_by_key(|f| f.kind == "Patient");
        let mut done = Vec::with_capacity(found.len());
        for record in found {
            let outcome = match &record.class {
                // Holds nothing of the subject: not part of the erasure.
                Classification::Shared { .. } if !record.mentions_patient => continue,
                // Never deleted; its patient references removed where the
                // type allows (a Group's member entries).
                Classification::Shared { reason } => {
                    unlink(&self.client, &record.kind, &record.id, patient_id, reason).await?
                }
                Classification::Own(_) => {
                    erase_resource(&self.client, &record.kind, &record.id, patient_id).await?
                }
            };
            done.push((record, outcome));
        }
        Ok(done)
    }

    /// What is left of the subject: each of `deleted` still readable or
    /// with versions in `_history`, and every resource a per-type
    /// compartment search still finds (own records and shared ones).
    ///
    /// # Errors
    /// As [`what_is_left`] and [`Walk::next_batch`].
    pub async fn left_over(
        &self,
        patient_id: &str,
        deleted: &[(String, String)],
    ) -> Result<Vec<Left>, StoreError> {
        // Each deleted resource read again with its `_history`, a few at a
        // time (read-only), in order.
        let checks: Vec<_> = deleted
            .iter()
            .map(|(kind, id)| what_is_left(&self.client, kind, id))
            .collect();
        let mut left: Vec<Left> = futures_util::stream::iter(checks)
            .buffered(CONCURRENT_CHECKS)
            .try_collect::<Vec<Option<Left>>>()
            .await?
            .into_iter()
            .flatten()
            .collect();
        let mut walk = Walk::by_type(&self.client, patient_id);
        while let Some(batch) = walk.next_batch().await? {
            for record in batch.iter().filter_map(|r| summary(r, patient_id)) {
                if left
                    .iter()
                    .any(|l| l.kind == record.kind && l.id == record.id)
                {
                    continue;
                }
                let reason = match record.class {
                    Classification::Shared { reason } => format!("never deleted: {reason}"),
                    Classification::Own(_) => "still found by a compartment search".into(),
                };
                left.push(Left {
                    kind: record.kind,
                    id: record.id,
                    reason,
                });
            }
        }
        Ok(left)
    }
}

/// The classification of `resource` with its type and id, if it has both.
pub(crate) fn summary(resource: &crate::model::Resource, patient_id: &str) -> Option<Found> {
    Some(Found {
        kind: resource_type(resource)?.to_owned(),
        id: logical_id(resource)?.to_owned(),
        class: classify(resource, patient_id),
        mentions_patient: mentions_patient(resource, patient_id),
    })
}
