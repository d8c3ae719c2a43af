//! dcm4chee-arc's erasure: reject the subject's studies with the configured
//! rejection note, delete them, find the ones an interrupted run rejected
//! in the archive's view of rejected instances, and verify; expiration dates
//! for retention.

#[allow(clippy::wildcard_imports)]
use super::*;

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

impl Dcm4cheeStore {
    /// Sets a study's expiration date from a retention decision; the archive
    /// refuses to reject it with `113039^DCM` before that date.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the study does not exist; as
    /// [`StudyStore::find_studies`] otherwise.
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

    /// Sends one erasing request: 403 and 409 are the archive's refusals.
    pub(super) async fn step(
        http: &Client,
        operation: &'static str,
        request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Outcome, StoreError> {
        let (status, body) = http.call(operation, request).await?;
        outcome_of(operation, status, |s| {
            matches!(s, StatusCode::FORBIDDEN | StatusCode::CONFLICT).then(|| reason(s, &body))
        })
    }

    /// A QIDO-RS search of the archive's view of rejected instances.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when the archive has no such AE.
    pub(super) async fn search_rejected(
        &self,
        query: &[(&str, &str)],
    ) -> Result<Vec<Dataset>, StoreError> {
        let path = ["aets", self.rejected_view.as_str(), "rs", "studies"];
        match search(&self.arc, &path, query).await {
            Err(StoreError::NotFound { .. }) => Err(StoreError::Configuration {
                detail: format!(
                    "the archive has no AE `{}` showing instances rejected with {}; set \
                     `rejected_view_aet` to the AE title of that view",
                    self.rejected_view,
                    self.code.as_str()
                ),
            }),
            other => other,
        }
    }

    /// The subject's studies that are already rejected with our code (an
    /// interrupted earlier run, or the archive's own retention), confirmed
    /// by the matching rule.
    pub(super) async fn locate_rejected(
        &self,
        subject: &PatientId,
    ) -> Result<Vec<StudyHandle>, StoreError> {
        let mut query = vec![("PatientID", subject.expose())];
        if let Some(issuer) = subject.issuer() {
            query.push(("IssuerOfPatientID", issuer));
        }
        self.search_rejected(&query)
            .await?
            .iter()
            .filter(|d| is_subjects(d, subject))
            .map(DicomWebStore::handle)
            .collect()
    }

    /// The last look before touching a study: searched again by its UID,
    /// visible or among the rejected, and confirmed by the rule.
    pub(super) async fn recheck(
        &self,
        handle: &StudyHandle,
        subject: Option<&PatientId>,
    ) -> Result<Look, StoreError> {
        match self.web.recheck(handle, subject).await? {
            Recheck::Confirmed => return Ok(Look::Visible),
            Recheck::Changed => return Ok(Look::Changed),
            Recheck::Gone => {}
        }
        let uid = handle.study_uid().expose();
        let rejected = self.search_rejected(&[("StudyInstanceUID", uid)]).await?;
        Ok(match judge(&rejected, uid, subject) {
            Recheck::Confirmed => Look::Rejected,
            Recheck::Changed => Look::Changed,
            Recheck::Gone => Look::Gone,
        })
    }

    /// Reject (unless already rejected), then delete this one study.
    pub(super) async fn erase_one(
        &self,
        handle: &StudyHandle,
        subject: Option<&PatientId>,
    ) -> Result<Outcome, StoreError> {
        let rs = &self.web.http;
        let uid = handle.study_uid().expose();
        let rejected = match self.recheck(handle, subject).await? {
            Look::Gone => return Ok(Outcome::Done { existed: false }),
            Look::Changed => return Ok(Outcome::Refused(CHANGED.into())),
            Look::Rejected => true,
            Look::Visible => {
                let reject = rs.url(&["studies", uid, "reject", self.code.as_str()]);
                match Self::step(rs, "POST /studies/{uid}/reject/{code}", |c| {
                    c.post(reject.clone())
                })
                .await?
                {
                    Outcome::Done { existed } => existed,
                    refused => return Ok(refused),
                }
            }
        };
        let delete = rs.url(&["studies", uid]);
        match Self::step(rs, "DELETE /studies/{uid}", |c| c.delete(delete.clone())).await? {
            Outcome::Done { existed } => Ok(Outcome::Done {
                existed: rejected || existed,
            }),
            refused => Ok(refused),
        }
    }

    /// Deletes the subject's patient record, after the archive's patient
    /// search shows that the identifier reaches the subject's record and no
    /// other one. `None` when the archive holds no such record.
    pub(super) async fn erase_patient(
        &self,
        subject: &PatientId,
    ) -> Result<Option<Outcome>, StoreError> {
        const SEARCH: &str = "GET /patients (QIDO-RS)";
        let mut query = vec![("PatientID", subject.expose())];
        if let Some(issuer) = subject.issuer() {
            query.push(("IssuerOfPatientID", issuer));
        }
        let found = search_at(&self.web.http, SEARCH, &["patients"], &query, &["00100021"]).await?;
        let (ours, others): (Vec<_>, Vec<_>) = found.iter().partition(|d| is_subjects(d, subject));
        if ours.is_empty() {
            return Ok(None);
        }
        if !others.is_empty() {
            return Ok(Some(Outcome::Refused(AMBIGUOUS_PATIENT.into())));
        }
        let url = self.web.http.url(&["patients", &cx(subject)]);
        Self::step(&self.web.http, "DELETE /patients/{id}", |c| {
            c.delete(url.clone())
        })
        .await
        .map(Some)
    }

    pub(super) async fn erase_handles(
        &self,
        subject: Option<&PatientId>,
        handles: &[StudyHandle],
    ) -> Result<ErasureReport, StoreError> {
        let mut erasure = Erasure::new();
        for handle in handles {
            let outcome = self.erase_one(handle, subject).await?;
            erasure.record(handle.id().clone(), ResourceKind::Study, outcome);
        }
        if let Some(subject) = subject
            && let Some(outcome) = self.erase_patient(subject).await?
        {
            let id = hashed_id("patient", &cx(subject));
            erasure.record(id, ResourceKind::Patient, outcome);
        }
        Ok(erasure.verified_by(self.verify(subject, handles).await?))
    }

    /// What remains: the subject's studies (visible or rejected, confirmed
    /// by the rule) and every erased study UID the archive still shows in
    /// either view.
    pub(super) async fn verify(
        &self,
        subject: Option<&PatientId>,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let mut still = StillThere::default();
        if let Some(subject) = subject {
            for h in self.web.find_studies(subject).await? {
                still.study(&h);
            }
            for h in self.locate_rejected(subject).await? {
                still.study(&h);
            }
        }
        for h in erased {
            if !still.has(h) && !matches!(self.recheck(h, None).await?, Look::Gone) {
                still.study(h);
            }
        }
        Ok(still.derived_copies_not_checked())
    }
}

/// The patient identifier as dcm4chee's paths spell it (HL7 CX:
/// `id^^^issuer`).
pub(super) fn cx(subject: &PatientId) -> String {
    match subject.issuer() {
        Some(issuer) => format!("{}^^^{issuer}", subject.expose()),
        None => subject.expose().to_owned(),
    }
}

/// Where the last look found a study.
pub(super) enum Look {
    /// In ordinary searches: reject it, then delete it.
    Visible,
    /// Only among the rejected: delete it.
    Rejected,
    /// Not at all.
    Gone,
    /// No longer the subject's: leave it.
    Changed,
}

/// Why a patient record was left.
pub(super) const AMBIGUOUS_PATIENT: &str = "the archive's patient search for this identifier also returns \
                                 another patient (a case or issuer variant), so the patient \
                                 record was not deleted; delete it in the archive's UI";
