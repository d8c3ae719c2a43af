//! `gdpr audit copy`: a log copied between a directory and PostgreSQL
//! (either way, or directory to directory, tenant to tenant), byte for
//! byte at the same positions with its checkpoint notes, so that the
//! source's checkpoints and inclusion proofs hold for the copy. The source
//! is verified before, the copy after (against the source's last
//! checkpoint as a trusted one). The subject keys follow (keys and
//! tombstones, indexed as in the source), so the copy's sealed fields open
//! where the source's did and an erased subject stays unreadable.

use std::cell::RefCell;
use std::path::Path;
use std::process::ExitCode;

use gdpr_audit::signing::Verifier;
use gdpr_audit::store::{AuditStore, Entry, EntrySource, PruneAnchor, ScanEnd};
use gdpr_audit::{FileKeyStore, FileStore, KeyStoreImage, LogDir, verify_store};
use gdpr_postgres::PgKeyStore;

use super::source::Place;
use super::{Failure, bad, check::pg_store, io_error, read};

/// Entries per `stage` when writing a directory.
const ENTRIES_PER_STAGE: usize = 4096;

/// An [`EntrySource`] that remembers the last checkpoint note it passed on.
struct Tap<'a> {
    inner: &'a dyn EntrySource,
    last_note: RefCell<Option<String>>,
}

impl EntrySource for Tap<'_> {
    fn entries(
        &self,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), gdpr_audit::Error>,
    ) -> Result<ScanEnd, gdpr_audit::Error> {
        self.inner.entries(&mut |at, e| {
            if let Entry::Checkpoint(n) = &e {
                *self.last_note.borrow_mut() = Some(n.clone());
            }
            visit(at, e)
        })
    }

    fn prune_anchor(&self) -> Result<Option<PruneAnchor>, gdpr_audit::Error> {
        self.inner.prune_anchor()
    }
}

/// `gdpr audit copy`.
pub(super) fn copy(
    from: Place,
    to: Place,
    public_key: &Path,
    kek: Option<&Path>,
) -> Result<ExitCode, Failure> {
    // Refused before anything is written: a PostgreSQL side needs the KEK.
    if matches!(from, Place::Postgres(_)) || matches!(to, Place::Postgres(_)) {
        super::pgcmd::kek(kek)?;
    }
    let verifier = Verifier::parse(&read(public_key)?)
        .map_err(|e| bad(format!("--public-key {}: {e}", public_key.display())))?;
    let source: Box<dyn EntrySource> = match &from {
        Place::Dir(d) => Box::new(LogDir(d.clone())),
        Place::Postgres(conn) => Box::new(pg_store(conn)?),
    };
    let before = verify_store(source.as_ref(), &verifier, None)?;
    let tap = Tap {
        inner: source.as_ref(),
        last_note: RefCell::new(None),
    };
    let (records, checkpoints) = match &to {
        Place::Dir(d) => to_dir(&tap, d)?,
        Place::Postgres(conn) => {
            let done = pg_store(conn)?.import(&tap)?;
            (done.records, done.checkpoints)
        }
    };
    let trusted = tap.last_note.into_inner();
    let target: Box<dyn EntrySource> = match &to {
        Place::Dir(d) => Box::new(LogDir(d.clone())),
        Place::Postgres(conn) => Box::new(pg_store(conn)?),
    };
    let after = verify_store(target.as_ref(), &verifier, trusted.as_deref())?;
    if (after.records, after.checkpoints, after.root)
        != (before.records, before.checkpoints, before.root)
        || records != before.records
        || checkpoints != before.checkpoints
    {
        return Err(bad(
            "the copy differs from the source (the source changed while it was copied?); remove the copy and run again",
        ));
    }
    let keys = match read_keys(&from, kek)? {
        Some(image) => {
            write_keys(&to, kek, &image)?;
            let erased = image.entries.iter().filter(|e| e.key.is_none()).count();
            format!(
                "{} subject keys and {erased} erased subjects (tombstones) copied",
                image.entries.len() - erased
            )
        }
        None => "the source has no key store: no subject keys copied".to_owned(),
    };
    println!(
        "COPIED: {records} records, {checkpoints} checkpoints; the source and the copy verify, with the same root{}; {keys}",
        if after.trusted_checkpoint_matched {
            "; the copy is consistent with the source's last checkpoint"
        } else {
            " (the source has no checkpoint yet)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The source's subject keys (`None`: a directory without a key store,
/// e.g. an auditor's copy).
fn read_keys(from: &Place, kek: Option<&Path>) -> Result<Option<KeyStoreImage>, Failure> {
    match from {
        Place::Dir(d) => {
            let path = FileStore::keys_path(d);
            if !path.exists() {
                return Ok(None);
            }
            Ok(Some(FileKeyStore::open(path)?.image()))
        }
        Place::Postgres(conn) => Ok(Some(super::pgcmd::pg_keys(conn, kek)?.image()?)),
    }
}

/// Writes `image` as the target's subject keys (a new key store file; a
/// tenant without subject keys).
fn write_keys(to: &Place, kek: Option<&Path>, image: &KeyStoreImage) -> Result<(), Failure> {
    match to {
        Place::Dir(d) => {
            FileKeyStore::create_from_image(FileStore::keys_path(d), image)?;
        }
        Place::Postgres(conn) => {
            let config = crate::pg::config(conn)?;
            PgKeyStore::import_image(&config, super::pgcmd::kek(kek)?, image)?;
        }
    }
    Ok(())
}

/// Writes every entry of `source` into a new log directory `dir` (which
/// must not exist or be empty), durably; returns records and checkpoints.
fn to_dir(source: &dyn EntrySource, dir: &Path) -> Result<(u64, u64), Failure> {
    if source.prune_anchor()?.is_some() {
        return Err(bad(
            "the source log was pruned; copy it before pruning (the anchor is not copied)",
        ));
    }
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(io_error(dir))?
            .next()
            .is_some()
    {
        return Err(bad(format!(
            "{}: not empty; copy into a new directory",
            dir.display()
        )));
    }
    let store = FileStore::open(dir, true)?;
    let (mut records, mut checkpoints) = (0u64, 0u64);
    let mut pending = Vec::with_capacity(ENTRIES_PER_STAGE);
    let mut ticket = None;
    source.entries(&mut |_, e| {
        match &e {
            Entry::Record(_) => records += 1,
            _ => checkpoints += 1,
        }
        pending.push(e);
        if pending.len() >= ENTRIES_PER_STAGE {
            ticket = Some(store.stage(&pending)?);
            pending.clear();
        }
        Ok(())
    })?;
    if !pending.is_empty() {
        ticket = Some(store.stage(&pending)?);
    }
    if let Some(t) = ticket {
        store.commit(t)?;
    }
    Ok((records, checkpoints))
}
