//! The embedded default store: one append-only file per log, crash-safe.
//!
//! # On-disk format
//!
//! A log directory holds:
//!
//! - `log` — the entries, each one *frame*: `u32` big-endian payload length
//!   (at most 1 MiB), one kind byte (`1` record, `2` checkpoint), then the
//!   payload: the record's canonical encoding ([`crate::record`]) or the
//!   checkpoint's signed note (UTF-8, [`crate::checkpoint`]).
//! - `keys` — the per-subject key store ([`crate::keystore`]), mode 0600.
//! - `public.key` — the verifier key, for convenience (auditors should use
//!   their own copy).
//! - `anchor.json` — after pruning: the retained checkpoint, the frontier
//!   of the pruned tree and the last pruned record ([`PruneAnchor`]).
//! - `lock` — `flock`ed by the one writer process.
//! - `torn-<offset>.bin` — bytes of an interrupted append dropped at
//!   recovery, kept for inspection.
//!
//! # Durability
//!
//! An append is acknowledged only after `fdatasync` of the log file.
//! Concurrent appenders stage their frames under a lock and then share one
//! `fdatasync` (group commit): whoever finds no sync running starts one that
//! covers everything staged so far, the others wait for it. A failed write
//! is rolled back by truncation; a failed sync poisons the store (the page
//! cache can no longer be trusted) until it is reopened.
//!
//! On open, an incomplete final frame (a crash mid-append, or a power loss
//! leaving a zero-filled tail) is moved to `torn-<offset>.bin` and cut off:
//! it was never acknowledged. A complete but malformed frame is not cut:
//! it is evidence, and verification reports it.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::Error;
use crate::cause::Tamper;
use crate::chunk::ChunkVisitor;
use crate::frame::{encode_frame, scan_chunks};
use crate::keystore::sync_dir;
use crate::store::{AuditStore, Entry, EntryRef, Frames, PruneAnchor, ScanEnd, Ticket};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct Writer {
    file: File,
    end: u64,
    poisoned: bool,
}

#[derive(Debug, Default)]
struct SyncState {
    durable: u64,
    syncing: bool,
    poisoned: bool,
}

/// The embedded append-only file store (see the module docs).
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    log: PathBuf,
    writer: Mutex<Writer>,
    staged: AtomicU64,
    sync_file: Mutex<File>,
    sync: Mutex<SyncState>,
    synced: Condvar,
    _lock: File,
}

impl FileStore {
    /// The path of the log file in `dir`.
    pub fn log_path(dir: &Path) -> PathBuf {
        dir.join("log")
    }

    /// The path of the key store in `dir`.
    pub fn keys_path(dir: &Path) -> PathBuf {
        dir.join("keys")
    }

    /// The path of the log's own copy of its public key in `dir` (written
    /// by `gdpr audit init`; auditors verify with their own copy).
    pub fn public_key_path(dir: &Path) -> PathBuf {
        dir.join("public.key")
    }

    /// Writes the pruned log to `new_log` and the anchor (through
    /// `anchor_tmp`), then renames both into place, durably.
    fn swap_in(
        &self,
        anchor: &PruneAnchor,
        frames: &[u8],
        new_log: &Path,
        anchor_tmp: &Path,
    ) -> Result<(), Error> {
        write_durably(new_log, frames)?;
        let json = serde_json::to_vec_pretty(anchor).map_err(|e| Error::BadInput {
            what: "prune anchor",
            reason: format!("{e}").into(),
        })?;
        write_durably(anchor_tmp, &json)?;
        let anchor_path = self.dir.join("anchor.json");
        fs::rename(anchor_tmp, &anchor_path).map_err(|e| Error::io(&anchor_path, e))?;
        sync_dir(&anchor_path)?;
        fs::rename(new_log, &self.log).map_err(|e| Error::io(&self.log, e))?;
        sync_dir(&self.log)
    }

