//! Orthanc erasure and verification, and the [`SubjectStore`] implementation
//! of [`OrthancStore`] (see [`super::orthanc`] for the protocol notes).

use std::collections::BTreeSet;
use std::path::Path;

use async_trait::async_trait;

use super::studies::{StudyStore, subject_store};
use gdpr_core::restriction::Restriction;
use gdpr_core::store::RestrictionOutcome;
use gdpr_core::store::{
    DerivedPolicy, ErasedItem, ErasureAttempt, ErasureReport, ExportReport, RecordId, Refusal,
    Remnant, ResourceKind, StoreError, StudyHandle, Verification,
};
use gdpr_core::subject::PatientId;

use super::orthanc::{OrthancStore, OrthancStudy, Recheck, orthanc_patient_id};
use super::orthanc_derived::DerivedScan;

/// Why a study found for the subject was left alone.
pub(super) const CHANGED: &str = "the study no longer carries the PatientID, issuer or Study Instance UID \
                       it was found with, so it was left untouched; check it and run the \
                       erasure again";

fn study_remnant(id: &RecordId) -> Remnant {
    Remnant::new(id.clone(), ResourceKind::Study)
}

impl OrthancStore {
    /// What of the subject itself remains (not derived copies): its studies,
    /// confirmed by the matching rule.
    async fn remaining_of_subject(&self, subject: &PatientId) -> Result<Vec<Remnant>, StoreError> {
        Ok(self
            .find(subject)
            .await?
            .iter()
            .map(|s| study_remnant(s.handle.id()))
            .collect())
    }

    /// Deletes each study after the last look ([`OrthancStore::recheck`]):
    /// a study that no longer matches is refused, never deleted.
    async fn delete_studies(
        &self,
        studies: &[OrthancStudy],
        subject: Option<&PatientId>,
    ) -> Result<(Vec<ErasedItem>, Vec<Refusal>), StoreError> {
        let mut erased = Vec::with_capacity(studies.len());
        let mut refused = Vec::new();
        for study in studies {
            let id = study.handle.id();
            let existed = match self.recheck(&study.handle, subject).await? {
                Recheck::Gone => false,
                Recheck::Changed => {
                    refused.push(Refusal {
                        id: id.clone(),
                        reason: CHANGED.into(),
                        kind: ResourceKind::Study,
                    });
                    continue;
                }
                Recheck::Confirmed => self.delete("studies", id.as_str()).await?,
            };
            erased.push(ErasedItem {
                id: id.clone(),
                kind: ResourceKind::Study,
                already_absent: !existed,
            });
        }
        Ok((erased, refused))
    }

