//! The `AuditStore` trait is implementable outside the crate: a store of
//! rows in memory, shaped like a database table (an ordered sequence of
//! entries plus a prune-anchor row, `commit` as the durability point),
//! runs the whole log: appends, checkpoints, erasure, pruning, verification.

mod common;

use std::sync::Mutex;

use gdpr_audit::Error;
use gdpr_audit::keystore::FileKeyStore;
use gdpr_audit::log::{AuditLog, CheckpointPolicy};
use gdpr_audit::record::Record;
use gdpr_audit::signing::Signer;
use gdpr_audit::store::{AuditStore, Entry, EntrySource, PruneAnchor, ScanEnd, Ticket};
use gdpr_audit::verify_store;

use common::*;

#[derive(Default)]
struct Table {
    rows: Vec<Entry>,
    committed: usize,
    anchor: Option<PruneAnchor>,
}

/// Rows in memory; `commit` marks them durable like a database COMMIT.
#[derive(Default)]
struct RowStore(Mutex<Table>);

impl EntrySource for RowStore {
    fn entries(
        &self,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
    ) -> Result<ScanEnd, Error> {
        let rows: Vec<Entry> = self.0.lock().unwrap().rows.clone();
        for (i, e) in rows.into_iter().enumerate() {
            visit(i as u64, e)?;
        }
        Ok(ScanEnd::default())
    }

    fn prune_anchor(&self) -> Result<Option<PruneAnchor>, Error> {
        Ok(self.0.lock().unwrap().anchor.clone())
    }
}

impl AuditStore for RowStore {
    fn stage(&self, entries: &[Entry]) -> Result<Ticket, Error> {
        let mut t = self.0.lock().unwrap();
        t.rows.extend_from_slice(entries);
        Ok(Ticket(t.rows.len() as u64))
    }

    fn commit(&self, ticket: Ticket) -> Result<(), Error> {
        let mut t = self.0.lock().unwrap();
        t.committed = t.committed.max(ticket.0 as usize);
        Ok(())
    }

    fn prune(&self, anchor: &PruneAnchor) -> Result<(), Error> {
        let mut t = self.0.lock().unwrap();
        let first = t
            .rows
            .iter()
            .position(|e| matches!(e, Entry::Record(b) if Record::decode(b).unwrap().position() >= anchor.size))
            .unwrap_or(t.rows.len());
        t.rows.drain(..first);
        t.committed = t.rows.len();
        t.anchor = Some(anchor.clone());
        Ok(())
    }
}

#[test]
fn the_log_runs_on_a_foreign_store() {
    let tmp = tempfile::tempdir().unwrap();
    let signer = Signer::generate(ORIGIN).unwrap();
    let verifier = signer.verifier();
    let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
    let policy = CheckpointPolicy {
        every_records: Some(3),
        every: None,
    };
    let log = AuditLog::with_stores(RowStore::default(), keys, signer, policy).unwrap();
    for i in 0..10 {
        log.append(&event(i, if i % 2 == 0 { "A" } else { "B" }))
            .unwrap();
    }
    log.erase_subject(&erasure("A")).unwrap();
    let latest = log.checkpoint().unwrap();
    let report = verify_store(log.store(), &verifier, Some(&latest)).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (11, 0));
    log.prune_before(6).unwrap();
    let report = verify_store(log.store(), &verifier, Some(&latest)).unwrap();
    assert_eq!((report.pruned, report.records), (6, 5));
    {
        let t = log.store().0.lock().unwrap();
        assert_eq!(t.committed, t.rows.len());
    }

    // Tampering with a row is caught here too.
    {
        let mut t = log.store().0.lock().unwrap();
        let i = t
            .rows
            .iter()
            .position(|e| matches!(e, Entry::Record(_)))
            .unwrap();
        if let Entry::Record(b) = &mut t.rows[i] {
            let n = b.len();
            b[n - 1] ^= 1;
        }
    }
    assert!(
        verify_store(log.store(), &verifier, Some(&latest))
            .unwrap_err()
            .is_tampering()
    );
}
