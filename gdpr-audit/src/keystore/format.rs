//! The key store's file format, and parsing and encoding it.
//!
//! # File format, versions 2 and 3
//!
//! ```text
//! header  [4] magic "GAKS", u8 version (2, or 3 when it holds a
//!         tombstone), [32] blind-index secret,
//!         [16] key id + [32] key for events without a subject,
//!         [32] SHA-256 of the header bytes before it
//! entries n × ([32] blind index, [16] key id, [32] key,
//!              [32] SHA-256 of these 80 bytes)
//! ```
//!
//! A tombstone (version 3) is an entry whose key is 32 zero bytes (never
//! generated: a random key is all zeros with probability 2^-256); its key
//! id is the erased key's. Version 2 readers refuse version 3 files rather
//! than hand an erased subject a fresh key.
//!
//! An incomplete final entry (a crash while adding a key, never
//! acknowledged) is ignored and overwritten by the next addition; a
//! complete entry with a wrong checksum means damage: restore from backup.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{ByIndex, Entry, FileKeyStore, keyed};
use crate::Error;
use crate::cause::Malformed;
use crate::encoding::{Reader, Writer};
use crate::seal::{DataKey, KeyId};

const MAGIC: &[u8; 4] = b"GAKS";
/// The version of a store without tombstones.
const VERSION: u8 = 2;
/// The version of a store that holds a tombstone.
const VERSION_TOMBSTONES: u8 = 3;
/// The key bytes of a tombstone entry.
pub(super) const TOMBSTONE: [u8; 32] = [0; 32];
pub(super) const HEADER_LEN: usize = 4 + 1 + 32 + 16 + 32 + 32;
pub(super) const ENTRY_LEN: usize = 32 + 16 + 32 + 32;

/// Damage found at `offset` (reported as [`Error::KeyStoreDamaged`]).
pub(super) fn damaged(offset: usize, cause: Malformed, detail: &'static str) -> Error {
    Error::NonCanonical {
        what: "key store",
        offset: offset as u64,
        cause,
        detail,
    }
}

/// The entries after the header: keys and tombstones.
struct Parsed {
    by_index: ByIndex<Entry>,
    by_id: HashMap<KeyId, [u8; 32]>,
    erased: BTreeMap<[u8; 32], KeyId>,
}

/// Parses the entries after the header; a trailing partial entry is an
/// unacknowledged addition and is ignored.
fn parse_entries(entries: &[u8]) -> Result<Parsed, Error> {
    let mut p = Parsed {
        by_index: ByIndex::default(),
        by_id: HashMap::new(),
        erased: BTreeMap::new(),
    };
    for (n, chunk) in entries.chunks_exact(ENTRY_LEN).enumerate() {
        let (body, sum) = chunk.split_at(80);
        let at = HEADER_LEN + n * ENTRY_LEN;
        if Sha256::digest(body).as_slice() != sum {
            return Err(damaged(
                at,
                Malformed::ChecksumMismatch,
                "entry checksum mismatch: the key store is damaged; restore it from backup",
            ));
        }
        let mut r = Reader::new(body, "key store entry");
        let index: [u8; 32] = r.array()?;
        let entry = Entry {
            key_id: KeyId::from_bytes(r.array()?),
            key: DataKey::from_bytes(r.array()?),
        };
        if p.by_index.contains_key(&index)
            || p.by_id.contains_key(&entry.key_id)
            || p.erased.contains_key(&index)
        {
            return Err(damaged(
                at,
                Malformed::Duplicate,
                "duplicate entry: the key store is damaged; restore it from backup",
            ));
        }
        if *entry.key.as_bytes() == TOMBSTONE {
            p.erased.insert(index, entry.key_id);
            continue;
        }
        p.by_id.insert(entry.key_id, index);
        p.by_index.insert(index, entry);
    }
    Ok(p)
}

impl FileKeyStore {
    pub(super) fn parse(path: PathBuf, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < HEADER_LEN {
            return Err(damaged(
                0,
                Malformed::Truncated,
                "file too short for a key store header",
            ));
        }
        let (header, entries) = bytes.split_at(HEADER_LEN);
        let (head, sum) = header.split_at(HEADER_LEN - 32);
        if Sha256::digest(head).as_slice() != sum {
            return Err(damaged(
                0,
                Malformed::ChecksumMismatch,
                "header checksum mismatch: the key store is damaged; restore it from backup",
            ));
        }
        let mut r = Reader::new(head, "key store");
        if r.take(4)? != MAGIC || !matches!(r.u8()?, VERSION | VERSION_TOMBSTONES) {
            return Err(r.fail_as(
                Malformed::UnknownVersion,
                "not a version-2 or version-3 gdpr-audit key store",
            ));
        }
        let index_secret = DataKey::from_bytes(r.array()?);
        let unattributed = Entry {
            key_id: KeyId::from_bytes(r.array()?),
            key: DataKey::from_bytes(r.array()?),
        };
        r.finish()?;
        let parsed = parse_entries(entries)?;
        Ok(Self {
            path,
            index_mac: keyed(&index_secret),
            index_secret,
            unattributed,
            by_index: parsed.by_index,
            by_id: parsed.by_id,
            erased: parsed.erased,
        })
    }

