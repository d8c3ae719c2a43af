//! The Orthanc adapter (REST API of Orthanc 1.10 and later).
//!
//! - **locate**: `POST /tools/find` at Study level with `Expand`, then the
//!   same at Series level for modalities. Orthanc silently ignores unknown
//!   query keys and treats `*`/`?` as wildcards, so every returned study's
//!   PatientID is compared exactly (and its IssuerOfPatientID, read from
//!   `/studies/{id}/module-patient`, when an issuer is given) before
//!   anything acts on it.
//! - **erase**: `DELETE /studies/{id}` per study (Orthanc drops a patient
//!   with its last study), then `DELETE /patients/{id}` for any patient the
//!   verification lookup still finds, when no issuer narrows the subject.
//!   404 means already erased, so an interrupted run can be repeated.
//! - **derived copies**: Orthanc records `AnonymizedFrom` / `ModifiedFrom`
//!   metadata on the studies and patients it derives; see
//!   [`super::orthanc_derived`].
//! - **verify**: `/tools/lookup` (or the confirmed find, with an issuer)
//!   returns nothing, and no derived copy remains.
//!
//! Orthanc's `/changes` log loses a resource's history when it is deleted, so
//! the caller's audit record is the proof of erasure.

use std::collections::BTreeMap;
use std::sync::Arc;

use gdpr_core::store::{
    DerivedPolicy, Modality, RecordId, StoreError, StudyHandle, StudyUid, SystemIdentity,
};
use gdpr_core::subject::PatientId;
use serde::Deserialize;
use serde_json::json;

use super::dicomfile::parse_da;
use super::http::{Auth, Http, HttpOptions, check_status, parse_json};
use super::secret::PasswordSource;

/// How to reach an Orthanc server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrthancConfig {
    /// The name of the system in audit records.
    pub name: String,
    /// Base URL of the REST API, e.g. `https://pacs.example.org:8042/`.
    pub url: String,
    /// User for HTTP Basic authentication, if the server requires it.
    pub username: Option<String>,
    /// Where the password comes from.
    pub password: Option<PasswordSource>,
    /// Timeouts, retries, transport policy.
    pub http: HttpOptions,
    /// What [`SubjectStore::erase_study`](gdpr_core::store::SubjectStore::erase_study) does with derived copies.
    pub derived: DerivedPolicy,
}

impl OrthancConfig {
    /// A configuration with default options and no credentials.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            username: None,
            password: None,
            http: HttpOptions::default(),
            derived: DerivedPolicy::Erase,
        }
    }
}

