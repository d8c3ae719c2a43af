//! The audit log: seals events, chains and checkpoints them, and stores
//! them durably in an [`AuditStore`].

use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gdpr_core::subject::PatientId;
use jiff::{SignedDuration, Timestamp};

use crate::Error;
use crate::action::Action;
use crate::batch::EventBatch;
use crate::checkpoint::Checkpoint;
use crate::chunk::ChunkVisitor;
use crate::encoding::Writer;
use crate::event::AuditEvent;
use crate::file_store::FileStore;
use crate::keys::KeyStore;
use crate::keystore::FileKeyStore;
use crate::merkle::{Tree, leaf_hash};
use crate::record::{Hash, Record, header};
use crate::seal::{KeyId, seal_into};
use crate::signing::Signer;
use crate::store::{AuditStore, Entry, EntryRef, PruneAnchor, ScanEnd, Ticket, chunks_of, hex};
use crate::verify::LogVerifier;
use crate::view::RecordView;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When the log writes a signed checkpoint by itself (besides
/// [`AuditLog::checkpoint`] on demand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// After this many records since the last checkpoint.
    pub every_records: Option<u64>,
    /// When an event is recorded this long after the last checkpoint
    /// (measured with the events' own `recorded` times: no clock is read).
    pub every: Option<SignedDuration>,
}

impl Default for CheckpointPolicy {
    /// Every 1000 records or 5 minutes.
    fn default() -> Self {
        Self {
            every_records: Some(1000),
            every: Some(SignedDuration::from_secs(300)),
        }
    }
}

/// Proof that an append is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The record's position.
    pub position: u64,
    /// Its RFC 9162 leaf hash.
    pub leaf_hash: Hash,
}

/// A batch written by [`AuditLog::stage_batch`] but not yet durable; its
/// receipts come from [`AuditLog::commit`].
#[derive(Debug)]
#[must_use = "commit it: nothing is acknowledged before"]
pub struct Staged {
    ticket: Ticket,
    receipts: Vec<Receipt>,
}

impl Staged {
    /// The number of records in the batch.
    pub fn len(&self) -> usize {
        self.receipts.len()
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.receipts.is_empty()
    }
}

/// The state a staged batch leaves behind (see [`State`]), and its
/// receipts.
struct Chained {
    prev: Hash,
    since: u64,
    last_cp_time: Option<Timestamp>,
    note: Option<String>,
    receipts: Vec<Receipt>,
}

#[derive(Debug)]
struct State {
    prev: Hash,
    tree: Tree,
    since_checkpoint: u64,
    last_checkpoint_time: Option<Timestamp>,
    last_note: Option<String>,
    last_recorded: Option<Timestamp>,
}

/// A writable audit log over a record store `S` and a key store `K`: the
/// embedded default ([`AuditLog::create`], [`AuditLog::open`] on a
/// directory) or any backend ([`AuditLog::with_stores`]).
#[derive(Debug)]
pub struct AuditLog<S: AuditStore = FileStore, K: KeyStore = FileKeyStore> {
    store: S,
    signer: Signer,
    keys: Mutex<K>,
    state: Mutex<State>,
    policy: CheckpointPolicy,
}

impl<S: AuditStore, K: KeyStore> AuditLog<S, K> {
    /// Opens the log in `store` with the subjects' keys in `keys` (any
    /// backend), verifying it completely against the signer's own public
    /// key. For a log directory, [`AuditLog::open`] does all of this.
    ///
    /// # Errors
    /// [`Error::Tampered`] if the stored log does not verify; [`Error::Io`].
    pub fn with_stores(
        store: S,
        keys: K,
        signer: Signer,
        policy: CheckpointPolicy,
    ) -> Result<Self, Error> {
        Self::resume(store, keys, signer, policy, |s, visit| chunks_of(s, visit))
    }

