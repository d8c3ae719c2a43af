//! Group commit for a store that chains records itself
//! ([`crate::store::AuditStore::chains_itself`], PostgreSQL): the appends
//! of several threads of one [`super::AuditLog`] that arrive while a call
//! to the store is in flight wait in a queue; when the call returns, one of
//! them (the leader) takes everything queued, up to [`MAX_RECORDS`]
//! records and [`MAX_BYTES`] bytes of bodies, and makes **one** call for
//! all of it (in PostgreSQL: one `gdpr.audit_append`, more only where
//! checkpoints fall due inside). Each waiter gets the receipts of its own
//! records, in order, or an error when the call failed: a failed call
//! fails every append it held, and none of them is acknowledged. The
//! queue is free for the next leader as soon as the call returns; each
//! append then waits for durability on its own
//! ([`crate::store::AuditStore::commit`] of the call's ticket, which
//! PostgreSQL runs on a second connection while the next call runs). The
//! file store shares its `fdatasync` the same way, with `stage` and
//! `commit` instead.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use jiff::Timestamp;

use super::Receipt;
use crate::Error;
use crate::store::{Ticket, Unchained};

/// The most records one shared call takes (a single append larger than
/// this goes alone, whole). It bounds the time the tenant's lock is held
/// by one call (the hashing in PostgreSQL is about 3 µs per record) and
/// the memory of a call.
pub(super) const MAX_RECORDS: usize = 2048;

/// The most bytes of record bodies one shared call takes (besides
/// [`MAX_RECORDS`]): a bound on the message and on the server's memory.
pub(super) const MAX_BYTES: usize = 4 << 20;

/// One append waiting in the queue: its records without their header.
#[derive(Debug)]
pub(super) struct Job {
    bodies: Vec<Vec<u8>>,
    recorded: Vec<Timestamp>,
    bytes: usize,
}

impl Job {
    /// The append of `records` (body, `recorded` time), in order.
    pub(super) fn new(records: impl Iterator<Item = (Vec<u8>, Timestamp)>) -> Self {
        let (bodies, recorded): (Vec<_>, Vec<_>) = records.unzip();
        let bytes = bodies.iter().map(Vec::len).sum();
        Self {
            bodies,
            recorded,
            bytes,
        }
    }

    /// The number of records.
    pub(super) fn len(&self) -> usize {
        self.bodies.len()
    }

    /// The records as the store takes them.
    pub(super) fn records(&self) -> impl Iterator<Item = Unchained<'_>> {
        self.bodies
            .iter()
            .zip(&self.recorded)
            .map(|(body, &recorded)| Unchained { body, recorded })
    }
}

/// What an append gets: the ticket of the call (durable once the store's
/// `commit` of it returns) and its records' receipts, or the call's error.
pub(super) type Outcome = Result<(Ticket, Vec<Receipt>), Error>;

/// The queue of appends waiting for the next shared call.
#[derive(Debug, Default)]
pub(super) struct Group {
    queue: Mutex<Queue>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: VecDeque<(u64, Job)>,
    next_id: u64,
    /// A leader is making a call (the others wait).
    leading: bool,
    /// The outcomes of calls made, by append, until their waiter takes them.
    done: HashMap<u64, Outcome>,
}

