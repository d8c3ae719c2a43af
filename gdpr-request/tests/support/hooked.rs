//! A folder store with a hook around each record erasure: to make a system
//! fail, or to stop the process right after an erasure took effect.

use std::path::Path;
use std::sync::Arc;

use gdpr_core::restriction::Restriction;
use gdpr_core::store::{
    DerivedPolicy, ErasureReport, ExportReport, RecordHandle, RestrictionOutcome, StoreError,
    SubjectRef, SubjectStore, SystemIdentity, Verification,
};
use gdpr_dicom::store::FolderStore;

/// When the hook is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Before the erasure (an error here fails it without effect).
    Before,
    /// After it took effect (an error here hides the effect).
    After,
}

/// The hook.
pub type EraseHook = Arc<dyn Fn(When) -> Result<(), StoreError> + Send + Sync>;

/// A folder store whose `erase_record` calls `hook` before and after.
pub struct Hooked {
    pub inner: FolderStore,
    pub hook: EraseHook,
}

#[async_trait::async_trait]
impl SubjectStore for Hooked {
    fn identity(&self) -> &SystemIdentity {
        self.inner.identity()
    }
    async fn locate(&self, s: &SubjectRef) -> Result<Vec<RecordHandle>, StoreError> {
        self.inner.locate(s).await
    }
    async fn export(&self, s: &SubjectRef, d: &Path) -> Result<ExportReport, StoreError> {
        self.inner.export(s, d).await
    }
    async fn erase_record(&self, r: &RecordHandle) -> Result<ErasureReport, StoreError> {
        (self.hook)(When::Before)?;
        let report = self.inner.erase_record(r).await?;
        (self.hook)(When::After)?;
        Ok(report)
    }
    async fn erase_subject(
        &self,
        s: &SubjectRef,
        d: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        self.inner.erase_subject(s, d).await
    }
    async fn verify_erasure(
        &self,
        s: &SubjectRef,
        e: &[RecordHandle],
    ) -> Result<Verification, StoreError> {
        self.inner.verify_erasure(s, e).await
    }
    async fn restrict(
        &self,
        s: &SubjectRef,
        r: &Restriction,
    ) -> Result<RestrictionOutcome, StoreError> {
        self.inner.restrict(s, r).await
    }
    async fn lift_restriction(&self, s: &SubjectRef) -> Result<RestrictionOutcome, StoreError> {
        self.inner.lift_restriction(s).await
    }
}
