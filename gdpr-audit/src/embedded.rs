//! The embedded default in one call: a log directory ([`crate::FileStore`]
//! for the records, [`crate::FileKeyStore`] for the subjects' keys, the
//! public key alongside), created with [`AuditLog::create`], reopened with
//! [`AuditLog::open`], verified with [`crate::verify_dir`].

use std::fs;
use std::path::Path;

use crate::Error;
use crate::file_store::{FileStore, LogDir};
use crate::keystore::FileKeyStore;
use crate::log::{AuditLog, CheckpointPolicy};
use crate::signing::Signer;
use crate::verify::is_other_logs_key;

impl AuditLog<FileStore, FileKeyStore> {
    /// Creates a log in `dir` (created if missing): the log file, its key
    /// store (mode 0600) and a copy of the public key (`DIR/public.key`,
    /// for convenience: auditors verify with their own copy). Checkpoints
    /// are written by [`CheckpointPolicy::default`] (see
    /// [`AuditLog::with_policy`]).
    ///
    /// # Errors
    /// [`Error::Io`] if `dir` already holds a log or key store, or cannot
    /// be written; [`Error::Locked`].
    pub fn create(dir: impl AsRef<Path>, signer: Signer) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let log = FileStore::log_path(dir);
        if log.exists() {
            return Err(Error::io(
                &log,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a log already exists"),
            ));
        }
        let store = FileStore::open(dir, true)?;
        let keys = FileKeyStore::create(FileStore::keys_path(dir))?;
        let public = FileStore::public_key_path(dir);
        fs::write(&public, format!("{}\n", signer.verifier()))
            .map_err(|e| Error::io(&public, e))?;
        Self::with_stores(store, keys, signer, CheckpointPolicy::default())
    }

    /// Opens the log in `dir` for writing, verifying it completely against
    /// the signer's public key.
    ///
    /// # Errors
    /// [`Error::Tampered`] if the log does not verify;
    /// [`Error::ForeignKey`] instead when `signer` is not this log's key
    /// (the log verifies under its own `DIR/public.key`);
    /// [`Error::KeyStoreDamaged`]; [`Error::Locked`]; [`Error::Io`].
    pub fn open(dir: impl AsRef<Path>, signer: Signer) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let verifier = signer.verifier();
        let store = FileStore::open(dir, false)?;
        let keys = FileKeyStore::open(FileStore::keys_path(dir))?;
        let policy = CheckpointPolicy::default();
        // The file store hands over its read buffers (no copy per entry).
        Self::resume(store, keys, signer, policy, FileStore::chunks).map_err(|e| {
            if e.is_tampering() && is_other_logs_key(&LogDir(dir.to_owned()), &verifier) {
                Error::ForeignKey {
                    reason: "the log verifies under its own public key (DIR/public.key), which is not this signing key's; use this log's signing key",
                }
            } else {
                e
            }
        })
    }
}
