//! The storage interface: what every system that holds a data subject's
//! records (a PACS, a folder of DICOM files, an EHR) must offer so that
//! access and portability (GDPR Art. 15, 20) and erasure (Art. 17) can act on
//! it.
//!
//! This module holds types and the [`SubjectStore`] trait only; it performs no
//! I/O. Implementations live in the crates of their domain (`gdpr-dicom`'s
//! folder, Orthanc, DICOMweb and dcm4chee adapters; `gdpr-ehr` later), and
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
//! let still_there = Remnant { id: RecordId::new("s2")?, kind: ResourceKind::Study, derived_from: None };
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

mod error;
mod handle;
mod not_checked;
mod outcome;
mod unreadable;

use std::path::Path;

pub use crate::retention::Modality;
pub use error::{ProtocolCause, StoreError};
pub use handle::{RecordId, StudyHandle, StudyUid, SystemIdentity};
pub use not_checked::NotChecked;
pub use outcome::{
    DerivedPolicy, ErasedItem, ErasureReport, ExportManifest, ExportReport, ExportedFile,
    ExportedStudy, Refusal, Remnant, ResourceKind, Verification,
};
pub use unreadable::{UnreadableCause, UnreadableItem, UnreadableStatus};

use crate::subject::PatientId;

/// A system that holds records about data subjects and can find, export,
/// erase and prove the erasure of them.
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

    /// Everything the system holds about `subject`: one handle per study,
    /// with the dates, modalities and record category that retention needs.
    /// Matches the patient identifier exactly, and the issuer when the
    /// identifier has one.
    ///
    /// # Errors
    /// [`StoreError::Transient`] when the system stayed unreachable after
    /// bounded retries, [`StoreError::Protocol`] for answers that could not be
    /// understood, [`StoreError::Configuration`] for bad settings.
    async fn locate(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError>;

    /// Copies everything held about `subject` into `destination` (a
    /// directory, created if missing), with file names that contain no
    /// patient value, and writes a `manifest.json` describing it.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`], plus [`StoreError::Local`] when the
    /// destination cannot be written.
    async fn export(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError>;

    /// Erases one study, then verifies that it is gone.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`]; [`StoreError::Refused`] when the system
    /// refuses (for instance a retention lock).
    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError>;

    /// Erases everything held about `subject` (studies, then the patient
    /// record once empty) and derived copies according to `derived`, then
    /// verifies.
    ///
    /// # Errors
    /// As [`SubjectStore::erase_study`]. Refusals of single studies are
    /// reported in the [`ErasureReport`] rather than as an error.
    async fn erase_subject(
        &self,
        subject: &PatientId,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError>;

    /// Checks that nothing of `subject` remains, and that no derived copy
    /// (anonymised or modified from one of `erased`) is left.
    ///
    /// # Errors
    /// As [`SubjectStore::locate`].
    async fn verify_erasure(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError>;
}

/// A boxed store is a store, so wrappers (audit, caching) accept
/// `Box<dyn SubjectStore>` as well as concrete adapters.
#[async_trait::async_trait]
impl<T: SubjectStore + ?Sized> SubjectStore for Box<T> {
    fn identity(&self) -> &SystemIdentity {
        (**self).identity()
    }

    async fn locate(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        (**self).locate(subject).await
    }

    async fn export(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        (**self).export(subject, destination).await
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        (**self).erase_study(study).await
    }

    async fn erase_subject(
        &self,
        subject: &PatientId,
        derived: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        (**self).erase_subject(subject, derived).await
    }

    async fn verify_erasure(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        (**self).verify_erasure(subject, erased).await
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
