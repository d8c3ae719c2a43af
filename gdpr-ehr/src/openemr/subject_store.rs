//! [`SubjectStore`] for [`OpenEmrStore`]: locate and export as the FHIR
//! store does; erase what OpenEMR's DELETE routes cover and report the rest
//! exactly (never verified while anything remains, and with OpenEMR it
//! always does: no API deletes the patient); no restriction through the
//! API.

use std::path::Path;

use gdpr_connect::{Erasure, Outcome};
use gdpr_core::restriction::Restriction;
use gdpr_core::store::{
    DerivedPolicy, ErasureReport, ExportReport, RecordHandle, Remnant, RestrictionOutcome,
    StoreError, SubjectRef, SubjectStore, SystemIdentity, Verification,
};

use super::areas::{may_have_route, residue_reason};
use super::bulk;
use super::store::{Attempt, OpenEmrStore};
use crate::compartment::{Classification, patient_of};
use crate::store::{kind_of, record_id, resource_of};

/// Why a restriction cannot be marked through OpenEMR's APIs.
pub const RESTRICTION_UNSUPPORTED: &str = "OpenEMR's FHIR API does not write the patient's clinical resources and keeps no \
     meta.security labels, and its standard API has no restriction flag: restrict the patient \
     in OpenEMR itself (an administrator limits access through its access control lists) and \
     record the restriction in the request log";

#[async_trait::async_trait]
impl SubjectStore for OpenEmrStore {
    fn identity(&self) -> &SystemIdentity {
        self.fhir().system()
    }

    async fn locate(&self, subject: &SubjectRef) -> Result<Vec<RecordHandle>, StoreError> {
        let patient_id = self.fhir().existing_patient(subject).await?;
        let found = self.fhir().locate(subject).await?;
        self.remember(&found, &patient_id);
        Ok(found)
    }

    async fn export(
        &self,
        subject: &SubjectRef,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let fhir = self.fhir();
        let patient_id = fhir.existing_patient(subject).await?;
        // The bulk export only where it is limited to the patient (a Group
        // of the patient alone); else, and where the server refuses the
        // Group search, the per-type searches.
        let group = match bulk::one_patient_group(fhir.client(), &patient_id).await {
            Ok(group) => group,
            Err(StoreError::Protocol { .. }) => None,
            Err(e) => return Err(e),
        };
        let written = match group {
            Some(group) => {
                let outputs = bulk::run_job(fhir.client(), &group).await?;
                let mut files =
                    bulk::BulkFiles::new(fhir.client(), outputs, &patient_id, destination);
                fhir.write_export_from(&patient_id, destination, &mut files)
                    .await?
            }
            None => fhir.write_export(&patient_id, destination).await?,
        };
        fhir.report_export(written, destination).await
    }

