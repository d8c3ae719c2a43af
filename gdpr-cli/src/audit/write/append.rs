//! `gdpr audit append`: JSON Lines of events into the log, in durable
//! batches of [`BATCH`] events, in a pipeline of three threads: one reads
//! and parses, one seals and writes a batch ([`AuditLog::stage_batch`])
//! while the third waits for the previous one to be durable
//! ([`AuditLog::commit`]) and reports it.
//!
//! What was appended is said on every way out: a progress line on standard
//! error after each durable batch (`appended positions A..=B (input lines
//! X..=Y)`), the total on success, and on a bad line or a failed write what
//! is in the log and how to resume without appending anything twice
//! (`--skip`, `--resume-from-size`). A run killed outright cannot speak: its
//! first line names the `--resume-from-size` that makes a rerun skip
//! whatever the log holds of its input.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::event::AuditEvent;
use gdpr_audit::file_store::FileStore;
use gdpr_audit::log::{AuditLog, Staged};
use gdpr_audit::store::Entry;
use gdpr_audit::view::RecordView;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;

use super::event_line::{EventParser, LineFault};
use super::lines::{LineError, Lines};
use super::progress::{FailedBatch, Progress};
use crate::audit::{Failure, bad, open_log};
use crate::error::CliError;

/// Events per durable batch (one `pwrite` and one `fdatasync`).
const BATCH: usize = 1000;

/// Arguments of `gdpr audit append`.
#[derive(Debug, clap::Args)]
pub(crate) struct AppendArgs {
    /// The log directory.
    dir: PathBuf,
    /// The secret signing key.
    #[arg(long)]
    key: PathBuf,
    /// Input file, or `-` for standard input.
    #[arg(long, default_value = "-")]
    input: String,
    /// Skip the first N input lines (blank ones count): resume after the
    /// last line an earlier run reported as appended.
    #[arg(long, default_value_t = 0)]
    skip: u64,
    /// The log size an interrupted run started at (its first line says it):
    /// the records the log holds beyond it are taken to be that run's, and
    /// as many events of the input (after `--skip`) are skipped.
    #[arg(long)]
    resume_from_size: Option<u64>,
}

/// What the reading thread hands over.
enum Msg {
    /// Parsed events from input lines `first..=last`.
    Batch {
        events: Vec<AuditEvent>,
        first: u64,
        last: u64,
    },
    /// Line `line` is not an event (the events before it were sent).
    Fault { line: u64, fault: Fault },
    /// The input ended; `unskipped` events that `--resume-from-size` meant
    /// to skip were not there.
    End { unskipped: u64 },
}

