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
//!
//! The checks of one entry at a time are in [`entries`], the chunks cut
//! into pieces for worker threads in [`parallel`], and the front doors
//! ([`crate::verify_dir`], [`crate::verify_store`]) in [`dir`].

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroUsize;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Error;
use crate::cause::Tamper;
use crate::checkpoint::Checkpoint;
use crate::merkle::{Frontier, leaf_hash, verify_inclusion};
use crate::piece::{Checked, Piece};
use crate::record::Hash;
use crate::signing::Verifier;
use crate::store::{PruneAnchor, ScanEnd, unhex};
use crate::workers::Workers;

mod dir;
mod entries;
mod parallel;

pub(crate) use dir::is_other_logs_key;
pub use dir::{verify_dir, verify_dir_with_progress, verify_store};

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
