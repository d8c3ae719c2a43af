//! `gdpr audit append`: JSON Lines of events into the log, in durable
//! batches of 1,000 (the threads that do it: [`super::pipeline`]).
//!
//! What was appended is said on every way out: a progress line on standard
//! error after each durable batch (`appended positions A..=B (input lines
//! X..=Y)`), the total on success, and on a bad line or a failed write what
//! is in the log and how to resume without appending anything twice
//! (`--skip`, `--resume-from-size`). A run killed outright cannot speak: its
//! first line names the `--resume-from-size` that makes a rerun skip
//! whatever the log holds of its input.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gdpr_audit::FileStore;
use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::record::Record;
use gdpr_audit::store::Entry;

use super::pipeline::{self, Stop};
use super::progress::{FailedBatch, Progress, say};
use crate::audit::{Failure, bad, open_log};
use crate::error::CliError;

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
    let (progress, stop) = pipeline::run(
        &log,
        reader,
        (args.skip, size - started),
        pipeline::workers(),
    );
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
            && Record::decode(&bytes).is_ok_and(|r| r.position() >= from)
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
        Box::new(crate::input::open_input(std::path::Path::new(input)).map_err(Failure::Cli)?)
    };
    // 64 KiB: the kernel's copy lands in the core's cache, where the
    // reading thread copies the lines out again (measured against 32 KiB,
    // 256 KiB and 1 MiB in docs/audit.md).
    Ok(Box::new(BufReader::with_capacity(64 * 1024, reader)))
}

#[cfg(test)]
mod tests {
    use gdpr_audit::FileKeyStore;
    use gdpr_audit::event::AuditEvent;
    use gdpr_audit::signing::Signer;
    use gdpr_audit::{AuditLog, CheckpointPolicy};
    use jiff::Timestamp;

    use super::super::event_line::EventParser;
    use super::*;

    const SAMPLE: &str = include_str!("../../../../docs/samples/audit-events.jsonl");

    /// The read-back after a failed append tells records beyond the
    /// durable ones from none, and an unreadable log from both.
    #[test]
    fn failed_batch_reads_back_what_the_log_file_holds() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let log = AuditLog::with_stores(
            FileStore::open(&dir, true).unwrap(),
            FileKeyStore::create(FileStore::keys_path(&dir)).unwrap(),
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
