//! [`SubjectStore`] for [`FhirStore`]: the subject named by a FHIR
//! identifier or logical id ([`SubjectRef::Fhir`]), records as
//! [`ResourceHandle`]s, the erasure reconciled with a fresh check of what
//! is left (gdpr-connect's [`Erasure`]), the restriction as a security label.

use std::path::Path;

use gdpr_connect::{Erasure, Outcome, blocking};
use gdpr_core::restriction::Restriction;
use gdpr_core::store::{
    DerivedPolicy, ErasureAttempt, ErasureReport, ExportManifest, ExportReport, ExportedFile,
    ExportedRecord, FhirId, FhirSubject, RecordHandle, RecordId, Remnant, ResourceHandle,
    ResourceKind, ResourceType, RestrictionOutcome, StoreError, SubjectRef, SubjectStore,
    SystemIdentity, Verification,
};

use super::erase::{Left, erase_read, what_is_left};
use super::fhir::{FhirStore, Found, Written};
use super::label::{LABEL_CODE, LABEL_SYSTEM, set_label};
use super::resolve::resolve;
use super::unlink::{is_unlinkable, unlinked_part, what_is_left_linked};
use crate::client::invalid;
use crate::compartment::{Classification, mentions_patient, patient_of};
use crate::export::write_manifest;

const OP: &str = "map FHIR resources to records";

impl FhirStore {
    /// The logical id of the subject's Patient, which must exist.
    pub(crate) async fn existing_patient(
        &self,
        subject: &SubjectRef,
    ) -> Result<String, StoreError> {
        let patient = resolve(self.client(), subject.fhir()?).await?;
        patient
            .id
            .ok_or_else(|| invalid(OP, "the server sent a Patient without an id"))
    }

    /// The Patient's logical id for an erasure or its check: the one
    /// matching Patient, or the logical id as given when that Patient
    /// exists or existed (its `_history` knows it: it may be gone while
    /// records still point at it). A logical id the server never knew is
    /// `NotFound`, so a mistyped id never reads as a finished erasure.
    async fn patient_id(&self, subject: &SubjectRef) -> Result<String, StoreError> {
        let FhirSubject::LogicalId(id) = subject.fhir()? else {
            return self.existing_patient(subject).await;
        };
        let id = id.as_str();
        if self.client().read("Patient", id).await?.is_some()
            || !self.client().history("Patient", id).await?.is_empty()
        {
            return Ok(id.to_owned());
        }
        Err(StoreError::NotFound {
            what: "a Patient with the given logical id (now or in its history)",
        })
    }

    /// Marks (`on`) or unmarks the Patient and its own records, each read
    /// back.
    async fn label_all(&self, subject: &SubjectRef, on: bool) -> Result<u64, StoreError> {
        let patient_id = self.existing_patient(subject).await?;
        let mut marked = 0;
        for found in self.records(&patient_id).await? {
            if matches!(found.class, Classification::Own(_))
                && set_label(self.client(), &found.kind, &found.id, on).await?
            {
                marked += 1;
            }
        }
        Ok(marked)
    }
}

impl FhirStore {
    /// The manifest of what [`FhirStore::write_export_from`] wrote, written
    /// last (the export is complete only then), and the report.
    ///
    /// # Errors
    /// [`StoreError::Local`] when the manifest cannot be written.
    pub async fn report_export(
        &self,
        written: Written,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let mut manifest = ExportManifest::new(self.system().clone(), jiff::Timestamp::now());
        for record in &written.found {
            manifest
                .records
                .push(ExportedRecord::from_handle(&handle(record)?));
        }
        manifest.files = written
            .files
            .into_iter()
            .map(|f| ExportedFile {
                path: f.name,
                bytes: f.bytes,
                sha256: f.sha256,
            })
            .collect();
        let dir = destination.to_owned();
        // Moved to the worker and back (no copy: it lists every record).
        let manifest = blocking("export worker", move || {
            write_manifest(&dir, &manifest).map(|()| manifest)
        })
        .await?;
        let mut report = ExportReport::from_manifest(manifest);
        report.unreadable = written.not_exported;
        Ok(report)
    }
}

