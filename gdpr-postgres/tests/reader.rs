//! The store's reader (`PgAuditStore::entries`: verify, prove, export,
//! copy, opening a writer) merges a tenant's runs and whole entries by
//! their primary keys instead of sorting the view `gdpr.audit_entries`,
//! and detoasts each run's previous-leaf hashes once. It must give exactly
//! the view's rows in `seq` order: here for runs long enough that their
//! `prevs` is stored out of line (over 60 records), cut by checkpoints,
//! interleaved with whole entries written by a writer chaining by itself.
#![cfg(feature = "postgres-tests")]

mod support;

use gdpr_audit::store::{Entry, EntrySource};
use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer, verify_store};
use gdpr_postgres::{Chaining, HeadLock, PgAuditStore};
use support::*;

/// A checkpoint every 200 records: runs of up to 130 records, some cut.
const POLICY: CheckpointPolicy = CheckpointPolicy {
    every_records: Some(200),
    every: None,
};

#[test]
fn the_reader_gives_the_views_rows_in_order_for_long_runs_and_whole_entries() {
    migrated();
    let (_, config) = new_tenant("reader");
    let signer = Signer::generate("test.example/reader").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let verifier = signer.verifier();
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("k");
    FileKeyStore::create(&keys).unwrap();
    let log = |chaining| {
        let store = PgAuditStore::open(&config, HeadLock::Row)
            .unwrap()
            .with_chaining(chaining);
        AuditLog::with_stores(
            store,
            FileKeyStore::open(&keys).unwrap(),
            Signer::parse(&secret).unwrap(),
            POLICY,
        )
        .unwrap()
    };
    let mut n = 0u64;
    let mut batch = |size: u64| {
        let events: Vec<_> = (n..n + size)
            .map(|i| event(i, Some(&format!("P-{}", i % 7))))
            .collect();
        n += size;
        events
    };
    let (db, by_writer) = (log(Chaining::InDatabase), log(Chaining::ByWriter));
    for round in 0..3 {
        db.append_batch(&batch(130)).unwrap();
        by_writer.append_batch(&batch(3 + round)).unwrap();
        db.append_batch(&batch(90)).unwrap();
    }
    drop((db, by_writer));

    let mut c = config.connect().unwrap();
    let longest: i32 = c
        .query_one("SELECT max(count) FROM gdpr.audit_run", &[])
        .unwrap()
        .get(0);
    assert!(longest > 60, "no run long enough for TOAST: {longest}");
    let view: Vec<(i64, Entry)> = c
        .query(
            "SELECT seq, checkpoint, body FROM gdpr.audit_entries ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let body: Vec<u8> = r.get(2);
            let entry = if r.get::<_, bool>(1) {
                Entry::Checkpoint(String::from_utf8(body).unwrap())
            } else {
                Entry::Record(body)
            };
            (r.get(0), entry)
        })
        .collect();
    assert_eq!(
        view.iter()
            .filter(|(_, e)| matches!(e, Entry::Record(_)))
            .count() as u64,
        n
    );
    assert!(view.iter().any(|(_, e)| matches!(e, Entry::Checkpoint(_))));

    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let mut read = Vec::new();
    store
        .entries(&mut |seq, e| {
            read.push((i64::try_from(seq).unwrap(), e));
            Ok(())
        })
        .unwrap();
    assert_eq!(read.len(), view.len());
    for (a, b) in read.iter().zip(&view) {
        assert_eq!(a, b, "entry {} differs from the view's", b.0);
    }
    assert_eq!(verify_store(&store, &verifier, None).unwrap().records, n);
}
