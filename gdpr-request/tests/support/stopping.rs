//! A file register that stops the process (see [`kill::stop`]) around
//! one of its objection writes, where no step boundary lies: the crash
//! tests kill the child there.

use std::path::PathBuf;

use gdpr_core::request::SystemName;
use gdpr_core::store::RecordId;
use gdpr_request::register::RestrictionEntry;
use gdpr_request::{FileRegister, ObjectionEntry, ObjectionRegister, RestrictionRegister};

use super::kill;

/// Which objection write [`Stopping`] stops at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopAt {
    /// Right after an objection (without grounds) was written, before the
    /// executor's step can be journaled done.
    ObjectionWritten,
    /// Right before the controller's grounds are written: `grounds.json`
    /// holds them, the register not yet.
    BeforeGrounds,
    /// Right after the grounds were written, before the step can be
    /// journaled done.
    GroundsWritten,
}

/// A [`FileRegister`] that stops at [`StopAt`].
pub struct Stopping {
    pub inner: FileRegister,
    pub marker: PathBuf,
    pub at: StopAt,
}

#[async_trait::async_trait]
impl RestrictionRegister for Stopping {
    async fn record(&self, entry: &RestrictionEntry) -> Result<(), gdpr_request::Error> {
        self.inner.record(entry).await
    }
    async fn in_force(
        &self,
        system: &SystemName,
        record: &RecordId,
    ) -> Result<Vec<RestrictionEntry>, gdpr_request::Error> {
        self.inner.in_force(system, record).await
    }
    fn objections(&self) -> Option<&dyn ObjectionRegister> {
        Some(self)
    }
}

#[async_trait::async_trait]
impl ObjectionRegister for Stopping {
    async fn record_objection(&self, entry: &ObjectionEntry) -> Result<(), gdpr_request::Error> {
        let grounds = entry.objection.overridden_by.is_some();
        if grounds && self.at == StopAt::BeforeGrounds {
            kill::stop(&self.marker, "before the grounds' register write");
        }
        self.inner.record_objection(entry).await?;
        match self.at {
            StopAt::ObjectionWritten if !grounds => kill::stop(&self.marker, "inside register"),
            StopAt::GroundsWritten if grounds => {
                kill::stop(&self.marker, "after the grounds' register write")
            }
            _ => {}
        }
        Ok(())
    }
    async fn objections_of(
        &self,
        subject: &RecordId,
    ) -> Result<Vec<ObjectionEntry>, gdpr_request::Error> {
        self.inner.objections_of(subject).await
    }
}
