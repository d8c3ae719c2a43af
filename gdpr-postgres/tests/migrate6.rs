//! Schema version 6 moves where new records are stored (bodies in
//! `gdpr.audit_body`, one `gdpr.audit_run` row per call), not the records
//! written before it: a log written under schema 5, migrated, reads back
//! the same entries byte for byte, keeps its tree (a checkpoint of it
//! signed before the migration is a trusted checkpoint of the migrated
//! log), verifies, and writers chain on from it — in the database and by
//! themselves. And bodies stored by a call that stopped for a checkpoint,
//! whose writer died before the next call, are in no entry.
#![cfg(feature = "postgres-tests")]

mod support;

use gdpr_audit::store::Entry;
use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer, verify_store};
use gdpr_postgres::{Chaining, HeadLock, PgAuditStore};
use support::*;

/// Records only: the schema 5 calls below sign no checkpoint.
const NO_CHECKPOINTS: CheckpointPolicy = CheckpointPolicy {
    every_records: None,
    every: None,
};

/// Appends `records` (whole encodings) as a schema 5 node did: one call of
/// the version 5 `gdpr.audit_append` with the bodies after the 41-byte
/// header.
fn append_v5(c: &mut postgres::Client, records: &[Vec<u8>]) {
    let (bodies, times) = bodies_and_times(records);
    let row = c
        .query_one(
            "SELECT o_count FROM gdpr.audit_append(NULL, $1::bytea[], $2::int8[], NULL, NULL, 0, false)",
            &[&bodies, &times],
        )
        .unwrap();
    assert_eq!(row.get::<_, i32>(0) as usize, records.len());
}

