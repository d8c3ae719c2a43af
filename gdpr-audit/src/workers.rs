//! The verification workers: threads that [`check`] pieces while the
//! verifying thread reads on, applies finished pieces in log order, and
//! takes queued pieces itself rather than wait. They live as long as the
//! [`crate::verify::LogVerifier`] that started them; dropping it stops
//! them (pieces still queued are dropped).

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::piece::{Checked, Piece, check};
use crate::signing::Verifier;

/// A piece to check and its sequence number.
pub(crate) type Job = (u64, Piece);

/// Pieces waiting for a thread; `closed` once the verifier is gone.
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<(VecDeque<Job>, bool)>,
    filled: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, (VecDeque<Job>, bool)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next job, waiting for one; `None` once closed.
    fn wait(&self) -> Option<Job> {
        let mut s = self.lock();
        loop {
            if s.1 {
                return None;
            }
            if let Some(job) = s.0.pop_front() {
                return Some(job);
            }
            s = self.filled.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A pool of threads checking pieces.
#[derive(Debug)]
pub(crate) struct Workers {
    queue: Arc<Queue>,
    results: Receiver<(u64, Checked)>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `n` threads; `None` if not one could be started (the caller
    /// then checks pieces itself).
    pub(crate) fn start(n: usize, verifier: &Verifier) -> Option<Self> {
        let queue = Arc::new(Queue::default());
        let (done, results) = channel();
        let handles: Vec<_> = (0..n)
            .filter_map(|_| {
                let (queue, done) = (Arc::clone(&queue), done.clone());
                let verifier = verifier.clone();
                std::thread::Builder::new()
                    .name("audit-verify".into())
                    .spawn(move || work(&queue, &done, &verifier))
                    .ok()
            })
            .collect();
        (!handles.is_empty()).then(|| Self {
            queue,
            results,
            handles,
        })
    }

    /// Queues piece number `seq`.
    pub(crate) fn submit(&self, seq: u64, piece: Piece) {
        self.queue.lock().0.push_back((seq, piece));
        self.queue.filled.notify_one();
    }

    /// A queued piece no thread has taken yet, for the caller to check.
    pub(crate) fn take(&self) -> Option<Job> {
        self.queue.lock().0.pop_front()
    }

    /// A finished piece (in any order) if there is one.
    pub(crate) fn finished(&self) -> Option<(u64, Checked)> {
        self.results.try_recv().ok()
    }

    /// The next finished piece (in any order); `None` if every thread has
    /// ended (the caller then checks the rest itself).
    pub(crate) fn next(&self) -> Option<(u64, Checked)> {
        self.results.recv().ok()
    }
}

fn work(queue: &Queue, done: &Sender<(u64, Checked)>, verifier: &Verifier) {
    while let Some((seq, piece)) = queue.wait() {
        // A panic checking a piece marks it failed: the verifying thread
        // then checks it one entry at a time and meets the panic itself.
        let checked = std::panic::catch_unwind(AssertUnwindSafe(|| check(&piece, verifier)))
            .unwrap_or(Checked::Failed);
        if done.send((seq, checked)).is_err() {
            return;
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        {
            let mut s = self.queue.lock();
            s.0.clear();
            s.1 = true;
        }
        self.queue.filled.notify_all();
        for h in self.handles.drain(..) {
            // A worker's panic has already been seen as a failed piece.
            let _ = h.join();
        }
    }
}
