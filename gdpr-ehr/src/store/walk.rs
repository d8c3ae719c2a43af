//! Walking a patient's compartment page by page: `Patient/{id}/$everything`
//! when the server offers it, else the Patient and one search per own
//! resource type of [`crate::compartment`] (`subject=Patient/{id}`, …) and
//! per shared type (`Appointment?actor=…`, `Group?member=…`, …). A
//! search is a hint: only what names the patient is kept.
//! Each resource is given once (`Type/id`), whatever the server repeats.

use std::collections::HashSet;

use gdpr_core::store::{ProtocolCause, StoreError};

use crate::client::{FhirClient, Pages, matches};
use crate::compartment::table::OWN;
use crate::compartment::{SHARED_SEARCHES, mentions_patient};
use crate::model::{Resource, logical_id, resource_type};

/// The pages of one patient's compartment.
pub struct Walk<'a> {
    client: &'a FhirClient,
    patient_id: String,
    current: Option<Pages<'a>>,
    next_type: usize,
    per_type: bool,
    seen: HashSet<String>,
}

impl<'a> Walk<'a> {
    /// A walk through the compartment of the Patient `patient_id`.
    ///
    /// # Errors
    /// As [`FhirClient::supports_everything`].
    pub async fn start(client: &'a FhirClient, patient_id: &str) -> Result<Self, StoreError> {
        let per_type = !client.supports_everything().await?;
        Ok(Self::new(client, patient_id, per_type))
    }

    /// A walk by per-type searches only (also when the Patient is gone:
    /// the verification after an erasure).
    pub fn by_type(client: &'a FhirClient, patient_id: &str) -> Self {
        Self::new(client, patient_id, true)
    }

    fn new(client: &'a FhirClient, patient_id: &str, per_type: bool) -> Self {
        Self {
            client,
            patient_id: patient_id.to_owned(),
            current: (!per_type).then(|| client.everything(patient_id)),
            next_type: 0,
            per_type,
            seen: HashSet::new(),
        }
    }

    /// The next batch of resources not given before; `None` at the end.
    ///
    /// # Errors
    /// As [`Pages::next_page`] (a listing that loops, leaves the base URL or
    /// exceeds the page bound fails the walk).
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Resource>>, StoreError> {
        loop {
            if let Some(pages) = &mut self.current {
                match pages.next_page().await {
                    Ok(Some(page)) => {
                        // A search is a hint (a server may ignore a
                        // parameter): keep what names the patient.
                        let id = &self.patient_id;
                        let per_type = self.per_type;
                        let named = matches(page).filter(|r| !per_type || mentions_patient(r, id));
                        let named: Vec<Resource> = named.collect();
                        return Ok(Some(self.fresh(named.into_iter())));
                    }
                    Ok(None) => self.current = None,
                    // `$everything` of a deleted Patient: its records may
                    // still point at it, so search them type by type.
                    Err(e) if is_gone(&e) => {
                        self.current = None;
                        self.per_type = true;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !self.per_type {
                return Ok(None);
            }
            if self.next_type == 0 {
                self.next_type = 1;
                if let Some(patient) = self.client.read("Patient", &self.patient_id).await? {
                    return Ok(Some(self.fresh(std::iter::once(patient))));
                }
            }
            let Some((kind, parameter)) = searches().nth(self.next_type - 1) else {
                return Ok(None);
            };
            self.next_type += 1;
            let reference = format!("Patient/{}", self.patient_id);
            self.current = Some(self.client.search(kind, &[(parameter, &reference)]));
        }
    }

    /// Where the walk stands: whether it searches type by type, the next
    /// search's index, the next page's URL (`null` between searches).
    pub fn cursor(&self) -> serde_json::Value {
        serde_json::json!({
            "per_type": self.per_type,
            "next_type": self.next_type,
            "next": self.current.as_ref().and_then(Pages::next_url).map(url::Url::as_str),
        })
    }

    /// Continues from `cursor` ([`Walk::cursor`]); `false` (nothing
    /// changed) when it is not a cursor of a walk.
    ///
    /// # Errors
    /// As [`FhirClient::pages_from`] (a next URL off the base).
    pub fn resume(&mut self, cursor: &serde_json::Value) -> Result<bool, StoreError> {
        let (Some(per_type), Some(next_type)) = (
            cursor["per_type"].as_bool(),
            cursor["next_type"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok()),
        ) else {
            return Ok(false);
        };
        let current = match &cursor["next"] {
            serde_json::Value::Null => None,
            serde_json::Value::String(url) => Some(self.client.pages_from(!per_type, url)?),
            _ => return Ok(false),
        };
        self.per_type = per_type;
        self.next_type = next_type;
        self.current = current;
        Ok(true)
    }

    /// Counts `Type/id` as given already (a resumed export's records).
    pub fn mark_seen(&mut self, key: String) {
        self.seen.insert(key);
    }

    fn fresh(&mut self, resources: impl Iterator<Item = Resource>) -> Vec<Resource> {
        resources
            .filter(|r| {
                let key = format!(
                    "{}/{}",
                    resource_type(r).unwrap_or_default(),
                    logical_id(r).unwrap_or_default()
                );
                self.seen.insert(key)
            })
            .collect()
    }
}

/// A source of one patient's resources, batch by batch: the compartment
/// walk, or the files of an OpenEMR bulk export.
#[async_trait::async_trait]
pub trait Batches: Send {
    /// The next batch; `None` at the end.
    ///
    /// # Errors
    /// As the source's requests.
    async fn next_batch(&mut self) -> Result<Option<Vec<Resource>>, StoreError>;

    /// Where the source stands, for a checkpoint; `None` when it cannot
    /// be resumed (an export from it runs from the start again).
    fn cursor(&self) -> Option<serde_json::Value> {
        None
    }

    /// Continues from `cursor`, given `seen` (the `Type/id` of what was
    /// written before); `false` when it cannot.
    ///
    /// # Errors
    /// As the source's checks of the cursor.
    fn resume(
        &mut self,
        cursor: &serde_json::Value,
        seen: Vec<String>,
    ) -> Result<bool, StoreError> {
        let _ = (cursor, seen);
        Ok(false)
    }
}

#[async_trait::async_trait]
impl Batches for Walk<'_> {
    async fn next_batch(&mut self) -> Result<Option<Vec<Resource>>, StoreError> {
        Walk::next_batch(self).await
    }

    fn cursor(&self) -> Option<serde_json::Value> {
        Some(Walk::cursor(self))
    }

    fn resume(
        &mut self,
        cursor: &serde_json::Value,
        seen: Vec<String>,
    ) -> Result<bool, StoreError> {
        if !Walk::resume(self, cursor)? {
            return Ok(false);
        }
        seen.into_iter().for_each(|key| self.mark_seen(key));
        Ok(true)
    }
}

/// The per-type searches of a compartment: each own type by the element
/// naming the patient, then the shared types by theirs.
fn searches() -> impl Iterator<Item = (&'static str, &'static str)> {
    OWN.iter()
        .filter(|t| t.name != "Patient")
        .map(|t| (t.name, t.patient_paths[0]))
        .chain(SHARED_SEARCHES.iter().copied())
}

/// Whether a listing failed because its target does not exist (404, 410).
fn is_gone(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::NotFound { .. }
            | StoreError::Protocol {
                cause: ProtocolCause::UnexpectedStatus(410),
                ..
            }
    )
}
