//! The threads of `gdpr audit append`: one reads and parses lines into an
//! [`EventBatch`], one seals and writes a batch
//! ([`AuditLog::stage_encoded`]) while the third waits for the previous one
//! to be durable ([`AuditLog::commit`]) and says so. Written batches go
//! back to the reading thread to be filled again (their buffers reused).
//! Every channel is dropped on every way out, so no thread is left blocked.
//!
//! The work is shared out as it goes: when the writing thread is still busy
//! with an earlier batch as the reading thread finishes one, the reading
//! thread seals it itself ([`AuditLog::seal_batch`]), so that both cores
//! stay busy whichever thread is the slower on this machine and input. The
//! order of the records and their chain are those of the input either way.

use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use gdpr_audit::FileStore;
use gdpr_audit::batch::EventBatch;
use gdpr_audit::{AuditLog, Staged};
use jiff::Timestamp;

use super::event_line::{EventParser, LineFault};
use super::lines::{LineError, Lines};
use super::progress::{Progress, say};

/// Events per durable batch (one `pwrite` and one `fdatasync`).
const BATCH: usize = 1000;

/// Appends the events of `reader` to `log` (after skipping `skip.0` lines
/// and then `skip.1` events): reads and parses on one thread, seals and
/// writes on another while a third waits for each batch to be durable.
/// Returns what is durable and why it stopped early, if it did.
pub(crate) fn run(
    log: &AuditLog<FileStore>,
    reader: impl BufRead + Send,
    skip: (u64, u64),
) -> (Progress, Option<Stop>) {
    let base = log.len();
    let (tx, rx) = sync_channel(4);
    let (back, spare) = channel();
    let queued = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let to_stage = Outbox {
            log,
            tx,
            queued: &queued,
        };
        s.spawn(move || read_events(reader, skip, &to_stage, &spare));
        let (ctx, crx) = sync_channel(1);
        let committer = s.spawn(|| commit_batches(log, crx, base));
        let staging = stage_batches(log, rx, &ctx, &back, &queued);
        drop(back);
        drop(ctx);
        let (progress, failed) = committer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // A failed sync comes before any later failure to stage.
        (progress, failed.or(staging))
    })
}

/// What the reading thread hands over.
enum Msg {
    /// Parsed events from input lines `first..=last`.
    Batch {
        events: EventBatch,
        first: u64,
        last: u64,
    },
    /// Line `line` is not an event (the events before it were sent).
    Fault { line: u64, fault: Fault },
    /// Sealing the batch of input lines `first..=last` failed (the batches
    /// before it were sent).
    Unsealed {
        error: gdpr_audit::Error,
        first: u64,
        last: u64,
    },
    /// The input ended; `unskipped` events that `--resume-from-size` meant
    /// to skip were not there.
    End { unskipped: u64 },
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
    /// failed sync, one staged meanwhile.
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

/// Seals and writes the batches the reading thread sends, handing each to
/// the committing thread and giving the batch `back` to be filled again;
/// stops at the first failure or bad line.
fn stage_batches(
    log: &AuditLog<FileStore>,
    rx: Receiver<Msg>,
    ctx: &SyncSender<Pending>,
    back: &Sender<EventBatch>,
    queued: &AtomicUsize,
) -> Option<Stop> {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Batch {
                events,
                first,
                last,
            } => {
                // Sealed here unless the reading thread did; new subjects'
                // keys are created with one sync for the batch.
                let staged = log.stage_encoded(&events);
                queued.fetch_sub(1, Ordering::AcqRel);
                // The reading thread may be gone (it stopped at a bad line).
                let _ = back.send(events);
                match staged {
                    Ok(staged) => {
                        if ctx
                            .send(Pending {
                                staged,
                                first,
                                last,
                            })
                            .is_err()
                        {
                            // The committing thread stopped: it reports why.
                            return None;
                        }
                    }
                    Err(error) => {
                        return Some(Stop::Write {
                            error,
                            first,
                            last,
                            synced: false,
                        });
                    }
                }
            }
            Msg::Fault { line, fault } => return Some(Stop::Input { line, fault }),
            Msg::Unsealed { error, first, last } => {
                return Some(Stop::Write {
                    error,
                    first,
                    last,
                    synced: false,
                });
            }
            Msg::End { unskipped: 0 } => return None,
            Msg::End { unskipped } => return Some(Stop::Unskipped(unskipped)),
        }
    }
    // The reading thread always ends with `Fault` or `End`; it cannot
    // vanish without one unless it panicked, which the scope re-raises.
    None
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

/// Where the reading thread sends batches: the log (to seal a batch when
/// the writing thread is behind) and the number of batches sent and not
/// yet written.
struct Outbox<'a> {
    log: &'a AuditLog<FileStore>,
    tx: SyncSender<Msg>,
    queued: &'a AtomicUsize,
}

impl Outbox<'_> {
    /// Sends the batch of input lines `first..=last`, sealed first if the
    /// writing thread has not written the one before yet. `false` when the
    /// writing thread is gone, or sealing failed (which is then sent).
    fn batch(&self, mut events: EventBatch, first: u64, last: u64) -> bool {
        if self.queued.load(Ordering::Acquire) > 0
            && let Err(error) = self.log.seal_batch(&mut events)
        {
            let _ = self.tx.send(Msg::Unsealed { error, first, last });
            return false;
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        let sent = self.tx.send(Msg::Batch {
            events,
            first,
            last,
        });
        sent.is_ok()
    }
}

/// Reads, skips and parses the input, sending batches of events (filling
/// again those that come back `spare`); stops at the first bad line or
/// when the receiver is gone.
fn read_events(
    reader: impl BufRead,
    (skip_lines, skip_events): (u64, u64),
    to: &Outbox<'_>,
    spare: &Receiver<EventBatch>,
) {
    let mut lines = Lines::new(reader);
    let mut parser = EventParser::default();
    let mut events = EventBatch::with_capacity(BATCH);
    let (mut first, mut last) = (0, 0);
    let mut unskipped = skip_events;
    let fault = loop {
        let (n, line) = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break None,
            Err(e) => break Some((lines.number(), Fault::Read(e))),
        };
        if n <= skip_lines || line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if unskipped > 0 {
            unskipped -= 1;
            continue;
        }
        if let Err(e) = parser.parse_into(line, Timestamp::now, &mut events) {
            break Some((n, Fault::Event(e)));
        }
        if events.len() == 1 {
            first = n;
        }
        last = n;
        if events.len() == BATCH {
            let next = match spare.try_recv() {
                Ok(mut b) => {
                    b.clear();
                    b
                }
                Err(_) => EventBatch::with_capacity(BATCH),
            };
            if !to.batch(std::mem::replace(&mut events, next), first, last) {
                return;
            }
        }
    };
    if !events.is_empty() && !to.batch(events, first, last) {
        return;
    }
    let _ = to.tx.send(match fault {
        Some((line, fault)) => Msg::Fault { line, fault },
        None => Msg::End { unskipped },
    });
}
