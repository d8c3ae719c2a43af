//! A log rolled back behind the writers' backs — what a failover to an
//! asynchronous standby that lost acknowledged records looks like — is
//! detected: by a writer that had seen more (it refuses to chain on), and
//! by an auditor's saved checkpoint (the regrown log no longer reproduces
//! it).
#![cfg(feature = "postgres-tests")]

mod support;

use gdpr_audit::{AuditLog, CheckpointPolicy, Error, FileKeyStore, Signer, Tamper, verify_store};
use gdpr_postgres::{HeadLock, PgAuditStore, PgConfig};
use support::*;

const NO_AUTO: CheckpointPolicy = CheckpointPolicy {
    every_records: None,
    every: None,
};

fn writer(
    config: &PgConfig,
    secret: &str,
    dir: &std::path::Path,
) -> AuditLog<PgAuditStore, FileKeyStore> {
    let keys = FileKeyStore::create(dir).unwrap();
    let store = PgAuditStore::open(config, HeadLock::Row).unwrap();
    AuditLog::with_stores(store, keys, Signer::parse(secret).unwrap(), NO_AUTO).unwrap()
}

#[test]
fn a_rolled_back_log_is_refused_by_writers_and_caught_by_saved_checkpoints() {
    let (tenant, config) = new_tenant("fork");
    let signer = Signer::generate("test.example/fork").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let w1 = writer(&config, &secret, &tmp.path().join("k1"));
    for i in 0..3 {
        w1.append(&event(i, None)).unwrap();
    }
    // The standby's state: the first three records.
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    sup.execute(
        "CREATE TEMP TABLE standby AS SELECT * FROM gdpr.audit_head WHERE tenant = $1",
        &[&tenant.role()],
    )
    .unwrap();
    for i in 3..5 {
        w1.append(&event(i, None)).unwrap();
    }
    let saved = w1.checkpoint().unwrap(); // an auditor keeps this note
    // Failover: the acknowledged records 3 and 4 and the checkpoint are lost.
    sup.batch_execute(&format!(
        "DELETE FROM gdpr.audit_entry WHERE tenant = '{t}' AND seq >= 3;
         DELETE FROM gdpr.audit_run WHERE tenant = '{t}' AND first_seq >= 3;
         UPDATE gdpr.audit_head h SET (next_seq, size, frontier, prev, since_checkpoint,
             last_checkpoint_time, last_note, last_recorded)
           = (SELECT next_seq, size, frontier, prev, since_checkpoint,
                     last_checkpoint_time, last_note, last_recorded FROM standby)
         WHERE h.tenant = '{t}';",
        t = tenant.role()
    ))
    .unwrap();
    // The writer that saw five records refuses to fork the log.
    let refused = w1.append(&event(9, None)).unwrap_err();
    assert!(
        matches!(
            refused.tamper(),
            Some(Tamper::Truncated {
                records: 3,
                trusted: 5
            })
        ),
        "{refused:?}"
    );
    drop(w1);
    // A writer that starts afresh sees a consistent log of three and grows it.
    let w2 = writer(&config, &secret, &tmp.path().join("k2"));
    assert_eq!(w2.len(), 3);
    for i in 10..13 {
        w2.append(&event(i, None)).unwrap();
    }
    drop(w2);
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    assert_eq!(
        verify_store(&store, &signer.verifier(), None)
            .unwrap()
            .records,
        6
    );
    // The auditor's checkpoint at five exposes the fork.
    let forked = verify_store(&store, &signer.verifier(), Some(&saved)).unwrap_err();
    assert!(forked.is_tampering(), "{forked:?}");
    assert!(matches!(forked, Error::Tampered { .. }));
}
