//! Every tamper class is detected: proptest over a flipped bit anywhere,
//! deleted, inserted, duplicated, reordered records, an edit re-hashed
//! without the signing key, truncation (with and without the latest
//! checkpoint, caught with a trusted checkpoint saved earlier), and a
//! forged checkpoint.

mod common;

use std::fs;
use std::path::Path;

use gdpr_audit::Error;
use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::merkle::leaf_hash;
use gdpr_audit::record::Record;
use gdpr_audit::signing::{Signer, Verifier};
use gdpr_audit::store::Entry;
use gdpr_audit::verify_store;
use gdpr_audit::{FileStore, LogDir};
use proptest::prelude::*;

use common::*;

struct Fixture {
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
    verifier: Verifier,
    original: Vec<u8>,
    /// The latest checkpoint, saved "elsewhere" by an auditor.
    trusted: String,
    n: u64,
}

fn fixture(n: u64, every: u64) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(every));
    for i in 0..n {
        log.append(&event(i, &format!("P-{}", i % 4))).unwrap();
    }
    let trusted = log.checkpoint().unwrap();
    drop(log);
    let original = fs::read(FileStore::log_path(&dir)).unwrap();
    verify_store(&LogDir(dir.clone()), &verifier, Some(&trusted)).unwrap();
    Fixture {
        _dir: tmp,
        dir,
        verifier,
        original,
        trusted,
        n,
    }
}

impl Fixture {
    fn verify_bytes(&self, bytes: &[u8], trusted: bool) -> Result<(), Error> {
        fs::write(FileStore::log_path(&self.dir), bytes).unwrap();
        let t = trusted.then_some(self.trusted.as_str());
        let r = verify_store(&LogDir(self.dir.clone()), &self.verifier, t).map(|_| ());
        fs::write(FileStore::log_path(&self.dir), &self.original).unwrap();
        r
    }

    fn verify_entries(&self, entries: &[Entry], trusted: bool) -> Result<(), Error> {
        self.verify_bytes(&unframe(entries), trusted)
    }

    fn record_indices(entries: &[Entry]) -> Vec<usize> {
        entries
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Entry::Record(_)))
            .map(|(i, _)| i)
            .collect()
    }
}

fn assert_tampered(r: Result<(), Error>, at_most: u64) -> Result<(), TestCaseError> {
    match r {
        Err(Error::Tampered { position, .. }) => {
            prop_assert!(
                position <= at_most,
                "reported {position}, tampered at {at_most}"
            );
            Ok(())
        }
        other => Err(TestCaseError::fail(format!("not detected: {other:?}"))),
    }
}

fn rechain(entries: &mut [Entry], from: usize) {
    let mut prev = None;
    for e in entries.iter_mut() {
        if let Entry::Record(b) = e {
            let rec = Record::decode(b).unwrap();
            if rec.position() as usize >= from {
                let p = prev.unwrap_or([0; 32]);
                *b = rebuild(&rec, rec.position(), p);
            }
            prev = Some(leaf_hash(b));
        }
    }
}

