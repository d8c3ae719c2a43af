//! Records chained inside PostgreSQL (`gdpr.audit_append`) are byte for
//! byte those of the embedded log: the same events, signer and checkpoint
//! policy give the same entries — records and signed checkpoint notes — in
//! the same order (a known answer: events without personal fields, so no
//! random nonce, and Ed25519 signatures are deterministic). Writers that
//! chain in the database and writers that chain themselves share one log.
#![cfg(feature = "postgres-tests")]

mod support;

use gdpr_audit::store::{AuditStore, Entry};
use gdpr_audit::{
    AuditLog, CheckpointPolicy, FileKeyStore, FileStore, Signer, verify_dir, verify_store,
};
use gdpr_postgres::{Chaining, HeadLock, PgAuditStore, PgConfig};
use jiff::SignedDuration;
use support::*;

/// Every 7 records, or when an event is 40 s (of recorded time) after the
/// last checkpoint: both rules fire in the run below.
const POLICY: CheckpointPolicy = CheckpointPolicy {
    every_records: Some(7),
    every: Some(SignedDuration::from_secs(40)),
};

/// The events, in batches of 1, 5, 20, 3 and 11; event 30 onwards jumps
/// 50 s per event, so the time rule decides there.
fn batches() -> Vec<Vec<gdpr_audit::AuditEvent>> {
    let mut n = 0;
    [1, 5, 20, 3, 11]
        .iter()
        .map(|&k| {
            (0..k)
                .map(|_| {
                    n += 1;
                    let at = if n < 30 { n } else { 30 + (n - 30) * 50 };
                    event(at, None)
                })
                .collect()
        })
        .collect()
}

fn pg_log(
    config: &PgConfig,
    secret: &str,
    keys: &std::path::Path,
    chaining: Chaining,
) -> AuditLog<PgAuditStore, FileKeyStore> {
    let keys = if keys.exists() {
        FileKeyStore::open(keys).unwrap()
    } else {
        FileKeyStore::create(keys).unwrap()
    };
    let store = PgAuditStore::open(config, HeadLock::Row)
        .unwrap()
        .with_chaining(chaining);
    AuditLog::with_stores(store, keys, Signer::parse(secret).unwrap(), POLICY).unwrap()
}

#[test]
fn chained_in_the_database_equals_the_embedded_log_byte_for_byte() {
    let (_, config) = new_tenant("kat");
    let signer = Signer::generate("test.example/kat").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let embedded = AuditLog::create(tmp.path().join("dir"), Signer::parse(&secret).unwrap())
        .unwrap()
        .with_policy(POLICY);
    let pg = pg_log(
        &config,
        &secret,
        &tmp.path().join("k"),
        Chaining::InDatabase,
    );
    // A new directory starts with a checkpoint of the empty log; so does
    // this one.
    pg.checkpoint().unwrap();
    for batch in batches() {
        let a = embedded.append_batch(&batch).unwrap();
        let b = pg.append_batch(&batch).unwrap();
        assert_eq!(a, b, "receipts (positions and leaf hashes) differ");
    }
    assert_eq!(pg.len(), 40);
    // The writer kept its tree: proofs from it are the embedded log's.
    assert_eq!(
        pg.inclusion_proof(17).unwrap(),
        embedded.inclusion_proof(17).unwrap()
    );
    let (a, b) = (embedded.checkpoint().unwrap(), pg.checkpoint().unwrap());
    assert_eq!(a, b, "the final checkpoint differs");
    let ours = entries(pg.store());
    let theirs = entries(embedded.store());
    let notes = ours
        .iter()
        .filter(|e| matches!(e, Entry::Checkpoint(_)))
        .count();
    // 40 records: every 7 up to event 29 (4), then the time rule (each of
    // events 30.. is 50 s after the last), then the final one.
    assert!(notes > 10, "{notes} checkpoints");
    assert_eq!(ours.len(), theirs.len());
    for (i, (x, y)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(x, y, "entry {i} differs");
    }
    let report = verify_store(pg.store(), &signer.verifier(), None).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (40, 0));
}

#[test]
fn writers_chaining_in_the_database_and_by_themselves_share_one_chain() {
    let (_, config) = new_tenant("mixed");
    let signer = Signer::generate("test.example/mixed").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let db = pg_log(
        &config,
        &secret,
        &tmp.path().join("k1"),
        Chaining::InDatabase,
    );
    let client = pg_log(&config, &secret, &tmp.path().join("k2"), Chaining::ByWriter);
    let mut positions = Vec::new();
    for (i, batch) in batches().iter().enumerate() {
        let log = if i % 2 == 0 { &db } else { &client };
        positions.extend(log.append_batch(batch).unwrap().iter().map(|r| r.position));
        // Personal fields too (sealed with random nonces).
        let r = log.append(&event(1000 + i as u64, Some("P-1"))).unwrap();
        positions.push(r.position);
    }
    assert_eq!(positions, (0..45).collect::<Vec<_>>());
    let note = db.checkpoint().unwrap();
    let report = verify_store(db.store(), &signer.verifier(), None).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (45, 0));
    assert!(report.checkpoints >= 6, "{report:?}");
    // Copied entry by entry into an embedded log directory (what `gdpr
    // audit copy --from-postgres` does), it verifies with the directory
    // verifier, against the last checkpoint as trusted, with the same root.
    let dir = tmp.path().join("copy");
    let files = FileStore::open(&dir, true).unwrap();
    let ticket = files.stage(&entries(db.store())).unwrap();
    files.commit(ticket).unwrap();
    drop(files);
    let copied = verify_dir(&dir, &signer.verifier(), Some(&note)).unwrap();
    assert_eq!(
        (copied.records, copied.checkpoints, copied.root),
        (report.records, report.checkpoints, report.root)
    );
}
