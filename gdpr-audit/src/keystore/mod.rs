//! The embedded key store ([`FileKeyStore`], the default
//! [`crate::KeyStore`]): one data key per data subject, kept in a file
//! separate from the log.
//!
//! The file never holds a subject reference in clear: subjects are found
//! through a *blind index*, HMAC-SHA-256 under a secret of the store over
//! the subject reference.
//!
//! A new subject's key is **appended** (one `write` + `fdatasync`, before
//! any record sealed with it is acknowledged), so adding keys costs the
//! same at ten or a million subjects. Erasing a subject (Art. 17)
//! **rewrites** the file with a tombstone instead of its key (see
//! [`crate::KeyStore`]), durably: temporary file,
//! `fdatasync`, rename over the old file, `fsync` of the directory; the old
//! file is unlinked. (Blocks of unlinked files may survive on the medium:
//! keep the key store on an encrypted volume, and purge backups on their
//! own schedule.)
//!
//! The file format is in [`format`]; writing it durably in [`file`];
//! erasure and tombstones in [`tombstone`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;

use gdpr_core::subject::PatientId;
use hmac::{Hmac, KeyInit};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Error;
use crate::seal::{DataKey, KeyId};

mod file;
mod format;
mod image;
mod tombstone;

pub use image::{ImageEntry, KeyStoreImage};

pub(crate) use file::sync_dir;

/// Hashes a blind index for the in-memory maps by its first eight bytes.
/// A blind index is an HMAC-SHA-256 output under the store's secret:
/// uniform, and unpredictable to whoever writes the events, so it needs
/// neither more mixing nor SipHash's defence against chosen keys (a lookup
/// per appended event was a search of a `BTreeMap`, a 32-byte `memcmp` at
/// each step).
#[derive(Debug, Default, Clone, Copy)]
struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut first = [0u8; 8];
        let n = bytes.len().min(8);
        first[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(17) ^ u64::from_le_bytes(first);
    }
}

/// Entries by blind index (see [`IndexHasher`]).
type ByIndex<V> = HashMap<[u8; 32], V, BuildHasherDefault<IndexHasher>>;

#[derive(Debug, Clone)]
struct Entry {
    key_id: KeyId,
    key: DataKey,
}

/// Per-subject data keys (see the module docs).
#[derive(Debug)]
pub struct FileKeyStore {
    path: PathBuf,
    index_secret: DataKey,
    /// HMAC keyed with `index_secret`, cloned per lookup (saves the key
    /// schedule on every append).
    index_mac: Hmac<Sha256>,
    unattributed: Entry,
    /// Keys by blind index (written in the order of the indexes).
    by_index: ByIndex<Entry>,
    by_id: HashMap<KeyId, [u8; 32]>,
    /// Tombstones: blind indexes of erased subjects, with the erased key id.
    erased: BTreeMap<[u8; 32], KeyId>,
}

fn keyed(secret: &DataKey) -> Hmac<Sha256> {
    // Invariant: HMAC accepts keys of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn random_id() -> Result<KeyId, Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| Error::Random)?;
    Ok(KeyId::from_bytes(b))
}

impl FileKeyStore {
    fn blind(&self, subject: &PatientId) -> [u8; 32] {
        crate::seal::blind_index(&self.index_mac, subject)
    }

    /// The key id of `subject`, if the subject has a key.
    pub fn find(&self, subject: &PatientId) -> Option<KeyId> {
        self.by_index.get(&self.blind(subject)).map(|e| e.key_id)
    }

    /// The key of `subject`, created (and stored durably) if missing.
    pub(crate) fn key_for(&mut self, subject: &PatientId) -> Result<(KeyId, DataKey), Error> {
        let mut keys = self.keys_for_each([Some(subject)])?;
        Ok(keys.remove(0))
    }

