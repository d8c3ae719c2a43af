//! The `AuditStore` trait is implementable outside the crate: a store of
//! rows in memory, shaped like a database table (an ordered sequence of
//! entries plus a prune-anchor row, `commit` as the durability point),
//! runs the whole log: appends, checkpoints, erasure, pruning, verification.
//! So is the `KeyStore` trait: rows of keys and tombstones in memory, the
//! two traits a PostgreSQL backend implements.

mod common;

use std::collections::HashMap;
use std::sync::Mutex;

use gdpr_audit::Error;
use gdpr_audit::FileKeyStore;
use gdpr_audit::KeyStore;
use gdpr_audit::record::Record;
use gdpr_audit::report::{Personal, personal};
use gdpr_audit::seal::{DataKey, KeyId};
use gdpr_audit::signing::Signer;
use gdpr_audit::store::{AuditStore, Entry, EntrySource, PruneAnchor, ScanEnd, Ticket};
use gdpr_audit::verify_store;
use gdpr_audit::{AuditLog, CheckpointPolicy};
use gdpr_core::subject::PatientId;

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

/// Key rows in memory: a key or a tombstone per subject (a database would
/// key the rows by a blind index, never the identifier in clear).
struct RowKeys {
    rows: HashMap<PatientId, (KeyId, Option<DataKey>)>,
    unattributed: (KeyId, DataKey),
    next: u8,
}

impl RowKeys {
    fn new() -> Self {
        Self {
            rows: HashMap::new(),
            unattributed: (KeyId::from_bytes([0xEE; 16]), DataKey::random().unwrap()),
            next: 0,
        }
    }

    fn new_key(&mut self, subject: &PatientId) -> (KeyId, DataKey) {
        self.next += 1;
        let made = (
            KeyId::from_bytes([self.next; 16]),
            DataKey::random().unwrap(),
        );
        self.rows
            .insert(subject.clone(), (made.0, Some(made.1.clone())));
        made
    }
}

impl KeyStore for RowKeys {
    fn key_for(&mut self, subject: &PatientId) -> Result<(KeyId, DataKey), Error> {
        match self.rows.get(subject) {
            Some((id, Some(key))) => Ok((*id, key.clone())),
            Some((_, None)) => Err(Error::SubjectErased),
            None => Ok(self.new_key(subject)),
        }
    }
    fn find(&self, subject: &PatientId) -> Option<KeyId> {
        self.rows
            .get(subject)
            .and_then(|(id, k)| k.as_ref().map(|_| *id))
    }
    fn key(&self, id: &KeyId) -> Option<DataKey> {
        if *id == self.unattributed.0 {
            return Some(self.unattributed.1.clone());
        }
        self.rows
            .values()
            .find(|(i, _)| i == id)
            .and_then(|(_, k)| k.clone())
    }
    fn unattributed(&self) -> (KeyId, DataKey) {
        self.unattributed.clone()
    }
    fn erase(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        match self.rows.get_mut(subject) {
            Some((id, key @ Some(_))) => {
                *key = None;
                Ok(*id)
            }
            _ => Err(Error::UnknownSubject),
        }
    }
    fn is_erased(&self, subject: &PatientId) -> Result<bool, Error> {
        Ok(matches!(self.rows.get(subject), Some((_, None))))
    }
    fn begin_relationship(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        match self.rows.get(subject) {
            Some((id, Some(_))) => Ok(*id),
            _ => Ok(self.new_key(subject).0),
        }
    }
}

#[test]
fn the_log_runs_on_foreign_record_and_key_stores() {
    let signer = Signer::generate(ORIGIN).unwrap();
    let verifier = signer.verifier();
    let policy = CheckpointPolicy {
        every_records: Some(2),
        every: None,
    };
    let log = AuditLog::with_stores(RowStore::default(), RowKeys::new(), signer, policy).unwrap();
    for i in 0..4 {
        log.append(&event(i, if i % 2 == 0 { "A" } else { "B" }))
            .unwrap();
    }
    let (_, erased) = log.erase_subject(&erasure("A")).unwrap();
    assert!(matches!(
        log.append(&event(4, "A")),
        Err(Error::SubjectErased)
    ));
    log.begin_relationship(&PatientId::new("A").unwrap())
        .unwrap();
    log.append(&event(5, "A")).unwrap();
    let latest = log.checkpoint().unwrap();
    let report = verify_store(log.store(), &verifier, Some(&latest)).unwrap();
    assert_eq!(report.records, 6);
    {
        // The batch form, by its default: the tombstone is gone, B keeps
        // its key, a new subject gets one, None is the unattributed key.
        let mut keys = log.keys();
        let (a, b, c) = (
            PatientId::new("A").unwrap(),
            PatientId::new("B").unwrap(),
            PatientId::new("C").unwrap(),
        );
        let got = keys
            .keys_for_each(&[Some(&a), Some(&b), None, Some(&c)])
            .unwrap();
        assert_eq!(got[0].0, keys.find(&a).unwrap());
        assert_eq!(got[1].0, keys.find(&b).unwrap());
        assert_eq!(got[2].0, keys.unattributed().0);
        assert_eq!(got[3].0, keys.find(&c).unwrap());
    }
    let rows = log.store().0.lock().unwrap().rows.clone();
    let records: Vec<Record> = rows
        .iter()
        .filter_map(|e| match e {
            Entry::Record(b) => Some(Record::decode(b).unwrap()),
            _ => None,
        })
        .collect();
    let keys = log.keys();
    assert!(matches!(personal(&records[0], &*keys).unwrap(), Personal::Erased(k) if k == erased));
    assert!(matches!(
        personal(&records[1], &*keys).unwrap(),
        Personal::Readable(_)
    ));
    assert!(matches!(
        personal(&records[5], &*keys).unwrap(),
        Personal::Readable(_)
    ));
}
