//! Sealing, chaining and writing a batch of encoded events
//! ([`AuditLog::stage_encoded`]): the personal fields sealed under their
//! subjects' keys, each record linked to the one before and pushed to the
//! tree, checkpoints signed as the policy asks, and all of it written in
//! one go (durable once committed).

use jiff::Timestamp;

use super::{AuditLog, Receipt, Staged, State, lock};
use crate::Error;
use crate::batch::{EventBatch, Sealed};
use crate::checkpoint::Checkpoint;
use crate::encoding::Writer;
use crate::keys::KeyStore;
use crate::merkle::leaf_hash;
use crate::record::{Hash, header};
use crate::seal::seal_into;
use crate::seal::{DataKey, KeyId};
use crate::store::{AuditStore, EntryRef, Frames, SharedHead, Ticket};

/// The keys of a batch's events, if the key store gave them.
type KeysOf = Result<Option<Vec<(KeyId, DataKey)>>, Error>;

/// The state a staged batch leaves behind (see [`State`]), and its
/// receipts.
struct Chained {
    prev: Hash,
    since: u64,
    last_cp_time: Option<Timestamp>,
    note: Option<String>,
    receipts: Vec<Receipt>,
}

impl Chained {
    /// The shared head after the batch (`st.tree` already holds its
    /// leaves; `last_recorded` is the batch's last event time).
    fn head(&self, st: &State, last_recorded: Option<Timestamp>) -> SharedHead {
        SharedHead {
            frontier: st.tree.frontier().clone(),
            prev: self.prev,
            since_checkpoint: self.since,
            last_checkpoint_time: self.last_cp_time,
            last_note: self.note.clone().or_else(|| st.last_note.clone()),
            last_recorded: last_recorded.or(st.last_recorded),
        }
    }
}

impl<S: AuditStore, K: KeyStore> AuditLog<S, K> {
    /// [`AuditLog::stage_batch`] for events already encoded (a bulk writer
    /// fills the next [`EventBatch`] while this one is written): seals
    /// them (unless [`AuditLog::seal_batch`] did), chains and writes them;
    /// [`AuditLog::commit`] makes them durable.
    ///
    /// # Errors
    /// [`Error::SubjectErased`] for an event about an erased subject;
    /// [`Error::Random`]; [`Error::Io`] if they could not be written.
    /// Either way none was appended.
    pub fn stage_encoded(&self, batch: &EventBatch) -> Result<Staged, Error> {
        let by = lock(&self.keys).unattributed().0;
        let (ticket, receipts) = match &batch.sealed {
            sealed if sealed.by == Some(by) => self.chain_and_write(batch, sealed)?,
            _ => {
                let mut sealed = Sealed::default();
                self.seal(batch, &mut sealed)?;
                self.chain_and_write(batch, &sealed)?
            }
        };
        Ok(Staged { ticket, receipts })
    }

    /// Seals the personal fields of `batch` under their subjects' keys
    /// ahead of [`AuditLog::stage_encoded`], which then only chains and
    /// writes it: a bulk writer seals the next batch on its own thread
    /// while the log writes the one before. The keys of subjects new to
    /// the log are created here, durably (one write and one sync for the
    /// batch), before any record sealed with them is written. Pushing to
    /// the batch afterwards undoes the sealing. A subject erased between
    /// sealing and staging has its event written sealed under the destroyed
    /// key: unreadable, as if it had been appended just before the erasure.
    ///
    /// # Errors
    /// [`Error::SubjectErased`] for an event about an erased subject;
    /// [`Error::Random`]; [`Error::Io`] if new keys could not be stored.
    /// The batch is then unsealed.
    pub fn seal_batch(&self, batch: &mut EventBatch) -> Result<(), Error> {
        let mut sealed = std::mem::take(&mut batch.sealed);
        let result = self.seal(batch, &mut sealed);
        if result.is_err() {
            sealed.clear();
        }
        batch.sealed = sealed;
        result
    }

    /// [`AuditLog::seal_batch`] only if every subject of `batch` already
    /// has a key ([`KeyStore::known_keys_for_each_ref`]): creates no key.
    /// `Ok(false)` when one has none (or the key store cannot tell): the
    /// batch is then left unsealed, for `seal_batch` in input order. A
    /// bulk writer seals such batches as soon as they are parsed, without
    /// waiting for the batches before them.
    ///
    /// # Errors
    /// [`Error::Random`]; [`Error::Io`] or [`Error::Backend`] from the key
    /// store. The batch is then unsealed.
    pub fn seal_batch_known(&self, batch: &mut EventBatch) -> Result<bool, Error> {
        let mut sealed = std::mem::take(&mut batch.sealed);
        let result = self.seal_with(batch, &mut sealed, |store, subjects| {
            store.known_keys_for_each_ref(subjects)
        });
        if !matches!(result, Ok(true)) {
            sealed.clear();
        }
        batch.sealed = sealed;
        result
    }

