//! The dcm4chee-arc adapter: DICOMweb for search and retrieval, and the
//! archive's own REST operations for erasure, following its published API
//! (dcm4chee-arc-light's OpenAPI, IOCM-RS):
//!
//! 1. `POST {rs}/studies/{uid}/reject/{code}` — reject the study with
//!    `113039^DCM` (Data Retention Policy Expired) or `113001^DCM`
//!    (Rejected for Quality Reasons). A study under a retention period
//!    answers 403 "Retention period not yet expired": reported as a refusal.
//! 2. `DELETE {rs}/studies/{uid}` — Delete Study Permanently, which the
//!    archive allows by default for a study whose instances are all
//!    rejected (403 "Study is not empty" otherwise: a refusal).
//! 3. `DELETE {rs}/patients/{id^^^issuer}` — delete the patient once empty.
//!
//! `DELETE {arc}/reject/{code}` is never sent: it deletes the rejected
//! instances of the **whole archive**, every patient's.
//!
//! **Matching.** Every study and patient record is confirmed with
//! gdpr-core's [`PatientId::matches_stored`] on the PatientID and issuer the
//! archive returns for it; QIDO answers are hints (a database collation may
//! ignore case; QIDO without an issuer matches every issuer). Right before
//! each rejection or deletion the study is searched again by its UID and
//! confirmed again; a patient record is deleted only when the archive's
//! patient search for the identifier returns the subject's record and no
//! other (a DELETE by that identifier could otherwise reach another one).
//!
//! **Resuming.** Rejected studies drop out of ordinary QIDO searches. A run
//! interrupted between rejection and deletion is completed from the
//! archive's own view of rejected instances: the AE that shows only
//! instances rejected with the configured code (`IOCM_EXPIRED` for
//! `113039^DCM`, `IOCM_QUALITY` for `113001^DCM` in the archive's default
//! configuration; [`Dcm4cheeConfig::rejected_view_aet`] overrides it),
//! searched with the subject's PatientID and confirmed by the rule like any
//! other answer. Verification searches that view too: a rejected study not
//! yet deleted is still stored.
//!
//! [`Dcm4cheeStore::set_expiration`] writes retention decisions into the
//! archive (`PUT {rs}/studies/{uid}/expire/{YYYYMMDD}`). Requests carry a
//! Keycloak client-credentials token when the endpoint's credentials are
//! [`Credentials::ClientCredentials`](gdpr_connect::Credentials).
//!
//! **Derived copies.** The archive records no provenance of anonymised or
//! modified copies, so every erasure report says "derived copies not
//! checked" ([`NotChecked::DerivedCopies`]) and is never verified.
//!
//! `{rs}` is the configured URL (`…/dcm4chee-arc/aets/{AET}/rs/`); `{arc}`
//! is the part before `aets/`.

use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;

use crate::store::studies::{StillThere, StudyStore, subject_store};

mod erasure;

use gdpr_connect::{Client, Endpoint, Erasure, Outcome, check_status, outcome_of};
use gdpr_core::store::{
    DerivedPolicy, ErasureReport, ExportReport, ResourceKind, StoreError, StudyHandle,
    SystemIdentity, Verification,
};
use gdpr_core::subject::PatientId;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::store::dicomweb::{
    CHANGED, Dataset, DicomWebStore, is_subjects, judge, search, search_at,
};
use crate::store::export::hashed_id;
use crate::store::orthanc::Recheck;

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
    /// The AE title of the archive's default view that shows only the
    /// instances rejected with this code.
    pub const fn default_view_aet(self) -> &'static str {
        match self {
            Self::DataRetentionPolicyExpired => "IOCM_EXPIRED",
            Self::RejectedForQualityReasons => "IOCM_QUALITY",
        }
    }

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
    /// How to reach the RESTful base of the archive AE
    /// (`…/dcm4chee-arc/aets/{AET}/rs/`), with its Keycloak client
    /// credentials when the archive is secured.
    pub endpoint: Endpoint,
    /// The rejection code used before deletion.
    pub rejection_code: RejectionCode,
    /// The AE title of the archive's view that shows only instances
    /// rejected with `rejection_code`, used to finish interrupted erasures
    /// and to verify; `None` for the archive's default
    /// ([`RejectionCode::default_view_aet`]).
    pub rejected_view_aet: Option<String>,
}

impl Dcm4cheeConfig {
    /// A configuration with default options and no token.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self::with_endpoint(name, Endpoint::new(url))
    }

    /// A configuration for `endpoint` with the default rejection code.
    pub fn with_endpoint(name: impl Into<String>, endpoint: Endpoint) -> Self {
        Self {
            name: name.into(),
            endpoint,
            rejection_code: RejectionCode::default(),
            rejected_view_aet: None,
        }
    }
}

/// A store over dcm4chee-arc.
pub struct Dcm4cheeStore {
    web: DicomWebStore,
    arc: Client,
    code: RejectionCode,
    rejected_view: String,
}

impl Dcm4cheeStore {
    /// Connects (lazily).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] for a bad URL (it must contain
    /// `/aets/{AET}/rs/`), plain HTTP to a remote host, or credentials that
    /// cannot be loaded.
    pub fn connect(config: &Dcm4cheeConfig) -> Result<Self, StoreError> {
        // One client for both bases, so one token serves both.
        let rs = Client::connect(&config.endpoint)?;
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
        let arc = rs.at(arc_url.as_str())?;
        let identity = SystemIdentity::new(&config.name, "dcm4chee", rs.base().as_str());
        Ok(Self {
            web: DicomWebStore::with_http(rs, identity),
            arc,
            code: config.rejection_code,
            rejected_view: config
                .rejected_view_aet
                .clone()
                .unwrap_or_else(|| config.rejection_code.default_view_aet().to_owned()),
        })
    }
}
#[async_trait]
impl StudyStore for Dcm4cheeStore {
    const NO_RESTRICTION_MARK: &'static str = "this adapter does not use dcm4chee's own marks (it reaches the archive through DICOMweb and rejection notes); keep the restriction in the request workflow's register";

    async fn find_studies(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        self.web.find_studies(subject).await
    }

    async fn export_studies(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        self.web.export_studies(subject, destination).await
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        self.erase_handles(None, std::slice::from_ref(study)).await
    }

    async fn erase_patient(
        &self,
        subject: &PatientId,
        _derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        // Studies an interrupted earlier run rejected are hidden from
        // ordinary searches: the archive's view of rejected instances finds
        // them (never a purge of every rejected instance).
        let mut handles = self.web.find_studies(subject).await?;
        for rejected in self.locate_rejected(subject).await? {
            if !handles
                .iter()
                .any(|h| h.study_uid() == rejected.study_uid())
            {
                handles.push(rejected);
            }
        }
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

subject_store!(Dcm4cheeStore, |s| s.web.identity());
