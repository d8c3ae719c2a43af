//! The storage seam: what a backend must do so that [`crate::log::AuditLog`]
//! can run on it. The embedded default is [`crate::file_store::FileStore`];
//! a shared-engine backend (PostgreSQL: one table of entries ordered by a
//! sequence, a row for the prune anchor, `COMMIT` as the durability point)
//! fits the same trait.
//!
//! Appending has two steps so that concurrent appenders share one sync
//! (group commit): [`AuditStore::stage`] is called under the log's append
//! lock and writes entries in order without waiting; [`AuditStore::commit`]
//! is called outside the lock and returns once the entries are durable.

use serde::{Deserialize, Serialize};

use jiff::Timestamp;

use crate::Error;
use crate::chunk::{Chunk, ChunkVisitor};
pub use crate::frame::Frames;
use crate::merkle::Frontier;
use crate::record::Hash;

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// A record in canonical encoding.
    Record(Vec<u8>),
    /// A signed checkpoint note.
    Checkpoint(String),
}

impl Entry {
    /// The entry borrowed.
    pub fn as_ref(&self) -> EntryRef<'_> {
        match self {
            Entry::Record(b) => EntryRef::Record(b),
            Entry::Checkpoint(n) => EntryRef::Checkpoint(n),
        }
    }
}

/// One stored entry, borrowed from a read buffer (no copy per entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryRef<'a> {
    /// A record in canonical encoding.
    Record(&'a [u8]),
    /// A signed checkpoint note.
    Checkpoint(&'a str),
}

impl EntryRef<'_> {
    /// The owned entry.
    pub fn to_owned(self) -> Entry {
        match self {
            EntryRef::Record(b) => Entry::Record(b.to_vec()),
            EntryRef::Checkpoint(n) => Entry::Checkpoint(n.to_owned()),
        }
    }
}

/// A position in the store's write order, returned by
/// [`AuditStore::stage`]; durable once [`AuditStore::commit`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// What remains of a pruned prefix: enough to verify the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneAnchor {
    /// Number of records pruned.
    pub size: u64,
    /// The signed checkpoint at `size` (retained).
    pub checkpoint: String,
    /// Frontier of the pruned tree (hex), largest subtree first.
    pub frontier: Vec<String>,
    /// The last pruned record (base64 of its canonical bytes), the anchor
    /// of the hash chain.
    pub last_record: String,
    /// Its inclusion proof in the tree of `size` (hex hashes).
    pub last_record_proof: Vec<String>,
}

/// The end of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanEnd {
    /// Bytes (or rows) read.
    pub bytes: u64,
    /// Offset and length of an incomplete final entry, if any.
    pub torn_tail: Option<(u64, u64)>,
    /// Offset of a frame that is complete but malformed, and why.
    pub corrupt: Option<(u64, &'static str)>,
}

/// A backend for the audit log: the write half, on top of the read half
/// ([`EntrySource`]) that verification, exports and reports use. A
/// backend implements both (and a [`crate::KeyStore`]); `stage` is never
/// called concurrently with itself.
pub trait AuditStore: EntrySource + Send + Sync {
    /// Writes `entries` after the last entry, in order, not necessarily
    /// durably.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails; nothing partial stays visible.
    fn stage(&self, entries: &[Entry]) -> Result<Ticket, Error>;

    /// [`AuditStore::stage`] for entries laid out as [`Frames`] (how the
    /// log hands over a batch). The default reads them into [`Entry`]s and
    /// calls `stage`; a store that writes frames writes them as they are.
    ///
    /// # Errors
    /// As [`AuditStore::stage`].
    fn stage_frames(&self, frames: &Frames) -> Result<Ticket, Error> {
        self.stage(&frames.to_entries())
    }

    /// Returns once everything staged up to `ticket` is durable.
    ///
    /// # Errors
    /// [`Error::Io`] if the sync fails; the store then refuses further
    /// appends until it is reopened.
    fn commit(&self, ticket: Ticket) -> Result<(), Error>;

    /// Durably replaces the log by `anchor` and the entries from the first
    /// record at position `anchor.size` on.
    ///
    /// # Errors
    /// [`Error::Io`] if rewriting fails; the old log then stays intact.
    fn prune(&self, anchor: &PruneAnchor) -> Result<(), Error>;