/// A store over an Orthanc server.
pub struct OrthancStore {
    pub(crate) http: Arc<Http>,
    pub(crate) identity: SystemIdentity,
    pub(crate) derived: DerivedPolicy,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FoundStudy {
    #[serde(rename = "ID")]
    id: String,
    parent_patient: String,
    #[serde(default)]
    main_dicom_tags: BTreeMap<String, String>,
    #[serde(default)]
    patient_main_dicom_tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FoundSeries {
    parent_study: String,
    #[serde(default)]
    main_dicom_tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupHit {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Type")]
    kind: String,
}

/// A study of the subject, as Orthanc knows it.
pub(crate) struct OrthancStudy {
    pub handle: StudyHandle,
    pub patient: String,
}

pub(crate) fn record_id(operation: &'static str, id: &str) -> Result<RecordId, StoreError> {
    RecordId::new(id).map_err(|_| StoreError::Protocol {
        operation,
        detail: "the server returned a malformed resource id".into(),
    })
}

impl OrthancStore {
    /// Connects (lazily: no request is made until the first operation).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] for a bad URL, plain HTTP to a remote
    /// host, a user without password source, or an unreadable password.
    pub fn connect(config: &OrthancConfig) -> Result<Self, StoreError> {
        let auth = match (&config.username, &config.password) {
            (Some(user), Some(source)) => Auth::Basic {
                user: user.clone(),
                password: source.load()?,
            },
            (None, None) => Auth::None,
            _ => {
                return Err(StoreError::Configuration {
                    detail: format!(
                        "system `{}`: give both `username` and `password_file` (or \
                         `password_env`), or neither",
                        config.name
                    ),
                });
            }
        };
        let http = Http::new(&config.url, auth, config.http.clone())?;
        let identity = SystemIdentity::new(&config.name, "orthanc", http.base().as_str());
        Ok(Self {
            http: Arc::new(http),
            identity,
            derived: config.derived,
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

    /// The subject's studies, confirmed field by field.
    pub(crate) async fn find(&self, subject: &PatientId) -> Result<Vec<OrthancStudy>, StoreError> {
        const OP: &str = "POST /tools/find (Study)";
        let url = self.http.url(&["tools", "find"]);
        let query = |level: &str| {
            json!({
                "Level": level,
                "Query": { "PatientID": subject.expose() },
                "Expand": true,
                "CaseSensitive": true,
            })
        };
        let body = query("Study");
        let studies: Vec<FoundStudy> = self
            .http
            .json(OP, |c| c.post(url.clone()).json(&body))
            .await?;
        // Never trust the filter: keep only exact PatientID matches.
        let mut confirmed = Vec::new();
        for study in studies {
            if study
                .patient_main_dicom_tags
                .get("PatientID")
                .map(String::as_str)
                != Some(subject.expose())
            {
                continue;
            }
            if let Some(issuer) = subject.issuer()
                && self.issuer_of(&study.id).await?.as_deref() != Some(issuer)
            {
                continue;
            }
            confirmed.push(study);
        }
        if confirmed.is_empty() {
            return Ok(Vec::new());
        }
        let body = query("Series");
        let series: Vec<FoundSeries> = self
            .http
            .json("POST /tools/find (Series)", |c| {
                c.post(url.clone()).json(&body)
            })
            .await?;
        let mut modalities: BTreeMap<&str, Vec<Modality>> = BTreeMap::new();
        for s in &series {
            if let Some(m) = s
                .main_dicom_tags
                .get("Modality")
                .and_then(|m| m.trim().parse::<Modality>().ok())
            {
                modalities
                    .entry(s.parent_study.as_str())
                    .or_default()
                    .push(m);
            }
        }
        confirmed
            .iter()
            .map(|study| {
                let uid = study
                    .main_dicom_tags
                    .get("StudyInstanceUID")
                    .and_then(|u| StudyUid::new(u.trim()).ok())
                    .ok_or(StoreError::Protocol {
                        operation: OP,
                        detail: "a study without a valid StudyInstanceUID".into(),
                    })?;
                let date = study
                    .main_dicom_tags
                    .get("StudyDate")
                    .and_then(|d| parse_da(d));
                Ok(OrthancStudy {
                    handle: StudyHandle::new(
                        record_id(OP, &study.id)?,
                        uid,
                        date,
                        modalities
                            .get(study.id.as_str())
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    patient: study.parent_patient.clone(),
                })
            })
            .collect()
    }

    async fn issuer_of(&self, study: &str) -> Result<Option<String>, StoreError> {
        const OP: &str = "GET /studies/{id}/module-patient";
        let url = self.http.url(&["studies", study, "module-patient"]);
        let tags: BTreeMap<String, serde_json::Value> = self
            .http
            .json(OP, |c| c.get(url.clone()).query(&[("simplify", "")]))
            .await?;
        Ok(tags
            .get("IssuerOfPatientID")
            .and_then(|v| v.as_str())
            .map(|s| s.trim().to_owned()))
    }

    /// Orthanc ids of patients whose PatientID is exactly the subject's:
    /// `/tools/lookup` (exact by design), or, for an identifier containing
    /// `*` or `?` (which lookup refuses as wildcards), the patient Orthanc
    /// would have named after it, with its PatientID confirmed.
    pub(crate) async fn lookup_patients(
        &self,
        subject: &PatientId,
    ) -> Result<Vec<String>, StoreError> {
        if subject.expose().contains(['*', '?']) {
            #[derive(Deserialize)]
            #[serde(rename_all = "PascalCase")]
            struct Patient {
                #[serde(default)]
                main_dicom_tags: BTreeMap<String, String>,
            }
            const OP: &str = "GET /patients/{id}";
            let id = orthanc_patient_id(subject);
            let url = self.http.url(&["patients", &id]);
            let (status, body) = self.http.call(OP, |c| c.get(url.clone())).await?;
            return match check_status(OP, status) {
                Ok(()) => {
                    let patient: Patient = parse_json(OP, &body)?;
                    let same = patient.main_dicom_tags.get("PatientID").map(String::as_str)
                        == Some(subject.expose());
                    Ok(if same { vec![id] } else { Vec::new() })
                }
                Err(StoreError::NotFound { .. }) => Ok(Vec::new()),
                Err(e) => Err(e),
            };
        }
        let url = self.http.url(&["tools", "lookup"]);
        let value = subject.expose().to_owned();
        let hits: Vec<LookupHit> = self
            .http
            .json("POST /tools/lookup", |c| {
                c.post(url.clone()).body(value.clone())
            })
            .await?;
        Ok(hits
            .into_iter()
            .filter(|h| h.kind == "Patient")
            .map(|h| h.id)
            .collect())
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