    /// [`AuditLog::with_stores`], reading the store's entries in chunks
    /// with `read`.
    pub(crate) fn resume(
        store: S,
        keys: K,
        signer: Signer,
        policy: CheckpointPolicy,
        read: impl FnOnce(&S, &mut ChunkVisitor<'_>) -> Result<ScanEnd, Error>,
    ) -> Result<Self, Error> {
        let verifier = signer.verifier();
        let mut v = LogVerifier::new(&verifier, None)?;
        let mut tree = Tree::new();
        if let Some(anchor) = store.prune_anchor()? {
            v.resume_after(&anchor)?;
            tree = Tree::after_prune(v.frontier().clone());
        }
        let mut last_note = None;
        let mut since = 0;
        let mut last_record: Option<Vec<u8>> = None;
        let mut last_leaf = None;
        // The checks run on the verifier's threads (chunk by chunk); the
        // writer's own tree is rebuilt here with `sha2` alone.
        let end = read(&store, &mut |chunk| {
            let mut last = None;
            for (_, entry) in chunk.iter() {
                match entry {
                    EntryRef::Record(bytes) => {
                        let leaf = leaf_hash(bytes);
                        tree.push(leaf);
                        last_leaf = Some(leaf);
                        since += 1;
                        last = Some(bytes);
                    }
                    EntryRef::Checkpoint(note) => {
                        since = 0;
                        last_note = Some(note.to_owned());
                    }
                }
            }
            if let Some(bytes) = last {
                last_record = Some(bytes.to_vec());
            }
            v.chunk(chunk)
        })?;
        let prev = last_leaf.unwrap_or(*v.last_leaf());
        v.finish(end)?;
        let last_recorded = last_record
            .as_deref()
            .and_then(|b| RecordView::parse(b).ok())
            .map(|r| r.recorded);
        Ok(Self {
            store,
            signer,
            keys: Mutex::new(keys),
            state: Mutex::new(State {
                prev,
                tree,
                since_checkpoint: since,
                last_checkpoint_time: last_recorded,
                last_note,
                last_recorded,
            }),
            policy,
        })
    }

    /// The log's origin (the signer's key name).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The number of records, pruned ones included.
    pub fn len(&self) -> u64 {
        lock(&self.state).tree.size()
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Writes checkpoints by `policy` from now on.
    #[must_use]
    pub fn with_policy(mut self, policy: CheckpointPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Appends one event; returns once it is durable.
    ///
    /// # Errors
    /// [`Error::Core`] if the event breaks a rule of [`AuditEvent::check`];
    /// [`Error::Io`] if it could not be stored (then it was not appended).
    pub fn append(&self, event: &AuditEvent) -> Result<Receipt, Error> {
        Ok(self.append_batch(std::slice::from_ref(event))?[0])
    }

    /// Appends events in order; returns once all are durable. Concurrent
    /// callers share one `fdatasync`.
    ///
    /// # Errors
    /// [`Error::Core`] if an event breaks a rule of [`AuditEvent::check`]
    /// (a subject id that could not be read back); [`Error::Io`] if they
    /// could not be stored. Either way none was appended.
    pub fn append_batch(&self, events: &[AuditEvent]) -> Result<Vec<Receipt>, Error> {
        let staged = self.stage_batch(events)?;
        self.commit(staged)
    }

    /// [`AuditLog::append_batch`] for events already checked. Tests call it
    /// directly to write records the way versions before the check did.
    #[cfg(test)]
    pub(crate) fn append_checked(&self, events: &[AuditEvent]) -> Result<Vec<Receipt>, Error> {
        let mut batch = EventBatch::with_capacity(events.len());
        for event in events {
            batch.push_unchecked(event)?;
        }
        let staged = self.stage_encoded(&batch)?;
        self.commit(staged)
    }

    /// The first half of [`AuditLog::append_batch`]: checks, seals, chains
    /// and writes `events` after everything staged before, without waiting
    /// for them to be durable, so that a bulk writer can prepare the next
    /// batch while this one syncs. Nothing is acknowledged until
    /// [`AuditLog::commit`] returns the receipts. The keys of subjects new
    /// to the log are created first, with one write and one `fdatasync` of
    /// the key store for the whole batch.
    ///
    /// # Errors
    /// [`Error::Core`] if an event breaks a rule of [`AuditEvent::check`];
    /// [`Error::Io`] if they could not be written. Either way none was
    /// appended.
    pub fn stage_batch(&self, events: &[AuditEvent]) -> Result<Staged, Error> {
        let mut batch = EventBatch::with_capacity(events.len());
        for event in events {
            batch.push(event)?;
        }
        self.stage_encoded(&batch)
    }

    /// [`AuditLog::stage_batch`] for events already encoded (a bulk writer
    /// fills the next [`EventBatch`] while this one is written): seals,
    /// chains and writes them; [`AuditLog::commit`] makes them durable.
    ///
    /// # Errors
    /// [`Error::SubjectErased`] for an event about an erased subject;
    /// [`Error::Random`]; [`Error::Io`] if they could not be written.
    /// Either way none was appended.
    pub fn stage_encoded(&self, batch: &EventBatch) -> Result<Staged, Error> {
        let sealed = self.seal(batch)?;
        let (ticket, receipts) = self.chain_and_write(batch, &sealed)?;
        Ok(Staged { ticket, receipts })
    }

    /// The sealed-fields part of each event's record, concatenated, and
    /// where each ends. The keys of new subjects are created with one
    /// durable write for the whole batch (by [`KeyStore::keys_for_each`]).
    fn seal(&self, batch: &EventBatch) -> Result<(Vec<u8>, Vec<usize>), Error> {
        // One system call for all nonces of the batch.
        let mut nonces = vec![0u8; 24 * batch.len()];
        getrandom::fill(&mut nonces).map_err(|_| Error::Random)?;
        let subjects: Vec<Option<&PatientId>> = batch
            .events()
            .filter(|e| e.personal.is_some())
            .map(|e| e.subject)
            .collect();
        let mut keys = lock(&self.keys).keys_for_each(&subjects)?.into_iter();
        let mut w = Writer::with_capacity(batch.len() * 128);
        let mut ends = Vec::with_capacity(batch.len());
        for (event, n) in batch.events().zip(nonces.chunks_exact(24)) {
            match event.personal {
                None => w.u8(0),
                Some(plaintext) => {
                    let (id, key) = keys.next().ok_or(Error::InvalidField {
                        what: "key store",
                        rule: "one key for each subject asked for",
                    })?;
                    let mut nonce = [0u8; 24];
                    nonce.copy_from_slice(n);
                    seal_into(&mut w, plaintext, id, &key, nonce)?;
                }
            }
            ends.push(w.len());
        }
        Ok((w.into_bytes(), ends))
    }

    /// Chains the records of `batch` (with their `sealed` parts) after
    /// everything staged before, adds the checkpoints the policy asks for
    /// and writes them all. On failure the tree is as it was.
    fn chain_and_write(
        &self,
        batch: &EventBatch,
        sealed: &(Vec<u8>, Vec<usize>),
    ) -> Result<(Ticket, Vec<Receipt>), Error> {
        let mut st = lock(&self.state);
        let mark = st.tree.mark();
        let written = self
            .chain(&mut st, batch, sealed)
            .and_then(|(entries, next)| {
                let ticket = self.store.stage(&entries)?;
                Ok((ticket, next))
            });
        let (ticket, next) = match written {
            Ok(w) => w,
            Err(e) => {
                st.tree.rollback(mark);
                return Err(e);
            }
        };
        st.prev = next.prev;
        st.since_checkpoint = next.since;
        st.last_checkpoint_time = next.last_cp_time;
        st.last_recorded = batch
            .events()
            .last()
            .map(|e| e.recorded)
            .or(st.last_recorded);
        if next.note.is_some() {
            st.last_note = next.note;
        }
        Ok((ticket, next.receipts))
    }

    /// The records of `batch` and the checkpoints the policy asks for,
    /// their leaves pushed to the tree, and the state after them.
    fn chain(
        &self,
        st: &mut State,
        batch: &EventBatch,
        (sealed, ends): &(Vec<u8>, Vec<usize>),
    ) -> Result<(Vec<Entry>, Chained), Error> {
        let mut next = Chained {
            prev: st.prev,
            since: st.since_checkpoint,
            last_cp_time: st.last_checkpoint_time,
            note: None,
            receipts: Vec::with_capacity(batch.len()),
        };
        let mut entries = Vec::with_capacity(batch.len() + 1);
        let mut from = 0;
        for (event, &end) in batch.events().zip(ends) {
            let position = st.tree.size();
            let tail = sealed.get(from..end).unwrap_or_default();
            from = end;
            let mut w = Writer::with_capacity(41 + event.clear.len() + tail.len());
            header(&mut w, position, &next.prev);
            w.fixed(event.clear);
            w.fixed(tail);
            let bytes = w.into_bytes();
            let leaf = leaf_hash(&bytes);
            st.tree.push(leaf);
            next.prev = leaf;
            next.since += 1;
            next.receipts.push(Receipt {
                position,
                leaf_hash: leaf,
            });
            entries.push(Entry::Record(bytes));
            let t = event.recorded;
            let last = *next.last_cp_time.get_or_insert(t);
            let due_n = self.policy.every_records.is_some_and(|n| next.since >= n);
            let due_t = self
                .policy
                .every
                .is_some_and(|d| t.duration_since(last) >= d);
            if due_n || due_t {
                let n = Checkpoint::new(self.signer.name(), st.tree.size(), st.tree.root())?
                    .sign(&self.signer);
                entries.push(Entry::Checkpoint(n.clone()));
                next.note = Some(n);
                next.since = 0;
                next.last_cp_time = Some(t);
            }
        }
        Ok((entries, next))
    }

    /// Waits until a staged batch (and everything staged before it) is
    /// durable, and returns its receipts.
    ///
    /// # Errors
    /// [`Error::Io`] if the sync fails: the batch may or may not be in the
    /// log after a restart, and the store refuses appends until reopened.
    pub fn commit(&self, staged: Staged) -> Result<Vec<Receipt>, Error> {
        self.store.commit(staged.ticket)?;
        Ok(staged.receipts)
    }

    /// Writes a signed checkpoint of the current state (unless the last
    /// entry already is one) and returns its note once durable.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn checkpoint(&self) -> Result<String, Error> {
        let ticket = {
            let mut st = lock(&self.state);
            if st.since_checkpoint == 0
                && let Some(n) = &st.last_note
            {
                return Ok(n.clone());
            }
            let note = Checkpoint::new(self.signer.name(), st.tree.size(), st.tree.root())?
                .sign(&self.signer);
            let ticket = self.store.stage(&[Entry::Checkpoint(note.clone())])?;
            st.since_checkpoint = 0;
            st.last_checkpoint_time = st.last_recorded;
            st.last_note = Some(note);
            ticket
        };
        self.store.commit(ticket)?;
        Ok(lock(&self.state).last_note.clone().unwrap_or_default())
    }

    /// Erases a data subject (Art. 17): appends `erasure` (an event with
    /// action [`Action::Erasure`] about that subject) and a checkpoint,
    /// then destroys the subject's key. The subject's personal fields in
    /// every record become unreadable; every hash and proof still holds.
    ///
    /// # Errors
    /// [`Error::InvalidField`] unless `erasure` is an erasure about a
    /// subject; [`Error::UnknownSubject`] if the subject has no key;
    /// [`Error::Io`].
    pub fn erase_subject(&self, erasure: &AuditEvent) -> Result<(Receipt, KeyId), Error> {
        let subject: &PatientId = match (erasure.action(), erasure.subject()) {
            (Action::Erasure, Some(s)) => s,
            _ => {
                return Err(Error::InvalidField {
                    what: "erasure event",
                    rule: "action erasure with the data subject set",
                });
            }
        };
        if lock(&self.keys).find(subject).is_none() {
            return Err(Error::UnknownSubject);
        }
        let receipt = self.append(erasure)?;
        self.checkpoint()?;
        let id = lock(&self.keys).erase(subject)?;
        Ok((receipt, id))
    }

    /// The RFC 9162 inclusion proof of record `position` in the current
    /// tree, with the tree size and root.
    ///
    /// # Errors
    /// [`Error::BadInput`] if the position is out of range or pruned.
    pub fn inclusion_proof(&self, position: u64) -> Result<(u64, Hash, Vec<Hash>), Error> {
        let st = lock(&self.state);
        let size = st.tree.size();
        Ok((
            size,
            st.tree.root(),
            st.tree.inclusion_proof(position, size)?,
        ))
    }

    /// Drops every record before `size`, which must be the size of a
    /// checkpoint already in the log (the retained checkpoint). The rest
    /// stays verifiable against it.
    ///
    /// # Errors
    /// [`Error::BadInput`] if no checkpoint of that size is in the log.
    pub fn prune_before(&self, size: u64) -> Result<(), Error> {
        let verifier = self.signer.verifier();
        let mut note = None;
        let mut last_record = None;
        self.store.entries(&mut |_, entry| {
            match entry {
                Entry::Checkpoint(n)
                    if Checkpoint::open(&n, &verifier).is_ok_and(|c| c.size() == size) =>
                {
                    note = Some(n)
                }
                Entry::Record(b) if Record::decode(&b).is_ok_and(|r| r.position() + 1 == size) => {
                    last_record = Some(b)
                }
                _ => {}
            }
            Ok(())
        })?;
        let (Some(checkpoint), Some(last)) = (note, last_record) else {
            return Err(Error::BadInput {
                what: "prune size",
                reason: "no checkpoint of exactly that size (with its last record) is in the retained log; write one first".into(),
            });
        };
        let st = lock(&self.state);
        let proof = st.tree.inclusion_proof(size - 1, size)?;
        // The frontier of the prefix from the tree's own hashes.
        let frontier_nodes = {
            let mut nodes = Vec::new();
            let mut start = 0u64;
            for b in (0..64u32).rev().filter(|b| size >> b & 1 == 1) {
                let block = 1u64 << b;
                nodes.push(st.tree.root_range(start, start + block)?);
                start += block;
            }
            nodes
        };
        let prefix = crate::merkle::Frontier::from_parts(size, frontier_nodes)?;
        let anchor = PruneAnchor {
            size,
            checkpoint,
            frontier: prefix.nodes().iter().map(|h| hex(h)).collect(),
            last_record: STANDARD.encode(&last),
            last_record_proof: proof.iter().map(|h| hex(h)).collect(),
        };
        drop(st);
        self.store.prune(&anchor)?;
        let mut st = lock(&self.state);
        let mut tree = Tree::after_prune(prefix);
        let mut leaves = Vec::new();
        self.store.entries(&mut |_, e| {
            if let Entry::Record(b) = e {
                leaves.push(leaf_hash(&b));
            }
            Ok(())
        })?;
        for l in leaves {
            tree.push(l);
        }
        st.tree = tree;
        Ok(())
    }

    /// The key store (for subject reports and exports).
    pub fn keys(&self) -> MutexGuard<'_, K> {
        lock(&self.keys)
    }

    /// Says that a new relationship with `subject` began (they came back
    /// after being erased): the subject gets a new key, so that events
    /// about them are recorded again. Records from before the erasure stay
    /// unreadable. Without this call, events about an erased subject are
    /// refused ([`Error::SubjectErased`]).
    ///
    /// # Errors
    /// [`Error::Random`]; [`Error::Io`].
    pub fn begin_relationship(&self, subject: &PatientId) -> Result<KeyId, Error> {
        lock(&self.keys).begin_relationship(subject)
    }
}
