//! Appending to a store that decides order and chain itself
//! ([`AuditStore::chains_itself`], PostgreSQL): the log seals the events
//! and hands over the records without their header; the store writes each
//! header, hashes and links the records, and asks the log to sign the
//! checkpoints its policy makes due. The log then follows the head the
//! store reports.

use super::group::{self, Job, Outcome};
use super::{AuditLog, Receipt, State};
use crate::Error;
use crate::batch::{EventBatch, Sealed};
use crate::checkpoint::Checkpoint;
use crate::keys::KeyStore;
use crate::merkle::Tree;
use crate::store::{AuditStore, ChainedBatch, SharedHead, Ticket, Unchained};

impl<S: AuditStore, K: KeyStore> AuditLog<S, K> {
    /// Writes the sealed records of `batch` through
    /// [`AuditStore::append_unchained`]; durable once
    /// [`AuditStore::commit`] of the returned ticket returns. Appends
    /// of other threads that wait at the same time share the call
    /// ([`group`]: group commit).
    pub(super) fn write_unchained(
        &self,
        batch: &EventBatch,
        sealed: &Sealed,
    ) -> Result<(Ticket, Vec<Receipt>), Error> {
        let Sealed { bytes, ends, .. } = sealed;
        let mut from = 0;
        let job = Job::new(batch.events().zip(ends).map(|(event, &end)| {
            let tail = bytes.get(from..end).unwrap_or_default();
            from = end;
            let mut body = Vec::with_capacity(event.clear.len() + tail.len());
            body.extend_from_slice(event.clear);
            body.extend_from_slice(tail);
            (body, event.recorded)
        }));
        self.group.append(job, &mut |jobs| self.write_jobs(jobs))
    }

    /// The appends waiting for the next call to a store that chains
    /// itself (a diagnostic: how many appends the next call will share).
    pub fn queued_appends(&self) -> usize {
        self.group.queued()
    }

    /// One call of [`AuditStore::append_unchained`] for the records of
    /// all `jobs`, in order; one outcome per job.
    fn write_jobs(&self, jobs: &[Job]) -> Vec<Outcome> {
        let records: Vec<Unchained<'_>> = jobs.iter().flat_map(Job::records).collect();
        let signer = &self.signer;
        let mut sign = |size: u64, root: &[u8; 32]| -> Result<String, Error> {
            Ok(Checkpoint::new(signer.name(), size, *root)?.sign(signer))
        };
        // The state lock orders this node's calls (its tree follows them).
        let mut st = super::lock(&self.state);
        let seen = st.tree.size();
        let written = self
            .store
            .append_unchained(&records, &self.policy, seen, &mut sign)
            .and_then(|done| {
                st.adopt(&done, seen)?;
                if done.leaves.len() == records.len() {
                    Ok(done)
                } else {
                    Err(Error::Backend {
                        operation: "appending to the audit log",
                        source: "the store wrote fewer records than it was given".into(),
                    })
                }
            });
        drop(st);
        match written {
            Ok(done) => group::split(done.ticket, &done.leaves, jobs),
            Err(e) => group::shared(e, jobs.len()),
        }
    }
}

impl State {
    /// Moves to the head after a batch the store chained. The tree keeps
    /// its leaves (and so answers proofs) when the batch's records follow
    /// this writer's last ones directly and lead to the reported frontier;
    /// otherwise it restarts from that frontier, as [`State::follow`].
    ///
    /// # Errors
    /// [`Error::Tampered`] ([`crate::Tamper::Truncated`]) when the store
    /// holds fewer records than this writer had seen (it appended nothing).
    fn adopt(&mut self, done: &ChainedBatch, seen: u64) -> Result<(), Error> {
        let head: &SharedHead = &done.head;
        let size = head.frontier.size();
        if size < seen {
            return Err(Error::tampered(
                size,
                0,
                crate::Tamper::Truncated {
                    records: size,
                    trusted: seen,
                },
            ));
        }
        let follows = done
            .leaves
            .iter()
            .zip(self.tree.size()..)
            .all(|(&(position, _), expected)| position == expected)
            && self.tree.size() + done.leaves.len() as u64 == size;
        if follows {
            for &(_, leaf) in &done.leaves {
                self.tree.push(leaf);
            }
        }
        if *self.tree.frontier() != head.frontier {
            self.tree = Tree::after_prune(head.frontier.clone());
        }
        self.prev = head.prev;
        self.since_checkpoint = head.since_checkpoint;
        self.last_checkpoint_time = head.last_checkpoint_time;
        self.last_note.clone_from(&head.last_note);
        self.last_recorded = head.last_recorded;
        Ok(())
    }
}