    /// The key of each of `subjects` in order (the key for events without a
    /// subject where it is `None`); the missing ones are created and stored
    /// with one `write` and one `fdatasync` for all of them.
    ///
    /// # Errors
    /// [`Error::Random`]; [`Error::Io`] if new keys cannot be stored (then
    /// none was added).
    pub(crate) fn keys_for_each<'a>(
        &mut self,
        subjects: impl IntoIterator<Item = Option<&'a PatientId>>,
    ) -> Result<Vec<(KeyId, DataKey)>, Error> {
        let indexes: Vec<Option<[u8; 32]>> = subjects
            .into_iter()
            .map(|s| s.map(|s| self.blind(s)))
            .collect();
        self.keys_for_indexes(&indexes)
    }

    /// [`FileKeyStore::keys_for_each`] for subjects given as text (see
    /// [`crate::KeyStore::keys_for_each_ref`]): no [`PatientId`] is built.
    fn keys_for_each_ref(
        &mut self,
        subjects: &[Option<(&str, Option<&str>)>],
    ) -> Result<Vec<(KeyId, DataKey)>, Error> {
        let indexes: Vec<Option<[u8; 32]>> = subjects
            .iter()
            .map(|s| s.map(|(id, issuer)| crate::seal::blind_index_of(&self.index_mac, id, issuer)))
            .collect();
        self.keys_for_indexes(&indexes)
    }

    /// [`FileKeyStore::keys_for_each_ref`] that creates nothing: `None`
    /// when one of the subjects has no key (see
    /// [`crate::KeyStore::known_keys_for_each_ref`]).
    fn known_keys_for_each_ref(
        &self,
        subjects: &[Option<(&str, Option<&str>)>],
    ) -> Option<Vec<(KeyId, DataKey)>> {
        subjects
            .iter()
            .map(|s| match s {
                None => Some(self.unattributed()),
                Some((id, issuer)) => {
                    let index = crate::seal::blind_index_of(&self.index_mac, id, *issuer);
                    let e = self.by_index.get(&index)?;
                    Some((e.key_id, e.key.clone()))
                }
            })
            .collect()
    }

    /// The keys of these blind indexes (the key for events without a
    /// subject where `None`), the missing ones created with one durable
    /// write.
    fn keys_for_indexes(
        &mut self,
        indexes: &[Option<[u8; 32]>],
    ) -> Result<Vec<(KeyId, DataKey)>, Error> {
        self.create_missing(indexes.iter().flatten().copied())?;
        Ok(indexes
            .iter()
            .map(|index| match index.and_then(|i| self.by_index.get(&i)) {
                Some(e) => (e.key_id, e.key.clone()),
                // Invariant: every index has an entry after `create_missing`.
                None => self.unattributed(),
            })
            .collect())
    }

    /// Creates the keys of those `subjects` that have none, stored with one
    /// `write` and one `fdatasync` for all of them (appending a batch of
    /// events about many new subjects would otherwise pay one sync each).
    /// Returns how many keys were created.
    ///
    /// # Errors
    /// [`Error::Random`]; [`Error::Io`] if the keys cannot be stored (then
    /// none was added).
    pub fn ensure_keys<'a>(
        &mut self,
        subjects: impl IntoIterator<Item = &'a PatientId>,
    ) -> Result<usize, Error> {
        let indexes: Vec<[u8; 32]> = subjects.into_iter().map(|s| self.blind(s)).collect();
        self.create_missing(indexes.into_iter())
    }

    /// Creates an entry for each blinded index that has none, with one
    /// durable write for all; returns how many were created.
    fn create_missing(&mut self, indexes: impl Iterator<Item = [u8; 32]>) -> Result<usize, Error> {
        let mut missing: Vec<[u8; 32]> = Vec::new();
        let mut seen: HashSet<[u8; 32], BuildHasherDefault<IndexHasher>> = HashSet::default();
        for index in indexes {
            if self.by_index.contains_key(&index) || !seen.insert(index) {
                continue;
            }
            self.refuse_erased(&index)?;
            missing.push(index);
        }
        if missing.is_empty() {
            return Ok(0);
        }
        // One call to the operating system's generator for all new key ids
        // and keys (48 bytes each), not two per subject.
        let mut random = Zeroizing::new(vec![0u8; 48 * missing.len()]);
        getrandom::fill(&mut random).map_err(|_| Error::Random)?;
        let new: Vec<([u8; 32], Entry)> = missing
            .into_iter()
            .zip(random.chunks_exact(48))
            .map(|(index, r)| {
                let (id, key) = r.split_at(16);
                let mut id16 = [0u8; 16];
                id16.copy_from_slice(id);
                let mut key32 = Zeroizing::new([0u8; 32]);
                key32.copy_from_slice(key);
                let entry = Entry {
                    key_id: KeyId::from_bytes(id16),
                    key: DataKey::from_bytes(*key32),
                };
                (index, entry)
            })
            .collect();
        self.append_entries(&new)?;
        let created = new.len();
        for (index, entry) in new {
            self.by_id.insert(entry.key_id, index);
            self.by_index.insert(index, entry);
        }
        Ok(created)
    }

    /// The key for events without a data subject.
    pub(crate) fn unattributed(&self) -> (KeyId, DataKey) {
        (self.unattributed.key_id, self.unattributed.key.clone())
    }

    /// The key with id `id`, unless erased.
    pub(crate) fn key(&self, id: &KeyId) -> Option<DataKey> {
        if *id == self.unattributed.key_id {
            return Some(self.unattributed.key.clone());
        }
        let index = self.by_id.get(id)?;
        self.by_index.get(index).map(|e| e.key.clone())
    }

    /// Whether the key with id `id` still exists.
    pub fn has_key(&self, id: &KeyId) -> bool {
        self.key(id).is_some()
    }
}

