//! A connection on a thread of its own, for the async traits of
//! gdpr-request (journal, register). The synchronous `postgres::Client`
//! blocks on a runtime of its own, which panics on a tokio runtime thread
//! (and so does dropping it there), so every statement runs on this
//! thread and the caller awaits the answer. The thread also keeps a lease
//! alive between statements ([`Upkeep`]) and does a last act (releasing
//! it) when its handle is dropped.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use postgres::Client;

use crate::error::PgError;

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// What the thread does besides running statements.
pub(crate) trait Upkeep: Send + 'static {
    /// How often [`Upkeep::tick`] runs (`None`: never).
    fn every(&self) -> Option<Duration>;
    /// Runs every [`Upkeep::every`] (renews a lease).
    fn tick(&mut self, client: &mut Client);
    /// Runs once when the handle is dropped (releases a lease).
    fn finish(&mut self, client: &mut Client);
}

/// Nothing besides the statements.
pub(crate) struct NoUpkeep;

impl Upkeep for NoUpkeep {
    fn every(&self) -> Option<Duration> {
        None
    }
    fn tick(&mut self, _: &mut Client) {}
    fn finish(&mut self, _: &mut Client) {}
}

/// How long dropping the handle waits for the thread's last act (a
/// process that exits right after would otherwise cut it off).
const FINISH_WAIT: Duration = Duration::from_secs(2);

/// The handle of a connection's thread; dropping it ends the thread
/// (after the statements already sent and [`Upkeep::finish`]) and waits
/// up to two seconds for it, so that a lease is released before a process
/// exits.
#[derive(Debug)]
pub(crate) struct DbThread {
    jobs: Option<mpsc::Sender<Job>>,
    /// In a mutex only to be `Sync` (used once, in `drop`).
    finished: Mutex<mpsc::Receiver<()>>,
}

impl Drop for DbThread {
    fn drop(&mut self) {
        drop(self.jobs.take());
        let finished = self
            .finished
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let _ = finished.recv_timeout(FINISH_WAIT);
    }
}

impl DbThread {
    /// Starts a thread that runs `setup` (connecting, claiming), answers
    /// with its value, then serves statements until the handle is dropped.
    ///
    /// # Errors
    /// `setup`'s error; [`PgError::Config`] if no thread can be started.
    pub(crate) async fn start<T, U, F>(name: &str, setup: F) -> Result<(Self, T), PgError>
    where
        T: Send + 'static,
        U: Upkeep,
        F: FnOnce() -> Result<(Client, T, U), PgError> + Send + 'static,
    {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready, ready_rx) = tokio::sync::oneshot::channel();
        let (finished_tx, finished) = mpsc::channel();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                match setup() {
                    Ok((client, value, upkeep)) => {
                        if ready.send(Ok(value)).is_ok() {
                            serve(client, &rx, upkeep);
                        }
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
                let _ = finished_tx.send(());
            })
            .map_err(|_| PgError::Config {
                reason: "cannot start the database connection's thread",
            })?;
        let value = ready_rx.await.map_err(|_| gone())??;
        Ok((
            Self {
                jobs: Some(jobs),
                finished: Mutex::new(finished),
            },
            value,
        ))
    }

    /// Runs `f` on the connection and returns its answer.
    ///
    /// # Errors
    /// `f`'s error; [`PgError::Config`] if the thread has stopped (a
    /// statement panicked).
    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, PgError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Client) -> Result<R, PgError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |client| {
            let _ = tx.send(f(client));
        });
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(job).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

fn gone() -> PgError {
    PgError::Config {
        reason: "the database connection's thread has stopped; open a new connection",
    }
}

fn serve(mut client: Client, jobs: &mpsc::Receiver<Job>, mut upkeep: impl Upkeep) {
    let every = upkeep.every();
    let mut last = Instant::now();
    loop {
        let next = match every {
            Some(e) => jobs.recv_timeout(e.saturating_sub(last.elapsed())),
            None => jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(job) => job(&mut client),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some(e) = every
            && last.elapsed() >= e
        {
            upkeep.tick(&mut client);
            last = Instant::now();
        }
    }
    upkeep.finish(&mut client);
}
