//! The Orthanc adapter (REST API of Orthanc 1.10 and later).
//!
//! - **matching**: a study belongs to the subject only when the PatientID
//!   and IssuerOfPatientID Orthanc returns for that study (`GET
//!   /studies/{id}/module-patient`) pass gdpr-core's one rule,
//!   [`PatientId::matches_stored`]: exact and case-sensitive up to LO
//!   padding, issuers compared when either side has one. Orthanc's own
//!   searches are hints only: `/tools/lookup` ignores case, `/tools/find`
//!   ignores unknown keys and expands `*`/`?`. `/tools/lookup` is not used.
//! - **locate**: `POST /tools/find` at Study level for the list of the
//!   value and the value with one leading space (Orthanc keeps leading
//!   padding), each study confirmed; then Series level for modalities.
//! - **erase**: `DELETE /studies/{id}` per study, each right after a last
//!   look at that study (same StudyInstanceUID, and the subject's PatientID
//!   and issuer): a study that no longer matches is refused, never deleted.
//!   Orthanc drops a patient with its last study; patients are never
//!   deleted directly (Orthanc keys them by PatientID alone, so one may
//!   hold another issuer's studies). 404 means already erased, so an
//!   interrupted run can be repeated.
//! - **derived copies**: Orthanc records `AnonymizedFrom` / `ModifiedFrom`
//!   metadata on the studies and patients it derives; see
//!   [`super::orthanc_derived`]. A copy's link is read again right before it
//!   is deleted.
//! - **verify**: the confirmed find returns nothing, and no derived copy
//!   remains.
//!
//! Orthanc's `/changes` log loses a resource's history when it is deleted, so
//! the caller's audit record is the proof of erasure.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use gdpr_core::store::{
    DerivedPolicy, Modality, ProtocolCause, RecordId, StoreError, StudyHandle, StudyUid,
    SystemIdentity,
};
use gdpr_core::subject::{PatientId, strip_lo_padding};
use serde::Deserialize;
use serde_json::json;

use super::dicomfile::parse_da;
use gdpr_connect::{Client, Endpoint, check_status, parse_json};

/// How to reach an Orthanc server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrthancConfig {
    /// The name of the system in audit records.
    pub name: String,
    /// How to reach the REST API (base URL, e.g.
    /// `https://pacs.example.org:8042/`, TLS, retries, credentials).
    pub endpoint: Endpoint,
    /// What [`SubjectStore::erase_record`](gdpr_core::store::SubjectStore::erase_record) does with the derived copies of a study.
    pub derived: DerivedPolicy,
    /// The user-defined metadata (declared in Orthanc's `UserMetadata`)
    /// that marks a patient restricted (Art. 18); `None`: the store cannot
    /// mark restrictions.
    pub restriction_metadata: Option<String>,
}

impl OrthancConfig {
    /// A configuration with default options and no credentials.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self::with_endpoint(name, Endpoint::new(url))
    }

    /// A configuration for `endpoint`, erasing derived copies.
    pub fn with_endpoint(name: impl Into<String>, endpoint: Endpoint) -> Self {
        Self {
            name: name.into(),
            endpoint,
            derived: DerivedPolicy::Erase,
            restriction_metadata: None,
        }
    }
}

/// A store over an Orthanc server.
pub struct OrthancStore {
    pub(crate) http: Arc<Client>,
    pub(crate) identity: SystemIdentity,
    pub(crate) derived: DerivedPolicy,
    pub(crate) restriction_metadata: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FoundStudy {
    #[serde(rename = "ID")]
    id: String,
    parent_patient: String,
    #[serde(default)]
    main_dicom_tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FoundSeries {
    parent_study: String,
    #[serde(default)]
    main_dicom_tags: BTreeMap<String, String>,
}

/// The identity a study carries on the server. It holds a patient value,
/// so it has no `Debug`.
pub(crate) struct StoredOwner {
    patient_id: Option<String>,
    issuer: Option<String>,
}

impl StoredOwner {
    /// gdpr-core's one matching rule, applied to what the server stored.
    pub(crate) fn is(&self, subject: &PatientId) -> bool {
        self.patient_id
            .as_deref()
            .is_some_and(|id| subject.matches_stored(id, self.issuer.as_deref()))
    }
}

/// What the last look before a deletion found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recheck {
    /// The study is the one expected: delete it.
    Confirmed,
    /// The study no longer exists.
    Gone,
    /// The study exists but no longer carries what was found before: leave
    /// it.
    Changed,
}

/// A study of the subject, as Orthanc knows it.
/// How many read-only lookups (owners of candidate studies) run at once.
pub(crate) const CONCURRENT_LOOKS: usize = 8;

pub(crate) struct OrthancStudy {
    pub handle: StudyHandle,
    pub patient: String,
}

pub(crate) fn record_id(operation: &'static str, id: &str) -> Result<RecordId, StoreError> {
    RecordId::new(id).map_err(|_| StoreError::Protocol {
        operation,
        cause: ProtocolCause::InvalidContent,
        detail: "the server returned a malformed resource id".into(),
    })
}

impl OrthancStore {
    /// Connects (lazily: no request is made until the first operation).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] for a bad URL, plain HTTP to a remote
    /// host, or credentials that cannot be loaded.
    pub fn connect(config: &OrthancConfig) -> Result<Self, StoreError> {
        let http = Client::connect(&config.endpoint)?;
        let identity = SystemIdentity::new(&config.name, "orthanc", http.base().as_str());
        Ok(Self {
            http: Arc::new(http),
            identity,
            derived: config.derived,
            restriction_metadata: config.restriction_metadata.clone(),
        })
    }

