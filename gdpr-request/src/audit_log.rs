//! The audit log a request's own records go to, whatever stores it: the
//! embedded [`AuditLog`] (a directory) or a shared one (gdpr-postgres's
//! `PgAuditLog`). The executor records every transition and store
//! operation through this trait, reads the subject's own records through
//! it (summary, recipients) and shreds the subject's key with it.

use gdpr_audit::record::Hash;
use gdpr_audit::seal::KeyId;
use gdpr_audit::store::{AuditStore, EntrySource};
use gdpr_audit::{AuditEvent, AuditLog, AuditSink, KeyStore, Receipt};

use gdpr_core::subject::PatientId;

use crate::Error;

/// A reader of the log's entries and subject keys, run by
/// [`RequestLog::read`].
pub type LogReader<'a> =
    dyn FnMut(&dyn EntrySource, &dyn KeyStore) -> Result<(), Error> + Send + 'a;

/// The audit log of a request's executor. Every method may block (a disk
/// flush, a database round trip); an implementation must be callable — and
/// droppable — on any thread, including an async runtime's (a synchronous
/// database client runs its statements on a thread of its own).
pub trait RequestLog: AuditSink {
    /// Appends an erasure event and a checkpoint, then destroys the
    /// subject's key ([`AuditLog::erase_subject`]).
    ///
    /// # Errors
    /// As [`AuditLog::erase_subject`] (`UnknownSubject`, `SubjectErased`,
    /// I/O or database errors).
    fn erase_subject(&self, erasure: &AuditEvent) -> Result<(Receipt, KeyId), gdpr_audit::Error>;

    /// Runs `read` on the log's entries (every record, in order) and its
    /// subject keys.
    ///
    /// # Errors
    /// `read`'s error.
    fn read(&self, read: &mut LogReader<'_>) -> Result<(), Error>;

    /// The id of the subject's key: made if missing when `create`, else
    /// `None` when the subject has none.
    ///
    /// # Errors
    /// The key store's (an erased subject when `create`; I/O, database).
    fn subject_key(
        &self,
        subject: &PatientId,
        create: bool,
    ) -> Result<Option<KeyId>, gdpr_audit::Error>;

    /// Signs a checkpoint of the log as it stands and returns the note.
    ///
    /// # Errors
    /// As [`AuditLog::checkpoint`].
    fn checkpoint(&self) -> Result<String, gdpr_audit::Error>;

    /// The RFC 9162 inclusion proof of record `position` in the whole
    /// log: the tree size, its root and the proof.
    ///
    /// # Errors
    /// [`gdpr_audit::Error::BadInput`] if the position is out of range.
    fn inclusion_proof(&self, position: u64) -> Result<(u64, Hash, Vec<Hash>), gdpr_audit::Error>;
}

impl<S: AuditStore, K: KeyStore> RequestLog for AuditLog<S, K> {
    fn erase_subject(&self, erasure: &AuditEvent) -> Result<(Receipt, KeyId), gdpr_audit::Error> {
        AuditLog::erase_subject(self, erasure)
    }

    fn read(&self, read: &mut LogReader<'_>) -> Result<(), Error> {
        read(self.store(), &*self.keys())
    }

    fn subject_key(
        &self,
        subject: &PatientId,
        create: bool,
    ) -> Result<Option<KeyId>, gdpr_audit::Error> {
        let mut keys = self.keys();
        if create {
            Ok(Some(keys.key_for(subject)?.0))
        } else {
            Ok(keys.find(subject))
        }
    }

    fn checkpoint(&self) -> Result<String, gdpr_audit::Error> {
        AuditLog::checkpoint(self)
    }

    fn inclusion_proof(&self, position: u64) -> Result<(u64, Hash, Vec<Hash>), gdpr_audit::Error> {
        AuditLog::inclusion_proof(self, position)
    }
}
