//! The storage interface: what every system that holds a data subject's
//! records (a PACS, a folder of DICOM files, an EHR) must offer so that
//! access and portability (GDPR Art. 15, 20) and erasure (Art. 17) can act on
//! it.
//!
//! This module holds types and the [`SubjectStore`] trait only; it performs no
//! I/O. Implementations live in the crates of their domain (`gdpr-dicom`'s
//! folder, Orthanc, DICOMweb and dcm4chee adapters; `gdpr-ehr`), and
//! hosts hold them as `Box<dyn SubjectStore>`.
//!
//! Two guarantees every implementation keeps:
//! - an [`ErasureReport`] never lists as erased what verification did not
//!   confirm gone (the report is built by [`ErasureReport::reconcile`], which
//!   moves anything verification still found into `left`), and is never
//!   verified while a stored record could not be read: such a record is
//!   reported as an [`UnreadableItem`] (as [`UnreadableStatus::Left`] when
//!   the subject's identifier is found in its bytes), never skipped;
//! - nothing identifying (patient ID, name, UID) appears in a
//!   [`StoreError`], a log line or `Debug` output.
//!
//! ```
//! use gdpr_core::store::{ErasedItem, ErasureReport, RecordId, Remnant, ResourceKind, Verification};
//!
//! # fn main() -> Result<(), gdpr_core::Error> {
//! let study = |id: &str| -> Result<ErasedItem, gdpr_core::Error> {
//!     Ok(ErasedItem { id: RecordId::new(id)?, kind: ResourceKind::Study, already_absent: false })
//! };
//! // The adapter deleted two studies, but verification still finds one.
//! let still_there = Remnant { id: RecordId::new("s2")?, kind: ResourceKind::Study, derived_from: None, reason: None };
//! let report = ErasureReport::reconcile(
//!     vec![study("s1")?, study("s2")?],
//!     vec![],
//!     Verification::new(vec![still_there]),
//! );
//! assert_eq!(report.erased().len(), 1);
//! assert_eq!(report.left().len(), 1);
//! assert!(!report.is_verified());
//! # Ok(()) }
//! ```

mod attempt;
mod error;
mod export;
mod handle;
mod items;
mod not_checked;
mod outcome;
mod record;
mod restrict;
mod subject_ref;
mod unreadable;

use std::path::Path;

pub use crate::retention::Modality;
pub use attempt::ErasureAttempt;
pub use error::{ProtocolCause, StoreError};
pub use export::{ExportManifest, ExportReport, ExportedFile, ExportedRecord, ExportedStudy};
pub use handle::{RecordId, StudyHandle, StudyUid, SystemIdentity};
pub use items::{Item, ItemOutcome, ItemStatus};
pub use not_checked::NotChecked;
pub use outcome::{
    DerivedPolicy, ErasedItem, ErasureReport, Refusal, Remnant, ResourceKind, Verification,
};
pub use record::{RecordHandle, ResourceHandle, ResourceType};
pub use restrict::RestrictionOutcome;
pub use subject_ref::{FhirId, FhirIdentifier, FhirSubject, SubjectRef};
pub use unreadable::{UnreadableCause, UnreadableItem, UnreadableStatus};

use crate::restriction::Restriction;

/// A system that holds records about data subjects — a PACS, a folder of
/// DICOM files, an EHR or any FHIR server — and can find, export, erase,
/// restrict and prove the erasure of them.
///
/// The subject is named the way the system knows it ([`SubjectRef`]: a
/// DICOM Patient ID with issuer, a FHIR identifier or logical id); a system
/// given another kind answers [`StoreError::UnsupportedSubject`]. What it
/// holds comes back as [`RecordHandle`]s (an imaging study, an EHR record),
/// each with its record category and the dates retention needs.
///
/// Object-safe (`Box<dyn SubjectStore>`), `Send + Sync`. Every method is
/// idempotent in effect: erasing what is already gone is not an error but an
/// [`ErasedItem`] marked `already_absent`, so an erasure interrupted half-way
/// can simply be run again.
#[async_trait::async_trait]
pub trait SubjectStore: Send + Sync {
    /// Who this system is, for audit records and reports. Contains no
    /// credentials.
    fn identity(&self) -> &SystemIdentity;

    /// Everything the system holds about `subject`: one handle per study or
    /// record, with the dates and record category that retention needs.
    /// Matches the subject exactly ([`crate::subject::PatientId::matches_stored`],
    /// [`FhirIdentifier::matches`]); a server's lookup or search is only a
    /// hint.
    ///
    /// # Errors
    /// [`StoreError::Transient`] when the system stayed unreachable after
    /// bounded retries, [`StoreError::Protocol`] for answers that could not be
    /// understood, [`StoreError::Configuration`] for bad settings,
    /// [`StoreError::UnsupportedSubject`] for a subject named another way.
    async fn locate(&self, subject: &SubjectRef) -> Result<Vec<RecordHandle>, StoreError>;

    /// Copies everything held about `subject` into `destination` (a
    /// directory, created if missing), with file names that contain no
    /// patient value, and writes a `manifest.json` describing it.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`], plus [`StoreError::Local`] when the
    /// destination cannot be written.
    async fn export(
        &self,
        subject: &SubjectRef,
        destination: &Path,
    ) -> Result<ExportReport, StoreError>;