    /// Stores one DICOM instance (`POST /instances`) and returns Orthanc's
    /// id of its study. For imports, tests and benchmarks.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`](gdpr_core::store::SubjectStore::locate); [`StoreError::Protocol`] when Orthanc
    /// rejects the file.
    pub async fn store_instance(&self, dicom: Vec<u8>) -> Result<RecordId, StoreError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Stored {
            parent_study: String,
        }
        let url = self.http.url(&["instances"]);
        let stored: Stored = self
            .http
            .json("POST /instances", |c| {
                c.post(url.clone())
                    .header("Content-Type", "application/dicom")
                    .body(dicom.clone())
            })
            .await?;
        record_id("POST /instances", &stored.parent_study)
    }

    /// The subject's studies, each confirmed with
    /// [`PatientId::matches_stored`] on the PatientID and IssuerOfPatientID
    /// Orthanc returns for that study. `/tools/find` (which ignores unknown
    /// keys and expands wildcards) only proposes candidates.
    pub(crate) async fn find(&self, subject: &PatientId) -> Result<Vec<OrthancStudy>, StoreError> {
        let hint = hint(subject);
        let candidates = self.tools_find::<FoundStudy>("Study", &hint).await?;
        // Each candidate's owner is read from its own DICOM data; a few at a
        // time, in the order Orthanc listed them.
        let ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
        let looks = ids
            .into_iter()
            .map(|id| async move { self.owner_of(&id).await });
        let owners: Vec<Option<StoredOwner>> = futures_util::stream::iter(looks)
            .buffered(CONCURRENT_LOOKS)
            .try_collect()
            .await?;
        let confirmed: Vec<FoundStudy> = candidates
            .into_iter()
            .zip(owners)
            .filter(|(_, owner)| owner.as_ref().is_some_and(|o| o.is(subject)))
            .map(|(study, _)| study)
            .collect();
        if confirmed.is_empty() {
            return Ok(Vec::new());
        }
        let mut modalities: BTreeMap<String, Vec<Modality>> = BTreeMap::new();
        for s in self.tools_find::<FoundSeries>("Series", &hint).await? {
            if let Some(m) = s
                .main_dicom_tags
                .get("Modality")
                .and_then(|m| m.trim().parse::<Modality>().ok())
            {
                modalities.entry(s.parent_study).or_default().push(m);
            }
        }
        confirmed
            .into_iter()
            .map(|study| {
                let found = modalities.remove(&study.id).unwrap_or_default();
                orthanc_study(study, found)
            })
            .collect()
    }

    /// `POST /tools/find` at `level` for one PatientID value, case-sensitive.
    async fn tools_find<T: serde::de::DeserializeOwned>(
        &self,
        level: &'static str,
        patient_id: &str,
    ) -> Result<Vec<T>, StoreError> {
        let operation = if level == "Series" {
            "POST /tools/find (Series)"
        } else {
            "POST /tools/find (Study)"
        };
        let url = self.http.url(&["tools", "find"]);
        let body = json!({
            "Level": level,
            "Query": { "PatientID": patient_id },
            "Expand": true,
            "CaseSensitive": true,
        });
        self.http
            .json(operation, |c| c.post(url.clone()).json(&body))
            .await
    }