/// Why an input line was refused.
enum Fault {
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

/// Runs `gdpr audit append`.
pub(crate) fn append(args: &AppendArgs) -> Result<ExitCode, Failure> {
    let log = open_log(&args.dir, &args.key)?;
    let size = log.len();
    let started = args.resume_from_size.unwrap_or(size);
    if started > size {
        return Err(bad(format!(
            "--resume-from-size {started}: the log holds only {size} records (another log, or pruned since?); nothing was appended"
        )));
    }
    let name = match args.input.as_str() {
        "-" => "standard input".to_owned(),
        path => path.to_owned(),
    };
    let reader = open_input(&args.input)?;
    let resume = format!("--skip {} --resume-from-size {started}", args.skip);
    say(format_args!(
        "appending to a log of {size} records; if this run is interrupted, rerun it with {resume}"
    ));
    let (tx, rx) = sync_channel(4);
    let skip = (args.skip, size - started);
    let (progress, stop) = std::thread::scope(|s| {
        s.spawn(move || read_events(reader, skip, &tx));
        let (ctx, crx) = sync_channel(1);
        let committer = s.spawn(|| commit_batches(&log, crx, size));
        let staging = stage_batches(&log, rx, &ctx);
        drop(ctx);
        let (progress, failed) = committer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // A failed sync comes before any later failure to stage.
        (progress, failed.or(staging))
    });
    let checkpoint = log.checkpoint();
    let outcome = match stop {
        None => return finish(&progress, checkpoint),
        Some(Stop::Input { line, fault }) => bad(format!(
            "{name} line {line}: {fault}; appended before it: {progress}; correct line {line} and rerun with --skip {}",
            line - 1
        )),
        Some(Stop::Unskipped(n)) => bad(format!(
            "--resume-from-size {started}: the log holds {n} more records than {name} has events after line {}: appended since by something else? nothing was appended",
            args.skip
        )),
        Some(Stop::Write {
            error,
            first,
            last,
            synced,
        }) => {
            let range = match synced {
                false => format!("the batch of input lines {first}..={last}"),
                true => {
                    format!("the batch of input lines {first}..={last} (and any written after it)")
                }
            };
            let fate = match failed_batch(&args.dir, progress.next_position()) {
                FailedBatch::Absent => format!(
                    "NOT appended (the write was rolled back); after fixing the cause rerun with --skip {}",
                    first - 1
                ),
                FailedBatch::Unconfirmed(n) => format!(
                    "{n} of their records are in the log file but not confirmed durable; after fixing the cause rerun with {resume} (it counts what the log holds)"
                ),
                FailedBatch::Unknown => format!(
                    "may be partly in the log (it could not be read back); after fixing the cause rerun with {resume} (it counts what the log holds)"
                ),
            };
            Failure::Cli(CliError::BadInput(format!(
                "appending failed: {error}; durably appended: {progress}; {range}: {fate}"
            )))
        }
    };
    Err(match checkpoint {
        Ok(_) => outcome,
        Err(e) => with_note(outcome, &format!("; no checkpoint was written: {e}")),
    })
}

/// Why appending stopped before the end of the input.
enum Stop {
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
/// the committing thread; stops at the first failure or bad line.
fn stage_batches(
    log: &AuditLog<FileStore>,
    rx: Receiver<Msg>,
    ctx: &SyncSender<Pending>,
) -> Option<Stop> {
    // Subjects known to have a key: a hash lookup here saves the key
    // store's keyed hash (HMAC-SHA-256) for all but their first event.
    let mut known = HashSet::new();
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Batch {
                events,
                first,
                last,
            } => {
                // New subjects' keys first, with one sync for all of them.
                let new: Vec<&PatientId> = events
                    .iter()
                    .filter_map(AuditEvent::subject)
                    .filter(|s| !known.contains(*s))
                    .collect();
                let keys = log.keys().ensure_keys(new.iter().copied());
                known.extend(new.into_iter().cloned());
                match keys.and_then(|_| log.stage_batch(&events)) {
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

/// Reads, skips and parses the input, sending batches of events; stops at
/// the first bad line or when the receiver is gone.
fn read_events(reader: impl BufRead, (skip_lines, skip_events): (u64, u64), tx: &SyncSender<Msg>) {
    let mut lines = Lines::new(reader);
    let mut parser = EventParser::default();
    let mut events = Vec::with_capacity(BATCH);
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
        match parser.parse(line, Timestamp::now) {
            Ok(event) => {
                if events.is_empty() {
                    first = n;
                }
                events.push(event);
                last = n;
            }
            Err(e) => break Some((n, Fault::Event(e))),
        }
        if events.len() == BATCH {
            let events = std::mem::replace(&mut events, Vec::with_capacity(BATCH));
            if tx
                .send(Msg::Batch {
                    events,
                    first,
                    last,
                })
                .is_err()
            {
                return;
            }
        }
    };
    if !events.is_empty()
        && tx
            .send(Msg::Batch {
                events,
                first,
                last,
            })
            .is_err()
    {
        return;
    }
    let _ = tx.send(match fault {
        Some((line, fault)) => Msg::Fault { line, fault },
        None => Msg::End { unskipped },
    });
}

/// The success summary on standard output.
fn finish(
    progress: &Progress,
    checkpoint: Result<String, gdpr_audit::Error>,
) -> Result<ExitCode, Failure> {
    let note = checkpoint.map_err(|e| {
        with_note(
            Failure::Audit(e),
            &format!(
                "; appended {progress}, but no checkpoint was written: run `gdpr audit checkpoint`"
            ),
        )
    })?;
    let size = Checkpoint::parse_unverified(&note)?.0.size();
    match progress.records {
        0 => println!("appended 0 records; checkpoint at size {size}"),
        n => println!("appended {n} records ({progress}); checkpoint at size {size}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `failure` with `note` added to its message.
fn with_note(failure: Failure, note: &str) -> Failure {
    let msg = match failure {
        Failure::Cli(CliError::BadInput(m)) => m,
        Failure::Cli(e) => e.to_string(),
        Failure::Audit(e) => e.to_string(),
    };
    Failure::Cli(CliError::BadInput(format!("{msg}{note}")))
}

/// Reads the log file back to see how many records from position `from`
/// on (those of a failed batch) it holds.
fn failed_batch(dir: &Path, from: u64) -> FailedBatch {
    let mut found = 0u64;
    let scan = FileStore::scan_dir(dir, &mut |_, entry| {
        if let Entry::Record(bytes) = entry
            && RecordView::parse(&bytes).is_ok_and(|r| r.position >= from)
        {
            found += 1;
        }
        Ok(())
    });
    match (scan, found) {
        (Ok(_), 0) => FailedBatch::Absent,
        (Ok(_), n) => FailedBatch::Unconfirmed(n),
        (Err(_), _) => FailedBatch::Unknown,
    }
}

fn open_input(input: &str) -> Result<Box<dyn BufRead + Send>, Failure> {
    let reader: Box<dyn Read + Send> = if input == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(fs::File::open(input).map_err(|source| {
            Failure::Cli(CliError::Io {
                path: input.to_owned(),
                source,
            })
        })?)
    };
    Ok(Box::new(BufReader::with_capacity(256 * 1024, reader)))
}

/// A line on standard error; a closed standard error does not stop the run.
fn say(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{args}");
}

#[cfg(test)]
mod tests {
    use gdpr_audit::keystore::KeyStore;
    use gdpr_audit::log::CheckpointPolicy;
    use gdpr_audit::signing::Signer;

    use super::*;

    const SAMPLE: &str = include_str!("../../../../docs/samples/audit-events.jsonl");

    /// The read-back after a failed append tells records beyond the
    /// durable ones from none, and an unreadable log from both.
    #[test]
    fn failed_batch_reads_back_what_the_log_file_holds() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let log = AuditLog::open(
            FileStore::open(&dir, true).unwrap(),
            KeyStore::create(FileStore::keys_path(&dir)).unwrap(),
            Signer::generate("test/audit").unwrap(),
            CheckpointPolicy::default(),
        )
        .unwrap();
        let mut parser = EventParser::default();
        let events: Vec<AuditEvent> = SAMPLE
            .lines()
            .cycle()
            .take(5)
            .map(|l| parser.parse(l.as_bytes(), Timestamp::now).unwrap())
            .collect();
        log.append_batch(&events).unwrap();
        assert_eq!(failed_batch(&dir, 5), FailedBatch::Absent);
        assert_eq!(failed_batch(&dir, 3), FailedBatch::Unconfirmed(2));
        assert_eq!(
            failed_batch(&tmp.path().join("missing"), 0),
            FailedBatch::Unknown
        );
    }
}