#[test]
fn a_schema_5_log_migrated_to_6_reads_back_the_same_entries_and_chains_on() {
    let mut old = OldSchema::new("m5", 5);
    assert_eq!(old.applied, [1, 2, 3, 4, 5]);
    let config = old.config.clone();
    // This library refuses the older schema.
    assert!(PgAuditStore::open(&config, HeadLock::Row).is_err());

    // The records of an embedded log (same signer), appended through the
    // schema 5 function in calls of 1, 5 and 6.
    let signer = Signer::generate("test.example/m5").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let embedded = AuditLog::create(tmp.path().join("dir"), Signer::parse(&secret).unwrap())
        .unwrap()
        .with_policy(NO_CHECKPOINTS);
    let events: Vec<_> = (0..12).map(|i| event(i, None)).collect();
    embedded.append_batch(&events).unwrap();
    let saved = embedded.checkpoint().unwrap(); // kept outside, before migrating
    let records: Vec<Vec<u8>> = entries(embedded.store())
        .into_iter()
        .filter_map(|e| match e {
            Entry::Record(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 12);
    let mut t = config.connect().unwrap();
    t.execute(
        "INSERT INTO gdpr.audit_head (next_seq, size, frontier, prev, since_checkpoint)
         VALUES (0, 0, '', $1, 0)",
        &[&&[0u8; 32][..]],
    )
    .unwrap();
    append_v5(&mut t, &records[..1]);
    append_v5(&mut t, &records[1..6]);
    append_v5(&mut t, &records[6..]);
    let before: Vec<Vec<u8>> = t
        .query("SELECT body FROM gdpr.audit_entry ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        before, records,
        "schema 5 wrote other bytes than the embedded log"
    );
    drop(t);

    assert_eq!(
        gdpr_postgres::migrate::migrate_to(&mut old.owner, 6).unwrap(),
        [6]
    );
    // The migrations after 6 (the objection register) touch no log table.
    gdpr_postgres::migrate(&mut old.owner).unwrap();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let after = entries(&store);
    assert_eq!(
        after,
        records
            .iter()
            .cloned()
            .map(Entry::Record)
            .collect::<Vec<_>>(),
        "the migrated log reads back other entries"
    );
    // Same tree: the checkpoint signed before the migration is trusted.
    let report = verify_store(&store, &signer.verifier(), Some(&saved)).unwrap();
    assert_eq!(report.records, 12);

    // Writers chain on (opening verifies the whole log): in the database,
    // then by the writer, then in the database again, across checkpoints.
    let policy = CheckpointPolicy {
        every_records: Some(4),
        every: None,
    };
    let keys = FileKeyStore::create(tmp.path().join("k")).unwrap();
    let db_writer =
        AuditLog::with_stores(store, keys, Signer::parse(&secret).unwrap(), policy).unwrap();
    let more: Vec<_> = (100..107).map(|i| event(i, Some("P-1"))).collect();
    db_writer.append_batch(&more).unwrap();
    let store2 = PgAuditStore::open(&config, HeadLock::Row)
        .unwrap()
        .with_chaining(Chaining::ByWriter);
    let keys2 = FileKeyStore::create(tmp.path().join("k2")).unwrap();
    let by_writer =
        AuditLog::with_stores(store2, keys2, Signer::parse(&secret).unwrap(), policy).unwrap();
    by_writer.append(&event(200, None)).unwrap();
    db_writer.append(&event(201, None)).unwrap();
    db_writer.checkpoint().unwrap();
    let all = entries(db_writer.store());
    assert_eq!(
        all[..12],
        after[..],
        "entries written under schema 5 changed"
    );
    let report = verify_store(db_writer.store(), &signer.verifier(), Some(&saved)).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (21, 0));
    // The new records are stored as runs (records of the database path)
    // and as whole entries (the writer's record, the notes).
    let mut t = config.connect().unwrap();
    // A batch cut by a checkpoint stores its bodies once: every body is in
    // exactly one run (since schema 10 each run's bodies are one row).
    let (runs, in_runs, bodies, rows): (i64, i64, i64, i64) = {
        let r = t
            .query_one(
                "SELECT (SELECT count(*) FROM gdpr.audit_run),
                        (SELECT sum(count)::int8 FROM gdpr.audit_run),
                        (SELECT coalesce(sum(coalesce(cardinality(pack), 1)), 0)::int8
                           FROM gdpr.audit_body),
                        (SELECT count(*) FROM gdpr.audit_body)",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2), r.get(3))
    };
    assert!(runs >= 3, "{runs} runs");
    assert_eq!((in_runs, bodies, rows), (8, 8, runs));
    drop((t, db_writer, by_writer, old));
}

/// A call that stops for a checkpoint stores only the bodies it appends
/// (schema 10: as one row, with their run; the rest is sent again with
/// the next call); if its writer dies before the next call, nothing of the
/// rest is stored, and the next writer signs the due checkpoint and chains
/// on. (Until schema 9 the rest stayed in `gdpr.audit_body`, in no run:
/// tests/orphans.rs.)
#[test]
fn bodies_left_by_a_writer_that_died_at_a_checkpoint_are_in_no_entry() {
    let (_, config) = new_tenant("orphans");
    let signer = Signer::generate("test.example/orphans").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let policy = CheckpointPolicy {
        every_records: Some(2),
        every: None,
    };
    // Records of an embedded log: their bodies are what a writer sends.
    let embedded = AuditLog::create(tmp.path().join("dir"), Signer::parse(&secret).unwrap())
        .unwrap()
        .with_policy(NO_CHECKPOINTS);
    let events: Vec<_> = (0..5).map(|i| event(i, None)).collect();
    embedded.append_batch(&events).unwrap();
    let records: Vec<Vec<u8>> = entries(embedded.store())
        .into_iter()
        .filter_map(|e| match e {
            Entry::Record(r) => Some(r),
            _ => None,
        })
        .collect();
    // The head row, then one call as a writer makes it, which stops after
    // two records (a checkpoint is due); the writer "dies" there.
    drop(PgAuditStore::open(&config, HeadLock::Row).unwrap());
    let mut t = config.connect().unwrap();
    let (bodies, times) = bodies_and_times(&records);
    let row = t
        .query_one(
            "SELECT o_count, o_due_size FROM gdpr.audit_append(NULL, $1, $2, 2, NULL, 0, false, NULL, NULL)",
            &[&bodies, &times],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, i32>(0), row.get::<_, Option<i64>>(1)),
        (2, Some(2))
    );
    let stored: (i64, Option<i32>) = {
        let r = t
            .query_one(
                "SELECT count(*), max(cardinality(pack)) FROM gdpr.audit_body",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        stored,
        (1, Some(2)),
        "only the two bodies appended, as one row"
    );
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    assert_eq!(
        entries(&store),
        records[..2]
            .iter()
            .cloned()
            .map(Entry::Record)
            .collect::<Vec<_>>(),
        "only the records chained are entries"
    );
    // The next writer signs the due checkpoint and chains on.
    let keys = FileKeyStore::create(tmp.path().join("k")).unwrap();
    let log = AuditLog::with_stores(store, keys, Signer::parse(&secret).unwrap(), policy).unwrap();
    log.append_batch(&(10..13).map(|i| event(i, None)).collect::<Vec<_>>())
        .unwrap();
    log.checkpoint().unwrap();
    let report = verify_store(log.store(), &signer.verifier(), None).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (5, 0));
    let (unreferenced, in_runs, bodies): (i64, i64, i64) = {
        let r = t
            .query_one(
                "SELECT (SELECT count(*) FROM gdpr.audit_body b WHERE NOT EXISTS (
                           SELECT 1 FROM gdpr.audit_run r WHERE r.batch = b.batch
                             AND b.ord >= r.first_ord AND b.ord < r.first_ord + r.count)),
                        (SELECT sum(count)::int8 FROM gdpr.audit_run),
                        (SELECT sum(cardinality(pack))::int8 FROM gdpr.audit_body)",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!((unreferenced, in_runs, bodies), (0, 5, 5));
}