fn lock(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Group {
    /// Appends `job`: queues it, and either waits for a leader's call to
    /// hold it or, when no call is in flight, leads: takes what is queued
    /// (the bounds above; at least one append) and hands it to `write`,
    /// which returns one outcome per append, in order.
    pub(super) fn append(
        &self,
        job: Job,
        write: &mut dyn FnMut(&[Job]) -> Vec<Outcome>,
    ) -> Outcome {
        let mut q = lock(&self.queue);
        let id = q.next_id;
        q.next_id += 1;
        q.waiting.push_back((id, job));
        loop {
            if let Some(out) = q.done.remove(&id) {
                return out;
            }
            if q.leading {
                q = self.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            q.leading = true;
            let (ids, jobs) = take(&mut q.waiting);
            drop(q);
            let mut posting = Posting {
                group: self,
                ids,
                outcomes: Vec::new(),
            };
            posting.outcomes = write(&jobs);
            drop(posting);
            q = lock(&self.queue);
        }
    }

    /// The appends waiting for the next call (a diagnostic).
    pub(super) fn queued(&self) -> usize {
        lock(&self.queue).waiting.len()
    }
}

/// The appends at the front of the queue, within the bounds of one call.
fn take(waiting: &mut VecDeque<(u64, Job)>) -> (Vec<u64>, Vec<Job>) {
    let (mut records, mut bytes) = (0, 0);
    let (mut ids, mut jobs) = (Vec::new(), Vec::new());
    while let Some((_, next)) = waiting.front() {
        let over = records + next.len() > MAX_RECORDS || bytes + next.bytes > MAX_BYTES;
        if over && !jobs.is_empty() {
            break;
        }
        records += next.len();
        bytes += next.bytes;
        if let Some((id, job)) = waiting.pop_front() {
            ids.push(id);
            jobs.push(job);
        }
    }
    (ids, jobs)
}

/// Hands a call's outcomes to its waiters when dropped — also when the
/// leader panicked inside the call, so that no waiter waits forever (they
/// then get an error).
struct Posting<'a> {
    group: &'a Group,
    ids: Vec<u64>,
    outcomes: Vec<Outcome>,
}

impl Drop for Posting<'_> {
    fn drop(&mut self) {
        let mut q = lock(&self.group.queue);
        let mut outcomes = std::mem::take(&mut self.outcomes).into_iter();
        for &id in &self.ids {
            let out = outcomes.next().unwrap_or_else(|| Err(abandoned()));
            q.done.insert(id, out);
        }
        q.leading = false;
        drop(q);
        self.group.wake.notify_all();
    }
}

fn abandoned() -> Error {
    Error::Backend {
        operation: "appending to the audit log",
        source: "the thread making the call shared with this append failed; open the log again"
            .into(),
    }
}

/// The outcomes of a call for its `jobs`: each append's receipts (the
/// call's `leaves`, in order, cut by the appends' lengths).
pub(super) fn split(ticket: Ticket, leaves: &[(u64, [u8; 32])], jobs: &[Job]) -> Vec<Outcome> {
    let mut leaves = leaves.iter();
    jobs.iter()
        .map(|job| {
            let receipts = leaves
                .by_ref()
                .take(job.len())
                .map(|&(position, leaf_hash)| Receipt {
                    position,
                    leaf_hash,
                })
                .collect();
            Ok((ticket, receipts))
        })
        .collect()
}

/// `error` for each of `n` appends of one failed call: the same variant
/// and message for each (the first gets `error` itself). A backend's cause
/// is shared, not copied, so each keeps its source chain.
pub(super) fn shared(error: Error, n: usize) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(n);
    match error {
        Error::Backend { operation, source } => {
            let cause: Arc<dyn std::error::Error + Send + Sync> = Arc::from(source);
            for _ in 0..n {
                out.push(Err(Error::Backend {
                    operation,
                    source: Box::new(SharedCause(Arc::clone(&cause))),
                }));
            }
        }
        other => {
            for _ in 1..n {
                out.push(Err(copy(&other)));
            }
            out.insert(0, Err(other));
        }
    }
    out
}

