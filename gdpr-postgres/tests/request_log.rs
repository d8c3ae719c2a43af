//! `PgAuditLog`, the tenant's log as gdpr-request's `RequestLog`: usable
//! and droppable on a tokio runtime's threads (where the synchronous
//! client alone panics), and a checkpoint with nothing new to sign
//! releases the tenant's append lock (another writer is not kept waiting).
#![cfg(feature = "postgres-tests")]

mod support;

use std::time::Duration;

use gdpr_audit::{AuditSink, CheckpointPolicy, Signer, verify_store};
use gdpr_core::subject::PatientId;
use gdpr_postgres::{HeadLock, KekRing, PgAuditLog, PgAuditStore};
use gdpr_request::RequestLog;
use support::*;

#[test]
fn the_log_works_and_drops_on_a_runtime_thread() {
    let (_, config) = new_tenant("reqlog");
    let signer = Signer::generate("test.example/reqlog").unwrap();
    let verifier = signer.verifier();
    let kek = KekRing::parse(&KekRing::generate_line(1).unwrap()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config2 = config.clone();
    let (records, key) = rt.block_on(async move {
        let log = PgAuditLog::open(&config2, kek, signer, CheckpointPolicy::default()).unwrap();
        for i in 0..3 {
            log.record(&event(i, Some("P-REQLOG-1"))).unwrap();
        }
        let subject = PatientId::new("P-REQLOG-1").unwrap();
        let key = log.subject_key(&subject, false).unwrap();
        let mut records = 0;
        log.read(&mut |store, keys| {
            assert_eq!(keys.find(&subject), key);
            store.entries(&mut |_, e| {
                if matches!(e, gdpr_audit::store::Entry::Record(_)) {
                    records += 1;
                }
                Ok(())
            })?;
            Ok(())
        })
        .unwrap();
        let (size, _, proof) = log.inclusion_proof(1).unwrap();
        assert_eq!(size, 3);
        assert!(!proof.is_empty());
        drop(log); // on the runtime thread
        (records, key)
    });
    assert_eq!(records, 3);
    assert!(key.is_some());
    let report = verify_store(
        &PgAuditStore::open(&config, HeadLock::Row).unwrap(),
        &verifier,
        None,
    )
    .unwrap();
    assert_eq!(report.records, 3);
}

#[test]
fn a_checkpoint_with_nothing_new_releases_the_tenants_lock() {
    let (_, config) = new_tenant("ckpt");
    let signer = Signer::generate("test.example/ckpt").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let kek_line = KekRing::generate_line(1).unwrap();
    let open = |s: &str| {
        PgAuditLog::open(
            &config,
            KekRing::parse(&kek_line).unwrap(),
            Signer::parse(s).unwrap(),
            CheckpointPolicy::default(),
        )
        .unwrap()
    };
    let a = open(&secret);
    a.record(&event(1, None)).unwrap();
    let first = a.checkpoint().unwrap();
    // Nothing new: the same note, and the tenant's lock is not kept.
    assert_eq!(a.checkpoint().unwrap(), first);
    let b = open(&secret);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(b.record(&event(2, None)).map(|r| r.position));
    });
    let appended = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the second writer waited for the first one's lock");
    assert_eq!(appended.unwrap(), 1);
    drop(a);
}