/// The handle of a classified resource.
fn handle(found: &Found) -> Result<ResourceHandle, StoreError> {
    let kind = ResourceType::new(&found.kind)
        .map_err(|_| invalid(OP, "the server sent a malformed resource type"))?;
    let id = FhirId::new(&found.id)
        .map_err(|_| invalid(OP, "the server sent a malformed logical id"))?;
    Ok(match &found.class {
        Classification::Own(own) => own.dates.iter().fold(
            ResourceHandle::new(kind, id, own.category),
            |h, (fact, date)| h.with_date(*fact, *date),
        ),
        // Not the subject's alone: listed under the record they appear in.
        _ => ResourceHandle::new(kind, id, gdpr_core::category::RecordCategory::PatientRecord)
            .shared(),
    })
}

/// The FHIR resource `record` names; any other kind of record (a study)
/// is a caller's error.
pub(crate) fn resource_of(record: &RecordHandle) -> Result<&ResourceHandle, StoreError> {
    record
        .as_resource()
        .ok_or_else(|| StoreError::UnsupportedRecord {
            expected: "a FHIR resource",
            given: record.kind_name(),
        })
}

pub(crate) fn kind_of(resource_type: &str) -> ResourceKind {
    if resource_type == "Patient" {
        ResourceKind::Patient
    } else {
        ResourceKind::Record
    }
}

pub(crate) fn record_id(kind: &str, id: &str) -> Result<RecordId, StoreError> {
    RecordId::new(format!("{kind}:{id}")).map_err(|_| {
        invalid(
            OP,
            "the server sent a malformed resource type or logical id",
        )
    })
}

