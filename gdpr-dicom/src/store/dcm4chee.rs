//! The dcm4chee-arc adapter: DICOMweb for search and retrieval, and the
//! archive's own REST operations for erasure, following its published API:
//!
//! 1. `POST {rs}/studies/{uid}/reject/{code}` — reject the study with
//!    `113039^DCM` (Data Retention Policy Expired) or `113001^DCM`
//!    (Rejected for Quality Reasons). A study under a retention period
//!    answers 403 "Retention period not yet expired": reported as a refusal.
//! 2. `DELETE {arc}/reject/{code}` — delete rejected instances permanently.
//! 3. `DELETE {rs}/studies/{uid}` — delete the now empty study (409 "Study
//!    is not empty" is a refusal).
//! 4. `DELETE {rs}/patients/{id^^^issuer}` — delete the patient once empty.
//!
//! [`Dcm4cheeStore::set_expiration`] writes retention decisions into the
//! archive (`PUT {rs}/studies/{uid}/expire/{YYYYMMDD}`). Requests carry a
//! Keycloak client-credentials token when `token_url` is configured.
//!
//! `{rs}` is the configured URL (`…/dcm4chee-arc/aets/{AET}/rs/`); `{arc}`
//! is the part before `aets/`.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use gdpr_core::store::{
    DerivedPolicy, ErasedItem, ErasureReport, ExportReport, Refusal, Remnant, ResourceKind,
    StoreError, StudyHandle, SubjectStore, SystemIdentity, Verification,
};
use gdpr_core::subject::PatientId;
use reqwest::StatusCode;
use serde::Deserialize;

use super::dicomweb::DicomWebStore;
use super::export::hashed_id;
use super::http::{Auth, Http, HttpOptions, check_status, checked_url};
use super::secret::PasswordSource;
use super::token::TokenSource;

/// The rejection note code used to reject studies before deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RejectionCode {
    /// `113039^DCM` Data Retention Policy Expired (the default).
    #[default]
    DataRetentionPolicyExpired,
    /// `113001^DCM` Rejected for Quality Reasons.
    RejectedForQualityReasons,
}

impl RejectionCode {
    /// The code as dcm4chee's REST paths spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DataRetentionPolicyExpired => "113039^DCM",
            Self::RejectedForQualityReasons => "113001^DCM",
        }
    }
}

impl FromStr for RejectionCode {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "113039^DCM" => Ok(Self::DataRetentionPolicyExpired),
            "113001^DCM" => Ok(Self::RejectedForQualityReasons),
            _ => Err(StoreError::Configuration {
                detail: "rejection_code must be \"113039^DCM\" or \"113001^DCM\"".into(),
            }),
        }
    }
}

/// How to reach a dcm4chee-arc archive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dcm4cheeConfig {
    /// The name of the system in audit records.
    pub name: String,
    /// The RESTful base of the archive AE: `…/dcm4chee-arc/aets/{AET}/rs/`.
    pub url: String,
    /// Keycloak token endpoint, when the archive is secured.
    pub token_url: Option<String>,
    /// Keycloak client id.
    pub client_id: Option<String>,
    /// Where the client secret comes from.
    pub client_secret: Option<PasswordSource>,
    /// The rejection code used before deletion.
    pub rejection_code: RejectionCode,
    /// Timeouts, retries, transport policy.
    pub http: HttpOptions,
}

impl Dcm4cheeConfig {
    /// A configuration with default options and no token.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            token_url: None,
            client_id: None,
            client_secret: None,
            rejection_code: RejectionCode::default(),
            http: HttpOptions::default(),
        }
    }
}

/// A store over dcm4chee-arc.
pub struct Dcm4cheeStore {
    web: DicomWebStore,
    arc: Http,
    code: RejectionCode,
}

#[derive(Deserialize)]
struct ArchiveError {
    #[serde(rename = "errorMessage")]
    error_message: String,
}

