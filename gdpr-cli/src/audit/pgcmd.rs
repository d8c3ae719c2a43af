//! `gdpr audit export|subject-report|erase-subject --postgres FILE --kek
//! KEKFILE`: the embedded log's commands on a tenant's log on PostgreSQL,
//! with the subjects' keys from `PgKeyStore` (unwrapped with the KEK file,
//! mode 0600, never in the database).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use gdpr_audit::{AuditLog, CheckpointPolicy};
use gdpr_postgres::{HeadLock, KekRing, PgAuditLog, PgAuditStore, PgKeyStore};
use zeroize::Zeroizing;

use super::{Failure, bad, io_error, signer};

/// Largest KEK file read (a line per version, about 90 bytes each).
const MAX_KEK_FILE: u64 = 64 * 1024;

/// The KEK file: refused when group or others may read it, or when it
/// is larger than any KEK file (a wrong path, `/dev/zero`).
pub(super) fn kek(path: Option<&Path>) -> Result<KekRing, Failure> {
    let path = path.ok_or_else(|| {
        bad("--postgres needs --kek FILE: the key-encryption key file of the tenant's subject keys")
    })?;
    let file = crate::input::open_input(path)?;
    let mode = file
        .metadata()
        .map_err(io_error(path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "--kek {}: group or others may read it (mode {:03o}); chmod 600 it",
            path.display(),
            mode & 0o777
        )));
    }
    let mut text = Zeroizing::new(String::with_capacity(MAX_KEK_FILE as usize + 1));
    file.take(MAX_KEK_FILE + 1)
        .read_to_string(&mut text)
        .map_err(io_error(path))?;
    if text.len() as u64 > MAX_KEK_FILE {
        return Err(bad(format!(
            "--kek {}: larger than 64 KiB, so not a KEK file; check the path",
            path.display()
        )));
    }
    KekRing::parse(&text).map_err(|e| bad(format!("--kek {}: {e}", path.display())))
}

/// The tenant's log on PostgreSQL (records and subject keys) as a
/// request's audit log: opened as a writer (verified), usable on the async
/// runtime (`gdpr request … --postgres`).
pub(super) fn request_log(
    conn: &Path,
    kek_file: Option<&Path>,
    key: &Path,
) -> Result<PgAuditLog, Failure> {
    let ring = kek(kek_file)?;
    let signer = signer(key)?;
    let config = crate::pg::config(conn)?;
    Ok(PgAuditLog::open(
        &config,
        ring,
        signer,
        CheckpointPolicy::default(),
    )?)
}

/// The tenant's subject keys on PostgreSQL.
pub(super) fn pg_keys(conn: &Path, kek_file: Option<&Path>) -> Result<PgKeyStore, Failure> {
    let ring = kek(kek_file)?;
    let config = crate::pg::config(conn)?;
    Ok(PgKeyStore::open(&config, ring)?)
}

/// The tenant's log on PostgreSQL opened for writing (verified completely,
/// as a directory is), with its subject keys.
pub(super) fn pg_log(
    conn: &Path,
    kek_file: Option<&Path>,
    key: &Path,
) -> Result<AuditLog<PgAuditStore, PgKeyStore>, Failure> {
    let signer = signer(key)?;
    let keys = pg_keys(conn, kek_file)?;
    let config = crate::pg::config(conn)?;
    let store = PgAuditStore::open(&config, HeadLock::Row)?;
    Ok(AuditLog::with_stores(
        store,
        keys,
        signer,
        CheckpointPolicy::default(),
    )?)
}