/// Re-encodes `rec` at `position` with link `prev` (what an attacker
/// without the signing key can do).
fn rebuild(rec: &Record, position: u64, prev: [u8; 32]) -> Vec<u8> {
    let mut b = rec.encode();
    b[1..9].copy_from_slice(&position.to_be_bytes());
    b[9..41].copy_from_slice(&prev);
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_flipped_bit_is_detected(n in 2u64..12, every in 2u64..5, at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let f = fixture(n, every);
        let mut bytes = f.original.clone();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        // Detected with the trusted checkpoint and, since the log ends with a
        // checkpoint, without it too.
        prop_assert!(f.verify_bytes(&bytes, true).is_err());
        prop_assert!(f.verify_bytes(&bytes, false).is_err());
    }

    #[test]
    fn deleted_duplicated_reordered_records_are_detected(n in 3u64..12, every in 2u64..5, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>(), class in 0u8..3) {
        let f = fixture(n, every);
        let entries = frames(&f.original);
        let recs = Fixture::record_indices(&entries);
        let i = recs[a.index(recs.len())];
        let mut t = entries.clone();
        match class {
            0 => { t.remove(i); }
            1 => { t.insert(i, entries[i].clone()); }
            _ => {
                let j = recs[b.index(recs.len())];
                prop_assume!(i != j);
                t.swap(i, j);
            }
        }
        let pos = recs.iter().position(|&x| x == i).unwrap() as u64;
        prop_assert!(f.verify_entries(&t, false).is_err());
        assert_tampered(f.verify_entries(&t, true), match class { 1 => pos + 1, 2 => f.n, _ => pos })?;
    }

    #[test]
    fn inserted_forged_record_is_detected(n in 2u64..10, at in any::<prop::sample::Index>()) {
        let f = fixture(n, 3);
        let entries = frames(&f.original);
        let recs = Fixture::record_indices(&entries);
        let k = at.index(recs.len());
        let Entry::Record(b) = &entries[recs[k]] else { unreachable!() };
        let rec = Record::decode(b).unwrap();
        // A well-formed record claiming position k, linked correctly.
        let mut forged = rebuild(&rec, k as u64, *rec.prev());
        forged[56] ^= 1;
        let mut t = entries.clone();
        t.insert(recs[k], Entry::Record(forged));
        // The forged record itself is well-formed; the displaced original
        // right after it is the first that cannot be explained.
        assert_tampered(f.verify_entries(&t, false), k as u64 + 1)?;
    }

    #[test]
    fn edit_rehashed_without_key_is_detected(n in 2u64..12, every in 2u64..5, at in any::<prop::sample::Index>(), drop_checkpoints in any::<bool>()) {
        let f = fixture(n, every);
        let mut t = frames(&f.original);
        let recs = Fixture::record_indices(&t);
        let k = at.index(recs.len());
        let Entry::Record(b) = &t[recs[k]] else { unreachable!() };
        // Change the purpose field: "treatment" <-> "diagnosis" (same length).
        let s = String::from_utf8_lossy(b).into_owned();
        let edited = if s.contains("treatment") { b.windows(9).position(|w| w == b"treatment").map(|p| (p, b"diagnosis")) } else { b.windows(9).position(|w| w == b"diagnosis").map(|p| (p, b"treatment")) };
        let mut nb = b.clone();
        if let Some((p, with)) = edited { nb[p..p + 9].copy_from_slice(with); } else { nb[56] ^= 1; }
        t[recs[k]] = Entry::Record(nb);
        rechain(&mut t, k + 1);
        if drop_checkpoints {
            t.retain(|e| matches!(e, Entry::Record(_)));
            // Without any checkpoint the rewrite is self-consistent: only the
            // trusted checkpoint saved elsewhere can catch it.
            assert_tampered(f.verify_entries(&t, true), k as u64)?;
        } else {
            assert_tampered(f.verify_entries(&t, false), k as u64)?;
            assert_tampered(f.verify_entries(&t, true), k as u64)?;
        }
    }

    #[test]
    fn truncation_is_detected(n in 3u64..12, every in 2u64..4, at in any::<prop::sample::Index>(), at_boundary in any::<bool>()) {
        let f = fixture(n, every);
        let entries = frames(&f.original);
        if at_boundary {
            // Cut after some entry: possibly right after an earlier
            // checkpoint, so the rest is self-consistent (a rollback).
            let cut = at.index(entries.len() - 1) + 1;
            let t = &entries[..cut];
            prop_assume!(t.iter().filter(|e| matches!(e, Entry::Record(_))).count() < f.n as usize);
            let kept = t.iter().filter(|e| matches!(e, Entry::Record(_))).count() as u64;
            assert_tampered(f.verify_entries(t, true), kept)?;
        } else {
            let cut = at.index(f.original.len() - 1) + 1;
            let bytes = &f.original[..cut];
            // Cut exactly before the final checkpoint, every record kept:
            // the log is then as the trusted checkpoint saw it (records
            // are chained, the last note is gone), which is no tampering.
            let whole = frames_end(bytes) == cut;
            let kept = records_in(bytes);
            prop_assume!(!(whole && kept == f.n));
            prop_assert!(f.verify_bytes(bytes, true).is_err());
            // A cut inside a frame is a torn tail: detected even without a
            // trusted checkpoint.
            let inside = frames_end(bytes) != cut;
            if inside { prop_assert!(f.verify_bytes(bytes, false).is_err()); }
        }
    }

    #[test]
    fn forged_checkpoint_is_detected(n in 2u64..10, lie in 0u64..3) {
        let f = fixture(n, 100);
        let mut t = frames(&f.original);
        let Some(Entry::Checkpoint(note)) = t.last().cloned() else { unreachable!() };
        let cp = Checkpoint::parse_unverified(&note).unwrap().0;
        let attacker = Signer::generate(common::ORIGIN).unwrap();
        let mut root = *cp.root();
        root[0] ^= lie as u8;
        let forged = Checkpoint::new(cp.origin(), cp.size(), root).unwrap().sign(&attacker);
        *t.last_mut().unwrap() = Entry::Checkpoint(forged);
        assert_tampered(f.verify_entries(&t, false), n)?;
    }
}

