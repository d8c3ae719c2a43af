//! Chunks of entries checked on worker threads: each chunk is cut into
//! pieces ([`crate::piece`]) that the workers decode, hash and sign-check
//! while the reading thread reads on; finished pieces are applied here in
//! log order.

use std::sync::Arc;

use crate::Error;
use crate::cause::Tamper;
use crate::checkpoint::Checkpoint;
use crate::chunk::Chunk;
use crate::piece::{Checked, Piece, Step, check, split};
use crate::workers::Workers;

use super::LogVerifier;

/// Pieces queued at most before [`LogVerifier::chunk`] waits for results
/// (bounds memory to a few chunks).
const MAX_PENDING: usize = 48;

impl LogVerifier<'_> {
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
    pub(super) fn drain(&mut self) -> Result<(), Error> {
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
}
