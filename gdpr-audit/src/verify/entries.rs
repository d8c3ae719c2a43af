//! The checks of one entry at a time: a record's canonical decoding,
//! position and link, a checkpoint's signature, size and root. A piece in
//! which anything failed is checked again this way
//! ([`super::parallel`]), so the first bad position is always theirs.

use crate::Error;
use crate::cause::{Malformed, Tamper};
use crate::checkpoint::Checkpoint;
use crate::merkle::leaf_hash;
use crate::store::{Entry, EntryRef};
use crate::view::RecordView;

use super::LogVerifier;

impl LogVerifier<'_> {
    /// Checks the next entry of any kind.
    ///
    /// # Errors
    /// [`Error::Tampered`] with the first bad position.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn entry(&mut self, offset: u64, entry: &Entry) -> Result<(), Error> {
        self.drain()?;
        self.entry_now(offset, entry.as_ref())
    }

    pub(super) fn entry_now(&mut self, offset: u64, entry: EntryRef<'_>) -> Result<(), Error> {
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
    pub(super) fn opened_checkpoint(
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
}