/// End offset of the last complete frame in `bytes`.
/// The records among the complete frames of `bytes`.
fn records_in(bytes: &[u8]) -> u64 {
    let mut r = bytes;
    let mut n = 0;
    let _ = gdpr_audit::internals::scan_frames(&mut r, Path::new("mem"), &mut |_, e| {
        n += u64::from(matches!(e, Entry::Record(_)));
        Ok(())
    });
    n
}

fn frames_end(bytes: &[u8]) -> usize {
    let mut r = bytes;
    let mut last = 0usize;
    let _ = gdpr_audit::internals::scan_frames(&mut r, Path::new("mem"), &mut |off, e| {
        let len = match &e {
            Entry::Record(b) => b.len(),
            Entry::Checkpoint(s) => s.len(),
            _ => unreachable!("only records and checkpoints exist"),
        };
        last = off as usize + 5 + len;
        Ok(())
    });
    last
}

#[test]
fn a_damaged_key_store_is_reported_apart_from_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, Some(2));
    for i in 0..3 {
        log.append(&event(i, &format!("P-{i}"))).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);
    let report = gdpr_audit::verify_dir(&dir, &verifier, None).unwrap();
    assert_eq!(report.key_store, Some(3));
    let keys = FileStore::keys_path(&dir);
    let good = fs::read(&keys).unwrap();
    for at in [0, 7, 60, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        fs::write(&keys, &bad).unwrap();
        // The chain alone still verifies; the directory does not.
        verify_store(&LogDir(dir.clone()), &verifier, None).unwrap();
        let err = gdpr_audit::verify_dir(&dir, &verifier, None).unwrap_err();
        assert!(
            matches!(err, Error::KeyStoreDamaged { .. }) && !err.is_tampering(),
            "byte {at}: {err}"
        );
    }
    fs::remove_file(&keys).unwrap();
    let report = gdpr_audit::verify_dir(&dir, &verifier, None).unwrap();
    assert_eq!(report.key_store, None);
}

#[test]
fn a_key_of_another_log_is_not_reported_as_tampering() {
    use gdpr_audit::verify_dir;
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (log_a, key_a) = create(&a, Some(2));
    let (log_b, key_b) = create(&b, Some(2));
    for i in 0..5 {
        log_a.append(&event(i, "P-1")).unwrap();
        log_b.append(&event(i, "P-1")).unwrap();
    }
    log_a.checkpoint().unwrap();
    drop((log_a, log_b));
    fs::write(FileStore::public_key_path(&a), format!("{key_a}\n")).unwrap();
    verify_dir(&a, &key_a, None).unwrap();
    let err = verify_dir(&a, &key_b, None).unwrap_err();
    assert!(
        matches!(err, Error::ForeignKey { .. }) && !err.is_tampering(),
        "{err}"
    );
    // Without the log's own public key there is no telling.
    assert!(
        verify_store(&LogDir(a.clone()), &key_b, None)
            .unwrap_err()
            .is_tampering()
    );
    // A checkpoint forged with another key stays tampering, whichever key
    // the auditor holds.
    let log_file = FileStore::log_path(&a);
    let mut entries = frames(&fs::read(&log_file).unwrap());
    let last = entries.len() - 1;
    let Entry::Checkpoint(note) = &entries[last] else {
        panic!("the log ends with a checkpoint")
    };
    let cp = Checkpoint::parse_unverified(note).unwrap().0;
    let forger = Signer::generate(ORIGIN).unwrap();
    entries[last] = Entry::Checkpoint(cp.sign(&forger));
    fs::write(&log_file, unframe(&entries)).unwrap();
    for key in [&key_a, &forger.verifier()] {
        let err = verify_dir(&a, key, None).unwrap_err();
        assert!(err.is_tampering(), "{err}");
    }
}
