//! A generic DICOMweb adapter: QIDO-RS to search, WADO-RS to retrieve,
//! STOW-RS to store (DICOM PS3.18).
//!
//! DICOMweb defines no deletion. Erasure sends `DELETE {base}/studies/{uid}`,
//! which many archives accept (dcm4chee-arc, Google Cloud Healthcare); a
//! server that answers 405 or 501 (Orthanc's DICOMweb plugin) produces a
//! refusal in the report, never a claimed erasure. A QIDO answer is only a
//! hint (servers ignore case or unknown keys, expand wildcards): every study
//! is confirmed with gdpr-core's [`PatientId::matches_stored`] on the
//! PatientID and Issuer of Patient ID it carries, at search time and again
//! (by a search for its UID) right before its `DELETE`. DICOMweb carries no
//! provenance, so derived copies cannot be found through it: verification
//! checks the subject's PatientID and every erased Study UID, and every
//! erasure report says "derived copies not checked"
//! ([`NotChecked::DerivedCopies`]), so it is never verified whatever the
//! [`DerivedPolicy`] asked.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;

use super::studies::{StillThere, StudyStore, subject_store};
use gdpr_connect::{
    Client, Endpoint, Erasure, Outcome, blocking, check_status, outcome_of, parse_json,
};
use gdpr_core::store::{
    DerivedPolicy, ErasureReport, ExportReport, Modality, ProtocolCause, ResourceKind, StoreError,
    StudyHandle, StudyUid, SystemIdentity, Verification,
};
use gdpr_core::subject::PatientId;
use reqwest::StatusCode;
use serde::Deserialize;

use super::dicomfile::{parse_da, read_header};
use super::export::{ExportWriter, hashed_id, local};
use super::multipart::{self, Parts, PartsError};
use super::orthanc::Recheck;

/// How to reach a DICOMweb server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DicomWebConfig {
    /// The name of the system in audit records.
    pub name: String,
    /// How to reach the DICOMweb root (e.g.
    /// `https://pacs.example.org/dicom-web/`, TLS, retries, credentials).
    pub endpoint: Endpoint,
}

impl DicomWebConfig {
    /// A configuration with default options and no credentials.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self::with_endpoint(name, Endpoint::new(url))
    }

    /// A configuration for `endpoint`.
    pub fn with_endpoint(name: impl Into<String>, endpoint: Endpoint) -> Self {
        Self {
            name: name.into(),
            endpoint,
        }
    }
}

/// A store over a DICOMweb server.
pub struct DicomWebStore {
    pub(crate) http: Client,
    identity: SystemIdentity,
}

#[derive(Deserialize)]
pub(crate) struct Attribute {
    #[serde(rename = "Value", default)]
    value: Vec<serde_json::Value>,
}

pub(crate) type Dataset = BTreeMap<String, Attribute>;

fn first(dataset: &Dataset, tag: &str) -> Option<String> {
    dataset
        .get(tag)?
        .value
        .first()?
        .as_str()
        .map(|s| s.trim().to_owned())
}

/// A string value as the server sent it (padding kept, for the matching
/// rule to judge).
fn raw_first<'a>(dataset: &'a Dataset, tag: &str) -> Option<&'a str> {
    dataset.get(tag)?.value.first()?.as_str()
}

/// gdpr-core's one matching rule on a QIDO answer: PatientID (0010,0020)
/// and Issuer of Patient ID (0010,0021, requested with `includefield`; a
/// server that leaves it out reports no issuer).
pub(crate) fn is_subjects(dataset: &Dataset, subject: &PatientId) -> bool {
    raw_first(dataset, "00100020")
        .is_some_and(|id| subject.matches_stored(id, raw_first(dataset, "00100021")))
}

/// Why a study found for the subject was left alone.
pub(crate) const CHANGED: &str = "the study no longer carries the PatientID or issuer it was \
                                  found with, so it was left untouched; check it and run the \
                                  erasure again";

const QIDO: &str = "GET /studies (QIDO-RS)";

impl DicomWebStore {
    /// Connects (lazily).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] for a bad URL, plain HTTP to a remote
    /// host, or credentials that cannot be loaded.
    pub fn connect(config: &DicomWebConfig) -> Result<Self, StoreError> {
        let http = Client::connect(&config.endpoint)?;
        let identity = SystemIdentity::new(&config.name, "dicomweb", http.base().as_str());
        Ok(Self { http, identity })
    }

    /// A store over an already configured client (dcm4chee builds on it).
    pub(crate) fn with_http(http: Client, identity: SystemIdentity) -> Self {
        Self { http, identity }
    }

    /// The studies with the UID of `handle` (empty when it is gone).
    pub(crate) async fn locate_uid(
        &self,
        handle: &StudyHandle,
    ) -> Result<Vec<StudyHandle>, StoreError> {
        self.search(&[("StudyInstanceUID", handle.study_uid().expose())])
            .await?
            .iter()
            .map(Self::handle)
            .collect()
    }

