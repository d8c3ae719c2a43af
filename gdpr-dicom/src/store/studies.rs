//! The DICOM side of `SubjectStore`: every adapter here knows its subjects
//! by Patient ID (and issuer) and holds imaging studies. [`StudyStore`] is
//! that narrower contract; `subject_store!` turns it into the
//! `SubjectStore` the rest of the family uses, refusing FHIR subjects and
//! non-study handles with typed errors, so the four adapters share one
//! translation.

use std::path::Path;

use async_trait::async_trait;
use std::collections::BTreeMap;

use gdpr_core::restriction::Restriction;
use gdpr_core::store::RestrictionOutcome;
use gdpr_core::store::{
    DerivedPolicy, ErasureAttempt, ErasureReport, ExportReport, NotChecked, RecordId, Remnant,
    ResourceKind, StoreError, StudyHandle, Verification,
};
use gdpr_core::subject::PatientId;

/// The DICOM-typed view of a store: subjects named by Patient ID (and
/// issuer), records that are studies. Every adapter of this crate
/// implements it, and [`SubjectStore`] on top of it; hosts that act on EHRs
/// and PACS alike use [`SubjectStore`], code that deals only with DICOM may
/// use this view to get [`StudyHandle`]s directly. Both run the same code.
///
/// [`SubjectStore`]: gdpr_core::store::SubjectStore
#[async_trait]
pub trait StudyStore: Send + Sync {
    /// Why the store cannot mark a subject restricted (Art. 18), in words.
    const NO_RESTRICTION_MARK: &'static str;

