//! Strict verification of a log from its entries alone, with a trusted
//! public key and, optionally, a checkpoint saved earlier elsewhere.
//!
//! Recomputed for every record: its canonical decoding, its position (no
//! gap, duplicate or reordering), its link to the previous record, and its
//! leaf in the RFC 9162 tree. For every checkpoint: the signature by the
//! trusted key, that it covers exactly the records before it, and that its
//! root equals the recomputed root. For a trusted earlier checkpoint: the
//! log must still contain its size and reproduce its root (catches
//! truncation and rollback, and rewrites after it was saved). The first
//! failure stops verification with the first bad position and the reason.
//!
//! [`crate::verify_dir`] reads the log in large blocks (any other source is
//! packed into chunks entry by entry) and hands each chunk to
//! [`LogVerifier::chunk`], which cuts it into pieces of a few hundred
//! entries for worker threads ([`crate::piece`]): they decode and hash the
//! records, check positions and links inside the piece and checkpoint
//! signatures, and fold the leaves into subtree roots, while this thread
//! reads on. Finished pieces are applied in log order (the link of each
//! piece's first record, the tree, the checkpoints' roots, the trusted
//! checkpoint); a piece in which anything failed is checked again one
//! entry at a time, so the verdict and the first bad position are those of
//! [`LogVerifier::entry`] on every entry (a test holds them equal).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;

use crate::Error;
use crate::cause::{Malformed, Tamper};
use crate::checkpoint::Checkpoint;
use crate::chunk::{Chunk, ChunkVisitor};
use crate::file_store::{FileStore, LogDir};
use crate::keystore::FileKeyStore;
use crate::merkle::{Frontier, leaf_hash, verify_inclusion};
use crate::piece::{Checked, Piece, Step, check, split};
use crate::record::Hash;
use crate::signing::Verifier;
use crate::store::{Entry, EntryRef, EntrySource, PruneAnchor, ScanEnd, chunks_of, unhex};
use crate::view::RecordView;
use crate::workers::Workers;

/// Pieces queued at most before [`LogVerifier::chunk`] waits for results
/// (bounds memory to a few chunks).
const MAX_PENDING: usize = 48;

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records pruned before the first retained one.
    pub pruned: u64,
    /// Records verified (after the pruned prefix).
    pub records: u64,
    /// Checkpoints whose signature and root were verified.
    pub checkpoints: u64,
    /// Size of the last verified checkpoint in the log.
    pub last_checkpoint: Option<u64>,
    /// Records after the last checkpoint (chained, not yet signed).
    pub unsigned_tail: u64,
    /// Whether a trusted checkpoint was given and matched.
    pub trusted_checkpoint_matched: bool,
    /// Root hash over all records.
    pub root: Hash,
    /// Bytes read.
    pub bytes: u64,
    /// Subject keys in the key store, when [`verify_dir`] found one and it
    /// passed its checks (`None`: not checked, or no key store there).
    pub key_store: Option<usize>,
}

/// Streaming verifier: feed entries in order, then [`LogVerifier::finish`].
#[derive(Debug)]
pub struct LogVerifier<'v> {
    verifier: &'v Verifier,
    pruned: u64,
    position: u64,
    prev: Hash,
    frontier: Frontier,
    covered: u64,
    checkpoints: u64,
    last_checkpoint: Option<u64>,
    trusted: Option<Checkpoint>,
    trusted_matched: bool,
    threads: usize,
    /// Worker threads, started with the first chunk (if `threads > 1`).
    workers: Option<Workers>,
    /// Pieces handed to the workers, in log order, not applied yet.
    pending: VecDeque<Piece>,
    /// Sequence number of the first pending piece.
    next_seq: u64,
    /// Results that arrived before their turn.
    ready: HashMap<u64, Checked>,
    /// Records in the pending pieces.
    pending_records: u64,
}

