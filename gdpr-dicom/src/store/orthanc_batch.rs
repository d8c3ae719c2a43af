//! Erasing several studies of one subject on Orthanc at once
//! (`SubjectStore::erase_records`): every study re-checked right before
//! its `DELETE` (same StudyInstanceUID, and the subject's PatientID and
//! issuer under [`PatientId::matches_stored`]), a few at a time, and one
//! derived-copy scan for the whole batch instead of one per study (the scan
//! reads every study's metadata on the server: its cost grows with the
//! server, so once per request, not once per study).

use std::collections::BTreeSet;

use futures_util::{StreamExt, TryStreamExt};
use gdpr_core::store::{
    DerivedPolicy, ErasedItem, ErasureAttempt, Refusal, ResourceKind, StoreError, StudyHandle,
};
use gdpr_core::subject::PatientId;

use super::orthanc::{CONCURRENT_LOOKS, OrthancStore, OrthancStudy, Recheck};
use super::orthanc_derived::DerivedScan;
use super::orthanc_erasure::CHANGED;

/// What happened to one study of the batch.
enum Done {
    Erased(ErasedItem),
    Refused(Refusal),
}

impl OrthancStore {
    /// Erases `handles` of `subject`: re-checks and deletes them (eight at
    /// a time) while one scan looks for copies derived from any of them,
    /// then follows the subject's own patient records' links, deletes
    /// (policy `Erase`) the copies found, each link read again first.
    pub(crate) async fn erase_batch(
        &self,
        subject: &PatientId,
        handles: &[StudyHandle],
        policy: DerivedPolicy,
    ) -> Result<ErasureAttempt, StoreError> {
        let origins: BTreeSet<String> = handles.iter().map(|h| h.id().to_string()).collect();
        let study_scan = DerivedScan {
            studies: origins.clone(),
            patients: BTreeSet::new(),
        };
        // The scan reads only other studies' metadata, so it runs while the
        // subject's studies are being deleted.
        let (deleted, derived) =
            tokio::join!(self.delete_checked(subject, handles), study_scan.run(self));
        let (done, studies) = deleted?;
        let mut derived = derived?;
        let mut attempt = ErasureAttempt::default();
        for d in done {
            match d {
                Done::Erased(item) => attempt.deleted.push(item),
                Done::Refused(refusal) => attempt.refused.push(refusal),
            }
        }
        // Patient-level links: the subject's own, unshared patient records
        // (read now that its studies are gone).
        let patients = self.origin_patients(Some(subject), &studies).await?;
        let scan = DerivedScan {
            studies: origins,
            patients,
        };
        if !scan.patients.is_empty() {
            let by_patient = DerivedScan {
                studies: BTreeSet::new(),
                patients: scan.patients.clone(),
            };
            for copy in by_patient.run(self).await? {
                if !derived.iter().any(|d| d.id == copy.id) {
                    derived.push(copy);
                }
            }
        }
        attempt
            .deleted
            .extend(self.removed_patients(&scan, &studies).await?);
        let (erased, _left) = self.erase_derived(&scan, derived, policy).await?;
        attempt.deleted.extend(erased);
        Ok(attempt)
    }

    /// Re-checks and deletes each study, a few at a time; returns what
    /// happened to each and the studies that were there (with the patient
    /// each was in).
    async fn delete_checked(
        &self,
        subject: &PatientId,
        handles: &[StudyHandle],
    ) -> Result<(Vec<Done>, Vec<OrthancStudy>), StoreError> {
        let each: Vec<_> = handles
            .iter()
            .map(|handle| self.delete_one(subject, handle))
            .collect();
        let results: Vec<(Done, Option<OrthancStudy>)> = futures_util::stream::iter(each)
            .buffer_unordered(CONCURRENT_LOOKS)
            .try_collect()
            .await?;
        let mut done = Vec::with_capacity(results.len());
        let mut studies = Vec::new();
        for (d, study) in results {
            done.push(d);
            studies.extend(study);
        }
        Ok((done, studies))
    }

    /// Re-checks one study and deletes it while it is still the subject's.
    async fn delete_one(
        &self,
        subject: &PatientId,
        handle: &StudyHandle,
    ) -> Result<(Done, Option<OrthancStudy>), StoreError> {
        let id = handle.id();
        let (verdict, patient) = self.recheck_in_patient(handle, Some(subject)).await?;
        let existed = match verdict {
            Recheck::Gone => false,
            Recheck::Changed => {
                let refusal = Refusal {
                    id: id.clone(),
                    reason: CHANGED.into(),
                    kind: ResourceKind::Study,
                };
                return Ok((Done::Refused(refusal), None));
            }
            Recheck::Confirmed => self.delete("studies", id.as_str()).await?,
        };
        let item = ErasedItem {
            id: id.clone(),
            kind: ResourceKind::Study,
            already_absent: !existed,
        };
        let study = patient.map(|patient| OrthancStudy {
            handle: handle.clone(),
            patient,
        });
        Ok((Done::Erased(item), study))
    }
}
