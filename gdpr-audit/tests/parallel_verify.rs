//! Batched verification (records decoded and hashed on several threads,
//! aligned groups of leaves folded before they reach the tree) reaches
//! exactly the verdict of one-entry-at-a-time verification: the same
//! report for an intact log, the same first bad position and reason for a
//! tampered one — across checkpoints, a trusted checkpoint at an unaligned
//! size, and logs larger than one read buffer.

mod common;

use std::path::Path;

use gdpr_audit::Error;
use gdpr_audit::internals::LogVerifier;
use gdpr_audit::internals::scan_chunks;
use gdpr_audit::signing::Verifier;
use gdpr_audit::store::Entry;
use gdpr_audit::verify_store;
use gdpr_audit::{FileStore, LogDir};

use common::*;

/// Builds a log of `n` records (checkpoints every `every`) with an extra
/// checkpoint after `trusted_at` records; returns its bytes, key and that
/// checkpoint.
fn build(n: u64, every: u64, trusted_at: u64) -> (Vec<u8>, Verifier, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(every));
    let events: Vec<_> = (0..n).map(|i| event(i, &format!("P-{}", i % 7))).collect();
    log.append_batch(&events[..trusted_at as usize]).unwrap();
    let trusted = log.checkpoint().unwrap();
    for chunk in events[trusted_at as usize..].chunks(500) {
        log.append_batch(chunk).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);
    let bytes = std::fs::read(FileStore::log_path(&dir)).unwrap();
    (bytes, verifier, trusted)
}

/// One entry at a time, owned (the reference).
fn one_by_one(bytes: &[u8], v: &Verifier, trusted: Option<&str>) -> Result<String, String> {
    let mut lv = LogVerifier::new(v, trusted).map_err(|e| e.to_string())?;
    let entries = frames_lenient(bytes);
    for (offset, e) in &entries.0 {
        lv.entry(*offset, e).map_err(|e| e.to_string())?;
    }
    lv.finish(entries.1)
        .map(|r| format!("{r:?}"))
        .map_err(|e| e.to_string())
}

/// Batched, on `threads` threads.
fn batched(
    bytes: &[u8],
    v: &Verifier,
    trusted: Option<&str>,
    threads: usize,
) -> Result<String, String> {
    let mut lv = LogVerifier::new(v, trusted)
        .map_err(|e| e.to_string())?
        .with_threads(threads);
    let mut r = bytes;
    let end = scan_chunks(&mut r, Path::new("mem"), &mut |c| lv.chunk(c))
        .map_err(|e: Error| e.to_string())?;
    lv.finish(end)
        .map(|r| format!("{r:?}"))
        .map_err(|e| e.to_string())
}

/// Frames parsed by hand (independently of the batched scanner).
fn frames_lenient(bytes: &[u8]) -> (Vec<(u64, Entry)>, gdpr_audit::store::ScanEnd) {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 5 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let Some(payload) = bytes.get(at + 5..at + 5 + len) else {
            break;
        };
        let e = match bytes[at + 4] {
            1 => Entry::Record(payload.to_vec()),
            _ => Entry::Checkpoint(String::from_utf8(payload.to_vec()).unwrap()),
        };
        out.push((at as u64, e));
        at += 5 + len;
    }
    assert_eq!(at, bytes.len(), "fixture tampering keeps frames whole");
    let end = gdpr_audit::store::ScanEnd {
        bytes: at as u64,
        ..Default::default()
    };
    (out, end)
}

fn assert_same(bytes: &[u8], v: &Verifier, trusted: Option<&str>) -> Result<String, String> {
    let reference = one_by_one(bytes, v, trusted);
    for threads in [1, 2, 3] {
        assert_eq!(
            batched(bytes, v, trusted, threads),
            reference,
            "{threads} threads"
        );
    }
    reference
}

#[test]
fn batched_verification_matches_one_by_one_on_intact_and_tampered_logs() {
    // Checkpoints every 37 records and a trusted one at 301: neither aligned
    // to a group of 16 leaves.
    let (bytes, v, trusted) = build(700, 37, 301);
    for t in [None, Some(trusted.as_str())] {
        let ok = assert_same(&bytes, &v, t);
        assert!(ok.is_ok(), "{ok:?}");
    }
    let records: Vec<(usize, usize)> = frames_lenient(&bytes)
        .0
        .iter()
        .filter(|(_, e)| matches!(e, Entry::Record(_)))
        .map(|(o, e)| {
            let Entry::Record(b) = e else { unreachable!() };
            (*o as usize, b.len())
        })
        .collect();
    for index in [0usize, 15, 16, 31, 256, 300, 301, 699] {
        let (offset, len) = records[index];
        for byte in [5 + 3, 5 + len - 1] {
            let mut bad = bytes.clone();
            bad[offset + byte] ^= 0x10;
            for t in [None, Some(trusted.as_str())] {
                let r = assert_same(&bad, &v, t);
                assert!(r.is_err(), "flip in record {index} byte {byte} undetected");
            }
        }
    }
    // A record swapped with its neighbour inside a group.
    let (a, la) = records[40];
    let (_, lb) = records[41];
    let mut swapped = bytes[..a].to_vec();
    swapped.extend_from_slice(&bytes[a + 5 + la..a + 5 + la + 5 + lb]);
    swapped.extend_from_slice(&bytes[a..a + 5 + la]);
    swapped.extend_from_slice(&bytes[a + 5 + la + 5 + lb..]);
    let r = assert_same(&swapped, &v, Some(&trusted));
    let e = r.unwrap_err();
    assert!(e.contains("record 40"), "{e}");
}

#[test]
fn logs_larger_than_one_read_buffer_verify_and_locate_tampering() {
    // About 2.7 MB: many reads of the scanner (64 KiB first, then up to 1 MiB).
    let (bytes, v, trusted) = build(8_500, 1000, 4_099);
    assert!(bytes.len() > 2 << 20);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("log"), &bytes).unwrap();
    let report = verify_store(&LogDir(tmp.path().to_owned()), &v, Some(&trusted)).unwrap();
    assert_eq!(report.records, 8_500);
    assert_eq!(
        Ok(format!("{report:?}")),
        assert_same(&bytes, &v, Some(&trusted))
    );
    // Tamper with the last record, after the first read buffer.
    let (offset, _) = frames_lenient(&bytes)
        .0
        .into_iter()
        .rfind(|(_, e)| matches!(e, Entry::Record(_)))
        .unwrap();
    let mut bad = bytes.clone();
    bad[offset as usize + 5 + 30] ^= 1;
    let r = assert_same(&bad, &v, Some(&trusted));
    assert!(
        r.unwrap_err().contains("8499"),
        "first bad position reported"
    );
}