/// A backend's cause shared by the appends of one failed call.
#[derive(Debug)]
struct SharedCause(Arc<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for SharedCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// The same error again (an I/O or backend cause as its text).
fn copy(e: &Error) -> Error {
    match e {
        Error::InvalidField { what, rule } => Error::InvalidField { what, rule },
        Error::Core(c) => Error::Core(c.clone()),
        Error::NonCanonical {
            what,
            offset,
            cause,
            detail,
        } => Error::NonCanonical {
            what,
            offset: *offset,
            cause: *cause,
            detail,
        },
        Error::Tampered {
            position,
            offset,
            cause,
        } => Error::tampered(*position, *offset, cause.clone()),
        Error::KeyStoreDamaged {
            offset,
            cause,
            detail,
        } => Error::KeyStoreDamaged {
            offset: *offset,
            cause: *cause,
            detail,
        },
        Error::ForeignKey { reason } => Error::ForeignKey { reason },
        Error::BadInput { what, reason } => Error::BadInput {
            what,
            reason: reason.clone(),
        },
        Error::SubjectErased => Error::SubjectErased,
        Error::UnknownSubject => Error::UnknownSubject,
        Error::Decrypt { position } => Error::Decrypt {
            position: *position,
        },
        Error::Io { path, source } => Error::io(
            path.clone(),
            std::io::Error::new(source.kind(), source.to_string()),
        ),
        Error::Random => Error::Random,
        Error::Backend { operation, source } => Error::Backend {
            operation,
            source: source.to_string().into(),
        },
        Error::Locked { path } => Error::Locked { path: path.clone() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: usize, size: usize) -> Job {
        Job::new((0..n).map(|_| (vec![0u8; size], Timestamp::UNIX_EPOCH)))
    }

    #[test]
    fn a_call_takes_the_queue_within_its_bounds_and_at_least_one_append() {
        let mut q: VecDeque<(u64, Job)> = (0..5).map(|i| (i, job(1000, 1))).collect();
        let (ids, jobs) = take(&mut q);
        assert_eq!(ids, [0, 1]);
        assert_eq!(jobs.len(), 2);
        q.push_front((9, job(MAX_RECORDS + 1, 1)));
        assert_eq!(take(&mut q).0, [9]);
        let mut big: VecDeque<(u64, Job)> = (0..3).map(|i| (i, job(1, MAX_BYTES / 2))).collect();
        assert_eq!(take(&mut big).0, [0, 1]);
    }

    #[test]
    fn receipts_are_cut_by_each_appends_length() {
        let leaves: Vec<(u64, [u8; 32])> = (10..16).map(|p| (p, [p as u8; 32])).collect();
        let out = split(Ticket(3), &leaves, &[job(2, 1), job(1, 1), job(3, 1)]);
        let positions: Vec<Vec<u64>> = out
            .into_iter()
            .map(|o| o.unwrap().1.iter().map(|r| r.position).collect())
            .collect();
        assert_eq!(positions, [vec![10, 11], vec![12], vec![13, 14, 15]]);
    }

    #[test]
    fn every_append_of_a_failed_call_gets_the_error() {
        let backend = Error::Backend {
            operation: "x",
            source: "cut".into(),
        };
        let out = shared(backend, 3);
        assert_eq!(out.len(), 3);
        for o in out {
            let e = o.unwrap_err();
            assert_eq!(
                e.to_string(),
                "x failed: cut; check the database connection and its log"
            );
            assert!(std::error::Error::source(&e).is_some());
        }
        let tamper = Error::tampered(
            4,
            0,
            crate::Tamper::Truncated {
                records: 4,
                trusted: 9,
            },
        );
        let out = shared(tamper, 2);
        assert!(out.iter().all(|o| o.as_ref().unwrap_err().is_tampering()));
    }

    #[test]
    fn a_leader_that_panics_leaves_the_queue_usable() {
        let group = Group::default();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.append(job(1, 1), &mut |_| panic!("inside the call"))
        }));
        assert!(panicked.is_err());
        let out = group
            .append(job(2, 1), &mut |jobs| {
                split(Ticket(1), &[(0, [0; 32]), (1, [0; 32])], jobs)
            })
            .unwrap();
        assert_eq!(out.1.len(), 2);
        assert_eq!(group.queued(), 0);
    }

    #[test]
    fn concurrent_appends_share_calls_and_each_gets_its_own_receipts() {
        let group = Group::default();
        let calls = Mutex::new(0u64);
        let next = Mutex::new(0u64);
        std::thread::scope(|s| {
            for t in 0..8usize {
                let (group, calls, next) = (&group, &calls, &next);
                s.spawn(move || {
                    for _ in 0..50 {
                        let out = group
                            .append(job(t + 1, 1), &mut |jobs| {
                                *calls.lock().unwrap() += 1;
                                let mut n = next.lock().unwrap();
                                let total: usize = jobs.iter().map(Job::len).sum();
                                let leaves: Vec<_> =
                                    (*n..*n + total as u64).map(|p| (p, [0; 32])).collect();
                                *n += total as u64;
                                split(Ticket(0), &leaves, jobs)
                            })
                            .unwrap();
                        let got: Vec<u64> = out.1.iter().map(|r| r.position).collect();
                        assert_eq!(got.len(), t + 1);
                        assert!(got.windows(2).all(|w| w[1] == w[0] + 1));
                    }
                });
            }
        });
        assert_eq!(*next.lock().unwrap(), 50 * (1..=8).sum::<u64>());
        assert!(*calls.lock().unwrap() <= 400);
    }
}
