//! The audit log: seals events, chains and checkpoints them, and stores
//! them durably in an [`AuditStore`].
//!
//! Opening (and verifying) a stored log is in [`open`], sealing and
//! chaining a batch in [`stage`], erasure in [`erasure`], pruning in
//! [`prune`].

use std::sync::{Mutex, MutexGuard, PoisonError};

use jiff::{SignedDuration, Timestamp};

use crate::Error;
use crate::batch::EventBatch;
use crate::checkpoint::Checkpoint;
use crate::event::AuditEvent;
use crate::file_store::FileStore;
use crate::keys::KeyStore;
use crate::keystore::FileKeyStore;
use crate::merkle::Tree;
use crate::record::Hash;
use crate::signing::Signer;
use crate::store::{AuditStore, Entry, Frames, SharedHead, Ticket};

mod erasure;
mod group;
mod open;
mod prune;
mod stage;
mod unchained;

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

#[derive(Debug)]
struct State {
    prev: Hash,
    tree: Tree,
    since_checkpoint: u64,
    last_checkpoint_time: Option<Timestamp>,
    last_note: Option<String>,
    last_recorded: Option<Timestamp>,
    /// The frames of the last batch written, kept for their buffer.
    frames: Frames,
}

impl State {
    /// Moves to `head`, the head of a shared store (other writers may have
    /// appended since this writer last did). The tree keeps its leaves
    /// while the head is this writer's own; otherwise it restarts from the
    /// head's frontier (inclusion proofs for earlier records then come from
    /// the store, not from this writer).
    ///
    /// # Errors
    /// [`Error::Tampered`] ([`crate::Tamper::Truncated`]) when the shared
    /// log holds fewer records than this writer has already seen: it was
    /// rolled back (a failover to a standby that lost acknowledged
    /// records), and chaining on would fork the log.
    fn follow(&mut self, head: &SharedHead) -> Result<(), Error> {
        let size = head.frontier.size();
        if size == self.tree.size()
            && head.prev == self.prev
            && *self.tree.frontier() == head.frontier
        {
            return Ok(());
        }
        if size < self.tree.size() {
            return Err(Error::tampered(
                size,
                0,
                crate::Tamper::Truncated {
                    records: size,
                    trusted: self.tree.size(),
                },
            ));
        }
        self.tree = Tree::after_prune(head.frontier.clone());
        self.prev = head.prev;
        self.since_checkpoint = head.since_checkpoint;
        self.last_checkpoint_time = head.last_checkpoint_time;
        self.last_note.clone_from(&head.last_note);
        self.last_recorded = head.last_recorded;
        Ok(())
    }
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
    /// Appends waiting for a shared call to a store that chains itself.
    group: group::Group,
}

impl<S: AuditStore, K: KeyStore> AuditLog<S, K> {
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
            let shared = self.store.lock_head()?;
            if let Some(head) = &shared {
                st.follow(head)?;
            }
            if st.since_checkpoint == 0
                && let Some(n) = st.last_note.clone()
            {
                if let Some(head) = shared {
                    // Nothing to write: end the transaction that holds the
                    // shared store's append lock.
                    let ticket = self.store.stage_shared(&[], &head)?;
                    drop(st);
                    self.store.commit(ticket)?;
                }
                return Ok(n);
            }
            let note = Checkpoint::new(self.signer.name(), st.tree.size(), st.tree.root())?
                .sign(&self.signer);
            let entries = [Entry::Checkpoint(note.clone())];
            let ticket = match shared {
                None => self.store.stage(&entries)?,
                Some(mut head) => {
                    head.since_checkpoint = 0;
                    head.last_checkpoint_time = st.last_recorded;
                    head.last_note = Some(note.clone());
                    self.store.stage_shared(&entries, &head)?
                }
            };
            st.since_checkpoint = 0;
            st.last_checkpoint_time = st.last_recorded;
            st.last_note = Some(note);
            ticket
        };
        self.store.commit(ticket)?;
        Ok(lock(&self.state).last_note.clone().unwrap_or_default())
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

    /// The key store (for subject reports and exports).
    pub fn keys(&self) -> MutexGuard<'_, K> {
        lock(&self.keys)
    }
}