impl<'v> LogVerifier<'v> {
    /// A verifier trusting `verifier`, and `trusted` (a signed checkpoint
    /// note saved earlier) if given.
    ///
    /// # Errors
    /// [`Error::BadInput`] / [`Error::Tampered`] if the trusted checkpoint
    /// is malformed or not signed by `verifier`.
    pub fn new(verifier: &'v Verifier, trusted: Option<&str>) -> Result<Self, Error> {
        let trusted = trusted
            .map(|t| Checkpoint::open(t, verifier))
            .transpose()
            .map_err(|e| match e {
                Error::Tampered { cause, .. } => Error::BadInput {
                    what: "trusted checkpoint",
                    reason: cause.to_string().into(),
                },
                other => other,
            })?;
        let trusted_matched = trusted
            .as_ref()
            .is_some_and(|t| t.size() == 0 && *t.root() == Frontier::new().root());
        Ok(Self {
            verifier,
            pruned: 0,
            position: 0,
            prev: [0; 32],
            frontier: Frontier::new(),
            covered: 0,
            checkpoints: 0,
            last_checkpoint: None,
            trusted,
            trusted_matched,
            threads: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            workers: None,
            pending: VecDeque::new(),
            next_seq: 0,
            ready: HashMap::new(),
            pending_records: 0,
        })
    }

