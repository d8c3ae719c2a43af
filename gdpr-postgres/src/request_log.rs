//! [`PgAuditLog`]: an audit log on PostgreSQL that gdpr-request's executor
//! (async) can record in. The synchronous client blocks on a runtime of
//! its own, which panics on a tokio runtime thread (and so does dropping
//! it there); every call made on such a thread — and the drop — runs on a
//! short-lived scoped thread instead, while the caller waits (as it waits
//! for the embedded log's `fdatasync`). Off a runtime, calls run in place.

use gdpr_audit::record::Hash;
use gdpr_audit::seal::KeyId;
use gdpr_audit::{
    AuditEvent, AuditLog, AuditSink, CheckpointPolicy, KeyStore, Receipt, Signer,
    store::EntrySource,
};
use gdpr_core::subject::PatientId;
use gdpr_request::{LogReader, RequestLog};

use crate::audit::{HeadLock, PgAuditStore};
use crate::config::PgConfig;
use crate::keys::PgKeyStore;
use crate::keys::kek::KekRing;

/// A tenant's audit log on PostgreSQL (records and subject keys), usable
/// from async code: gdpr-request's [`RequestLog`] and gdpr-audit's
/// [`AuditSink`].
pub struct PgAuditLog {
    /// `None` only while dropping.
    log: Option<AuditLog<PgAuditStore, PgKeyStore>>,
}

impl std::fmt::Debug for PgAuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgAuditLog").finish_non_exhaustive()
    }
}

/// Runs `f` off any async runtime: on a scoped thread when called on a
/// runtime's thread, else in place. A panic in `f` is the caller's.
fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl PgAuditLog {
    /// Opens the tenant's log as a writer — verifying it completely, as
    /// [`AuditLog::with_stores`] does — with its subject keys wrapped by
    /// `kek`. Callable on a runtime thread.
    ///
    /// # Errors
    /// [`gdpr_audit::Error::Backend`] if PostgreSQL cannot be reached or
    /// refuses; the verification's errors.
    pub fn open(
        config: &PgConfig,
        kek: KekRing,
        signer: Signer,
        policy: CheckpointPolicy,
    ) -> Result<Self, gdpr_audit::Error> {
        off_runtime(move || {
            let store = PgAuditStore::open(config, HeadLock::Row)?;
            let keys = PgKeyStore::open(config, kek)?;
            AuditLog::with_stores(store, keys, signer, policy).map(Self::new)
        })
    }

    /// Wraps a log already open.
    pub fn new(log: AuditLog<PgAuditStore, PgKeyStore>) -> Self {
        Self { log: Some(log) }
    }

    fn log(&self) -> &AuditLog<PgAuditStore, PgKeyStore> {
        // Invariant: `log` is `Some` until `drop` takes it.
        self.log.as_ref().expect("the log is present until dropped")
    }
}

impl Drop for PgAuditLog {
    fn drop(&mut self) {
        if let Some(log) = self.log.take() {
            off_runtime(move || drop(log));
        }
    }
}

impl AuditSink for PgAuditLog {
    fn record(&self, event: &AuditEvent) -> Result<Receipt, gdpr_audit::Error> {
        off_runtime(|| self.log().append(event))
    }
}

impl RequestLog for PgAuditLog {
    fn erase_subject(&self, erasure: &AuditEvent) -> Result<(Receipt, KeyId), gdpr_audit::Error> {
        off_runtime(|| self.log().erase_subject(erasure))
    }

    fn read(&self, read: &mut LogReader<'_>) -> Result<(), gdpr_request::Error> {
        off_runtime(|| {
            let log = self.log();
            read(log.store(), &*log.keys())
        })
    }

    fn subject_key(
        &self,
        subject: &PatientId,
        create: bool,
    ) -> Result<Option<KeyId>, gdpr_audit::Error> {
        off_runtime(|| {
            let mut keys = self.log().keys();
            if create {
                Ok(Some(keys.key_for(subject)?.0))
            } else {
                Ok(keys.find(subject))
            }
        })
    }

    fn checkpoint(&self) -> Result<String, gdpr_audit::Error> {
        off_runtime(|| self.log().checkpoint())
    }

    /// From the whole log as PostgreSQL holds it (other nodes' records
    /// included), not from this writer's frontier.
    fn inclusion_proof(&self, position: u64) -> Result<(u64, Hash, Vec<Hash>), gdpr_audit::Error> {
        off_runtime(|| {
            let mut tree = gdpr_audit::merkle::Tree::new();
            self.log().store().entries(&mut |_, e| {
                if let gdpr_audit::store::Entry::Record(bytes) = e {
                    tree.push(gdpr_audit::merkle::leaf_hash(&bytes));
                }
                Ok(())
            })?;
            let size = tree.size();
            Ok((size, tree.root(), tree.inclusion_proof(position, size)?))
        })
    }
}