    /// Erases one record (a handle from this system's `locate`), then
    /// verifies that it is gone.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`]; [`StoreError::Refused`] when the system
    /// refuses (for instance a retention lock);
    /// [`StoreError::UnsupportedRecord`] for a handle of another kind of
    /// system.
    async fn erase_record(&self, record: &RecordHandle) -> Result<ErasureReport, StoreError>;

    /// Erases several records of `subject` (handles from this system's
    /// `locate`), each re-checked right before its deletion exactly as
    /// [`SubjectStore::erase_record`] does it (and, where the handle alone
    /// cannot tell, that it is still `subject`'s, by the one matching rule),
    /// derived copies handled once for all of them. Reports what was
    /// attempted, not what is gone: the caller verifies afterwards with
    /// [`SubjectStore::verify_erasure`] and reconciles
    /// ([`ErasureAttempt::verified_by`]).
    ///
    /// The default erases one record after the other with
    /// [`SubjectStore::erase_record`]; adapters whose per-record erasure
    /// repeats work for every record (a scan of the server for derived
    /// copies) override it.
    ///
    /// # Errors
    /// As [`SubjectStore::erase_record`]; a record the re-check finds
    /// changed is a [`Refusal`] in the attempt, not an error.
    async fn erase_records(
        &self,
        subject: &SubjectRef,
        records: &[RecordHandle],
    ) -> Result<ErasureAttempt, StoreError> {
        let _ = subject;
        let mut attempt = ErasureAttempt::default();
        for record in records {
            attempt.absorb(&self.erase_record(record).await?);
        }
        Ok(attempt)
    }

    /// Erases everything held about `subject` (records, then the patient
    /// record once empty) and derived copies according to `derived`, then
    /// verifies. What the system keeps (shared records, history versions,
    /// areas it offers no deletion for) is reported as left, with the reason.
    ///
    /// # Errors
    /// As [`SubjectStore::erase_record`]. Refusals of single records are
    /// reported in the [`ErasureReport`] rather than as an error.
    async fn erase_subject(
        &self,
        subject: &SubjectRef,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError>;

    /// Checks that nothing of `subject` remains, and that no derived copy
    /// (anonymised or modified from one of `erased`) is left.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`].
    async fn verify_erasure(
        &self,
        subject: &SubjectRef,
        erased: &[RecordHandle],
    ) -> Result<Verification, StoreError>;

    /// Marks `subject` restricted (GDPR Art. 18) on the system, where the
    /// system can carry such a mark, and reads the mark back. A system
    /// without one answers [`RestrictionOutcome::Unsupported`]: the caller
    /// then keeps the restriction in its own register.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`].
    async fn restrict(
        &self,
        subject: &SubjectRef,
        restriction: &Restriction,
    ) -> Result<RestrictionOutcome, StoreError>;

    /// Removes the restriction mark of `subject` (Art. 18(3): the subject is
    /// informed before it is lifted) and checks that it is gone.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`].
    async fn lift_restriction(
        &self,
        subject: &SubjectRef,
    ) -> Result<RestrictionOutcome, StoreError>;
}

/// A boxed store is a store, so wrappers (audit, caching) accept
/// `Box<dyn SubjectStore>` as well as concrete adapters.
#[async_trait::async_trait]
impl<T: SubjectStore + ?Sized> SubjectStore for Box<T> {
    fn identity(&self) -> &SystemIdentity {
        (**self).identity()
    }

    async fn locate(&self, subject: &SubjectRef) -> Result<Vec<RecordHandle>, StoreError> {
        (**self).locate(subject).await
    }

    async fn export(
        &self,
        subject: &SubjectRef,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        (**self).export(subject, destination).await
    }

    async fn erase_record(&self, record: &RecordHandle) -> Result<ErasureReport, StoreError> {
        (**self).erase_record(record).await
    }

    async fn erase_records(
        &self,
        subject: &SubjectRef,
        records: &[RecordHandle],
    ) -> Result<ErasureAttempt, StoreError> {
        (**self).erase_records(subject, records).await
    }

    async fn erase_subject(
        &self,
        subject: &SubjectRef,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        (**self).erase_subject(subject, derived).await
    }

    async fn verify_erasure(
        &self,
        subject: &SubjectRef,
        erased: &[RecordHandle],
    ) -> Result<Verification, StoreError> {
        (**self).verify_erasure(subject, erased).await
    }

    async fn restrict(
        &self,
        subject: &SubjectRef,
        restriction: &Restriction,
    ) -> Result<RestrictionOutcome, StoreError> {
        (**self).restrict(subject, restriction).await
    }

    async fn lift_restriction(
        &self,
        subject: &SubjectRef,
    ) -> Result<RestrictionOutcome, StoreError> {
        (**self).lift_restriction(subject).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The trait must stay object-safe and thread-safe: hosts hold
    // `Box<dyn SubjectStore>` across tasks.
    #[test]
    fn trait_objects_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + ?Sized>() {}
        assert_send_sync::<dyn SubjectStore>();
        let _: Option<Box<dyn SubjectStore>> = None;
    }
}