    /// The Orthanc patients whose derived copies belong to a subject without
    /// issuer: the patients of its studies and the one Orthanc names after
    /// its PatientID (gone after an interrupted run, but copies still point
    /// at it). Orthanc keys patients by PatientID alone, so a patient that
    /// also holds a study of someone else (another issuer, a value equal
    /// only up to padding) is shared and left out: a patient-level copy of
    /// it would hold that person's data too. With an issuer, only
    /// study-level links are followed.
    pub(super) async fn origin_patients(
        &self,
        subject: Option<&PatientId>,
        studies: &[OrthancStudy],
    ) -> Result<BTreeSet<String>, StoreError> {
        let Some(subject) = subject.filter(|s| s.issuer().is_none()) else {
            return Ok(BTreeSet::new());
        };
        let ours: BTreeSet<&str> = studies.iter().map(|s| s.handle.id().as_str()).collect();
        let mut candidates: BTreeSet<String> = studies.iter().map(|s| s.patient.clone()).collect();
        candidates.insert(orthanc_patient_id(subject));
        let mut origins = BTreeSet::new();
        'patients: for patient in candidates {
            for study in self.studies_of_patient(&patient).await? {
                if !ours.contains(study.as_str())
                    && !self.owner_of(&study).await?.is_some_and(|o| o.is(subject))
                {
                    continue 'patients;
                }
            }
            origins.insert(patient);
        }
        Ok(origins)
    }

    async fn erase(
        &self,
        subject: Option<&PatientId>,
        studies: Vec<OrthancStudy>,
        policy: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let scan = DerivedScan {
            studies: studies.iter().map(|s| s.handle.id().to_string()).collect(),
            patients: self.origin_patients(subject, &studies).await?,
        };
        // The scan reads only other resources' metadata, so it runs while
        // the subject's studies are being deleted.
        let (deleted, derived) =
            tokio::join!(self.delete_studies(&studies, subject), scan.run(self));
        let (mut attempted, refused) = deleted?;
        let derived = derived?;
        let mut remaining = match subject {
            Some(s) => self.remaining_of_subject(s).await?,
            None => {
                let mut left = Vec::new();
                for s in &studies {
                    if self.exists("studies", s.handle.id().as_str()).await? {
                        left.push(study_remnant(s.handle.id()));
                    }
                }
                left
            }
        };
        attempted.extend(self.removed_patients(&scan, &studies).await?);
        let (erased, left) = self.erase_derived(&scan, derived, policy).await?;
        attempted.extend(erased);
        remaining.extend(left);
        Ok(ErasureReport::reconcile(
            attempted,
            refused,
            Verification::new(remaining),
        ))
    }

    /// Patient records Orthanc removed with their last study (only the
    /// subject's own, unshared ones, and only when confirmed gone).
    pub(super) async fn removed_patients(
        &self,
        scan: &DerivedScan,
        studies: &[OrthancStudy],
    ) -> Result<Vec<ErasedItem>, StoreError> {
        let mut removed = Vec::new();
        for patient in &scan.patients {
            if studies.iter().any(|s| s.patient == *patient)
                && !self.exists("patients", patient).await?
            {
                removed.push(ErasedItem {
                    id: super::orthanc::record_id("GET /patients/{id}", patient)?,
                    kind: ResourceKind::Patient,
                    already_absent: false,
                });
            }
        }
        Ok(removed)
    }

    /// Deletes (policy `Erase`) or reports the derived copies found; each
    /// copy's link is looked at once more right before its deletion.
    pub(super) async fn erase_derived(
        &self,
        scan: &DerivedScan,
        derived: Vec<Remnant>,
        policy: DerivedPolicy,
    ) -> Result<(Vec<ErasedItem>, Vec<Remnant>), StoreError> {
        let mut erased = Vec::new();
        let mut left = Vec::new();
        for copy in derived {
            if policy == DerivedPolicy::Erase {
                if !scan.still_linked(self, copy.id.as_str()).await? {
                    // Gone, or no longer a copy of the subject's data.
                    continue;
                }
                let existed = self.delete("studies", copy.id.as_str()).await?;
                erased.push(ErasedItem {
                    id: copy.id.clone(),
                    kind: ResourceKind::DerivedStudy,
                    already_absent: !existed,
                });
                // Confirm this copy is gone rather than trusting the DELETE.
                if !self.exists("studies", copy.id.as_str()).await? {
                    continue;
                }
            }
            left.push(copy);
        }
        Ok((erased, left))
    }
}

#[async_trait]
impl StudyStore for OrthancStore {
    const NO_RESTRICTION_MARK: &'static str = "no restriction_metadata is configured for this \
         Orthanc (Orthanc 1.10 has no labels): declare a user-defined metadata in Orthanc's \
         UserMetadata and name it in systems.toml, or keep the restriction in the request \
         workflow's register";

    async fn mark_restricted(
        &self,
        subject: &PatientId,
        restriction: Option<&Restriction>,
    ) -> Result<RestrictionOutcome, StoreError> {
        match &self.restriction_metadata {
            Some(name) => super::orthanc_restrict::mark(self, name, subject, restriction).await,
            None => Ok(RestrictionOutcome::Unsupported {
                reason: Self::NO_RESTRICTION_MARK.to_owned(),
            }),
        }
    }

    async fn find_studies(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        Ok(self
            .find(subject)
            .await?
            .into_iter()
            .map(|s| s.handle)
            .collect())
    }

    async fn export_studies(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let studies = self.find_studies(subject).await?;
        super::orthanc_archive::export(self, &studies, destination).await
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        let study = OrthancStudy {
            handle: study.clone(),
            patient: String::new(),
        };
        self.erase(None, vec![study], self.derived).await
    }

    async fn erase_studies(
        &self,
        subject: &PatientId,
        studies: &[StudyHandle],
    ) -> Result<ErasureAttempt, StoreError> {
        self.erase_batch(subject, studies, self.derived).await
    }

    async fn erase_patient(
        &self,
        subject: &PatientId,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let studies = self.find(subject).await?;
        self.erase(Some(subject), studies, derived).await
    }

    async fn verify_studies_gone(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let mut remaining = self.remaining_of_subject(subject).await?;
        let scan = DerivedScan {
            studies: erased.iter().map(|h| h.id().to_string()).collect(),
            patients: self.origin_patients(Some(subject), &[]).await?,
        };
        remaining.extend(scan.run(self).await?);
        Ok(Verification::new(remaining))
    }
}

subject_store!(OrthancStore, |s| &s.identity);
