//! Erasing several of one subject's FHIR resources at once
//! (`SubjectStore::erase_records`): each re-read right before its DELETE
//! and deleted only while it is still exactly the subject's own record
//! ([`super::erase`]'s rule, against the subject's Patient); a few at a
//! time; the Patient last, and only while it still carries the subject's
//! identifier (read first too: a Patient that no longer carries it is no
//! longer known to be the subject, so none of the records is deleted). What is left is the caller's verification's to find
//! (`verify_erasure` reads every deleted resource and its `_history`
//! again), so nothing is read back here.

use futures_util::{StreamExt, TryStreamExt};
use gdpr_connect::{Erasure, Outcome};
use gdpr_core::store::{
    ErasureAttempt, FhirIdentifier, FhirSubject, RecordHandle, RecordId, ResourceHandle,
    ResourceKind, StoreError, SubjectRef,
};

use super::erase::erase_read;
use super::fhir::FhirStore;
use super::resolve::carries;
use super::subject_store::{erased_patient, kind_of, resource_of};
use crate::model::Patient;

/// How many resources are re-read and deleted at once.
const CONCURRENT: usize = 8;

/// Why a Patient was left in place.
const NOT_THE_SUBJECT: &str = "the Patient no longer carries exactly the subject's identifier \
                               (checked right before the deletion); left in place";

impl FhirStore {
    /// Erases `records` of `subject`: shared ones are refused (never
    /// deleted), own ones re-checked and deleted eight at a time, the
    /// Patient last.
    pub(crate) async fn erase_batch(
        &self,
        subject: &SubjectRef,
        records: &[RecordHandle],
    ) -> Result<ErasureAttempt, StoreError> {
        let fhir = subject.fhir()?;
        // The subject's Patient as located (it may be gone after an
        // interrupted run), else as the server finds it now.
        let patient_id = match erased_patient(records) {
            Some(id) => id,
            None => self.existing_patient(subject).await?,
        };
        let mut erasure = Erasure::new();
        // The Patient first: one that no longer carries the identifier is
        // no longer known to be the subject, nor are its records.
        if !self.still_the_subject(&patient_id, fhir).await? {
            for record in records {
                let kind = record.as_resource().map_or(ResourceKind::Record, |r| {
                    kind_of(r.resource_type().as_str())
                });
                erasure.refuse(record.id().clone(), kind, NOT_THE_SUBJECT);
            }
            return Ok(erasure.into_attempt());
        }
        let mut own = Vec::new();
        let mut patients = Vec::new();
        for record in records {
            let resource = resource_of(record)?;
            let kind = kind_of(resource.resource_type().as_str());
            if resource.is_shared() {
                erasure.refuse(
                    record.id().clone(),
                    kind,
                    "never deleted: not the subject's alone",
                );
            } else if kind == ResourceKind::Patient {
                patients.push((record.id(), resource));
            } else {
                own.push((record.id(), resource));
            }
        }
        let each: Vec<_> = own
            .into_iter()
            .map(|(id, resource)| self.erase_own(id, resource, &patient_id))
            .collect();
        let done: Vec<(RecordId, ResourceKind, Outcome)> = futures_util::stream::iter(each)
            .buffer_unordered(CONCURRENT)
            .try_collect()
            .await?;
        for (id, kind, outcome) in done {
            erasure.record(id, kind, outcome);
        }
        // The Patient last, so that nothing is left pointing at nothing.
        for (id, resource) in patients {
            let outcome = self.erase_patient(resource, &patient_id, fhir).await?;
            erasure.record(id.clone(), ResourceKind::Patient, outcome);
        }
        Ok(erasure.into_attempt())
    }

    /// Whether Patient `patient_id` is still the subject: it carries the
    /// identifier the subject is named by (or is gone: a resumed run).
    async fn still_the_subject(
        &self,
        patient_id: &str,
        subject: &FhirSubject,
    ) -> Result<bool, StoreError> {
        let FhirSubject::Identifier(identifier) = subject else {
            return Ok(true);
        };
        Ok(match self.client().read("Patient", patient_id).await? {
            None => true,
            Some(current) => carries_identifier(current, identifier),
        })
    }

    /// One own record: re-read, deleted while still exactly the subject's.
    async fn erase_own(
        &self,
        record: &RecordId,
        resource: &ResourceHandle,
        patient_id: &str,
    ) -> Result<(RecordId, ResourceKind, Outcome), StoreError> {
        let (kind, id) = (
            resource.resource_type().as_str(),
            resource.logical_id().as_str(),
        );
        let outcome = match self.client().read(kind, id).await? {
            None => Outcome::Done { existed: false },
            Some(current) => erase_read(self.client(), (kind, id), patient_id, &current).await?,
        };
        Ok((record.clone(), kind_of(kind), outcome))
    }

    /// The Patient: re-read; deleted only while it is the subject's Patient
    /// and, when the subject is named by an identifier, still carries it.
    async fn erase_patient(
        &self,
        resource: &ResourceHandle,
        patient_id: &str,
        subject: &FhirSubject,
    ) -> Result<Outcome, StoreError> {
        let id = resource.logical_id().as_str();
        let Some(current) = self.client().read("Patient", id).await? else {
            return Ok(Outcome::Done { existed: false });
        };
        if let FhirSubject::Identifier(identifier) = subject
            && !carries_identifier(current.clone(), identifier)
        {
            return Ok(Outcome::Refused(NOT_THE_SUBJECT.into()));
        }
        erase_read(self.client(), ("Patient", id), patient_id, &current).await
    }
}

/// Whether the Patient resource `current` carries `identifier` (gdpr-core's
/// one rule: system and value byte for byte).
fn carries_identifier(current: crate::model::Resource, identifier: &FhirIdentifier) -> bool {
    serde_json::from_value::<Patient>(serde_json::Value::Object(current))
        .is_ok_and(|p| carries(&p, identifier))
}
