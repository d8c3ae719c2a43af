//! The key store: one data key per data subject, kept in a file separate
//! from the log and rewritten durably (write to a temporary file,
//! `fdatasync`, rename over the old file, `fsync` the directory).
//!
//! The file never holds a subject reference in clear: subjects are found
//! through a *blind index*, HMAC-SHA-256 under a secret of the store over
//! the subject reference. Erasing a subject (Art. 17) removes its entry and
//! rewrites the file; the old file is unlinked. (Blocks of unlinked files
//! may survive on the medium: keep the key store on an encrypted volume.)
//!
//! # File format, version 1
//!
//! ```text
//! [4]  magic "GAKS"          u8 version (1)
//! [32] blind-index secret
//! [16] key id, [32] key      the key for events without a subject
//! u32  n; n × ([32] blind index, [16] key id, [32] key), sorted by index
//! [32] SHA-256 of everything before (detects a torn or damaged file)
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use gdpr_core::subject::PatientId;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::Error;
use crate::encoding::{Reader, Writer};
use crate::seal::{DataKey, KeyId};

const MAGIC: &[u8; 4] = b"GAKS";

#[derive(Debug, Clone)]
struct Entry {
    key_id: KeyId,
    key: DataKey,
}

/// Per-subject data keys (see the module docs).
#[derive(Debug)]
pub struct KeyStore {
    path: PathBuf,
    index_secret: DataKey,
    /// HMAC keyed with `index_secret`, cloned per lookup (saves the key
    /// schedule on every append).
    index_mac: Hmac<Sha256>,
    unattributed: Entry,
    by_index: BTreeMap<[u8; 32], Entry>,
    by_id: HashMap<KeyId, [u8; 32]>,
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

impl KeyStore {
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
        };
        store.persist()?;
        Ok(store)
    }

    /// Opens the key store at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if unreadable; [`Error::NonCanonical`] if damaged.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        let bytes = Zeroizing::new(fs::read(&path).map_err(|e| Error::io(&path, e))?);
        if bytes.len() < 32 {
            return Err(Error::NonCanonical {
                what: "key store",
                offset: 0,
                reason: "file too short",
            });
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != sum {
            return Err(Error::NonCanonical {
                what: "key store",
                offset: body.len() as u64,
                reason: "checksum mismatch: the key store is damaged; restore it from backup",
            });
        }
        let mut r = Reader::new(body, "key store");
        if r.take(4)? != MAGIC || r.u8()? != 1 {
            return Err(r.fail("not a version-1 gdpr-audit key store"));
        }
        let index_secret = DataKey::from_bytes(r.array()?);
        let unattributed = Entry {
            key_id: KeyId::from_bytes(r.array()?),
            key: DataKey::from_bytes(r.array()?),
        };
        let n = r.u32()?;
        let mut by_index = BTreeMap::new();
        let mut by_id = HashMap::new();
        for _ in 0..n {
            let index: [u8; 32] = r.array()?;
            let entry = Entry {
                key_id: KeyId::from_bytes(r.array()?),
                key: DataKey::from_bytes(r.array()?),
            };
            if by_index.last_key_value().is_some_and(|(k, _)| *k >= index) {
                return Err(r.fail("entries not sorted or duplicated"));
            }
            by_id.insert(entry.key_id, index);
            by_index.insert(index, entry);
        }
        r.finish()?;
        Ok(Self {
            path,
            index_mac: keyed(&index_secret),
            index_secret,
            unattributed,
            by_index,
            by_id,
        })
    }

    fn blind(&self, subject: &PatientId) -> [u8; 32] {
        let mut w = Writer::default();
        w.opt_str(subject.issuer());
        w.str(subject.expose());
        let msg = Zeroizing::new(w.into_bytes());
        let mut mac = self.index_mac.clone();
        mac.update(&msg);
        mac.finalize().into_bytes().into()
    }

    /// The key id of `subject`, if the subject has a key.
    pub fn find(&self, subject: &PatientId) -> Option<KeyId> {
        self.by_index.get(&self.blind(subject)).map(|e| e.key_id)
    }

    /// The key of `subject`, created (and stored durably) if missing.
    pub(crate) fn key_for(&mut self, subject: &PatientId) -> Result<(KeyId, DataKey), Error> {
        let index = self.blind(subject);
        if let Some(e) = self.by_index.get(&index) {
            return Ok((e.key_id, e.key.clone()));
        }
        let entry = Entry {
            key_id: random_id()?,
            key: DataKey::random()?,
        };
        self.by_id.insert(entry.key_id, index);
        self.by_index.insert(index, entry.clone());
        if let Err(e) = self.persist() {
            self.by_index.remove(&index);
            self.by_id.remove(&entry.key_id);
            return Err(e);
        }
        Ok((entry.key_id, entry.key))
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
        if let Err(e) = self.persist() {
            self.by_id.insert(entry.key_id, index);
            self.by_index.insert(index, entry);
            return Err(e);
        }
        Ok(entry.key_id)
    }

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(96 + 80 * self.by_index.len());
        w.fixed(MAGIC);
        w.u8(1);
        w.fixed(self.index_secret.as_bytes());
        w.fixed(self.unattributed.key_id.as_bytes());
        w.fixed(self.unattributed.key.as_bytes());
        w.u32(u32::try_from(self.by_index.len()).unwrap_or(u32::MAX));
        for (index, e) in &self.by_index {
            w.fixed(index);
            w.fixed(e.key_id.as_bytes());
            w.fixed(e.key.as_bytes());
        }
        let mut bytes = Zeroizing::new(w.into_bytes());
        let sum = Sha256::digest(bytes.as_slice());
        bytes.extend_from_slice(&sum);
        bytes
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
    fn keys_persist_and_erasure_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut ks = KeyStore::create(&path).unwrap();
        let alice = PatientId::new("CANARY-ALICE").unwrap();
        let bob = PatientId::new("BOB").unwrap().with_issuer("H").unwrap();
        let (a, _) = ks.key_for(&alice).unwrap();
        let (b, _) = ks.key_for(&bob).unwrap();
        assert_eq!(ks.key_for(&alice).unwrap().0, a);
        let raw = fs::read(&path).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"CANARY"));

        let mut ks = KeyStore::open(&path).unwrap();
        let debug = format!("{ks:?}");
        assert!(
            debug.contains("<secret>") && !debug.contains("CANARY"),
            "{debug}"
        );
        assert_eq!(ks.find(&alice), Some(a));
        assert_eq!(ks.erase(&alice).unwrap(), a);
        let ks = KeyStore::open(&path).unwrap();
        assert_eq!(ks.find(&alice), None);
        assert!(!ks.has_key(&a));
        assert!(ks.has_key(&b));
        assert!(matches!(
            KeyStore::open(&path).unwrap().erase(&alice),
            Err(Error::UnknownSubject)
        ));
    }

    #[test]
    fn damaged_store_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        KeyStore::create(&path).unwrap();
        let mut raw = fs::read(&path).unwrap();
        raw[10] ^= 1;
        fs::write(&path, raw).unwrap();
        assert!(KeyStore::open(&path).is_err());
    }
}