    /// Uses `threads` worker threads to check chunks
    /// ([`LogVerifier::chunk`]); by default, as many as the machine has
    /// cores; with 1, chunks are checked on the calling thread. The checks
    /// and their order are the same for any number.
    #[must_use]
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Starts after a pruned prefix, checking its anchor: the retained
    /// checkpoint's signature, the frontier against its root, and the last
    /// pruned record against the frontier.
    ///
    /// # Errors
    /// [`Error::Tampered`] (at position 0) when the anchor does not hold;
    /// [`Error::BadInput`] when the trusted checkpoint predates it.
    pub fn resume_after(&mut self, anchor: &PruneAnchor) -> Result<(), Error> {
        self.drain()?;
        let bad = |detail: &'static str| Error::tampered(0, 0, Tamper::BadPruneAnchor { detail });
        let cp = Checkpoint::open(&anchor.checkpoint, self.verifier)
            .map_err(|_| bad("prune anchor checkpoint is not validly signed"))?;
        if cp.size() != anchor.size || anchor.size == 0 {
            return Err(bad("prune anchor size differs from its checkpoint"));
        }
        let nodes = anchor
            .frontier
            .iter()
            .map(|h| unhex(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad("prune anchor frontier is malformed"))?;
        let frontier = Frontier::from_parts(anchor.size, nodes)
            .map_err(|_| bad("prune anchor frontier is malformed"))?;
        if frontier.root() != *cp.root() {
            return Err(bad("prune anchor frontier does not match its checkpoint"));
        }
        let last = STANDARD
            .decode(&anchor.last_record)
            .map_err(|_| bad("prune anchor record is not base64"))?;
        let proof = anchor
            .last_record_proof
            .iter()
            .map(|h| unhex(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad("prune anchor proof is malformed"))?;
        verify_inclusion(cp.root(), cp.size(), &last, cp.size() - 1, &proof)
            .map_err(|_| bad("last pruned record is not in the retained checkpoint"))?;
        if let Some(t) = &self.trusted
            && t.size() < anchor.size
        {
            return Err(Error::BadInput {
                what: "trusted checkpoint",
                reason:
                    "it predates the pruned prefix; verify against the retained checkpoint instead"
                        .into(),
            });
        }
        self.pruned = anchor.size;
        self.position = anchor.size;
        self.covered = anchor.size;
        self.prev = leaf_hash(&last);
        self.frontier = frontier;
        self.last_checkpoint = Some(anchor.size);
        self.check_trusted()
    }

    /// The leaf hash of the last record checked.
    pub(crate) fn last_leaf(&self) -> &Hash {
        &self.prev
    }

    /// The frontier so far.
    pub(crate) fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    fn check_trusted(&mut self) -> Result<(), Error> {
        if let Some(t) = &self.trusted
            && t.size() == self.position
            && !self.trusted_matched
        {
            if *t.root() != self.frontier.root() {
                return Err(Error::tampered(
                    self.covered.min(t.size().saturating_sub(1)),
                    0,
                    Tamper::Rewritten,
                ));
            }
            self.trusted_matched = true;
        }
        Ok(())
    }

    /// Checks the next entry of any kind.
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first bad position.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn entry(&mut self, offset: u64, entry: &Entry) -> Result<(), Error> {
        self.drain()?;
        self.entry_now(offset, entry.as_ref())
    }

    fn entry_now(&mut self, offset: u64, entry: EntryRef<'_>) -> Result<(), Error> {
        match entry {
            EntryRef::Record(bytes) => self.record_now(offset, bytes),
            EntryRef::Checkpoint(note) => self.checkpoint_now(offset, note),
        }
    }

    /// Checks the next record (canonical bytes at file `offset`).
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first bad position.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn record(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Error> {
        self.drain()?;
        self.record_now(offset, bytes)
    }

    fn record_now(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Error> {
        let p = self.position;
        let view = RecordView::parse(bytes).map_err(|e| {
            let cause = match e {
                Error::NonCanonical { cause, detail, .. } => Tamper::NonCanonical { cause, detail },
                _ => Tamper::NonCanonical {
                    cause: Malformed::InvalidField,
                    detail: "record",
                },
            };
            Error::tampered(p, offset, cause)
        })?;
        if view.position != p {
            return Err(Error::tampered(
                p,
                offset,
                Tamper::WrongPosition {
                    claimed: view.position,
                },
            ));
        }
        if view.prev != self.prev {
            let culprit = p.saturating_sub(1).max(self.pruned.min(p));
            return Err(Error::tampered(
                culprit,
                offset,
                Tamper::BrokenLink { record: p },
            ));
        }
        let leaf = leaf_hash(bytes);
        self.frontier.push(leaf);
        self.prev = leaf;
        self.position += 1;
        self.check_trusted()
    }

    /// Checks the next chunk of entries, as [`LogVerifier::entry`] on each
    /// would. With worker threads this may return before the chunk is
    /// checked (a failure then surfaces from a later call or from
    /// [`LogVerifier::finish`], with the same first bad position).
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first bad position.
    pub fn chunk(&mut self, chunk: Chunk) -> Result<(), Error> {
        let trusted = self
            .trusted
            .as_ref()
            .filter(|_| !self.trusted_matched)
            .map(Checkpoint::size);
        let base = self.position + self.pending_records;
        let pieces = split(&Arc::new(chunk), base, trusted);
        if self.threads > 1 && self.workers.is_none() {
            // This thread is one of them: it checks queued pieces too.
            self.workers = Workers::start(self.threads - 1, self.verifier);
        }
        for piece in pieces {
            let Some(workers) = &self.workers else {
                let checked = check(&piece, self.verifier);
                self.apply(&piece, checked)?;
                continue;
            };
            let seq = self.next_seq + self.pending.len() as u64;
            workers.submit(seq, piece.clone());
            self.pending_records += piece.records;
            self.pending.push_back(piece);
            while self.pending.len() > MAX_PENDING {
                self.apply_next()?;
            }
        }
        Ok(())
    }

    /// Applies every pending piece.
    fn drain(&mut self) -> Result<(), Error> {
        while !self.pending.is_empty() {
            self.apply_next()?;
        }
        Ok(())
    }

    /// Waits for the first pending piece and applies it.
    fn apply_next(&mut self) -> Result<(), Error> {
        let Some(piece) = self.pending.pop_front() else {
            return Ok(());
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending_records -= piece.records;
        let checked = loop {
            if let Some(c) = self.ready.remove(&seq) {
                break c;
            }
            let Some(workers) = &self.workers else {
                break check(&piece, self.verifier);
            };
            // Collect what has finished; else check a queued piece here
            // rather than wait; else wait.
            let (s, c) = match workers.finished() {
                Some(done) => done,
                None => match workers.take() {
                    Some((s, p)) => (s, check(&p, self.verifier)),
                    None => match workers.next() {
                        Some(done) => done,
                        // No worker left (not expected): check it here.
                        None => break check(&piece, self.verifier),
                    },
                },
            };
            if s == seq {
                break c;
            }
            self.ready.insert(s, c);
        };
        self.apply(&piece, checked)
    }

    /// Applies a checked piece: its order-dependent checks on a clean
    /// piece, or every check one entry at a time on a failed one.
    fn apply(&mut self, piece: &Piece, checked: Checked) -> Result<(), Error> {
        let Checked::Clean {
            first_prev,
            last_leaf,
            steps,
        } = checked
        else {
            return self.piece_one_by_one(piece);
        };
        if piece.base != self.position || first_prev.is_some_and(|p| p != self.prev) {
            return self.piece_one_by_one(piece);
        }
        for step in steps {
            match step {
                Step::Subtree { root, height } => {
                    self.frontier.push_subtree(root, height).map_err(|_| {
                        Error::tampered(
                            self.position,
                            0,
                            Tamper::BadLeaf {
                                from: self.position,
                                to: self.position,
                            },
                        )
                    })?;
                    self.position += 1 << height;
                    self.check_trusted()?;
                }
                Step::Checkpoint { index, opened } => {
                    let (offset, _) = piece.chunk.get(index);
                    self.opened_checkpoint(offset, opened)?;
                }
            }
        }
        if let Some(leaf) = last_leaf {
            self.prev = leaf;
        }
        Ok(())
    }

    fn piece_one_by_one(&mut self, piece: &Piece) -> Result<(), Error> {
        (piece.from..piece.to).try_for_each(|i| {
            let (offset, entry) = piece.chunk.get(i);
            self.entry_now(offset, entry)
        })
    }

    /// Checks a checkpoint note found at file `offset`.
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first position it fails to cover.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn checkpoint(&mut self, offset: u64, note: &str) -> Result<(), Error> {
        self.drain()?;
        self.checkpoint_now(offset, note)
    }

    fn checkpoint_now(&mut self, offset: u64, note: &str) -> Result<(), Error> {
        self.opened_checkpoint(offset, Checkpoint::open(note, self.verifier))
    }

    /// Checks a checkpoint already parsed and its signature checked.
    fn opened_checkpoint(
        &mut self,
        offset: u64,
        opened: Result<Checkpoint, Error>,
    ) -> Result<(), Error> {
        let cp = opened.map_err(|e| {
            let cause = match e {
                Error::Tampered { cause, .. } => cause,
                _ => Tamper::MalformedCheckpoint,
            };
            Error::tampered(self.covered, offset, cause)
        })?;
        if cp.size() != self.position {
            return Err(Error::tampered(
                self.covered.min(cp.size()),
                offset,
                Tamper::CheckpointSize {
                    claimed: cp.size(),
                    actual: self.position,
                },
            ));
        }
        if *cp.root() != self.frontier.root() {
            return Err(Error::tampered(
                self.covered,
                offset,
                Tamper::BadLeaf {
                    from: self.covered,
                    to: self.position,
                },
            ));
        }
        self.covered = self.position;
        self.checkpoints += 1;
        self.last_checkpoint = Some(self.position);
        Ok(())
    }

    /// Ends verification.
    ///
    /// # Errors
    /// [`Error::Tampered`] for a torn tail, or a log shorter than the
    /// trusted checkpoint.
    pub fn finish(mut self, end: ScanEnd) -> Result<VerifyReport, Error> {
        self.drain()?;
        if let Some((offset, detail)) = end.corrupt {
            return Err(Error::tampered(
                self.position,
                offset,
                Tamper::MalformedFrame { detail },
            ));
        }
        if let Some((offset, bytes)) = end.torn_tail {
            return Err(Error::tampered(
                self.position,
                offset,
                Tamper::TornTail { bytes },
            ));
        }
        if let Some(t) = &self.trusted
            && !self.trusted_matched
        {
            return Err(Error::tampered(
                self.position,
                end.bytes,
                Tamper::Truncated {
                    records: self.position,
                    trusted: t.size(),
                },
            ));
        }
        Ok(VerifyReport {
            pruned: self.pruned,
            records: self.position - self.pruned,
            checkpoints: self.checkpoints,
            last_checkpoint: self.last_checkpoint,
            unsigned_tail: self.position - self.covered,
            trusted_checkpoint_matched: self.trusted.is_some(),
            root: self.frontier.root(),
            bytes: end.bytes,
            key_store: None,
        })
    }
}

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
