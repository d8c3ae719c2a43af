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
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use gdpr_core::subject::PatientId;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

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
const TOMBSTONE: [u8; 32] = [0; 32];
const HEADER_LEN: usize = 4 + 1 + 32 + 16 + 32 + 32;
const ENTRY_LEN: usize = 32 + 16 + 32 + 32;

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
    by_index: BTreeMap<[u8; 32], Entry>,
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

/// Damage found at `offset` (reported as [`Error::KeyStoreDamaged`]).
fn damaged(offset: usize, cause: Malformed, detail: &'static str) -> Error {
    Error::NonCanonical {
        what: "key store",
        offset: offset as u64,
        cause,
        detail,
    }
}

/// The entries after the header: keys and tombstones.
struct Parsed {
    by_index: BTreeMap<[u8; 32], Entry>,
    by_id: HashMap<KeyId, [u8; 32]>,
    erased: BTreeMap<[u8; 32], KeyId>,
}

/// Parses the entries after the header; a trailing partial entry is an
/// unacknowledged addition and is ignored.
fn parse_entries(entries: &[u8]) -> Result<Parsed, Error> {
    let mut p = Parsed {
        by_index: BTreeMap::new(),
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
    /// Creates a new key store at `path` (which must not exist).
    ///
    /// # Errors
    /// [`Error::Io`] if the file exists or cannot be written.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        if path.exists() {
            return Err(Error::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "key store already exists",
                ),
            ));
        }
        let index_secret = DataKey::random()?;
        let store = Self {
            path,
            index_mac: keyed(&index_secret),
            index_secret,
            unattributed: Entry {
                key_id: random_id()?,
                key: DataKey::random()?,
            },
            by_index: BTreeMap::new(),
            by_id: HashMap::new(),
            erased: BTreeMap::new(),
        };
        store.persist()?;
        Ok(store)
    }

    /// Opens the key store at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if unreadable; [`Error::KeyStoreDamaged`] if any of
    /// its checks fails (checksums, header, duplicate entries).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        let bytes = Zeroizing::new(fs::read(&path).map_err(|e| Error::io(&path, e))?);
        Self::parse(path, &bytes).map_err(|e| match e {
            Error::NonCanonical {
                offset,
                cause,
                detail,
                ..
            } => Error::KeyStoreDamaged {
                offset,
                cause,
                detail,
            },
            other => other,
        })
    }

    /// Checks the key store at `path` as [`FileKeyStore::open`] does, for
    /// verification: `Ok(None)` when there is no file there (an auditor's
    /// copy of the log without keys), else the number of subject keys.
    ///
    /// # Errors
    /// [`Error::KeyStoreDamaged`] if a check fails; [`Error::Io`] if the
    /// file exists but cannot be read.
    pub fn check(path: impl Into<PathBuf>) -> Result<Option<usize>, Error> {
        let path = path.into();
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
            Ok(_) => {}
        }
        Ok(Some(Self::open(path)?.by_index.len()))
    }

    fn parse(path: PathBuf, bytes: &[u8]) -> Result<Self, Error> {
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

    fn blind(&self, subject: &PatientId) -> [u8; 32] {
        // The MAC of `opt str issuer · str id` (the canonical encoding),
        // fed piece by piece: no copy of the identifier is made.
        fn str(mac: &mut Hmac<Sha256>, s: &str) {
            // Invariant: identifiers are validated to be < 64 KiB.
            mac.update(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            mac.update(s.as_bytes());
        }
        let mut mac = self.index_mac.clone();
        match subject.issuer() {
            None => mac.update(&[0]),
            Some(issuer) => {
                mac.update(&[1]);
                str(&mut mac, issuer);
            }
        }
        str(&mut mac, subject.expose());
        mac.finalize().into_bytes().into()
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
        let mut new: Vec<([u8; 32], Entry)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for index in indexes {
            if self.by_index.contains_key(&index) || !seen.insert(index) {
                continue;
            }
            self.refuse_erased(&index)?;
            let entry = Entry {
                key_id: random_id()?,
                key: DataKey::random()?,
            };
            new.push((index, entry));
        }
        if new.is_empty() {
            return Ok(0);
        }
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

    /// Destroys the key of `subject` and rewrites the store durably.
    /// Returns the id of the destroyed key.
    ///
    /// # Errors
    /// [`Error::UnknownSubject`] if the subject has no key;
    /// [`Error::Io`] if the store cannot be rewritten (the key then stays).
    pub(crate) fn erase(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        let index = self.blind(subject);
        let entry = self.by_index.remove(&index).ok_or(Error::UnknownSubject)?;
        self.by_id.remove(&entry.key_id);
        self.erased.insert(index, entry.key_id);
        if let Err(e) = self.persist() {
            self.erased.remove(&index);
            self.by_id.insert(entry.key_id, index);
            self.by_index.insert(index, entry);
            return Err(e);
        }
        Ok(entry.key_id)
    }

    /// [`Error::SubjectErased`] if `index` is a tombstone.
    fn refuse_erased(&self, index: &[u8; 32]) -> Result<(), Error> {
        if !self.erased.is_empty() && self.erased.contains_key(index) {
            return Err(Error::SubjectErased);
        }
        Ok(())
    }

    /// Whether `subject` was erased (a tombstone is in place).
    pub fn is_erased(&self, subject: &PatientId) -> bool {
        !self.erased.is_empty() && self.erased.contains_key(&self.blind(subject))
    }

    /// See [`crate::KeyStore::begin_relationship`]: a tombstone is replaced
    /// by a new key and the store rewritten durably.
    ///
    /// # Errors
    /// [`Error::Random`]; [`Error::Io`] (the tombstone then stays).
    pub fn begin_relationship(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        let index = self.blind(subject);
        let Some(old) = self.erased.remove(&index) else {
            return self.key_for(subject).map(|(id, _)| id);
        };
        let entry = Entry {
            key_id: random_id()?,
            key: DataKey::random()?,
        };
        self.by_id.insert(entry.key_id, index);
        self.by_index.insert(index, entry.clone());
        if let Err(e) = self.persist() {
            self.by_id.remove(&entry.key_id);
            self.by_index.remove(&index);
            self.erased.insert(index, old);
            return Err(e);
        }
        Ok(entry.key_id)
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

    fn entry_bytes(index: &[u8; 32], e: &Entry, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(index);
        out.extend_from_slice(e.key_id.as_bytes());
        out.extend_from_slice(e.key.as_bytes());
        let sum = Sha256::digest(&out[start..]);
        out.extend_from_slice(&sum);
    }

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut bytes = self.header();
        for (index, e) in &self.by_index {
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

    /// Appends entries durably at the end of the complete entries
    /// (overwriting a torn one), then `fdatasync` (once).
    fn append_entries(&self, entries: &[([u8; 32], Entry)]) -> Result<(), Error> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(entries.len() * ENTRY_LEN));
        for (index, entry) in entries {
            Self::entry_bytes(index, entry, &mut bytes);
        }
        let at = (HEADER_LEN + (self.by_index.len() + self.erased.len()) * ENTRY_LEN) as u64;
        let f = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        f.write_all_at(&bytes, at)
            .map_err(|e| Error::io(&self.path, e))?;
        f.set_len(at + bytes.len() as u64)
            .map_err(|e| Error::io(&self.path, e))?;
        f.sync_data().map_err(|e| Error::io(&self.path, e))
    }

    /// Writes the store durably: temporary file, `fdatasync`, rename,
    /// directory `fsync`.
    fn persist(&self) -> Result<(), Error> {
        let bytes = self.encode();
        let tmp = self.path.with_extension("tmp");
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        f.write_all(&bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_data().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        sync_dir(&self.path)
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
    fn is_erased(&self, subject: &PatientId) -> bool {
        FileKeyStore::is_erased(self, subject)
    }
    fn begin_relationship(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        FileKeyStore::begin_relationship(self, subject)
    }
}

/// `fsync`s the directory holding `path`, so a rename or a new file is durable.
pub(crate) fn sync_dir(path: &Path) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn keys_persist_and_erasure_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut ks = FileKeyStore::create(&path).unwrap();
        let alice = PatientId::new("CANARY-ALICE").unwrap();
        let bob = PatientId::new("BOB").unwrap().with_issuer("H").unwrap();
        let (a, _) = ks.key_for(&alice).unwrap();
        let (b, _) = ks.key_for(&bob).unwrap();
        assert_eq!(ks.key_for(&alice).unwrap().0, a);
        let raw = fs::read(&path).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"CANARY"));

        let mut ks = FileKeyStore::open(&path).unwrap();
        let debug = format!("{ks:?}");
        assert!(
            debug.contains("<secret>") && !debug.contains("CANARY"),
            "{debug}"
        );
        assert_eq!(ks.find(&alice), Some(a));
        assert_eq!(ks.erase(&alice).unwrap(), a);
        let ks = FileKeyStore::open(&path).unwrap();
        assert_eq!(ks.find(&alice), None);
        assert!(!ks.has_key(&a));
        assert!(ks.has_key(&b));
        assert!(matches!(
            FileKeyStore::open(&path).unwrap().erase(&alice),
            Err(Error::UnknownSubject)
        ));
    }

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
