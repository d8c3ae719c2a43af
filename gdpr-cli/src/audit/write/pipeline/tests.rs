//! The parallel path writes what one thread writes: for the same input
//! (clean, with a bad line in the middle of a chunk, with an unreadable
//! line, resumed with `--skip`), the log made with several parsing threads
//! holds the same records as the log made by parsing each line in order
//! and appending batches of 1,000 with [`AuditLog::append_batch`]: the
//! same clear bytes at the same positions, the same personal fields under
//! one key per subject, checkpoints at the same places, and both verify;
//! and what the run says it appended (positions, input lines, where it
//! stopped) is exact.

use std::collections::HashMap;
use std::path::Path;

use gdpr_audit::record::Record;
use gdpr_audit::report::{Personal, personal};
use gdpr_audit::signing::{Signer, Verifier};
use gdpr_audit::store::Entry;
use gdpr_audit::{CheckpointPolicy, FileKeyStore, verify_dir};

use super::super::event_line::EventParser;
use super::super::lines::MAX_LINE;
use super::*;

/// Input line `i` (1-based): an event unless `i` is in `bad` (a line that
/// is not one) or `long` (a line over the length cap); every 7th line is
/// blank.
fn line(i: usize, bad: &[usize], long: &[usize]) -> String {
    if bad.contains(&i) {
        return r#"{"event_type":"nope"}"#.to_owned();
    }
    if long.contains(&i) {
        return "x".repeat(MAX_LINE + 1);
    }
    if i.is_multiple_of(7) {
        return "  ".to_owned();
    }
    let subject = match i % 11 {
        0 => String::new(),
        _ => format!(
            r#","subject":{{"id":"PID-{}","issuer":"HOSP"}}"#,
            i * 31 % 257
        ),
    };
    let text = match i % 5 {
        0 => format!(r#","text":"follow-up {i}""#),
        _ => String::new(),
    };
    format!(
        r#"{{"event_type":"patient-record","action":"read","outcome":"success","recorded":"2026-11-25T10:{:02}:{:02}Z","actor":{{"id":"staff-{}","role":"physician","secrecy":{{"kind":"professional","source":"§ 203(1) Nr. 1 StGB"}}}},"purpose":"treatment","lawful_basis":{{"kind":"special-category","art6":"contract","art9":"health-care"}}{subject},"object":{{"kind":"study","id":"1.2.840.{i}"}},"source":"PACS-1","correlation_id":"req-{i}"{text}}}"#,
        i / 60 % 60,
        i % 60,
        i % 13
    )
}

fn input(lines: usize, bad: &[usize], long: &[usize]) -> String {
    (1..=lines).map(|i| line(i, bad, long) + "\n").collect()
}

struct TestLog {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    log: AuditLog<FileStore>,
    verifier: Verifier,
}

fn new_log() -> TestLog {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let signer = Signer::generate("test/audit").unwrap();
    let verifier = signer.verifier();
    // Checkpoints fall inside batches, not at their ends.
    let policy = CheckpointPolicy {
        every_records: Some(700),
        every: None,
    };
    let log = AuditLog::with_stores(
        FileStore::open(&dir, true).unwrap(),
        FileKeyStore::create(FileStore::keys_path(&dir)).unwrap(),
        signer,
        policy,
    )
    .unwrap();
    TestLog {
        _tmp: tmp,
        dir,
        log,
        verifier,
    }
}

/// The sequential reference: each line parsed in order, batches of 1,000
/// events appended with [`AuditLog::append_batch`]; what it appended and
/// where it stopped (as `stop` words it).
fn reference(log: &AuditLog<FileStore>, text: &str, skip: (u64, u64)) -> (Progress, String) {
    let mut progress = Progress::new(log.len());
    let mut parser = EventParser::default();
    let mut batch = Vec::new();
    let (mut first, mut last) = (0, 0);
    let mut unskipped = skip.1;
    let flush = |batch: &mut Vec<_>, first, last, progress: &mut Progress| {
        if !batch.is_empty() {
            let n = log.append_batch(batch).unwrap().len() as u64;
            progress.durable(n, first, last);
            batch.clear();
        }
    };
    for (n, l) in (1..).zip(text.lines()) {
        if n <= skip.0 || l.trim().is_empty() {
            continue;
        }
        if unskipped > 0 {
            unskipped -= 1;
            continue;
        }
        if l.len() > MAX_LINE {
            flush(&mut batch, first, last, &mut progress);
            return (progress, format!("input {n}: {}", LineError::TooLong));
        }
        match parser.parse(l.as_bytes(), jiff::Timestamp::now) {
            Ok(e) => batch.push(e),
            Err(e) => {
                flush(&mut batch, first, last, &mut progress);
                return (progress, format!("input {n}: {e}"));
            }
        }
        if batch.len() == 1 {
            first = n;
        }
        last = n;
        if batch.len() == chunks_batch() {
            flush(&mut batch, first, last, &mut progress);
        }
    }
    flush(&mut batch, first, last, &mut progress);
    let stop = match unskipped {
        0 => "end".to_owned(),
        n => format!("unskipped {n}"),
    };
    (progress, stop)
}

fn chunks_batch() -> usize {
    super::super::chunks::BATCH
}

/// How a run stopped, in words.
fn stop(stop: &Option<Stop>) -> String {
    match stop {
        None => "end".to_owned(),
        Some(Stop::Input { line, fault }) => format!("input {line}: {fault}"),
        Some(Stop::Unskipped(n)) => format!("unskipped {n}"),
        Some(Stop::Write { error, .. }) => format!("write: {error}"),
    }
}

/// What a log holds, comparable across runs: each record's position, clear
/// bytes (between its header and its sealed part) and personal fields, the
/// size of each checkpoint. Records of one subject share one key id, so
/// the key ids are renamed in order of first use.
fn entries(dir: &Path) -> Vec<String> {
    let keys = FileKeyStore::open(FileStore::keys_path(dir)).unwrap();
    let mut names = HashMap::new();
    let mut out = Vec::new();
    FileStore::scan_dir(dir, &mut |_, entry| {
        out.push(match entry {
            Entry::Record(bytes) => {
                let r = Record::decode(&bytes).unwrap();
                let sealed_len = r
                    .sealed()
                    .map_or(1, |s| 1 + 16 + 24 + 4 + s.ciphertext().len());
                let clear = &bytes[41..bytes.len() - sealed_len];
                let n = names.len();
                let key = r.sealed().map(|s| *names.entry(*s.key_id()).or_insert(n));
                let fields = match personal(&r, &keys).unwrap() {
                    Personal::Readable(p) => format!("{:?}", (p.subject, p.object_id, p.text)),
                    other => format!("{other:?}"),
                };
                format!("{} {clear:?} key {key:?} {fields}", r.position())
            }
            Entry::Checkpoint(note) => {
                let size = gdpr_audit::checkpoint::Checkpoint::parse_unverified(&note)
                    .unwrap()
                    .0
                    .size();
                format!("checkpoint {size}")
            }
            _ => "other".to_owned(),
        });
        Ok(())
    })
    .unwrap();
    out
}

/// Appends `text` (after `prefix`, appended the same way first) with the
/// reference and with 1, 2 and 4 parsing threads; checks that all logs hold
/// the same and verify, and that each run reports what it appended as the
/// reference did.
fn same_as_reference(prefix: Option<&str>, text: &str, skip: (u64, u64)) -> (Progress, String) {
    let want_log = new_log();
    if let Some(p) = prefix {
        reference(&want_log.log, p, (0, 0));
    }
    let (want, want_stop) = reference(&want_log.log, text, skip);
    want_log.log.checkpoint().unwrap();
    let want_entries = entries(&want_log.dir);
    for workers in [1, 2, 4] {
        let got_log = new_log();
        if let Some(p) = prefix {
            run(&got_log.log, p.as_bytes(), (0, 0), workers);
        }
        let (got, got_stop) = run(&got_log.log, text.as_bytes(), skip, workers);
        got_log.log.checkpoint().unwrap();
        assert_eq!(got, want, "{workers} threads");
        assert_eq!(stop(&got_stop), want_stop, "{workers} threads");
        let got_entries = entries(&got_log.dir);
        assert_eq!(got_entries.len(), want_entries.len(), "{workers} threads");
        for (g, w) in got_entries.iter().zip(&want_entries) {
            assert_eq!(g, w, "{workers} threads");
        }
        // As many subject keys: none for events after where it stopped.
        assert_eq!(
            std::fs::metadata(FileStore::keys_path(&got_log.dir))
                .unwrap()
                .len(),
            std::fs::metadata(FileStore::keys_path(&want_log.dir))
                .unwrap()
                .len(),
            "{workers} threads"
        );
        let a = verify_dir(&got_log.dir, &got_log.verifier, None).unwrap();
        let b = verify_dir(&want_log.dir, &want_log.verifier, None).unwrap();
        assert_eq!(
            (a.records, a.checkpoints, a.unsigned_tail),
            (b.records, b.checkpoints, b.unsigned_tail)
        );
    }
    (want, want_stop)
}

#[test]
fn a_clean_input_is_appended_as_one_thread_appends_it() {
    let (p, stop) = same_as_reference(None, &input(3500, &[], &[]), (0, 0));
    assert_eq!(stop, "end");
    assert_eq!(p.to_string(), "positions 0..=2999 (input lines 1..=3499)");
}

#[test]
fn a_bad_line_in_the_middle_of_a_chunk_stops_after_the_lines_before_it() {
    // Line 2,600 would be the 2,229th event: in the middle of the third
    // chunk, with chunks after it parsed meanwhile (one with a bad line).
    let (p, stop) = same_as_reference(None, &input(3500, &[2600, 3001], &[]), (0, 0));
    assert!(stop.starts_with("input 2600: "), "{stop}");
    assert_eq!(p.to_string(), "positions 0..=2227 (input lines 1..=2599)");
    // A bad first line appends nothing.
    let (p, stop) = same_as_reference(None, &input(50, &[1], &[]), (0, 0));
    assert!(stop.starts_with("input 1: "), "{stop}");
    assert_eq!(p.to_string(), "nothing");
}

/// Chunks of subjects new to the log wait for their turn to create keys,
/// while chunks of known subjects are sealed as soon as they are parsed:
/// with both kinds in turn, and a bad line in a chunk of known subjects,
/// no key is created for a subject of the lines after it.
#[test]
fn new_subjects_get_keys_in_turn_and_none_after_a_bad_line() {
    // Lines 1,001 to 2,000 and after 3,000 name subjects new to the log.
    let mixed = |bad: &[usize]| -> String {
        input(4500, bad, &[])
            .lines()
            .zip(1..)
            .map(|(l, i)| match (1001..=2000).contains(&i) || i > 3000 {
                true => l.replacen(r#""id":"PID-"#, &format!(r#""id":"NEW-{i}-"#), 1) + "\n",
                false => l.to_owned() + "\n",
            })
            .collect()
    };
    let (p, stop) = same_as_reference(None, &mixed(&[2600]), (0, 0));
    assert!(stop.starts_with("input 2600: "), "{stop}");
    assert_eq!(p.to_string(), "positions 0..=2227 (input lines 1..=2599)");
    let (p, stop) = same_as_reference(None, &mixed(&[]), (0, 0));
    assert_eq!(stop, "end");
    assert_eq!(p.to_string(), "positions 0..=3857 (input lines 1..=4500)");
}

#[test]
fn an_unreadable_line_stops_after_the_lines_before_it() {
    let (p, stop) = same_as_reference(None, &input(2500, &[], &[1234]), (0, 0));
    assert!(stop.starts_with("input 1234: longer than"), "{stop}");
    assert_eq!(p.to_string(), "positions 0..=1056 (input lines 1..=1233)");
}

#[test]
fn a_resumed_run_skips_lines_then_events_after_what_the_log_holds() {
    let text = input(3000, &[], &[]);
    let prefix: String = text
        .lines()
        .take(1100)
        .map(|l| l.to_owned() + "\n")
        .collect();
    // After 1,100 lines (943 events): skip 1,000 lines, then 85 events
    // (lines 1,001 to 1,100 minus the 15 blank ones).
    let (p, stop) = same_as_reference(Some(&prefix), &text, (1000, 85));
    assert_eq!(stop, "end");
    assert_eq!(
        p.to_string(),
        "positions 943..=2571 (input lines 1101..=3000)"
    );
    let (_, stop) = same_as_reference(None, &input(10, &[], &[]), (0, 20));
    assert_eq!(stop, "unskipped 11");
}