    fn header(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(HEADER_LEN);
        w.fixed(MAGIC);
        w.u8(if self.erased.is_empty() {
            VERSION
        } else {
            VERSION_TOMBSTONES
        });
        w.fixed(self.index_secret.as_bytes());
        w.fixed(self.unattributed.key_id.as_bytes());
        w.fixed(self.unattributed.key.as_bytes());
        let mut bytes = Zeroizing::new(w.into_bytes());
        let sum = Sha256::digest(bytes.as_slice());
        bytes.extend_from_slice(&sum);
        bytes
    }

    pub(super) fn entry_bytes(index: &[u8; 32], e: &Entry, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(index);
        out.extend_from_slice(e.key_id.as_bytes());
        out.extend_from_slice(e.key.as_bytes());
        let sum = Sha256::digest(&out[start..]);
        out.extend_from_slice(&sum);
    }

    pub(super) fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut bytes = self.header();
        // In the order of the indexes, as when they were kept sorted.
        let mut entries: Vec<_> = self.by_index.iter().collect();
        entries.sort_unstable_by_key(|(index, _)| **index);
        for (index, e) in entries {
            Self::entry_bytes(index, e, &mut bytes);
        }
        for (index, key_id) in &self.erased {
            let tombstone = Entry {
                key_id: *key_id,
                key: DataKey::from_bytes(TOMBSTONE),
            };
            Self::entry_bytes(index, &tombstone, &mut bytes);
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use gdpr_core::subject::PatientId;

    use super::*;

    #[test]
    fn torn_addition_is_ignored_and_overwritten_damage_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut ks = FileKeyStore::create(&path).unwrap();
        let (a, _) = ks.key_for(&PatientId::new("A").unwrap()).unwrap();
        let full = fs::read(&path).unwrap();
        // A crash while adding a second key left half an entry.
        let mut torn = full.clone();
        torn.extend_from_slice(&[7; 50]);
        fs::write(&path, &torn).unwrap();
        let mut ks = FileKeyStore::open(&path).unwrap();
        assert_eq!(ks.find(&PatientId::new("A").unwrap()), Some(a));
        let (b, _) = ks.key_for(&PatientId::new("B").unwrap()).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().len() as usize,
            HEADER_LEN + 2 * ENTRY_LEN
        );
        let ks = FileKeyStore::open(&path).unwrap();
        assert_eq!(ks.find(&PatientId::new("B").unwrap()), Some(b));
        // A flipped bit inside a complete entry is damage.
        let mut bad = fs::read(&path).unwrap();
        bad[HEADER_LEN + 3] ^= 1;
        fs::write(&path, &bad).unwrap();
        assert!(matches!(
            FileKeyStore::open(&path),
            Err(Error::KeyStoreDamaged { .. })
        ));
    }

    #[test]
    fn every_bit_flip_is_reported_as_key_store_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        assert_eq!(FileKeyStore::check(&path).unwrap(), None);
        let mut ks = FileKeyStore::create(&path).unwrap();
        ks.key_for(&PatientId::new("A").unwrap()).unwrap();
        ks.key_for(&PatientId::new("B").unwrap()).unwrap();
        assert_eq!(FileKeyStore::check(&path).unwrap(), Some(2));
        let good = fs::read(&path).unwrap();
        for byte in 0..good.len() {
            for bit in [0, 3, 7] {
                let mut bad = good.clone();
                bad[byte] ^= 1 << bit;
                fs::write(&path, &bad).unwrap();
                let err = FileKeyStore::check(&path).unwrap_err();
                assert!(err.is_key_store_damage(), "byte {byte}: {err}");
                assert!(!err.is_tampering());
            }
        }
    }

    #[test]
    fn damaged_store_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        FileKeyStore::create(&path).unwrap();
        let mut raw = fs::read(&path).unwrap();
        raw[10] ^= 1;
        fs::write(&path, raw).unwrap();
        assert!(FileKeyStore::open(&path).is_err());
    }
}