    /// The subject's studies (`SubjectStore::locate`).
    async fn find_studies(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError>;

    /// `SubjectStore::export`.
    async fn export_studies(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError>;

    /// `SubjectStore::erase_record` for a study.
    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError>;

    /// `SubjectStore::erase_records`: by default one
    /// [`StudyStore::erase_study`] after the other.
    async fn erase_studies(
        &self,
        subject: &PatientId,
        studies: &[StudyHandle],
    ) -> Result<ErasureAttempt, StoreError> {
        let _ = subject;
        let mut attempt = ErasureAttempt::default();
        for study in studies {
            attempt.absorb(&self.erase_study(study).await?);
        }
        Ok(attempt)
    }

    /// `SubjectStore::erase_subject`.
    async fn erase_patient(
        &self,
        subject: &PatientId,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError>;

    /// `SubjectStore::verify_erasure`.
    async fn verify_studies_gone(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError>;

    /// `SubjectStore::restrict` (`Some`) and `lift_restriction` (`None`):
    /// by default the store cannot mark a restriction and says why
    /// ([`StudyStore::NO_RESTRICTION_MARK`]).
    async fn mark_restricted(
        &self,
        subject: &PatientId,
        restriction: Option<&Restriction>,
    ) -> Result<RestrictionOutcome, StoreError> {
        let _ = (subject, restriction);
        Ok(RestrictionOutcome::Unsupported {
            reason: Self::NO_RESTRICTION_MARK.to_owned(),
        })
    }
}

/// The studies a verification still finds, each once (a study can be seen
/// both by a search for the subject and by its UID).
#[derive(Default)]
pub(crate) struct StillThere(BTreeMap<RecordId, Remnant>);

impl StillThere {
    /// Notes that `study` is still there.
    pub(crate) fn study(&mut self, study: &StudyHandle) {
        self.0
            .entry(study.id().clone())
            .or_insert_with(|| Remnant::new(study.id().clone(), ResourceKind::Study));
    }

    /// Whether `study` is already noted.
    pub(crate) fn has(&self, study: &StudyHandle) -> bool {
        self.0.contains_key(study.id())
    }

    /// The verification of a store that cannot find derived copies (no
    /// provenance): never confirmed, it says so.
    pub(crate) fn derived_copies_not_checked(self) -> Verification {
        Verification::new(self.0.into_values().collect())
            .with_not_checked(NotChecked::DerivedCopies)
    }
}

/// The studies among `records` (a DICOM store's own handles are all
/// studies).
///
/// # Errors
/// [`StoreError::UnsupportedRecord`] for any other kind of record.
pub(crate) fn studies_of(
    records: &[gdpr_core::store::RecordHandle],
) -> Result<Vec<StudyHandle>, StoreError> {
    records.iter().map(|r| r.study().cloned()).collect()
}

/// Implements `SubjectStore` for a [`StudyStore`] whose `identity` is
/// given by the expression `$identity` (on `self`).
macro_rules! subject_store {
    ($store:ty, |$this:ident| $identity:expr) => {
        #[async_trait::async_trait]
        impl gdpr_core::store::SubjectStore for $store {
            fn identity(&self) -> &gdpr_core::store::SystemIdentity {
                let $this = self;
                $identity
            }

            async fn locate(
                &self,
                subject: &gdpr_core::store::SubjectRef,
            ) -> Result<Vec<gdpr_core::store::RecordHandle>, gdpr_core::store::StoreError> {
                let studies = <Self as $crate::store::studies::StudyStore>::find_studies(
                    self,
                    subject.dicom()?,
                )
                .await?;
                Ok(studies.into_iter().map(Into::into).collect())
            }

            async fn export(
                &self,
                subject: &gdpr_core::store::SubjectRef,
                destination: &std::path::Path,
            ) -> Result<gdpr_core::store::ExportReport, gdpr_core::store::StoreError> {
                <Self as $crate::store::studies::StudyStore>::export_studies(
                    self,
                    subject.dicom()?,
                    destination,
                )
                .await
            }

            async fn erase_record(
                &self,
                record: &gdpr_core::store::RecordHandle,
            ) -> Result<gdpr_core::store::ErasureReport, gdpr_core::store::StoreError> {
                <Self as $crate::store::studies::StudyStore>::erase_study(self, record.study()?)
                    .await
            }

            async fn erase_records(
                &self,
                subject: &gdpr_core::store::SubjectRef,
                records: &[gdpr_core::store::RecordHandle],
            ) -> Result<gdpr_core::store::ErasureAttempt, gdpr_core::store::StoreError> {
                let studies = $crate::store::studies::studies_of(records)?;
                <Self as $crate::store::studies::StudyStore>::erase_studies(
                    self,
                    subject.dicom()?,
                    &studies,
                )
                .await
            }

            async fn erase_subject(
                &self,
                subject: &gdpr_core::store::SubjectRef,
                derived: gdpr_core::store::DerivedPolicy,
            ) -> Result<gdpr_core::store::ErasureReport, gdpr_core::store::StoreError> {
                <Self as $crate::store::studies::StudyStore>::erase_patient(
                    self,
                    subject.dicom()?,
                    derived,
                )
                .await
            }

            async fn verify_erasure(
                &self,
                subject: &gdpr_core::store::SubjectRef,
                erased: &[gdpr_core::store::RecordHandle],
            ) -> Result<gdpr_core::store::Verification, gdpr_core::store::StoreError> {
                let studies = $crate::store::studies::studies_of(erased)?;
                <Self as $crate::store::studies::StudyStore>::verify_studies_gone(
                    self,
                    subject.dicom()?,
                    &studies,
                )
                .await
            }

            async fn restrict(
                &self,
                subject: &gdpr_core::store::SubjectRef,
                restriction: &gdpr_core::restriction::Restriction,
            ) -> Result<gdpr_core::store::RestrictionOutcome, gdpr_core::store::StoreError> {
                <Self as $crate::store::studies::StudyStore>::mark_restricted(
                    self,
                    subject.dicom()?,
                    Some(restriction),
                )
                .await
            }

            async fn lift_restriction(
                &self,
                subject: &gdpr_core::store::SubjectRef,
            ) -> Result<gdpr_core::store::RestrictionOutcome, gdpr_core::store::StoreError> {
                <Self as $crate::store::studies::StudyStore>::mark_restricted(
                    self,
                    subject.dicom()?,
                    None,
                )
                .await
            }
        }
    };
}

pub(crate) use subject_store;
