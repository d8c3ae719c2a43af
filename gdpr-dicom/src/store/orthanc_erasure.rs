//! Orthanc erasure and verification, and the [`SubjectStore`] implementation
//! of [`OrthancStore`] (see [`super::orthanc`] for the protocol notes).

use std::collections::BTreeSet;
use std::path::Path;

use async_trait::async_trait;
use gdpr_core::store::{
    DerivedPolicy, ErasedItem, ErasureReport, ExportReport, Remnant, ResourceKind, StoreError,
    StudyHandle, SubjectStore, SystemIdentity, Verification,
};
use gdpr_core::subject::PatientId;

use super::orthanc::{OrthancStore, OrthancStudy, orthanc_patient_id, record_id};
use super::orthanc_derived::DerivedScan;

impl OrthancStore {
    /// What of the subject itself remains (not derived copies).
    async fn remaining_of_subject(&self, subject: &PatientId) -> Result<Vec<Remnant>, StoreError> {
        if subject.issuer().is_some() {
            return Ok(self
                .find(subject)
                .await?
                .into_iter()
                .map(|s| Remnant {
                    id: s.handle.id().clone(),
                    kind: ResourceKind::Study,
                    derived_from: None,
                })
                .collect());
        }
        self.lookup_patients(subject)
            .await?
            .iter()
            .map(|p| {
                Ok(Remnant {
                    id: record_id("POST /tools/lookup", p)?,
                    kind: ResourceKind::Patient,
                    derived_from: None,
                })
            })
            .collect()
    }

    async fn delete_studies(
        &self,
        studies: &[OrthancStudy],
    ) -> Result<Vec<ErasedItem>, StoreError> {
        let mut erased = Vec::with_capacity(studies.len());
        for study in studies {
            let existed = self.delete("studies", study.handle.id().as_str()).await?;
            erased.push(ErasedItem {
                id: study.handle.id().clone(),
                kind: ResourceKind::Study,
                already_absent: !existed,
            });
        }
        Ok(erased)
    }

    async fn erase(
        &self,
        subject: Option<&PatientId>,
        studies: Vec<OrthancStudy>,
        policy: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        // Without an issuer the Orthanc patient is exactly the subject; with
        // one, other issuers' studies may share it (Orthanc removes it by
        // itself once its last study is gone), and a patient-level link
        // could point at another issuer's person.
        let whole_patient = subject.filter(|s| s.issuer().is_none());
        let mut origin_patients = BTreeSet::new();
        if let Some(subject) = whole_patient {
            origin_patients.extend(studies.iter().map(|s| s.patient.clone()));
            // After an interrupted run the patient may be gone already; its
            // derived copies still point at the id Orthanc gave it.
            origin_patients.insert(orthanc_patient_id(subject));
        }
        let scan = DerivedScan {
            studies: studies.iter().map(|s| s.handle.id().to_string()).collect(),
            patients: origin_patients,
        };
        // The scan reads only other resources' metadata, so it runs while
        // the subject's studies are being deleted.
        let (deleted, derived) = tokio::join!(self.delete_studies(&studies), scan.run(self));
        let mut attempted = deleted?;
        let derived = derived?;
        let mut remaining = match subject {
            Some(s) => self.remaining_of_subject(s).await?,
            None => {
                let mut left = Vec::new();
                for s in &studies {
                    if self.exists("studies", s.handle.id().as_str()).await? {
                        left.push(Remnant {
                            id: s.handle.id().clone(),
                            kind: ResourceKind::Study,
                            derived_from: None,
                        });
                    }
                }
                left
            }
        };
        if let Some(subject) = whole_patient {
            // A patient record still there (a study stored meanwhile, an
            // empty patient kept) is deleted and looked up again.
            let patients: Vec<_> = remaining
                .iter()
                .filter(|r| r.kind == ResourceKind::Patient)
                .map(|r| r.id.clone())
                .collect();
            for patient in &patients {
                let existed = self.delete("patients", patient.as_str()).await?;
                attempted.push(ErasedItem {
                    id: patient.clone(),
                    kind: ResourceKind::Patient,
                    already_absent: !existed,
                });
            }
            if !patients.is_empty() {
                remaining = self.remaining_of_subject(subject).await?;
            }
            // Patient records Orthanc removed with their last study; the
            // lookup above confirmed they are gone.
            let mut implicit: Vec<&str> = studies.iter().map(|s| s.patient.as_str()).collect();
            implicit.sort_unstable();
            implicit.dedup();
            for patient in implicit {
                if !attempted.iter().any(|a| a.id.as_str() == patient) {
                    attempted.push(ErasedItem {
                        id: record_id("POST /tools/find (Study)", patient)?,
                        kind: ResourceKind::Patient,
                        already_absent: false,
                    });
                }
            }
        }
        for copy in derived {
            if policy == DerivedPolicy::Erase {
                let existed = self.delete("studies", copy.id.as_str()).await?;
                attempted.push(ErasedItem {
                    id: copy.id.clone(),
                    kind: ResourceKind::DerivedStudy,
                    already_absent: !existed,
                });
                // Confirm this copy is gone rather than trusting the DELETE.
                if !self.exists("studies", copy.id.as_str()).await? {
                    continue;
                }
            }
            remaining.push(copy);
        }
        Ok(ErasureReport::reconcile(
            attempted,
            Vec::new(),
            Verification::new(remaining),
        ))
    }
}

#[async_trait]
impl SubjectStore for OrthancStore {
    fn identity(&self) -> &SystemIdentity {
        &self.identity
    }

    async fn locate(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        Ok(self
            .find(subject)
            .await?
            .into_iter()
            .map(|s| s.handle)
            .collect())
    }

    async fn export(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let studies = self.locate(subject).await?;
        super::orthanc_archive::export(self, &studies, destination).await
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        let study = OrthancStudy {
            handle: study.clone(),
            patient: String::new(),
        };
        self.erase(None, vec![study], self.derived).await
    }

    async fn erase_subject(
        &self,
        subject: &PatientId,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let studies = self.find(subject).await?;
        self.erase(Some(subject), studies, derived).await
    }

    async fn verify_erasure(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let mut remaining = self.remaining_of_subject(subject).await?;
        let scan = DerivedScan {
            studies: erased.iter().map(|h| h.id().to_string()).collect(),
            patients: if subject.issuer().is_none() {
                // Orthanc names a patient by the SHA-1 of its PatientID.
                BTreeSet::from([orthanc_patient_id(subject)])
            } else {
                BTreeSet::new()
            },
        };
        remaining.extend(scan.run(self).await?);
        Ok(Verification::new(remaining))
    }
}