    async fn erase_record(&self, record: &RecordHandle) -> Result<ErasureReport, StoreError> {
        let resource = resource_of(record)?;
        let (kind, id) = (
            resource.resource_type().as_str(),
            resource.logical_id().as_str(),
        );
        let mut erasure = Erasure::new();
        if resource.is_shared() {
            erasure.refuse(
                record.id().clone(),
                kind_of(kind),
                "never deleted: not the subject's alone",
            );
            return Ok(erasure.verified_by(Verification::new(Vec::new())));
        }
        let client = self.fhir().client();
        let Some(current) = client.read(kind, id).await? else {
            erasure.record(
                record.id().clone(),
                kind_of(kind),
                Outcome::Done { existed: false },
            );
            return Ok(erasure.verified_by(Verification::new(Vec::new())));
        };
        let Some(patient_id) = self.located_under(record.id()) else {
            let reason = "not located by this store: the patient it must belong to is unknown \
                          (locate the subject first); left in place";
            erasure.refuse(record.id().clone(), kind_of(kind), reason);
            return Ok(erasure.verified_by(Verification::new(Vec::new())));
        };
        if patient_of(&current, client.base().as_str()).as_deref() != Some(patient_id.as_str()) {
            let reason = "it no longer names exactly the patient it was located under (checked \
                          right before the deletion); left in place";
            erasure.refuse(record.id().clone(), kind_of(kind), reason);
            return Ok(erasure.verified_by(Verification::new(Vec::new())));
        }
        let mut left = Vec::new();
        match self.attempt(kind, id, &patient_id).await? {
            Attempt::Deleted(outcome) => {
                let done = matches!(outcome, Outcome::Done { existed: true });
                erasure.record(record.id().clone(), kind_of(kind), outcome);
                if client.read(kind, id).await?.is_some() {
                    let reason = "still readable after the deletion through OpenEMR's standard API";
                    left.push(Remnant::new(record.id().clone(), kind_of(kind)).with_reason(reason));
                } else if done {
                    let log = record_id("log", "deleted-rows")?;
                    let reason = super::areas::LOG_REASON;
                    left.push(Remnant::new(log, kind_of("log")).with_reason(reason));
                }
            }
            Attempt::NoRoute => {
                let reason = residue_reason(kind);
                left.push(Remnant::new(record.id().clone(), kind_of(kind)).with_reason(reason));
            }
        }
        Ok(erasure.verified_by(Verification::new(left)))
    }

    async fn erase_subject(
        &self,
        subject: &SubjectRef,
        _derived: DerivedPolicy, // OpenEMR makes no derived copies through its APIs.
    ) -> Result<ErasureReport, StoreError> {
        // OpenEMR deletes no patient: the Patient exists before and after.
        let patient_id = self.fhir().existing_patient(subject).await?;
        let mut erasure = Erasure::new();
        let (mut deleted, mut refused) = (Vec::new(), Vec::new());
        for found in self.fhir().records(&patient_id).await? {
            let Classification::Own(_) = found.class else {
                continue; // shared: never deleted; reported by the residue
            };
            let Attempt::Deleted(outcome) =
                self.attempt(&found.kind, &found.id, &patient_id).await?
            else {
                continue; // no route: reported by the residue
            };
            let id = record_id(&found.kind, &found.id)?;
            match &outcome {
                Outcome::Done { existed: true } => deleted.push(id.clone()),
                Outcome::Done { existed: false } => {}
                _ => refused.push(id.clone()),
            }
            erasure.record(id, kind_of(&found.kind), outcome);
        }
        let mut left = self.residue(&patient_id, &deleted).await?;
        // A refused record is reported once, as refused.
        left.retain(|remnant| !refused.contains(&remnant.id));
        Ok(erasure.verified_by(Verification::new(left)))
    }

    async fn verify_erasure(
        &self,
        subject: &SubjectRef,
        erased: &[RecordHandle],
    ) -> Result<Verification, StoreError> {
        let patient_id = self.fhir().existing_patient(subject).await?;
        // The records a DELETE route may have removed.
        let deleted: Vec<_> = erased
            .iter()
            .filter(|h| {
                h.as_resource()
                    .is_some_and(|r| !r.is_shared() && may_have_route(r.resource_type().as_str()))
            })
            .map(|h| h.id().clone())
            .collect();
        Ok(Verification::new(
            self.residue(&patient_id, &deleted).await?,
        ))
    }

    async fn restrict(
        &self,
        _subject: &SubjectRef,
        _restriction: &Restriction,
    ) -> Result<RestrictionOutcome, StoreError> {
        Ok(RestrictionOutcome::Unsupported {
            reason: RESTRICTION_UNSUPPORTED.into(),
        })
    }

    async fn lift_restriction(
        &self,
        _subject: &SubjectRef,
    ) -> Result<RestrictionOutcome, StoreError> {
        Ok(RestrictionOutcome::Unsupported {
            reason: RESTRICTION_UNSUPPORTED.into(),
        })
    }
}