    /// The last look before a deletion: what a QIDO-RS search for the
    /// study's UID returns now. With a subject, every answer must pass the
    /// matching rule.
    pub(crate) async fn recheck(
        &self,
        handle: &StudyHandle,
        subject: Option<&PatientId>,
    ) -> Result<Recheck, StoreError> {
        let uid = handle.study_uid().expose();
        let found = self.search(&[("StudyInstanceUID", uid)]).await?;
        Ok(judge(&found, uid, subject))
    }

    /// Stores DICOM instances with one STOW-RS request.
    ///
    /// # Errors
    /// As [`StudyStore::find_studies`]; [`StoreError::Refused`] or
    /// [`StoreError::Protocol`] when the server rejects them.
    pub async fn store_instances(&self, instances: Vec<Vec<u8>>) -> Result<(), StoreError> {
        const OP: &str = "POST /studies (STOW-RS)";
        let (content_type, body) = multipart::encode(&instances);
        let url = self.http.url(&["studies"]);
        let (status, _) = self
            .http
            .call(OP, |c| {
                c.post(url.clone())
                    .header("Content-Type", content_type.clone())
                    .header("Accept", "application/dicom+json")
                    .body(body.clone())
            })
            .await?;
        check_status(OP, status)
    }

    pub(crate) async fn search(&self, query: &[(&str, &str)]) -> Result<Vec<Dataset>, StoreError> {
        search(&self.http, &["studies"], query).await
    }

    pub(crate) fn handle(dataset: &Dataset) -> Result<StudyHandle, StoreError> {
        let uid = first(dataset, "0020000D")
            .and_then(|u| StudyUid::new(u).ok())
            .ok_or(StoreError::Protocol {
                operation: QIDO,
                cause: ProtocolCause::InvalidContent,
                detail: "a study without a valid Study Instance UID".into(),
            })?;
        let modalities = dataset
            .get("00080061")
            .map(|a| {
                a.value
                    .iter()
                    .filter_map(|v| v.as_str().and_then(|m| m.trim().parse::<Modality>().ok()))
                    .collect()
            })
            .unwrap_or_default();
        let date = first(dataset, "00080020").and_then(|d| parse_da(&d));
        Ok(StudyHandle::new(
            hashed_id("dw", uid.expose()),
            uid,
            date,
            modalities,
        ))
    }

    /// Sends `DELETE /studies/{uid}`; a server that does not offer
    /// deletion (405, 501) refuses.
    pub(crate) async fn delete_study(&self, uid: &StudyUid) -> Result<Outcome, StoreError> {
        const OP: &str = "DELETE /studies/{uid}";
        let url = self.http.url(&["studies", uid.expose()]);
        let (status, _) = self.http.call(OP, |c| c.delete(url.clone())).await?;
        outcome_of(OP, status, |s| {
            matches!(
                s,
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
            )
            .then(|| NO_DELETION.to_owned())
        })
    }

    pub(crate) async fn erase_handles(
        &self,
        subject: Option<&PatientId>,
        handles: &[StudyHandle],
    ) -> Result<ErasureReport, StoreError> {
        let mut erasure = Erasure::new();
        for handle in handles {
            let outcome = match self.recheck(handle, subject).await? {
                Recheck::Gone => Outcome::Done { existed: false },
                Recheck::Changed => Outcome::Refused(CHANGED.into()),
                Recheck::Confirmed => self.delete_study(handle.study_uid()).await?,
            };
            erasure.record(handle.id().clone(), ResourceKind::Study, outcome);
        }
        Ok(erasure.verified_by(self.verify(subject, handles).await?))
    }

    async fn verify(
        &self,
        subject: Option<&PatientId>,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let mut still = StillThere::default();
        if let Some(subject) = subject {
            for h in self.find_studies(subject).await? {
                still.study(&h);
            }
        }
        for h in erased {
            if !still.has(h) && !self.locate_uid(h).await?.is_empty() {
                still.study(h);
            }
        }
        Ok(still.derived_copies_not_checked())
    }
}

/// Why a study was left on a server without deletion.
const NO_DELETION: &str = "the DICOMweb server offers no deletion (DELETE answered 405/501); \
                           erase through the system's own API";

/// A QIDO-RS search at `path` under `http`'s base (studies level), asking
/// for modalities and the issuer.
pub(crate) async fn search(
    http: &Client,
    path: &[&str],
    query: &[(&str, &str)],
) -> Result<Vec<Dataset>, StoreError> {
    search_at(http, QIDO, path, query, &["00080061", "00100021"]).await
}

