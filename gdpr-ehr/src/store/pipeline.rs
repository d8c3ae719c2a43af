//! The export's writer working alongside the page walk: while one page is
//! split and written on a blocking thread, the next is fetched (a bounded
//! prefetch: at most the page being written and the page being fetched are
//! held). Checkpoints keep their meaning: a checkpoint is written by the
//! same job, after its page's resources, and names the page after it.

use std::future::Future;
use std::time::{Duration, Instant};

use gdpr_core::store::StoreError;
use tokio::task::JoinHandle;

use crate::export::ExportWriter;
use crate::model::Resource;

/// The export writer, idle or writing one page on a blocking thread.
pub(super) enum Writing {
    /// Ready for the next page (boxed: the writer is large and moves
    /// between threads).
    Idle(Box<ExportWriter>),
    /// Writing a page (and maybe a checkpoint after it); gives the writer
    /// back when done.
    Busy(JoinHandle<Result<Box<ExportWriter>, StoreError>>),
}

impl Writing {
    /// Starts writing `batch` and then, if given, a checkpoint at `cursor`
    /// (where the source stands after `batch`) on a blocking thread.
    pub(super) fn start(
        mut writer: Box<ExportWriter>,
        batch: Vec<Resource>,
        cursor: Option<serde_json::Value>,
    ) -> Self {
        Self::Busy(tokio::task::spawn_blocking(move || {
            batch.into_iter().try_for_each(|r| writer.add(r))?;
            // Only after the page's resources: the checkpoint syncs them
            // first, so it never names a page done that is not on disk.
            cursor.map_or(Ok(()), |c| writer.checkpoint(c))?;
            Ok(writer)
        }))
    }

    /// Runs `work` (the next page's fetch) while the page being written
    /// finishes; returns both once both are done, the writer's error first
    /// (its page came first). The write is always waited for, also when
    /// `work` fails, so no file is written to after this returns.
    ///
    /// # Errors
    /// The writer's error, else `work`'s; [`StoreError::Local`] when the
    /// writer's thread stopped unexpectedly (a panic).
    pub(super) async fn alongside<T>(
        self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<(T, Box<ExportWriter>), StoreError> {
        match self {
            Self::Idle(writer) => Ok((work.await?, writer)),
            Self::Busy(job) => {
                let (done, written) = tokio::join!(work, job);
                let writer = written.map_err(|_| StoreError::Local {
                    operation: "export worker",
                    detail: "the worker thread stopped unexpectedly".into(),
                })??;
                Ok((done?, writer))
            }
        }
    }
}

/// When the next checkpoint is due: after `pages` pages and at least
/// `interval` since the last one.
pub(super) struct Checkpoints {
    pages: usize,
    interval: Duration,
    since: usize,
    last: Instant,
}

impl Checkpoints {
    pub(super) fn new(pages: usize, interval: Duration) -> Self {
        Self {
            pages: pages.max(1),
            interval,
            since: 0,
            last: Instant::now(),
        }
    }

    /// Counts one page; whether a checkpoint is due after it (then the
    /// count starts again).
    pub(super) fn page(&mut self) -> bool {
        self.since += 1;
        let due = self.since >= self.pages && self.last.elapsed() >= self.interval;
        if due {
            (self.since, self.last) = (0, Instant::now());
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    fn failed(operation: &'static str) -> StoreError {
        StoreError::Local {
            operation,
            detail: "x".into(),
        }
    }

    /// A page being written that takes a while and then reports `result`.
    fn busy(done: &Arc<AtomicBool>, result: Result<(), StoreError>) -> Writing {
        let (done, dir) = (Arc::clone(done), tempfile::tempdir().unwrap());
        let writer = Box::new(ExportWriter::create(dir.path(), "http://s/fhir").unwrap());
        Writing::Busy(tokio::task::spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(50));
            done.store(true, Ordering::SeqCst);
            drop(dir);
            result.map(|()| writer)
        }))
    }

    #[tokio::test]
    async fn a_failed_fetch_waits_for_the_page_being_written() {
        let done = Arc::new(AtomicBool::new(false));
        let writing = busy(&done, Ok(()));
        let err = writing
            .alongside(async { Err::<(), _>(failed("fetch")) })
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::Local {
                operation: "fetch",
                ..
            }
        ));
        assert!(done.load(Ordering::SeqCst), "the write finished first");
    }

    #[tokio::test]
    async fn the_writers_error_comes_before_the_fetchs() {
        let done = Arc::new(AtomicBool::new(false));
        let writing = busy(&done, Err(failed("write")));
        let err = writing
            .alongside(async { Err::<(), _>(failed("fetch")) })
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::Local {
                operation: "write",
                ..
            }
        ));
    }

    #[test]
    fn a_checkpoint_is_due_after_its_pages_and_its_interval() {
        let mut every_two = Checkpoints::new(2, Duration::ZERO);
        let due: Vec<bool> = (0..5).map(|_| every_two.page()).collect();
        assert_eq!(due, [false, true, false, true, false]);
        let mut never_yet = Checkpoints::new(1, Duration::from_secs(3600));
        assert!(!never_yet.page() && !never_yet.page());
    }
}
