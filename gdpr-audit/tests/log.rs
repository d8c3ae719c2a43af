//! The log's own behaviour: checkpoint policy (records and time), events
//! without a subject, concurrent appenders, reopening.

mod common;

use std::sync::Arc;

use gdpr_audit::FileKeyStore;
use gdpr_audit::action::{Action, EventType};
use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::SourceSystem;
use gdpr_audit::object::{ObjectId, ObjectKind, ObjectRef};
use gdpr_audit::record::Record;
use gdpr_audit::report::{Personal, personal};
use gdpr_audit::signing::Signer;
use gdpr_audit::store::Entry;
use gdpr_audit::verify_store;
use gdpr_audit::{AuditLog, CheckpointPolicy};
use gdpr_audit::{FileStore, LogDir};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use jiff::{SignedDuration, Timestamp};

use common::*;

fn checkpoint_sizes(dir: &std::path::Path) -> Vec<u64> {
    let mut sizes = Vec::new();
    FileStore::scan_dir(dir, &mut |_, e| {
        if let Entry::Checkpoint(n) = e {
            sizes.push(Checkpoint::parse_unverified(&n).unwrap().0.size());
        }
        Ok(())
    })
    .unwrap();
    sizes
}

#[test]
fn checkpoints_follow_the_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let signer = Signer::generate(ORIGIN).unwrap();
    let verifier = signer.verifier();
    let policy = CheckpointPolicy {
        every_records: Some(4),
        every: Some(SignedDuration::from_mins(5)),
    };
    let log = AuditLog::with_stores(
        FileStore::open(&dir, true).unwrap(),
        FileKeyStore::create(FileStore::keys_path(&dir)).unwrap(),
        signer,
        policy,
    )
    .unwrap();
    let t0 = Timestamp::from_second(1_790_000_000).unwrap();
    // Minutes 0,1,2: no checkpoint; minute 6: five minutes passed.
    for (i, m) in [0i64, 1, 2, 6, 7, 8, 9, 10].into_iter().enumerate() {
        let e = event(i as u64, "P-1");
        let e = AuditEvent::builder(
            e.event_type(),
            e.action(),
            e.actor().clone(),
            e.purpose(),
            e.lawful_basis().clone(),
            e.source().clone(),
        )
        .subject(e.subject().unwrap().clone())
        .build(t0 + SignedDuration::from_mins(m));
        log.append(&e).unwrap();
    }
    // After record 3 (time), then after 4 more records (count: 4..8).
    assert_eq!(checkpoint_sizes(&dir), vec![4, 8]);
    verify_store(&LogDir(dir.clone()), &verifier, None).unwrap();
}

#[test]
fn events_without_subject_are_sealed_under_the_log_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, None);
    let system = Actor {
        id: ActorId::new("nightly-export").unwrap(),
        role: Role::System,
        secrecy: Secrecy::None,
    };
    let e = AuditEvent::builder(
        EventType::Export,
        Action::Export,
        system,
        Purpose::Statistics,
        LawfulBasis::Ordinary {
            art6: Art6Basis::PublicTask,
        },
        SourceSystem::new("EXPORTER").unwrap(),
    )
    .object(ObjectRef::new(
        ObjectKind::DataSet,
        ObjectId::new("extract-2026-11").unwrap(),
    ))
    .build(Timestamp::from_second(1_790_000_000).unwrap());
    log.append(&e).unwrap();
    let plain = AuditEvent::builder(
        e.event_type(),
        e.action(),
        e.actor().clone(),
        e.purpose(),
        e.lawful_basis().clone(),
        e.source().clone(),
    )
    .build(e.recorded());
    log.append(&plain).unwrap();
    log.checkpoint().unwrap();
    let mut seen = Vec::new();
    FileStore::scan_dir(&dir, &mut |_, entry| {
        if let Entry::Record(b) = entry {
            let r = Record::decode(&b).unwrap();
            seen.push(match personal(&r, &*log.keys()).unwrap() {
                Personal::Readable(f) => f.object_id.map(|o| o.expose().to_owned()),
                Personal::NoneRecorded => None,
                other => panic!("{other:?}"),
            });
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, vec![Some("extract-2026-11".to_owned()), None]);
    verify_store(&LogDir(dir), &verifier, None).unwrap();
}

#[test]
fn concurrent_appenders_get_distinct_positions_and_the_log_reopens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let signer = Signer::generate(ORIGIN).unwrap();
    let verifier = signer.verifier();
    let secret = signer.to_secret_text();
    let log = Arc::new(
        AuditLog::with_stores(
            FileStore::open(&dir, true).unwrap(),
            FileKeyStore::create(FileStore::keys_path(&dir)).unwrap(),
            signer,
            CheckpointPolicy {
                every_records: Some(10),
                every: None,
            },
        )
        .unwrap(),
    );
    let mut positions: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let log = Arc::clone(&log);
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            log.append(&event(t * 100 + i, &format!("P-{t}")))
                                .unwrap()
                                .position
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    positions.sort_unstable();
    assert_eq!(positions, (0..100).collect::<Vec<_>>());
    drop(log);
    // A second writer is refused while one holds the lock; reopening works.
    let reopened = AuditLog::with_stores(
        FileStore::open(&dir, false).unwrap(),
        FileKeyStore::open(FileStore::keys_path(&dir)).unwrap(),
        Signer::parse(&secret).unwrap(),
        CheckpointPolicy::default(),
    )
    .unwrap();
    assert!(matches!(
        FileStore::open(&dir, false),
        Err(gdpr_audit::Error::Locked { .. })
    ));
    assert_eq!(reopened.len(), 100);
    let note = reopened.checkpoint().unwrap();
    verify_store(&LogDir(dir), &verifier, Some(&note)).unwrap();
}