    /// Fills `out` with the sealed-fields part of each event's record,
    /// concatenated, and where each ends. The keys of new subjects are
    /// created with one durable write for the whole batch (by
    /// [`KeyStore::keys_for_each`]).
    fn seal(&self, batch: &EventBatch, out: &mut Sealed) -> Result<(), Error> {
        self.seal_with(batch, out, |store, subjects| {
            store.keys_for_each_ref(subjects).map(Some)
        })
        .map(|_| ())
    }

    /// [`AuditLog::seal`] with the batch's keys from `keys_of` (under the
    /// key store's lock, one entry per event); `Ok(false)`, nothing
    /// sealed, when it gives none.
    fn seal_with(
        &self,
        batch: &EventBatch,
        out: &mut Sealed,
        keys_of: impl FnOnce(&mut K, &[Option<(&str, Option<&str>)>]) -> KeysOf,
    ) -> Result<bool, Error> {
        out.clear();
        let subjects: Vec<Option<(&str, Option<&str>)>> = batch.sealed_subjects().collect();
        let (by, keys) = {
            let mut store = lock(&self.keys);
            (store.unattributed().0, keys_of(&mut store, &subjects)?)
        };
        let Some(keys) = keys else { return Ok(false) };
        // The nonces of the batch: 16 random bytes from the operating
        // system, then each event's index in the batch (see `seal_into`).
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce[..16]).map_err(|_| Error::Random)?;
        let mut keys = keys.into_iter();
        let mut w = Writer::from_vec(std::mem::take(&mut out.bytes));
        for (event, index) in batch.events().zip(0u64..) {
            match event.personal {
                None => w.u8(0),
                Some(plaintext) => {
                    let Some((id, key)) = keys.next() else {
                        out.bytes = w.into_bytes();
                        return Err(Error::InvalidField {
                            what: "key store",
                            rule: "one key for each subject asked for",
                        });
                    };
                    nonce[16..].copy_from_slice(&index.to_be_bytes());
                    if let Err(e) = seal_into(&mut w, plaintext, id, &key, nonce) {
                        out.bytes = w.into_bytes();
                        return Err(e);
                    }
                }
            }
            out.ends.push(w.len());
        }
        out.bytes = w.into_bytes();
        out.by = Some(by);
        Ok(true)
    }

    /// Chains the records of `batch` (with their `sealed` parts) after
    /// everything staged before, adds the checkpoints the policy asks for
    /// and writes them all. On failure the tree is as it was.
    fn chain_and_write(
        &self,
        batch: &EventBatch,
        sealed: &Sealed,
    ) -> Result<(Ticket, Vec<Receipt>), Error> {
        if self.store.chains_itself() {
            return self.write_unchained(batch, sealed);
        }
        let mut st = lock(&self.state);
        let shared = self.store.lock_head()?;
        if let Some(head) = &shared {
            st.follow(head)?;
        }
        let mark = st.tree.mark();
        // The frames of the batch before are reused (their buffer is as
        // big as a batch).
        let mut frames = std::mem::take(&mut st.frames);
        frames.clear();
        let written = self
            .chain(&mut st, batch, sealed, &mut frames)
            .and_then(|next| {
                let ticket = match shared {
                    None => self.store.stage_frames(&frames)?,
                    Some(_) => {
                        let last_recorded = batch.events().last().map(|e| e.recorded);
                        let head = next.head(&st, last_recorded);
                        self.store.stage_shared(&frames.to_entries(), &head)?
                    }
                };
                Ok((ticket, next))
            });
        st.frames = frames;
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
    /// written to `frames` (each record where it is built) with their
    /// leaves pushed to the tree; returns the state after them.
    fn chain(
        &self,
        st: &mut State,
        batch: &EventBatch,
        sealed: &Sealed,
        frames: &mut Frames,
    ) -> Result<Chained, Error> {
        let Sealed { bytes, ends, .. } = sealed;
        let mut next = Chained {
            prev: st.prev,
            since: st.since_checkpoint,
            last_cp_time: st.last_checkpoint_time,
            note: None,
            receipts: Vec::with_capacity(batch.len()),
        };
        let mut from = 0;
        for (event, &end) in batch.events().zip(ends) {
            let position = st.tree.size();
            let tail = bytes.get(from..end).unwrap_or_default();
            from = end;
            let record = frames.push_record(41 + event.clear.len() + tail.len(), |w| {
                header(w, position, &next.prev);
                w.fixed(event.clear);
                w.fixed(tail);
            });
            let leaf = leaf_hash(record);
            st.tree.push(leaf);
            next.prev = leaf;
            next.since += 1;
            next.receipts.push(Receipt {
                position,
                leaf_hash: leaf,
            });
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
                frames.push(EntryRef::Checkpoint(&n));
                next.note = Some(n);
                next.since = 0;
                next.last_cp_time = Some(t);
            }
        }
        Ok(next)
    }
}