/// The archive's reason for a refusal, kept only when it is one of the
/// published messages (free-text answers could quote identifiers).
fn reason(status: StatusCode, body: &[u8]) -> String {
    const KNOWN: [&str; 4] = [
        "Retention period not yet expired",
        "Study is not empty",
        "Patient is not empty",
        "Patient having studies can not be deleted",
    ];
    let message = serde_json::from_slice::<ArchiveError>(body)
        .ok()
        .and_then(|e| KNOWN.iter().find(|k| e.error_message.contains(*k)).copied());
    match message {
        Some(m) => format!("{m} (HTTP {})", status.as_u16()),
        None => format!("HTTP {} from the archive", status.as_u16()),
    }
}

enum Outcome {
    Done(bool),
    Refused(String),
}

impl Dcm4cheeStore {
    /// Connects (lazily).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] for a bad URL (it must contain
    /// `/aets/{AET}/rs/`), plain HTTP to a remote host, or incomplete
    /// Keycloak settings.
    pub fn connect(config: &Dcm4cheeConfig) -> Result<Self, StoreError> {
        // One token source for both endpoints, so one token serves both.
        let tokens = match (&config.token_url, &config.client_id, &config.client_secret) {
            (Some(url), Some(id), Some(secret)) => Some(Arc::new(TokenSource::new(
                checked_url(url, &config.http)?,
                id.clone(),
                secret.load()?,
            ))),
            (None, None, None) => None,
            _ => {
                return Err(StoreError::Configuration {
                    detail: format!(
                        "system `{}`: give token_url, client_id and a client secret together, \
                         or none of them",
                        config.name
                    ),
                });
            }
        };
        let auth = || tokens.clone().map_or(Auth::None, Auth::Bearer);
        let rs = Http::new(&config.url, auth(), config.http.clone())?;
        let rs_path = rs.base().path().to_owned();
        let arc_path = rs_path
            .find("/aets/")
            .map(|i| rs_path[..=i].to_owned())
            .ok_or_else(|| StoreError::Configuration {
                detail: "the dcm4chee url must be the AE's RESTful base, \
                         …/dcm4chee-arc/aets/{AET}/rs/"
                    .into(),
            })?;
        let mut arc_url = rs.base().clone();
        arc_url.set_path(&arc_path);
        let arc = Http::new(arc_url.as_str(), auth(), config.http.clone())?;
        let identity = SystemIdentity::new(&config.name, "dcm4chee", rs.base().as_str());
        Ok(Self {
            web: DicomWebStore::with_http(rs, identity),
            arc,
            code: config.rejection_code,
        })
    }

    /// Sets a study's expiration date from a retention decision; the archive
    /// refuses to reject it with `113039^DCM` before that date.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the study does not exist; as
    /// [`SubjectStore::locate`] otherwise.
    pub async fn set_expiration(
        &self,
        study: &StudyHandle,
        date: jiff::civil::Date,
    ) -> Result<(), StoreError> {
        const OP: &str = "PUT /studies/{uid}/expire/{date}";
        let day = date.strftime("%Y%m%d").to_string();
        let url = self
            .web
            .http
            .url(&["studies", study.study_uid().expose(), "expire", &day]);
        let (status, _) = self.web.http.call(OP, |c| c.put(url.clone())).await?;
        check_status(OP, status)
    }

