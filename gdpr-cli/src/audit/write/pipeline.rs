//! The threads of `gdpr audit append`: one reads the input into chunks of
//! lines ([`super::chunks`]); several parse and seal chunks at once
//! ([`super::workers`]); this one chains and writes them strictly in input
//! order ([`AuditLog::stage_encoded`]) while another waits for each
//! written batch to be durable ([`AuditLog::commit`]) and says so. A
//! written chunk's slot goes back to the reading thread to be filled again
//! (its buffers reused); the pool of slots bounds the memory and the
//! number of chunks waiting for their turn. Every channel is dropped on
//! every way out, so no thread is left blocked.
//!
//! The bytes written are those one thread would write: the same records in
//! the same order, chained and checkpointed alike, the batches cut at the
//! same lines (only the random nonces and keys differ, as between any two
//! runs, and the time given to an event without `recorded`: when its line
//! is parsed).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use gdpr_audit::FileStore;
use gdpr_audit::{AuditLog, Staged};

use super::chunks::{End, Slot, read_chunks};
use super::event_line::LineFault;
use super::lines::LineError;
use super::progress::{Progress, say};
use super::workers::{Done, Parsed, Turn, parse_chunks};

/// The most parsing threads (more cores than this would wait on the one
/// writing thread anyway).
const MAX_WORKERS: usize = 4;

/// Parsing threads for this machine: one per core, at most [`MAX_WORKERS`].
pub(crate) fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, MAX_WORKERS))
}

/// Appends the events of `reader` to `log` (after skipping `skip.0` lines
/// and then `skip.1` events) with `workers` parsing threads: see the
/// module docs. Returns what is durable and why it stopped early, if it
/// did.
pub(crate) fn run(
    log: &AuditLog<FileStore>,
    reader: impl BufRead + Send,
    skip: (u64, u64),
    workers: usize,
) -> (Progress, Option<Stop>) {
    let base = log.len();
    let workers = workers.max(1);
    let (back, spare) = channel();
    let slots = 2 * workers + 2;
    for _ in 0..slots {
        let _ = back.send(Slot::new());
    }
    let (to_parse, queue) = channel();
    let queue = Mutex::new(queue);
    let (to_write, parsed) = channel();
    let turn = Turn::default();
    std::thread::scope(|s| {
        s.spawn(move || read_chunks(reader, skip, &spare, &to_parse));
        for _ in 0..workers {
            let to_write = to_write.clone();
            let (queue, turn) = (&queue, &turn);
            s.spawn(move || parse_chunks(log, queue, turn, &to_write));
        }
        drop(to_write);
        // Room for every slot's batch: the writing thread never waits for
        // the committing one to be scheduled.
        let (ctx, crx) = sync_channel(slots);
        let committer = s.spawn(|| commit_batches(log, crx, base));
        let staging = stage_in_order(log, parsed, &ctx, back);
        drop(ctx);
        let (progress, failed) = committer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // A failed sync comes before any later failure to stage.
        (progress, failed.or(staging))
    })
}

/// Why an input line was refused.
pub(crate) enum Fault {
    Event(LineFault),
    Read(LineError),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Event(e) => e.fmt(f),
            Self::Read(e) => e.fmt(f),
        }
    }
}

/// Why appending stopped before the end of the input.
pub(crate) enum Stop {
    /// Line `line` is not an event.
    Input { line: u64, fault: Fault },
    /// `--resume-from-size` expected more events than the input has.
    Unskipped(u64),
    /// Writing (`synced` false) or syncing (true) the batch of input lines
    /// `first..=last` failed; no later batch was written, except, after a
    /// failed sync, those staged meanwhile (at most one per slot).
    Write {
        error: gdpr_audit::Error,
        first: u64,
        last: u64,
        synced: bool,
    },
}

/// A batch written to the log, waiting for its sync.
struct Pending {
    staged: Staged,
    first: u64,
    last: u64,
}

/// Chains and writes the parsed chunks in input order (holding those that
/// come early), handing each written batch to the committing thread and
/// each slot `back` to the reading thread; stops at the first failure, bad
/// line or the end of the input.
fn stage_in_order(
    log: &AuditLog<FileStore>,
    parsed: Receiver<Option<Done>>,
    ctx: &SyncSender<Pending>,
    back: Sender<Slot>,
) -> Option<Stop> {
    let mut early = BTreeMap::new();
    let mut next = 0;
    while let Ok(done) = parsed.recv() {
        // `None`: a parsing thread panicked; the scope re-raises it once
        // every thread has ended, which they do when this one stops.
        let done = done?;
        early.insert(done.slot.chunk.seq, done);
        while let Some(done) = early.remove(&next) {
            next += 1;
            let Done { slot, parsed } = done;
            match stage(log, &slot, parsed, ctx) {
                Ok(None) => {}
                Ok(Some(stop)) => return stop,
                // The committing thread stopped: it reports why.
                Err(()) => return None,
            }
            // The reading thread may be gone (it reached the end).
            let _ = back.send(slot);
        }
    }
    // The last chunk always ends the run; the parsing threads cannot all
    // vanish before it unless one panicked, which the scope re-raises.
    None
}

/// Writes the events of one parsed chunk and hands them to the committing
/// thread: `Ok(Some(_))` when the run ends with this chunk (and why, if
/// early), `Err(())` when the committing thread is gone.
fn stage(
    log: &AuditLog<FileStore>,
    slot: &Slot,
    parsed: Parsed,
    ctx: &SyncSender<Pending>,
) -> Result<Option<Option<Stop>>, ()> {
    let (first, last) = slot.chunk.span(slot.events.len());
    if let Parsed::Unsealed(error) = parsed {
        return Ok(Some(Some(Stop::Write {
            error,
            first,
            last,
            synced: false,
        })));
    }
    if !slot.events.is_empty() {
        // Sealed by the parsing thread; new subjects' keys are durable.
        match log.stage_encoded(&slot.events) {
            Ok(staged) => {
                let pending = Pending {
                    staged,
                    first,
                    last,
                };
                ctx.send(pending).map_err(|_| ())?;
            }
            Err(error) => {
                return Ok(Some(Some(Stop::Write {
                    error,
                    first,
                    last,
                    synced: false,
                })));
            }
        }
    }
    Ok(match (parsed, &slot.chunk.end) {
        (Parsed::Fault { line, fault }, _) => Some(Some(Stop::Input { line, fault })),
        (_, Some(End::Eof { unskipped: 0 })) => Some(None),
        (_, Some(End::Eof { unskipped })) => Some(Some(Stop::Unskipped(*unskipped))),
        _ => None,
    })
}

/// Waits for each staged batch to be durable, in order, and says so.
/// Returns what is durable and the failed sync, if one failed.
fn commit_batches(
    log: &AuditLog<FileStore>,
    rx: Receiver<Pending>,
    base: u64,
) -> (Progress, Option<Stop>) {
    let mut progress = Progress::new(base);
    while let Ok(Pending {
        staged,
        first,
        last,
    }) = rx.recv()
    {
        match log.commit(staged) {
            Ok(receipts) => {
                progress.durable(receipts.len() as u64, first, last);
                say(format_args!("appended {progress}"));
            }
            Err(error) => {
                let stop = Stop::Write {
                    error,
                    first,
                    last,
                    synced: true,
                };
                return (progress, Some(stop));
            }
        }
    }
    (progress, None)
}

#[cfg(test)]
mod tests;