impl crate::KeyStore for FileKeyStore {
    fn key_for(&mut self, subject: &PatientId) -> Result<(KeyId, DataKey), Error> {
        FileKeyStore::key_for(self, subject)
    }
    fn keys_for_each(
        &mut self,
        subjects: &[Option<&PatientId>],
    ) -> Result<Vec<(KeyId, DataKey)>, Error> {
        FileKeyStore::keys_for_each(self, subjects.iter().copied())
    }
    fn keys_for_each_ref(
        &mut self,
        subjects: &[Option<(&str, Option<&str>)>],
    ) -> Result<Vec<(KeyId, DataKey)>, Error> {
        FileKeyStore::keys_for_each_ref(self, subjects)
    }
    fn known_keys_for_each_ref(
        &self,
        subjects: &[Option<(&str, Option<&str>)>],
    ) -> Result<Option<Vec<(KeyId, DataKey)>>, Error> {
        Ok(FileKeyStore::known_keys_for_each_ref(self, subjects))
    }
    fn find(&self, subject: &PatientId) -> Option<KeyId> {
        FileKeyStore::find(self, subject)
    }
    fn key(&self, id: &KeyId) -> Option<DataKey> {
        FileKeyStore::key(self, id)
    }
    fn unattributed(&self) -> (KeyId, DataKey) {
        FileKeyStore::unattributed(self)
    }
    fn erase(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        FileKeyStore::erase(self, subject)
    }
    fn is_erased(&self, subject: &PatientId) -> Result<bool, Error> {
        // In memory: the file was read whole when the store was opened.
        Ok(FileKeyStore::is_erased(self, subject))
    }
    fn begin_relationship(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        FileKeyStore::begin_relationship(self, subject)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::format::{ENTRY_LEN, HEADER_LEN};
    use super::*;

    #[test]
    fn keys_for_each_gives_one_key_per_subject_and_creates_the_missing_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut ks = FileKeyStore::create(&path).unwrap();
        let a = PatientId::new("A").unwrap();
        let b = PatientId::new("B").unwrap();
        let (old, _) = ks.key_for(&a).unwrap();
        let keys = ks
            .keys_for_each([Some(&a), Some(&b), None, Some(&b)])
            .unwrap();
        assert_eq!(keys[0].0, old);
        assert_eq!(keys[1].0, keys[3].0);
        assert_eq!(keys[1].1.as_bytes(), keys[3].1.as_bytes());
        assert_ne!(keys[1].0, old);
        assert_eq!(keys[2].0, ks.unattributed().0);
        drop(ks);
        let ks = FileKeyStore::open(&path).unwrap();
        assert_eq!(ks.find(&b), Some(keys[1].0));
        assert_eq!(ks.find(&a), Some(old));
    }

    /// The keys of a batch's new subjects come from one call to the
    /// generator: every id and every key differs, and the ids are not
    /// parts of the keys.
    #[test]
    fn new_keys_of_one_batch_are_all_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let mut ks = FileKeyStore::create(dir.path().join("keys")).unwrap();
        let ids: Vec<PatientId> = (0..500)
            .map(|i| PatientId::new(format!("P-{i}")).unwrap())
            .collect();
        let keys = ks.keys_for_each(ids.iter().map(Some)).unwrap();
        let key_ids: HashSet<_> = keys.iter().map(|(id, _)| *id.as_bytes()).collect();
        let secrets: HashSet<_> = keys.iter().map(|(_, k)| *k.as_bytes()).collect();
        assert_eq!((key_ids.len(), secrets.len()), (500, 500));
        assert!(
            keys.iter()
                .all(|(id, k)| k.as_bytes()[..16] != id.as_bytes()[..]
                    && k.as_bytes()[16..] != id.as_bytes()[..])
        );
    }

    #[test]
    fn ensure_keys_adds_the_missing_ones_once_and_they_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut ks = FileKeyStore::create(&path).unwrap();
        let ids: Vec<PatientId> = (0..5)
            .map(|i| PatientId::new(format!("P-{i}")).unwrap())
            .collect();
        let (k0, _) = ks.key_for(&ids[0]).unwrap();
        let twice = ids.iter().chain(&ids);
        assert_eq!(ks.ensure_keys(twice).unwrap(), 4);
        assert_eq!(ks.ensure_keys(&ids).unwrap(), 0);
        let found: Vec<_> = ids.iter().map(|p| ks.find(p).unwrap()).collect();
        assert_eq!(found[0], k0);
        let reopened = FileKeyStore::open(&path).unwrap();
        for (p, id) in ids.iter().zip(&found) {
            assert_eq!(reopened.find(p), Some(*id));
        }
        let len = fs::metadata(&path).unwrap().len() as usize;
        assert_eq!(len, HEADER_LEN + 5 * ENTRY_LEN);
    }

    /// A rewrite (erasure) lists the keys in the order of their blind
    /// indexes, as when they were kept in a sorted map, then the
    /// tombstones: the same file bytes for the same keys.
    #[test]
    fn a_rewrite_lists_keys_in_index_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut ks = FileKeyStore::create(&path).unwrap();
        let ids: Vec<PatientId> = (0..40)
            .map(|i| PatientId::new(format!("P-{i}")).unwrap())
            .collect();
        ks.ensure_keys(&ids).unwrap();
        ks.erase(&ids[7]).unwrap();
        let bytes = fs::read(&path).unwrap();
        let indexes: Vec<&[u8]> = bytes[HEADER_LEN..]
            .chunks_exact(ENTRY_LEN)
            .map(|e| &e[..32])
            .collect();
        assert_eq!(indexes.len(), 40);
        let (keys, tombstone) = indexes.split_at(39);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(tombstone[0], ks.blind(&ids[7]));
        assert_eq!(ks.encode().as_slice(), bytes.as_slice());
    }
}
