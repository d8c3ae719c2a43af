//! `AuditLog::stage_batch` + `commit`: the next batch is written while the
//! previous one syncs; receipts only come from `commit`, positions follow
//! the staging order, and the log verifies.

mod common;

use gdpr_audit::LogDir;
use gdpr_audit::verify_store;

use common::*;

#[test]
fn staged_batches_commit_in_order_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(3));
    let batch = |from: u64| {
        (from..from + 4)
            .map(|i| event(i, "P-1"))
            .collect::<Vec<_>>()
    };
    let first = log.stage_batch(&batch(0)).unwrap();
    let second = log.stage_batch(&batch(4)).unwrap();
    assert_eq!((first.len(), second.len()), (4, 4));
    assert_eq!(log.len(), 8);
    let a = log.commit(first).unwrap();
    let b = log.commit(second).unwrap();
    let positions: Vec<u64> = a.iter().chain(&b).map(|r| r.position).collect();
    assert_eq!(positions, (0..8).collect::<Vec<_>>());
    assert_eq!(log.append_batch(&batch(8)).unwrap()[0].position, 8);
    log.checkpoint().unwrap();
    drop(log);
    let report = verify_store(&LogDir(dir), &verifier, None).unwrap();
    assert_eq!(report.records, 12);
}