/// A QIDO-RS search at `path` (any level) asking for `fields`, named
/// `operation` in errors.
pub(crate) async fn search_at(
    http: &Client,
    operation: &'static str,
    path: &[&str],
    query: &[(&str, &str)],
    fields: &[&str],
) -> Result<Vec<Dataset>, StoreError> {
    let url = http.url(path);
    let fields: Vec<(&str, &str)> = fields.iter().map(|f| ("includefield", *f)).collect();
    let (status, body) = http
        .call(operation, |c| {
            c.get(url.clone())
                .query(query)
                .query(&fields)
                .header("Accept", "application/dicom+json")
        })
        .await?;
    if status == StatusCode::NO_CONTENT {
        return Ok(Vec::new());
    }
    // An error status is an error even without a body: a 404 from a wrong
    // root must never read as "nothing found".
    check_status(operation, status)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    parse_json(operation, &body)
}

/// Judges a search by Study UID: gone, still the subject's, or changed.
pub(crate) fn judge(found: &[Dataset], uid: &str, subject: Option<&PatientId>) -> Recheck {
    let same: Vec<&Dataset> = found
        .iter()
        .filter(|d| raw_first(d, "0020000D").map(str::trim) == Some(uid))
        .collect();
    if same.is_empty() {
        Recheck::Gone
    } else if subject.is_none_or(|s| same.iter().all(|d| is_subjects(d, s))) {
        Recheck::Confirmed
    } else {
        Recheck::Changed
    }
}

#[async_trait]
impl StudyStore for DicomWebStore {
    const NO_RESTRICTION_MARK: &'static str = "DICOMweb (QIDO/WADO/STOW-RS) defines no way to mark a patient restricted; keep the restriction in the request workflow's register";

    async fn find_studies(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        let mut query = vec![("PatientID", subject.expose())];
        if let Some(issuer) = subject.issuer() {
            query.push(("IssuerOfPatientID", issuer));
        }
        let found = self.search(&query).await?;
        // Servers may ignore case, match wildcards or ignore keys: the
        // answer is a hint, confirmed study by study with gdpr-core's rule.
        found
            .iter()
            .filter(|d| is_subjects(d, subject))
            .map(Self::handle)
            .collect()
    }

    async fn export_studies(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        const OP: &str = "GET /studies/{uid} (WADO-RS)";
        let handles = self.find_studies(subject).await?;
        let mut writer = ExportWriter::create(destination, self.identity.clone())?;
        for (n, handle) in handles.iter().enumerate() {
            let part = destination.join(format!(".wado-{n}.part"));
            let url = self.http.url(&["studies", handle.study_uid().expose()]);
            self.http
                .download(
                    OP,
                    |c| {
                        c.get(url.clone())
                            .header("Accept", "multipart/related; type=\"application/dicom\"")
                    },
                    &part,
                )
                .await?;
            let handle = handle.clone();
            writer = blocking("export worker", move || {
                let result = unpack(&mut writer, &handle, &part);
                let _ = std::fs::remove_file(&part);
                result.map(|()| writer)
            })
            .await?;
        }
        blocking("export worker", move || writer.finish()).await
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        self.erase_handles(None, std::slice::from_ref(study)).await
    }

    /// Erases the subject's studies. DICOMweb cannot find derived copies,
    /// so `derived` cannot be applied: the report says "derived copies not
    /// checked" and is never verified.
    async fn erase_patient(
        &self,
        subject: &PatientId,
        _derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let handles = self.find_studies(subject).await?;
        self.erase_handles(Some(subject), &handles).await
    }

    async fn verify_studies_gone(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        self.verify(Some(subject), erased).await
    }
}

subject_store!(DicomWebStore, |s| &s.identity);

/// Splits the WADO-RS answer at `path` into the study's files, each
/// streamed through a bounded buffer to a staging file, its series read
/// from the staged file's header: memory stays flat whatever the sizes.
fn unpack(writer: &mut ExportWriter, handle: &StudyHandle, path: &Path) -> Result<(), StoreError> {
    const OP: &str = "GET /studies/{uid} (WADO-RS)";
    let malformed = || StoreError::Protocol {
        operation: OP,
        cause: ProtocolCause::MalformedBody,
        detail: "the answer is not multipart/related; check the DICOMweb root".into(),
    };
    let split = |e: PartsError| match e {
        PartsError::Io(e) => local("read WADO-RS answer")(e),
        PartsError::Malformed => malformed(),
    };
    let file = std::fs::File::open(path).map_err(local("read WADO-RS answer"))?;
    let mut parts = Parts::new(file, 64 << 10).map_err(split)?;
    let study = writer.begin_study(handle);
    while parts.more() {
        let staged = writer.stage(|out| parts.copy_next(out).map(drop).map_err(split))?;
        // The hardened reader: a hostile part fails alone.
        let Ok(header) = read_header(&staged.path) else {
            let _ = std::fs::remove_file(&staged.path);
            return Err(StoreError::Protocol {
                operation: OP,
                cause: ProtocolCause::NotDicom,
                detail: "a part is not a DICOM Part 10 instance".into(),
            });
        };
        writer.add_staged(study, &header.series_uid, staged)?;
    }
    Ok(())
}
