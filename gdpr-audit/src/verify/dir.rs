//! The front doors of verification: a store ([`verify_store`]), a log
//! directory with its key store ([`verify_dir`]), and telling another
//! log's key from tampering ([`is_other_logs_key`]).

use std::path::Path;

use crate::Error;
use crate::chunk::ChunkVisitor;
use crate::file_store::{FileStore, LogDir};
use crate::keystore::FileKeyStore;
use crate::signing::Verifier;
use crate::store::{EntrySource, ScanEnd, chunks_of};

use super::{LogVerifier, VerifyReport};

/// Verifies everything in `store` against `verifier` (and `trusted`).
///
/// # Errors
/// [`Error::Tampered`] with the first bad position; [`Error::BadInput`]
/// for a bad trusted checkpoint; [`Error::Io`].
pub fn verify_store(
    store: &dyn EntrySource,
    verifier: &Verifier,
    trusted: Option<&str>,
) -> Result<VerifyReport, Error> {
    let read = |visit: &mut ChunkVisitor<'_>| chunks_of(store, visit);
    verify_chunks(store, read, verifier, trusted, &mut |_| {})
}

/// [`verify_store`] over the chunks `read` visits, calling `progress`
/// with the records read so far.
fn verify_chunks(
    store: &dyn EntrySource,
    read: impl FnOnce(&mut ChunkVisitor<'_>) -> Result<ScanEnd, Error>,
    verifier: &Verifier,
    trusted: Option<&str>,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, Error> {
    let mut v = LogVerifier::new(verifier, trusted)?;
    if let Some(anchor) = store.prune_anchor()? {
        v.resume_after(&anchor)?;
    }
    let mut records = 0u64;
    let end = read(&mut |chunk| {
        records += chunk.records() as u64;
        v.chunk(chunk)?;
        progress(records);
        Ok(())
    })?;
    v.finish(end)
}

/// Verifies a log directory: the log as [`verify_store`] does, then the
/// key store's own checksums when `DIR/keys` is present
/// ([`VerifyReport::key_store`]).
///
/// # Errors
/// As [`verify_store`]; [`Error::KeyStoreDamaged`] when the log verifies
/// but the key store fails its checks.
pub fn verify_dir(
    dir: impl AsRef<Path>,
    verifier: &Verifier,
    trusted: Option<&str>,
) -> Result<VerifyReport, Error> {
    verify_dir_with_progress(dir, verifier, trusted, &mut |_| {})
}

/// [`verify_dir`], calling `progress` with the number of records read so
/// far after each block (for a progress display on long logs).
///
/// # Errors
/// As [`verify_dir`].
pub fn verify_dir_with_progress(
    dir: impl AsRef<Path>,
    verifier: &Verifier,
    trusted: Option<&str>,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, Error> {
    let dir = LogDir(dir.as_ref().to_owned());
    let read = |visit: &mut ChunkVisitor<'_>| dir.chunks(visit);
    let mut report = verify_chunks(&dir, read, verifier, trusted, progress)
        .map_err(|e| explain_key(e, &dir, verifier))?;
    report.key_store = FileKeyStore::check(FileStore::keys_path(&dir.0))?;
    Ok(report)
}

/// `failure` of verifying `dir` under `key`, as [`Error::ForeignKey`]
/// when the failure is tampering and [`is_other_logs_key`] holds, else
/// unchanged.
pub(crate) fn explain_key(failure: Error, dir: &LogDir, key: &Verifier) -> Error {
    if failure.is_tampering() && is_other_logs_key(dir, key) {
        Error::ForeignKey {
            reason: "the log verifies under its own public key (DIR/public.key), which is another key; verify with this log's public key (the auditor's own copy)",
        }
    } else {
        failure
    }
}

/// Whether `key` is another log's key rather than a sign of tampering: the
/// log in `dir` has its own public key (`DIR/public.key`), that key is not
/// `key`, and the whole log verifies under it. A forged checkpoint does
/// not pass this (the log would not verify under its own key), so callers
/// ask only after verification under `key` failed.
pub(crate) fn is_other_logs_key(dir: &LogDir, key: &Verifier) -> bool {
    let Ok(file) = std::fs::File::open(FileStore::public_key_path(&dir.0)) else {
        return false;
    };
    let mut text = String::new();
    // A public key line is about 100 bytes; a larger file is not one.
    if std::io::Read::read_to_string(&mut std::io::Read::take(file, 4096), &mut text).is_err() {
        return false;
    }
    let Ok(own) = Verifier::parse(&text) else {
        return false;
    };
    if own.to_string() == key.to_string() {
        return false;
    }
    verify_store(dir, &own, None).is_ok()
}