    /// For a store that several writers share (several processes or
    /// machines on one PostgreSQL log): takes the store's append lock —
    /// held until the next [`AuditStore::commit`] — and returns the log's
    /// head as stored, so that the log chains after what the other writers
    /// appended. `None` (the default): this process is the only writer and
    /// its own state is the head.
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Backend`] if the head cannot be read.
    fn lock_head(&self) -> Result<Option<SharedHead>, Error> {
        Ok(None)
    }

    /// [`AuditStore::stage`] for a shared store: also stores `head`, the
    /// head after `entries`, in the same transaction. The default ignores
    /// the head.
    ///
    /// # Errors
    /// As [`AuditStore::stage`].
    fn stage_shared(&self, entries: &[Entry], head: &SharedHead) -> Result<Ticket, Error> {
        let _ = head;
        self.stage(entries)
    }

    /// Whether the store decides order and chain itself
    /// ([`AuditStore::append_unchained`]), so that the log hands it records
    /// without their header. `false` (the default): the log chains.
    fn chains_itself(&self) -> bool {
        false
    }

    /// For a store that [chains itself](AuditStore::chains_itself) (one
    /// PostgreSQL statement per batch under the tenant's lock): writes each
    /// record's header (version, position, previous leaf hash) exactly as
    /// [`crate::record`] defines it, after everything in the store, and
    /// returns once the records are written, durable once
    /// [`AuditStore::commit`] of the returned ticket returns (the log
    /// acknowledges nothing before). When `policy` makes a
    /// checkpoint due after a record, the store stops there and asks
    /// `sign` for the note of that tree size and root, and writes it right
    /// after that record. The store appends nothing when it holds fewer
    /// than `seen` records (it was rolled back); the caller sees that in
    /// the returned head. The log passes the records of several of its
    /// threads' appends in one call when they waited together (group
    /// commit); to the store they are one batch.
    ///
    /// # Errors
    /// As [`AuditStore::stage`]; errors of `sign`. The default refuses
    /// ([`Error::Backend`]).
    fn append_unchained(
        &self,
        records: &[Unchained<'_>],
        policy: &crate::CheckpointPolicy,
        seen: u64,
        sign: &mut SignNote<'_>,
    ) -> Result<ChainedBatch, Error> {
        let _ = (records, policy, seen, sign);
        Err(Error::Backend {
            operation: "appending records without their header",
            source: "this store does not chain records itself".into(),
        })
    }
}

/// Signs the checkpoint of a tree size and root (the log's signer), for
/// [`AuditStore::append_unchained`]; returns the note.
pub type SignNote<'a> = dyn FnMut(u64, &Hash) -> Result<String, Error> + 'a;

/// A record handed to a store that [chains itself](AuditStore::chains_itself):
/// its canonical encoding without the header (everything after the
/// previous leaf hash), and its `recorded` time (for the checkpoint policy).
#[derive(Debug, Clone, Copy)]
pub struct Unchained<'a> {
    /// The encoding from `recorded` on (clear fields, then sealed fields).
    pub body: &'a [u8],
    /// When the event was recorded.
    pub recorded: Timestamp,
}

/// What [`AuditStore::append_unchained`] wrote.
#[derive(Debug, Clone)]
pub struct ChainedBatch {
    /// Each record's position and leaf hash, in order.
    pub leaves: Vec<(u64, Hash)>,
    /// The head after the last record (or, if nothing was appended, the
    /// head found).
    pub head: SharedHead,
    /// The records are durable once [`AuditStore::commit`] of this ticket
    /// returns (a store may return before they are: PostgreSQL flushes
    /// on a second connection while the next call runs).
    pub ticket: Ticket,
}

/// Where a shared log stands ([`AuditStore::lock_head`]): what a writer
/// needs to chain the next record and to sign checkpoints by its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedHead {
    /// The frontier of the tree of all records (its size is the number of
    /// records).
    pub frontier: Frontier,
    /// The leaf hash of the last record (all zero for an empty log).
    pub prev: Hash,
    /// Records since the last checkpoint.
    pub since_checkpoint: u64,
    /// The `recorded` time of the record at the last checkpoint.
    pub last_checkpoint_time: Option<Timestamp>,
    /// The last checkpoint note.
    pub last_note: Option<String>,
    /// The `recorded` time of the last record.
    pub last_recorded: Option<Timestamp>,
}

/// Anything whose entries can be read in order: every [`AuditStore`], and
/// [`crate::file_store::LogDir`] for read-only access without the writer lock.
pub trait EntrySource {
    /// Visits every entry in order with its offset (or row number).
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Tampered`] for an undecodable frame; errors
    /// of `visit`.
    fn entries(
        &self,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
    ) -> Result<ScanEnd, Error>;

    /// The anchor of a pruned prefix, if the log was pruned.
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::BadInput`] if the anchor cannot be read.
    fn prune_anchor(&self) -> Result<Option<PruneAnchor>, Error>;
}

/// Visits the entries of any source in chunks (what verification reads,
/// handing pieces to several threads), packing them one by one; the
/// crate's file-backed stores hand over their read buffers instead
/// (`FileStore::chunks`, `LogDir::chunks`).
pub(crate) fn chunks_of(
    source: &(impl EntrySource + ?Sized),
    visit: &mut ChunkVisitor<'_>,
) -> Result<ScanEnd, Error> {
    pack_chunks(visit, |each| source.entries(each))
}

/// Entries (or bytes) packed into one chunk by [`chunks_of`].
const PACK_ENTRIES: usize = 4096;
const PACK_BYTES: usize = 1 << 20;

/// Packs the entries that `scan` visits one by one into chunks for `visit`.
fn pack_chunks(
    visit: &mut ChunkVisitor<'_>,
    scan: impl FnOnce(&mut dyn FnMut(u64, Entry) -> Result<(), Error>) -> Result<ScanEnd, Error>,
) -> Result<ScanEnd, Error> {
    let mut chunk = Chunk::new();
    let end = scan(&mut |offset, entry| {
        chunk.push_owned(offset, &entry);
        if chunk.len() >= PACK_ENTRIES || chunk.byte_len() >= PACK_BYTES {
            visit(std::mem::take(&mut chunk))?;
        }
        Ok(())
    })?;
    if !chunk.is_empty() {
        visit(chunk)?;
    }
    Ok(end)
}

/// Hex of a hash.
pub(crate) fn hex(h: &[u8]) -> String {
    crate::hex::encode(h)
}

/// A hash from 64 hex digits.
pub(crate) fn unhex(s: &str) -> Result<Hash, Error> {
    let bad = || Error::BadInput {
        what: "hash",
        reason: "64 lower-case hex digits expected".into(),
    };
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(bad());
    }
    crate::hex::decode(s).ok_or_else(bad)
}