    /// One study as `/tools/find` would expand it; `None` when it is gone.
    async fn study(&self, id: &str) -> Result<Option<FoundStudy>, StoreError> {
        const OP: &str = "GET /studies/{id}";
        let url = self.http.url(&["studies", id]);
        let (status, body) = self.http.call(OP, |c| c.get(url.clone())).await?;
        match check_status(OP, status) {
            Ok(()) => Ok(Some(parse_json(OP, &body)?)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The Orthanc id of a study's patient; `None` when the study is gone.
    pub(crate) async fn parent_patient(&self, study: &str) -> Result<Option<String>, StoreError> {
        Ok(self.study(study).await?.map(|s| s.parent_patient))
    }

    /// The Orthanc ids of a patient's studies (none when it is gone).
    pub(crate) async fn studies_of_patient(
        &self,
        patient: &str,
    ) -> Result<Vec<String>, StoreError> {
        super::orthanc_derived::studies_of(&self.http, patient).await
    }

    /// The PatientID and IssuerOfPatientID stored in one study, as Orthanc
    /// reads them from the study's DICOM data (`GET
    /// /studies/{id}/module-patient`); `None` when the study is gone.
    pub(crate) async fn owner_of(&self, study: &str) -> Result<Option<StoredOwner>, StoreError> {
        const OP: &str = "GET /studies/{id}/module-patient";
        let url = self.http.url(&["studies", study, "module-patient"]);
        let (status, body) = self
            .http
            .call(OP, |c| c.get(url.clone()).query(&[("simplify", "")]))
            .await?;
        match check_status(OP, status) {
            Ok(()) => {}
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        let tags: BTreeMap<String, serde_json::Value> = parse_json(OP, &body)?;
        let text = |tag: &str| tags.get(tag).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(Some(StoredOwner {
            // A study without PatientID matches no request.
            patient_id: text("PatientID"),
            issuer: text("IssuerOfPatientID"),
        }))
    }

    /// The last look before `DELETE /studies/{id}`: whether the study is
    /// still the one `handle` names (same StudyInstanceUID) and, when a
    /// subject is given, still carries the subject's PatientID and issuer
    /// under [`PatientId::matches_stored`].
    pub(crate) async fn recheck(
        &self,
        handle: &StudyHandle,
        subject: Option<&PatientId>,
    ) -> Result<Recheck, StoreError> {
        Ok(self.recheck_in_patient(handle, subject).await?.0)
    }

    /// [`OrthancStore::recheck`], with the Orthanc id of the study's
    /// patient as this last look read it (`None` when the study is gone).
    pub(crate) async fn recheck_in_patient(
        &self,
        handle: &StudyHandle,
        subject: Option<&PatientId>,
    ) -> Result<(Recheck, Option<String>), StoreError> {
        let id = handle.id().as_str();
        // The study's UID and its owner, read side by side.
        let owner = async {
            match subject {
                Some(_) => self.owner_of(id).await.map(Some),
                None => Ok(None),
            }
        };
        let (study, owner) = tokio::join!(self.study(id), owner);
        let Some(study) = study? else {
            return Ok((Recheck::Gone, None));
        };
        let same_uid = study
            .main_dicom_tags
            .get("StudyInstanceUID")
            .is_some_and(|u| u.trim() == handle.study_uid().expose());
        let patient = Some(study.parent_patient);
        if !same_uid {
            return Ok((Recheck::Changed, patient));
        }
        let Some(subject) = subject else {
            return Ok((Recheck::Confirmed, patient));
        };
        Ok(match owner? {
            None => (Recheck::Gone, None),
            Some(Some(owner)) if owner.is(subject) => (Recheck::Confirmed, patient),
            Some(_) => (Recheck::Changed, patient),
        })
    }

    /// Deletes one resource; `Ok(true)` if it existed, `Ok(false)` if it was
    /// already gone.
    pub(crate) async fn delete(&self, level: &'static str, id: &str) -> Result<bool, StoreError> {
        let operation = match level {
            "patients" => "DELETE /patients/{id}",
            _ => "DELETE /studies/{id}",
        };
        let url = self.http.url(&[level, id]);
        let (status, _) = self.http.call(operation, |c| c.delete(url.clone())).await?;
        match check_status(operation, status) {
            Ok(()) => Ok(true),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether a resource still exists.
    pub(crate) async fn exists(&self, level: &'static str, id: &str) -> Result<bool, StoreError> {
        let operation = match level {
            "patients" => "GET /patients/{id}",
            _ => "GET /studies/{id}",
        };
        let url = self.http.url(&[level, id]);
        let (status, _) = self.http.call(operation, |c| c.get(url.clone())).await?;
        match check_status(operation, status) {
            Ok(()) => Ok(true),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The PatientID query `/tools/find` is asked: a DICOM list (values
/// separated by a backslash, which a [`PatientId`] never contains) of the
/// subject's value without padding and with one leading space (Orthanc
/// strips trailing padding when it indexes a value, but keeps leading
/// spaces).
fn hint(subject: &PatientId) -> String {
    let core = strip_lo_padding(subject.expose());
    format!("{core}\\ {core}")
}

fn orthanc_study(study: FoundStudy, modalities: Vec<Modality>) -> Result<OrthancStudy, StoreError> {
    const OP: &str = "POST /tools/find (Study)";
    let uid = study
        .main_dicom_tags
        .get("StudyInstanceUID")
        .and_then(|u| StudyUid::new(u.trim()).ok())
        .ok_or(StoreError::Protocol {
            operation: OP,
            cause: ProtocolCause::InvalidContent,
            detail: "a study without a valid StudyInstanceUID".into(),
        })?;
    let date = study
        .main_dicom_tags
        .get("StudyDate")
        .and_then(|d| parse_da(d));
    Ok(OrthancStudy {
        handle: StudyHandle::new(record_id(OP, &study.id)?, uid, date, modalities),
        patient: study.parent_patient,
    })
}

/// Orthanc's identifier of the patient with this PatientID: the SHA-1 of the
/// value, as five dash-separated groups of eight hex digits.
pub fn orthanc_patient_id(subject: &PatientId) -> String {
    use sha1::Digest;
    let hex = super::export::hex(&sha1::Sha1::digest(subject.expose().as_bytes()));
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}