/// What is left, as gdpr-core's remnants with their reasons.
fn remnants(left: Vec<Left>) -> Result<Verification, StoreError> {
    let remaining = left
        .into_iter()
        .map(|l| {
            let remnant = Remnant::new(record_id(&l.kind, &l.id)?, kind_of(&l.kind));
            Ok(remnant.with_reason(l.reason))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Verification::new(remaining))
}

fn mark() -> String {
    format!("{LABEL_SYSTEM}|{LABEL_CODE}")
}

#[async_trait::async_trait]
impl SubjectStore for FhirStore {
    fn identity(&self) -> &SystemIdentity {
        self.system()
    }

    async fn locate(&self, subject: &SubjectRef) -> Result<Vec<RecordHandle>, StoreError> {
        let patient_id = self.existing_patient(subject).await?;
        let records = self.records(&patient_id).await?;
        records.iter().map(|f| handle(f).map(Into::into)).collect()
    }

    async fn export(
        &self,
        subject: &SubjectRef,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let patient_id = self.existing_patient(subject).await?;
        let written = self.write_export(&patient_id, destination).await?;
        self.report_export(written, destination).await
    }

    async fn erase_record(&self, record: &RecordHandle) -> Result<ErasureReport, StoreError> {
        let resource = resource_of(record)?;
        let (kind, id) = (
            resource.resource_type().as_str(),
            resource.logical_id().as_str(),
        );
        let mut erasure = Erasure::new();
        let kind_of_record = kind_of(kind);
        if resource.is_shared() {
            erasure.refuse(
                record.id().clone(),
                kind_of_record,
                "never deleted: not the subject's alone",
            );
            return Ok(erasure.verified_by(Verification::new(Vec::new())));
        }
        let outcome = match self.client().read(kind, id).await? {
            None => Outcome::Done { existed: false },
            Some(current) => match patient_of(&current, self.client().base().as_str()) {
                Some(patient_id) => {
                    erase_read(self.client(), (kind, id), &patient_id, &current).await?
                }
                None => Outcome::Refused(
                    "it does not name exactly one patient as its own (checked right before the \
                     deletion); left in place"
                        .into(),
                ),
            },
        };
        erasure.record(record.id().clone(), kind_of_record, outcome);
        let left = what_is_left(self.client(), kind, id).await?;
        Ok(erasure.verified_by(remnants(left.into_iter().collect())?))
    }

    async fn erase_records(
        &self,
        subject: &SubjectRef,
        records: &[RecordHandle],
    ) -> Result<ErasureAttempt, StoreError> {
        self.erase_batch(subject, records).await
    }

    async fn erase_subject(
        &self,
        subject: &SubjectRef,
        _derived: DerivedPolicy, // FHIR servers make no derived copies of a patient.
    ) -> Result<ErasureReport, StoreError> {
        let patient_id = self.patient_id(subject).await?;
        let mut erasure = Erasure::new();
        let (mut deleted, mut unlinked, mut refused) = (Vec::new(), Vec::new(), Vec::new());
        for (found, outcome) in self.delete_all(&patient_id).await? {
            let shared = matches!(found.class, Classification::Shared { .. });
            let mut kind = found.kind.clone();
            match outcome {
                // The patient's part removed, the resource kept: reported
                // as its part (`Group.member:{id}`).
                Outcome::Done { .. } if shared => {
                    kind = unlinked_part(&found.kind).unwrap_or("shared").to_owned();
                    unlinked.push((found.kind.clone(), found.id.clone(), kind.clone()));
                }
                Outcome::Done { .. } => deleted.push((kind.clone(), found.id.clone())),
                _ => refused.push((kind.clone(), found.id.clone())),
            }
            erasure.record(record_id(&kind, &found.id)?, kind_of(&kind), outcome);
        }
        let mut left = self.left_over(&patient_id, &deleted).await?;
        for (kind, id, part) in &unlinked {
            left.extend(what_is_left_linked(self.client(), kind, id, &patient_id, part).await?);
        }
        // A refused record is reported once, as refused.
        left.retain(|l| !refused.iter().any(|(k, i)| *k == l.kind && *i == l.id));
        Ok(erasure.verified_by(remnants(left)?))
    }

    async fn verify_erasure(
        &self,
        subject: &SubjectRef,
        erased: &[RecordHandle],
    ) -> Result<Verification, StoreError> {
        let patient_id = match self.patient_id(subject).await {
            // Named by identifier, the erased Patient is found no more; its
            // records may still point at its logical id, which the located
            // (now erased) Patient handle gives.
            Err(StoreError::NotFound { what }) => {
                erased_patient(erased).ok_or(StoreError::NotFound { what })?
            }
            other => other?,
        };
        let (shared, own): (Vec<_>, Vec<_>) = erased
            .iter()
            .filter_map(RecordHandle::as_resource)
            .partition(|r| r.is_shared());
        let pair = |r: &&ResourceHandle| {
            let kind = r.resource_type().as_str().to_owned();
            (kind, r.logical_id().as_str().to_owned())
        };
        let deleted: Vec<(String, String)> = own.iter().map(pair).collect();
        let mut left = self.left_over(&patient_id, &deleted).await?;
        // Shared records are never deleted: left while they still name the
        // subject (once, if the compartment search found them too).
        for (kind, id) in shared.iter().map(pair) {
            if left.iter().any(|l| l.kind == kind && l.id == id) {
                continue;
            }
            if is_unlinkable(&kind) {
                let linked = what_is_left_linked(self.client(), &kind, &id, &patient_id, &kind);
                left.extend(linked.await?);
                continue;
            }
            let current = self.client().read(&kind, &id).await?;
            // A Binary names no patient, but it is the subject's document.
            let named =
                |r: &crate::model::Resource| kind == "Binary" || mentions_patient(r, &patient_id);
            if current.is_some_and(|r| named(&r)) {
                let reason = "never deleted: not the subject's alone".into();
                left.push(Left { kind, id, reason });
            }
        }
        remnants(left)
    }

    async fn restrict(
        &self,
        subject: &SubjectRef,
        _restriction: &Restriction,
    ) -> Result<RestrictionOutcome, StoreError> {
        let records = self.label_all(subject, true).await?;
        Ok(RestrictionOutcome::Marked {
            mark: mark(),
            records,
        })
    }

    async fn lift_restriction(
        &self,
        subject: &SubjectRef,
    ) -> Result<RestrictionOutcome, StoreError> {
        let records = self.label_all(subject, false).await?;
        Ok(RestrictionOutcome::Marked {
            mark: mark(),
            records,
        })
    }
}

/// The logical id of the one Patient among `erased` (none, or several:
/// `None`).
pub(super) fn erased_patient(erased: &[RecordHandle]) -> Option<String> {
    let mut patients = erased
        .iter()
        .filter_map(RecordHandle::as_resource)
        .filter(|r| r.resource_type().as_str() == "Patient");
    let first = patients.next()?;
    patients
        .next()
        .is_none()
        .then(|| first.logical_id().as_str().to_owned())
}
