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
//! [`verify_store`] reads the log in large chunks and checks each chunk's
//! entries with [`LogVerifier::entries`]: records are decoded and hashed
//! (leaf hashes, roots of aligned groups of 16 leaves, checkpoint
//! signatures) on all cores, then every order-dependent check runs in log
//! order on one thread, so the verdict and the first bad position are those
//! of checking one entry at a time ([`LogVerifier::entry`]; a test holds
//! them equal).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::leaf_batch::{GROUP_HEIGHT, Prepared, default_threads, group_starts, prepare};
use crate::merkle::{Frontier, leaf_hash, verify_inclusion};
use crate::record::Hash;
use crate::signing::Verifier;
use crate::store::{Entry, EntryRef, EntrySource, PruneAnchor, ScanEnd, unhex};
use crate::view::RecordView;

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
                Error::Tampered { reason, .. } => Error::BadInput {
                    what: "trusted checkpoint",
                    reason,
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
            threads: default_threads(),
        })
    }

    /// Uses `threads` threads (at least 1) to decode and hash batches
    /// ([`LogVerifier::entries`]); by default, as many as the machine has.
    /// The checks and their order are the same for any number.
    #[must_use]
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
        let bad = |why: &'static str| Error::tampered(0, 0, why);
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
                    "the log differs from the trusted checkpoint: records before it were rewritten",
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
    pub fn entry(&mut self, offset: u64, entry: &Entry) -> Result<(), Error> {
        match entry {
            Entry::Record(bytes) => self.record(offset, bytes),
            Entry::Checkpoint(note) => self.checkpoint(offset, note),
        }
    }

    /// Checks the next record (canonical bytes at file `offset`).
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first bad position.
    pub fn record(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Error> {
        let parsed = RecordView::parse(bytes).map(|v| (v.position, v.prev));
        self.accept(
            offset,
            Prepared {
                leaf: leaf_hash(bytes),
                parsed,
                grouped: false,
                group_root: None,
            },
        )
    }

    /// Checks a batch of entries in order, as [`LogVerifier::entry`] on
    /// each would, decoding and hashing its records on several threads.
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first bad position.
    pub fn entries(&mut self, batch: &[(u64, EntryRef<'_>)]) -> Result<(), Error> {
        let mut recs = Vec::with_capacity(batch.len());
        // Records before each checkpoint of the batch: groups never span one.
        let mut breaks = Vec::new();
        let mut notes = Vec::new();
        for (_, e) in batch {
            match e {
                EntryRef::Record(b) => recs.push(*b),
                EntryRef::Checkpoint(n) => {
                    breaks.push(recs.len());
                    notes.push(*n);
                }
            }
        }
        let trusted = self
            .trusted
            .as_ref()
            .filter(|_| !self.trusted_matched)
            .map(Checkpoint::size);
        let starts = group_starts(self.position, recs.len(), &breaks, trusted);
        let (prepared, opened) = prepare(&recs, &starts, &notes, self.verifier, self.threads);
        let (mut prepared, mut opened) = (prepared.into_iter().flatten(), opened.into_iter());
        for &(offset, entry) in batch {
            match entry {
                EntryRef::Checkpoint(note) => match opened.next() {
                    Some(cp) => self.opened_checkpoint(offset, cp)?,
                    // Not reached: one opened result per checkpoint.
                    None => self.checkpoint(offset, note)?,
                },
                EntryRef::Record(bytes) => match prepared.next() {
                    Some(p) => self.accept(offset, p)?,
                    // Not reached: one prepared result per record.
                    None => self.record(offset, bytes)?,
                },
            }
        }
        Ok(())
    }

    /// Checks a decoded record against the order-dependent state.
    fn accept(&mut self, offset: u64, rec: Prepared) -> Result<(), Error> {
        let p = self.position;
        let (position, prev) = rec.parsed.map_err(|e| {
            Error::tampered(
                p,
                offset,
                format!("record does not decode canonically ({e})"),
            )
        })?;
        if position != p {
            return Err(Error::tampered(
                p,
                offset,
                format!(
                    "record claims position {position} where {p} was expected: a record was deleted, inserted, duplicated or reordered",
                ),
            ));
        }
        if prev != self.prev {
            let culprit = p.saturating_sub(1).max(self.pruned.min(p));
            return Err(Error::tampered(
                culprit,
                offset,
                format!(
                    "hash chain broken between records {} and {p}: one of them was altered",
                    p.saturating_sub(1)
                ),
            ));
        }
        if !rec.grouped {
            self.frontier.push(rec.leaf);
        }
        if let Some(root) = rec.group_root {
            self.frontier
                .push_subtree(root, GROUP_HEIGHT)
                .map_err(|_| Error::tampered(p, offset, "leaf group out of step with the tree"))?;
        }
        self.prev = rec.leaf;
        self.position += 1;
        self.check_trusted()
    }

    /// Checks a checkpoint note found at file `offset`.
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first position it fails to cover.
    pub fn checkpoint(&mut self, offset: u64, note: &str) -> Result<(), Error> {
        self.opened_checkpoint(offset, Checkpoint::open(note, self.verifier))
    }

    /// Checks a checkpoint already parsed and its signature checked.
    fn opened_checkpoint(
        &mut self,
        offset: u64,
        opened: Result<Checkpoint, Error>,
    ) -> Result<(), Error> {
        let cp = opened.map_err(|e| {
            Error::tampered(
                self.covered,
                offset,
                format!("checkpoint after record {} is invalid ({e})", self.position),
            )
        })?;
        if cp.size() != self.position {
            return Err(Error::tampered(
                self.covered.min(cp.size()),
                offset,
                format!(
                    "checkpoint claims {} records where {} precede it",
                    cp.size(),
                    self.position
                ),
            ));
        }
        if *cp.root() != self.frontier.root() {
            return Err(Error::tampered(
                self.covered,
                offset,
                format!(
                    "records {}..{} do not match the signed checkpoint: one of them was altered",
                    self.covered, self.position
                ),
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
    pub fn finish(self, end: ScanEnd) -> Result<VerifyReport, Error> {
        if let Some((offset, why)) = end.corrupt {
            return Err(Error::tampered(
                self.position,
                offset,
                format!("malformed entry frame: {why}"),
            ));
        }
        if let Some((offset, len)) = end.torn_tail {
            return Err(Error::tampered(
                self.position,
                offset,
                format!(
                    "{len} bytes after the last complete entry: an interrupted append (reopen the log for writing to drop it) or a truncation"
                ),
            ));
        }
        if let Some(t) = &self.trusted
            && !self.trusted_matched
        {
            return Err(Error::tampered(
                self.position,
                end.bytes,
                format!(
                    "the log has {} records but the trusted checkpoint covers {}: truncated or rolled back",
                    self.position,
                    t.size()
                ),
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
    let mut v = LogVerifier::new(verifier, trusted)?;
    if let Some(anchor) = store.prune_anchor()? {
        v.resume_after(&anchor)?;
    }
    let end = store.entry_batches(&mut |batch| v.entries(batch))?;
    v.finish(end)
}