    /// Opens (creating if `create`) the log in `dir` for writing: takes the
    /// writer lock, drops a torn tail (kept in `torn-<offset>.bin`).
    ///
    /// # Errors
    /// [`Error::Locked`] if another process writes the log; [`Error::Io`];
    /// [`Error::Tampered`] if a complete frame is malformed.
    pub fn open(dir: &Path, create: bool) -> Result<Self, Error> {
        if create {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let lock_path = dir.join("lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        rustix::fs::flock(
            &lock_file,
            rustix::fs::FlockOperation::NonBlockingLockExclusive,
        )
        .map_err(|_| Error::Locked {
            path: lock_path.clone(),
        })?;
        let log = Self::log_path(dir);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(&log)
            .map_err(|e| Error::io(&log, e))?;
        if create {
            sync_dir(&log)?;
        }
        let mut reader = file.try_clone().map_err(|e| Error::io(&log, e))?;
        let end = scan_chunks(&mut reader, &log, &mut |_| Ok(()))?;
        if let Some((offset, detail)) = end.corrupt {
            // Verification finds the first bad record.
            return Err(Error::tampered(
                0,
                offset,
                Tamper::MalformedFrame { detail },
            ));
        }
        let mut size = end.bytes;
        if let Some((offset, len)) = end.torn_tail {
            let mut torn = vec![0u8; len as usize];
            file.read_exact_at(&mut torn, offset)
                .map_err(|e| Error::io(&log, e))?;
            let keep = dir.join(format!("torn-{offset}.bin"));
            fs::write(&keep, &torn).map_err(|e| Error::io(&keep, e))?;
            file.set_len(offset).map_err(|e| Error::io(&log, e))?;
            file.sync_all().map_err(|e| Error::io(&log, e))?;
            sync_dir(&keep)?;
            size = offset;
        }
        let sync_file = file.try_clone().map_err(|e| Error::io(&log, e))?;
        Ok(Self {
            dir: dir.to_owned(),
            log,
            writer: Mutex::new(Writer {
                file,
                end: size,
                poisoned: false,
            }),
            staged: AtomicU64::new(size),
            sync_file: Mutex::new(sync_file),
            sync: Mutex::new(SyncState {
                durable: size,
                ..SyncState::default()
            }),
            synced: Condvar::new(),
            _lock: lock_file,
        })
    }

    /// Reads the log in `dir` without taking the writer lock.
    ///
    /// # Errors
    /// [`Error::Io`]; errors of `visit`.
    pub fn scan_dir(
        dir: &Path,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
    ) -> Result<ScanEnd, Error> {
        let log = Self::log_path(dir);
        let mut f = File::open(&log).map_err(|e| Error::io(&log, e))?;
        let skip = read_anchor(dir)?.map(|a| a.size);
        scan_skipping(&mut f, &log, skip, visit)
    }

    /// Bytes staged by a concurrent appender after our read are not torn.
    fn not_torn_if_staged(&self, mut end: ScanEnd) -> ScanEnd {
        if end.torn_tail.is_some() && end.bytes <= self.staged.load(Ordering::Acquire) {
            end.torn_tail = None;
        }
        end
    }

    /// Reads the prune anchor of `dir`, if any.
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::BadInput`].
    pub fn anchor_of(dir: &Path) -> Result<Option<PruneAnchor>, Error> {
        read_anchor(dir)
    }
}

/// Read-only access to a log directory (no writer lock taken).
#[derive(Debug, Clone)]
pub struct LogDir(pub PathBuf);

impl AsRef<Path> for LogDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl crate::store::EntrySource for LogDir {
    fn entries(
        &self,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
    ) -> Result<ScanEnd, Error> {
        FileStore::scan_dir(&self.0, visit)
    }
    fn prune_anchor(&self) -> Result<Option<PruneAnchor>, Error> {
        read_anchor(&self.0)
    }
}

impl LogDir {
    /// The entries in chunks over the read buffers (no copy per entry).
    pub(crate) fn chunks(&self, visit: &mut ChunkVisitor<'_>) -> Result<ScanEnd, Error> {
        let log = FileStore::log_path(&self.0);
        let mut f = File::open(&log).map_err(|e| Error::io(&log, e))?;
        let skip = read_anchor(&self.0)?.map(|a| a.size);
        chunks_skipping(&mut f, &log, skip, visit)
    }
}

fn read_anchor(dir: &Path) -> Result<Option<PruneAnchor>, Error> {
    let path = dir.join("anchor.json");
    match fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::BadInput {
                what: "prune anchor",
                reason: format!("{e}").into(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Position of a record from its canonical bytes (bytes 1..9).
fn record_position(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(1..9)?.try_into().ok()?))
}

/// Scans, skipping entries before the first record at position `skip`
/// (left over if a crash interrupted pruning after the anchor was written).
fn scan_skipping(
    f: &mut File,
    path: &Path,
    skip: Option<u64>,
    visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
) -> Result<ScanEnd, Error> {
    chunks_skipping(f, path, skip, &mut |chunk| {
        chunk
            .iter()
            .try_for_each(|(offset, entry)| visit(offset, entry.to_owned()))
    })
}

/// [`scan_skipping`], a chunk at a time.
fn chunks_skipping(
    f: &mut File,
    path: &Path,
    skip: Option<u64>,
    visit: &mut ChunkVisitor<'_>,
) -> Result<ScanEnd, Error> {
    let mut skipping = skip.unwrap_or(0);
    scan_chunks(f, path, &mut |mut chunk| {
        if skipping > 0 {
            let first = chunk.iter().position(|(_, e)| {
                matches!(e, EntryRef::Record(b) if record_position(b).is_some_and(|p| p >= skipping))
            });
            match first {
                Some(i) => {
                    skipping = 0;
                    chunk.drop_front(i);
                }
                None => return Ok(()),
            }
        }
        visit(chunk)
    })
}

impl crate::store::EntrySource for FileStore {
    fn entries(
        &self,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
    ) -> Result<ScanEnd, Error> {
        let mut f = File::open(&self.log).map_err(|e| Error::io(&self.log, e))?;
        let skip = read_anchor(&self.dir)?.map(|a| a.size);
        let end = scan_skipping(&mut f, &self.log, skip, visit)?;
        Ok(self.not_torn_if_staged(end))
    }

    fn prune_anchor(&self) -> Result<Option<PruneAnchor>, Error> {
        read_anchor(&self.dir)
    }
}

impl FileStore {
    /// The entries in chunks over the read buffers (no copy per entry).
    pub(crate) fn chunks(&self, visit: &mut ChunkVisitor<'_>) -> Result<ScanEnd, Error> {
        let mut f = File::open(&self.log).map_err(|e| Error::io(&self.log, e))?;
        let skip = read_anchor(&self.dir)?.map(|a| a.size);
        let end = chunks_skipping(&mut f, &self.log, skip, visit)?;
        Ok(self.not_torn_if_staged(end))
    }

    /// Writes `buf` (whole frames) after the last frame, not durably; a
    /// failed write is cut off again.
    fn write_frames(&self, buf: &[u8]) -> Result<Ticket, Error> {
        let mut w = lock(&self.writer);
        if w.poisoned {
            return Err(poisoned(&self.log));
        }
        let at = w.end;
        if let Err(e) = w.file.write_all_at(buf, at) {
            if w.file.set_len(at).is_err() {
                w.poisoned = true;
            }
            return Err(Error::io(&self.log, e));
        }
        w.end = at + buf.len() as u64;
        self.staged.store(w.end, Ordering::Release);
        Ok(Ticket(w.end))
    }
}

impl AuditStore for FileStore {
    fn stage(&self, entries: &[Entry]) -> Result<Ticket, Error> {
        let mut buf = Vec::with_capacity(entries.len() * 400);
        for e in entries {
            encode_frame(e, &mut buf);
        }
        self.write_frames(&buf)
    }

    fn stage_frames(&self, frames: &Frames) -> Result<Ticket, Error> {
        self.write_frames(frames.as_bytes())
    }

    fn commit(&self, ticket: Ticket) -> Result<(), Error> {
        let mut s = lock(&self.sync);
        loop {
            if s.poisoned {
                return Err(poisoned(&self.log));
            }
            if s.durable >= ticket.0 {
                return Ok(());
            }
            if s.syncing {
                s = self.synced.wait(s).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            s.syncing = true;
            drop(s);
            // Let appenders that are about to stage join this sync.
            std::thread::yield_now();
            let target = self.staged.load(Ordering::Acquire);
            let result = lock(&self.sync_file).sync_data();
            s = lock(&self.sync);
            s.syncing = false;
            match result {
                Ok(()) => s.durable = s.durable.max(target),
                Err(_) => {
                    s.poisoned = true;
                    lock(&self.writer).poisoned = true;
                }
            }
            self.synced.notify_all();
        }
    }

    fn prune(&self, anchor: &PruneAnchor) -> Result<(), Error> {
        let mut w = lock(&self.writer);
        if w.poisoned {
            return Err(poisoned(&self.log));
        }
        let mut buf = Vec::new();
        let mut f = File::open(&self.log).map_err(|e| Error::io(&self.log, e))?;
        scan_skipping(&mut f, &self.log, Some(anchor.size), &mut |_, e| {
            encode_frame(&e, &mut buf);
            Ok(())
        })?;
        let new_log = self.dir.join("log.new");
        let anchor_tmp = self.dir.join("anchor.json.tmp");
        let swapped = self.swap_in(anchor, &buf, &new_log, &anchor_tmp);
        if swapped.is_err() {
            // Nothing half-written stays behind (a full disk, a failed
            // sync). The log is unchanged; an anchor already renamed into
            // place only makes readers skip what it prunes.
            let _ = fs::remove_file(&new_log);
            let _ = fs::remove_file(&anchor_tmp);
        }
        swapped?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.log)
            .map_err(|e| Error::io(&self.log, e))?;
        *lock(&self.sync_file) = file.try_clone().map_err(|e| Error::io(&self.log, e))?;
        w.file = file;
        w.end = buf.len() as u64;
        self.staged.store(w.end, Ordering::Release);
        let mut s = lock(&self.sync);
        s.durable = w.end;
        Ok(())
    }
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all_at(bytes, 0).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

fn poisoned(log: &Path) -> Error {
    Error::io(
        log,
        std::io::Error::other(
            "an earlier write or sync failed; reopen the log (recovery drops unacknowledged bytes)",
        ),
    )
}