    async fn step(
        http: &Http,
        operation: &'static str,
        request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Outcome, StoreError> {
        let (status, body) = http.call(operation, request).await?;
        match status {
            StatusCode::FORBIDDEN | StatusCode::CONFLICT => {
                Ok(Outcome::Refused(reason(status, &body)))
            }
            s => match check_status(operation, s) {
                Ok(()) => Ok(Outcome::Done(true)),
                Err(StoreError::NotFound { .. }) => Ok(Outcome::Done(false)),
                Err(e) => Err(e),
            },
        }
    }

    /// Reject, delete rejected instances, delete the study.
    async fn erase_one(&self, handle: &StudyHandle) -> Result<Outcome, StoreError> {
        let rs = &self.web.http;
        let uid = handle.study_uid().expose();
        let reject = rs.url(&["studies", uid, "reject", self.code.as_str()]);
        let rejected = match Self::step(rs, "POST /studies/{uid}/reject/{code}", |c| {
            c.post(reject.clone())
        })
        .await?
        {
            Outcome::Refused(r) => return Ok(Outcome::Refused(r)),
            Outcome::Done(found) => found,
        };
        let purge = self.arc.url(&["reject", self.code.as_str()]);
        if let Outcome::Refused(r) = Self::step(&self.arc, "DELETE /reject/{code}", |c| {
            c.delete(purge.clone())
        })
        .await?
        {
            return Ok(Outcome::Refused(r));
        }
        let delete = rs.url(&["studies", uid]);
        match Self::step(rs, "DELETE /studies/{uid}", |c| c.delete(delete.clone())).await? {
            Outcome::Done(existed) => Ok(Outcome::Done(rejected || existed)),
            refused => Ok(refused),
        }
    }

    async fn erase_handles(
        &self,
        subject: Option<&PatientId>,
        handles: &[StudyHandle],
    ) -> Result<ErasureReport, StoreError> {
        let mut attempted = Vec::new();
        let mut refused = Vec::new();
        for handle in handles {
            match self.erase_one(handle).await? {
                Outcome::Done(existed) => attempted.push(ErasedItem {
                    id: handle.id().clone(),
                    kind: ResourceKind::Study,
                    already_absent: !existed,
                }),
                Outcome::Refused(reason) => refused.push(Refusal {
                    id: handle.id().clone(),
                    reason,
                }),
            }
        }
        if let Some(subject) = subject {
            let pid = match subject.issuer() {
                Some(issuer) => format!("{}^^^{issuer}", subject.expose()),
                None => subject.expose().to_owned(),
            };
            let patient_id = hashed_id("patient", &pid);
            let url = self.web.http.url(&["patients", &pid]);
            match Self::step(&self.web.http, "DELETE /patients/{id}", |c| {
                c.delete(url.clone())
            })
            .await?
            {
                Outcome::Done(existed) => attempted.push(ErasedItem {
                    id: patient_id,
                    kind: ResourceKind::Patient,
                    already_absent: !existed,
                }),
                Outcome::Refused(reason) => refused.push(Refusal {
                    id: patient_id,
                    reason,
                }),
            }
        }
        let verification = self.verify(subject, handles).await?;
        Ok(ErasureReport::reconcile(attempted, refused, verification))
    }

    async fn verify(
        &self,
        subject: Option<&PatientId>,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let mut remaining: Vec<Remnant> = match subject {
            Some(s) => self
                .web
                .verify_erasure(s, erased)
                .await?
                .remaining()
                .to_vec(),
            None => Vec::new(),
        };
        if subject.is_none() {
            for h in erased {
                if !self.web.locate_uid(h).await?.is_empty() {
                    remaining.push(Remnant {
                        id: h.id().clone(),
                        kind: ResourceKind::Study,
                        derived_from: None,
                    });
                }
            }
        }
        Ok(Verification::new(remaining))
    }
}

#[async_trait]
impl SubjectStore for Dcm4cheeStore {
    fn identity(&self) -> &SystemIdentity {
        self.web.identity()
    }

    async fn locate(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        self.web.locate(subject).await
    }

    async fn export(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        self.web.export(subject, destination).await
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        self.erase_handles(None, std::slice::from_ref(study)).await
    }

    async fn erase_subject(
        &self,
        subject: &PatientId,
        _derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        // Rejected instances of an interrupted earlier run are hidden from
        // QIDO; purging them first lets this run find and finish their
        // (now empty) studies.
        let purge = self.arc.url(&["reject", self.code.as_str()]);
        if let Outcome::Refused(reason) = Self::step(&self.arc, "DELETE /reject/{code}", |c| {
            c.delete(purge.clone())
        })
        .await?
        {
            return Err(StoreError::Refused {
                operation: "DELETE /reject/{code}",
                reason,
            });
        }
        let handles = self.web.locate(subject).await?;
        self.erase_handles(Some(subject), &handles).await
    }

    async fn verify_erasure(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        self.verify(Some(subject), erased).await
    }
}
