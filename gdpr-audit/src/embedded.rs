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
    /// [`AuditLog::with_policy`]); the empty log is signed at once, which
    /// binds it to `signer`'s key.
    ///
    /// # Errors
    /// [`Error::Io`] if `dir` already holds a log or key store, or cannot
    /// be written; [`Error::Locked`].
    pub fn create(dir: impl AsRef<Path>, signer: Signer) -> Result<Self, Error> {
        let dir = dir.as_ref();
        // Refused before anything is written: no half-made directory.
        for existing in [FileStore::log_path(dir), FileStore::keys_path(dir)] {
            if fs::symlink_metadata(&existing).is_ok() {
                return Err(Error::io(
                    &existing,
                    std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "already exists: open the log instead, or choose another directory",
                    ),
                ));
            }
        }
        let store = FileStore::open(dir, true)?;
        let keys = FileKeyStore::create(FileStore::keys_path(dir))?;
        let public = FileStore::public_key_path(dir);
        fs::write(&public, format!("{}\n", signer.verifier()))
            .map_err(|e| Error::io(&public, e))?;
        let log = Self::with_stores(store, keys, signer, CheckpointPolicy::default())?;
        // Signing the empty log binds it to its key from the start: opening
        // it with another signing key is then refused.
        log.checkpoint()?;
        Ok(log)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_then_open_and_refuse_to_create_twice() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("audit");
        let signer = Signer::generate("test.example/audit").unwrap();
        let secret = signer.to_secret_text().as_str().to_owned();
        let log = AuditLog::create(&dir, signer).unwrap();
        assert!(log.is_empty());
        let public = fs::read_to_string(FileStore::public_key_path(&dir)).unwrap();
        assert_eq!(
            public.trim(),
            Signer::parse(&secret).unwrap().verifier().to_string()
        );
        drop(log);
        let again = AuditLog::create(&dir, Signer::parse(&secret).unwrap());
        assert!(matches!(again, Err(Error::Io { .. })));
        // A key store without its log is not overwritten either.
        let other = tmp.path().join("other");
        fs::create_dir(&other).unwrap();
        fs::write(FileStore::keys_path(&other), b"keys").unwrap();
        assert!(AuditLog::create(&other, Signer::parse(&secret).unwrap()).is_err());
        assert!(!FileStore::log_path(&other).exists());
        let log = AuditLog::open(&dir, Signer::parse(&secret).unwrap()).unwrap();
        assert_eq!(log.len(), 0);
        // Someone else's signing key is named as such, not as tampering.
        drop(log);
        let stranger = Signer::generate("test.example/audit").unwrap();
        let opened = AuditLog::open(&dir, stranger);
        assert!(
            matches!(opened, Err(Error::ForeignKey { .. })),
            "{opened:?}"
        );
    }
}
