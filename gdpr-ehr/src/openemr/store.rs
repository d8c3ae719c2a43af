//! [`OpenEmrStore`]: one OpenEMR site. Records are found and exported
//! through its FHIR API (the generic [`FhirStore`]); the records its
//! standard API can delete ([`Route`]) are deleted there, each re-read
//! through FHIR right before and checked to belong to exactly the subject;
//! everything else is reported as residue with its OpenEMR area and the
//! administrator task ([`residue_reason`]).

use gdpr_connect::reqwest::{Method, StatusCode};
use gdpr_connect::{Client, Outcome, outcome_of};
use std::collections::HashMap;
use std::sync::Mutex;

use gdpr_core::store::{RecordHandle, RecordId, Remnant, StoreError, SystemIdentity};

use super::areas::{LOG_REASON, Route, may_have_route, residue_reason, route_of};
use super::config::OpenEmrConfig;
use crate::compartment::{Classification, belongs_to};
use crate::store::{FhirConfig, FhirStore, Found, Walk, kind_of, record_id};

/// An OpenEMR site as a store of subjects' records.
pub struct OpenEmrStore {
    fhir: FhirStore,
    api: Client,
    /// The Patient each record was located under (`Type:id` → logical id):
    /// `erase_record` deletes a record only while it still names that
    /// patient, so a record moved to another patient after `locate` stays.
    located: Mutex<HashMap<RecordId, String>>,
}

impl std::fmt::Debug for OpenEmrStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenEmrStore")
            .field("fhir", &self.fhir)
            .finish_non_exhaustive()
    }
}

/// What the attempt on one record did.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// A DELETE route covers it: what it did (or why it was refused).
    Deleted(Outcome),
    /// No route covers it: residue.
    NoRoute,
}

impl OpenEmrStore {
    /// Connects (no request yet): URLs checked, secrets loaded. The FHIR and
    /// the standard API share one HTTP client and its token cache.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] as gdpr-connect's `Client::connect`.
    pub fn connect(config: &OpenEmrConfig) -> Result<Self, StoreError> {
        let mut fhir_config = FhirConfig::new(&config.name, config.fhir_url());
        fhir_config.endpoint = config.endpoint.clone();
        fhir_config.endpoint.url = config.fhir_url();
        fhir_config.page_size = config.page_size;
        fhir_config.max_pages = config.max_pages;
        fhir_config.checkpoint_pages = config.checkpoint_pages;
        fhir_config.checkpoint_interval = config.checkpoint_interval;
        let fhir = FhirStore::connect(&fhir_config)?;
        let identity = SystemIdentity::new(&config.name, "openemr", config.fhir_url());
        let api = fhir.client().http().at(&config.api_url())?;
        Ok(Self {
            fhir: fhir.named(identity),
            api,
            located: Mutex::default(),
        })
    }

    /// The site's FHIR API as a generic FHIR store (read only: OpenEMR
    /// deletes nothing through FHIR).
    pub fn fhir(&self) -> &FhirStore {
        &self.fhir
    }

    /// Remembers that `records` were located under the Patient `patient_id`.
    pub(crate) fn remember(&self, records: &[RecordHandle], patient_id: &str) {
        // A poisoned lock only means another call panicked mid-insert; the
        // map is still a map.
        let mut located = self.located.lock().unwrap_or_else(|e| e.into_inner());
        for record in records {
            located.insert(record.id().clone(), patient_id.to_owned());
        }
    }

    /// The Patient `record` was located under by this store, if any.
    pub(crate) fn located_under(&self, record: &RecordId) -> Option<String> {
        let located = self.located.lock().unwrap_or_else(|e| e.into_inner());
        located.get(record).cloned()
    }