#[test]
fn every_record_gets_a_fresh_nonce() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, _) = create(&dir, None);
    let same = event(1, "P-1");
    log.append_batch(&[same.clone(), same.clone(), same])
        .unwrap();
    let mut nonces = Vec::new();
    FileStore::scan_dir(&dir, &mut |_, e| {
        if let Entry::Record(b) = e {
            nonces.push(*Record::decode(&b).unwrap().sealed().unwrap().nonce());
        }
        Ok(())
    })
    .unwrap();
    nonces.sort_unstable();
    nonces.dedup();
    assert_eq!(nonces.len(), 3);
}

#[test]
fn a_log_reopened_for_writing_continues_its_chain_and_refuses_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let signer = Signer::generate(ORIGIN).unwrap();
    let verifier = signer.verifier();
    let secret = signer.to_secret_text();
    let policy = CheckpointPolicy {
        every_records: Some(100),
        every: None,
    };
    let open = |create: bool| {
        let store = FileStore::open(&dir, create).unwrap();
        let keys = if create {
            FileKeyStore::create(FileStore::keys_path(&dir))
        } else {
            FileKeyStore::open(FileStore::keys_path(&dir))
        };
        AuditLog::with_stores(
            store,
            keys.unwrap(),
            Signer::parse(&secret).unwrap(),
            policy,
        )
    };
    // Larger than one read of the log, so reopening checks many pieces.
    let events: Vec<_> = (0..3_000)
        .map(|i| event(i, &format!("P-{}", i % 9)))
        .collect();
    let log = open(true).unwrap();
    for batch in events.chunks(250) {
        log.append_batch(batch).unwrap();
    }
    drop(log);
    let log = open(false).unwrap();
    assert_eq!(log.len(), 3_000);
    log.append_batch(&events[..5]).unwrap();
    let note = log.checkpoint().unwrap();
    drop(log);
    let report = verify_store(&LogDir(dir.clone()), &verifier, Some(&note)).unwrap();
    assert_eq!(
        report.records, 3_005,
        "the chain continues across the reopening"
    );

    // One byte of record 1,500 changed: the writer refuses to open the log.
    let path = FileStore::log_path(&dir);
    let mut bytes = std::fs::read(&path).unwrap();
    let (mut at, mut records) = (0usize, 0);
    loop {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if bytes[at + 4] == 1 {
            if records == 1_500 {
                bytes[at + 5 + 60] ^= 0x01;
                break;
            }
            records += 1;
        }
        at += 5 + len;
    }
    std::fs::write(&path, &bytes).unwrap();
    match open(false) {
        Err(gdpr_audit::Error::Tampered { .. }) => {}
        Err(other) => panic!("expected tampering to be reported, got {other}"),
        Ok(_) => panic!("a tampered log was opened for writing"),
    }
}
