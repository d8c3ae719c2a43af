//! Subject keys on PostgreSQL: shared by every node of a tenant, erased by
//! a committed update that the other nodes see at once, never stored in
//! clear (nor the subject reference), and re-wrapped by a KEK rotation so
//! that copies taken before no longer open.
#![cfg(feature = "postgres-tests")]

mod support;

use gdpr_audit::{AuditLog, CheckpointPolicy, Error, KeyStore, Signer};
use gdpr_core::subject::PatientId;
use gdpr_postgres::{HeadLock, KekRing, PgAuditStore, PgConfig, PgKeyStore};
use support::*;

fn node(config: &PgConfig, kek: &str, secret: &str) -> AuditLog<PgAuditStore, PgKeyStore> {
    let store = PgAuditStore::open(config, HeadLock::Row).unwrap();
    let keys = PgKeyStore::open(config, KekRing::parse(kek).unwrap()).unwrap();
    AuditLog::with_stores(
        store,
        keys,
        Signer::parse(secret).unwrap(),
        CheckpointPolicy::default(),
    )
    .unwrap()
}

#[test]
fn an_erasure_on_one_node_is_seen_by_the_other_and_no_key_is_stored_in_clear() {
    let (tenant, config) = new_tenant("keys");
    let kek = KekRing::generate_line(1).unwrap();
    let signer = Signer::generate("test.example/keys").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let a = node(&config, &kek, &secret);
    let b = node(&config, &kek, &secret);
    let subject = PatientId::new("P-CANARY-4711").unwrap();
    a.append(&event(1, Some("P-CANARY-4711"))).unwrap();
    // One key for the subject on both nodes.
    let id = a.keys().find(&subject).unwrap();
    assert_eq!(b.keys().find(&subject), Some(id));
    let key = b.keys().key(&id).unwrap();
    b.append(&event(2, Some("P-CANARY-4711"))).unwrap();
    // Neither the key nor the subject reference is in any row, in clear.
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let leaks: i64 = sup
        .query_one(
            "SELECT (SELECT count(*) FROM gdpr.subject_key WHERE tenant = $1
                       AND (position($2 in wrapped) > 0 OR position($3 in blind) > 0))
                  + (SELECT count(*) FROM gdpr.audit_entries WHERE tenant = $1
                       AND (position($2 in body) > 0 OR position($3 in body) > 0))
                  + (SELECT count(*) FROM gdpr.audit_body WHERE tenant = $1
                       AND (position($2 in body) > 0 OR position($3 in body) > 0))",
            &[&tenant.role(), &&key.as_bytes()[..], &&b"P-CANARY-4711"[..]],
        )
        .unwrap()
        .get(0);
    assert_eq!(leaks, 0);
    // B erases; A's next event about the subject is refused (tombstone).
    assert_eq!(b.keys().erase(&subject).unwrap(), id);
    assert!(a.keys().is_erased(&subject).unwrap());
    assert!(
        !a.keys()
            .is_erased(&PatientId::new("P-OTHER").unwrap())
            .unwrap()
    );
    assert!(a.keys().key(&id).is_none());
    assert!(matches!(
        a.append(&event(3, Some("P-CANARY-4711"))),
        Err(Error::SubjectErased)
    ));
    // Only a new relationship gives the subject a (new) key.
    let new = a.keys().begin_relationship(&subject).unwrap();
    assert_ne!(new, id);
    assert_eq!(b.keys().find(&subject), Some(new));
    drop((a, b));
    assert_eq!(verified_records(&config, &signer), 2);
}

#[test]
fn rotation_rewraps_every_key_and_old_copies_stay_shut() {
    let (tenant, config) = new_tenant("rotate");
    let one = KekRing::generate_line(1).unwrap();
    let two = KekRing::generate_line(2).unwrap();
    let mut keys = PgKeyStore::open(&config, KekRing::parse(&one).unwrap()).unwrap();
    let subjects: Vec<_> = (0..5)
        .map(|i| PatientId::new(format!("P-{i}")).unwrap())
        .collect();
    let before: Vec<_> = subjects.iter().map(|s| keys.key_for(s).unwrap()).collect();
    // A copy taken before the rotation (a backup, WAL, a dead tuple).
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let old: Vec<(Vec<u8>, Vec<u8>)> = sup
        .query(
            "SELECT key_id, wrapped FROM gdpr.subject_key WHERE tenant = $1",
            &[&tenant.role()],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(old.len(), 5);
    drop(keys);
    let both = PgKeyStore::open(
        &config,
        KekRing::parse(&format!("{}{}", *one, *two)).unwrap(),
    )
    .unwrap();
    assert_eq!(both.rotate().unwrap(), 5);
    assert_eq!(
        both.rotate().unwrap(),
        0,
        "a second rotation has nothing to do"
    );
    drop(both);
    // With the old version deleted from the KEK file, every key still opens…
    let mut keys = PgKeyStore::open(&config, KekRing::parse(&two).unwrap()).unwrap();
    for (s, (id, key)) in subjects.iter().zip(&before) {
        let (id2, key2) = keys.key_for(s).unwrap();
        assert_eq!((&id2, key2.as_bytes()), (id, key.as_bytes()));
    }
    // …and the rows now differ from the old copy, which the new KEK cannot open.
    let versions: Vec<i32> = sup
        .query(
            "SELECT kek_version FROM gdpr.subject_key WHERE tenant = $1",
            &[&tenant.role()],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(versions.iter().all(|&v| v == 2));
    let ring = KekRing::parse(&two).unwrap();
    for (_, wrapped) in &old {
        for v in [1, 2] {
            assert!(ring.unwrap_key(v, wrapped, b"").is_err());
        }
    }
}

#[test]
fn a_failed_look_up_is_an_error_never_erased() {
    let (tenant, config) = new_tenant("lookup");
    let kek = KekRing::generate_line(1).unwrap();
    let keys = PgKeyStore::open(&config, KekRing::parse(&kek).unwrap()).unwrap();
    let subject = PatientId::new("P-1").unwrap();
    assert!(!keys.is_erased(&subject).unwrap());
    // The key store's connection is cut (as a failover or restart would).
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let cut: i64 = sup
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1",
            &[&tenant.role()],
        )
        .unwrap()
        .get(0);
    assert!(cut >= 1);
    assert!(matches!(
        keys.is_erased(&subject),
        Err(Error::Backend { .. })
    ));
}