    /// Re-reads `kind/id` through FHIR and, when a DELETE route covers it
    /// and it still names exactly `patient_id` as its patient, deletes it
    /// through the standard API.
    ///
    /// # Errors
    /// As [`crate::client::FhirClient::read`] and gdpr-connect's
    /// `Client::call`; statuses other than 200, 400 and 404 as
    /// [`outcome_of`].
    pub(crate) async fn attempt(
        &self,
        kind: &str,
        id: &str,
        patient_id: &str,
    ) -> Result<Attempt, StoreError> {
        if !may_have_route(kind) {
            return Ok(Attempt::NoRoute);
        }
        let client = self.fhir.client();
        let Some(current) = client.read(kind, id).await? else {
            return Ok(Attempt::Deleted(Outcome::Done { existed: false }));
        };
        let Some(route) = route_of(&current) else {
            return Ok(Attempt::NoRoute);
        };
        if !belongs_to(&current, patient_id, client.base().as_str()) {
            return Ok(Attempt::Deleted(Outcome::Refused(
                "its patient reference is no longer exactly the subject's (checked right \
                 before the deletion); left in place"
                    .into(),
            )));
        }
        if route != Route::Medication {
            return self
                .delete(route, patient_id, id)
                .await
                .map(Attempt::Deleted);
        }
        match super::medication::row_of(&self.api, patient_id, id).await? {
            Some((pid, mid)) => super::medication::delete(&self.api, &pid, &mid)
                .await
                .map(Attempt::Deleted),
            None => Ok(Attempt::NoRoute),
        }
    }

    /// `DELETE /api/patient/{puuid}/{route}/{uuid}`: 200 done; 400 (OpenEMR's
    /// validation error: no such record of this patient) refused; 404 gone.
    async fn delete(
        &self,
        route: Route,
        patient_id: &str,
        id: &str,
    ) -> Result<Outcome, StoreError> {
        const OP: &str = "DELETE /api/patient/{puuid}/{route}/{uuid}";
        let url = self.api.url(&["patient", patient_id, route.segment(), id]);
        let (status, _) = self
            .api
            .call(OP, |c| c.request(Method::DELETE, url.clone()))
            .await?;
        outcome_of(OP, status, |s| {
            (s == StatusCode::BAD_REQUEST).then(|| {
                "OpenEMR refused the deletion (HTTP 400, a validation error: the record is not \
                 this patient's, or no longer exists as such); left in place"
                    .into()
            })
        })
    }

    /// What is left of the subject, re-read through FHIR: every record the
    /// compartment still holds (own records with their OpenEMR area and
    /// task, or, among `deleted`, as still readable; shared ones that name
    /// the patient, never deleted), and, when anything was deleted, the
    /// `log` table's copies of the deleted rows.
    ///
    /// # Errors
    /// As [`Walk::next_batch`]; malformed ids as protocol errors.
    pub(crate) async fn residue(
        &self,
        patient_id: &str,
        deleted: &[RecordId],
    ) -> Result<Vec<Remnant>, StoreError> {
        let mut left = Vec::new();
        let mut walk = Walk::by_type(self.fhir.client(), patient_id);
        while let Some(batch) = walk.next_batch().await? {
            for resource in &batch {
                let Some(found) = crate::store::summarize(resource, patient_id) else {
                    continue;
                };
                let id = record_id(&found.kind, &found.id)?;
                let routed = deleted.contains(&id) && route_of(resource).is_some();
                if let Some(remnant) = remnant_of(&found, id, routed) {
                    left.push(remnant);
                }
            }
        }
        if !deleted.is_empty() {
            let id = record_id("log", "deleted-rows")?;
            left.push(
                Remnant::new(id, gdpr_core::store::ResourceKind::Record).with_reason(LOG_REASON),
            );
        }
        Ok(left)
    }
}

/// The remnant a record still found after an erasure is, with its reason.
fn remnant_of(found: &Found, id: RecordId, routed: bool) -> Option<Remnant> {
    let reason = match &found.class {
        Classification::Shared { .. } if !found.mentions_patient => return None,
        Classification::Shared { reason } => format!("never deleted: {reason}"),
        Classification::Own(_) if routed => {
            "still readable after the deletion through OpenEMR's standard API".into()
        }
        Classification::Own(_) => residue_reason(&found.kind),
    };
    Some(Remnant::new(id, kind_of(&found.kind)).with_reason(reason))
}
