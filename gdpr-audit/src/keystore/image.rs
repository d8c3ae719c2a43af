//! A key store's whole content ([`KeyStoreImage`]), for copying a log's
//! subject keys to another backend (`gdpr audit copy`): the blind-index
//! secret, the key of events without a subject, and every subject's entry
//! — its key, or a tombstone when the subject was erased. Both backends
//! index subjects with the same HMAC over the same encoding, so a copy
//! keeps the index secret and every blind index as they are: the copy
//! never sees a subject identifier, and finds every subject the source
//! found; an erased subject stays erased (its tombstone is copied, no key).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::{ByIndex, Entry, FileKeyStore, keyed};
use crate::Error;
use crate::seal::{DataKey, KeyId};

/// One subject's entry: its key, or `None` for a tombstone.
#[derive(Clone)]
pub struct ImageEntry {
    /// The blind index (HMAC-SHA-256 of the subject reference under the
    /// store's index secret).
    pub blind: [u8; 32],
    /// The key's id (the records sealed with it name it).
    pub key_id: KeyId,
    /// The key; `None`: the subject was erased (a tombstone).
    pub key: Option<DataKey>,
}

/// Everything a key store holds (keys zeroized on drop; `Debug` shows
/// counts only).
#[derive(Clone)]
pub struct KeyStoreImage {
    /// The secret of the blind index.
    pub index_secret: DataKey,
    /// The key (and its id) of events without a subject.
    pub unattributed: (KeyId, DataKey),
    /// The subjects' entries.
    pub entries: Vec<ImageEntry>,
}

impl std::fmt::Debug for KeyStoreImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let erased = self.entries.iter().filter(|e| e.key.is_none()).count();
        f.debug_struct("KeyStoreImage")
            .field("keys", &(self.entries.len() - erased))
            .field("tombstones", &erased)
            .finish_non_exhaustive()
    }
}

impl FileKeyStore {
    /// The store's whole content, for a copy.
    pub fn image(&self) -> KeyStoreImage {
        let mut entries: Vec<ImageEntry> = self
            .by_index
            .iter()
            .map(|(blind, e)| ImageEntry {
                blind: *blind,
                key_id: e.key_id,
                key: Some(e.key.clone()),
            })
            .collect();
        entries.extend(self.erased.iter().map(|(blind, id)| ImageEntry {
            blind: *blind,
            key_id: *id,
            key: None,
        }));
        entries.sort_by_key(|e| e.blind);
        KeyStoreImage {
            index_secret: self.index_secret.clone(),
            unattributed: (self.unattributed.key_id, self.unattributed.key.clone()),
            entries,
        }
    }

    /// Creates a key store at `path` (which must not exist) holding
    /// `image`, durably (mode 0600).
    ///
    /// # Errors
    /// [`Error::Io`] if the file exists or cannot be written;
    /// [`Error::BadInput`] if two entries share a blind index or a key id.
    pub fn create_from_image(
        path: impl Into<PathBuf>,
        image: &KeyStoreImage,
    ) -> Result<Self, Error> {
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
        let duplicate = || Error::BadInput {
            what: "key store image",
            reason: "two entries with the same blind index or key id".into(),
        };
        let (mut by_index, mut by_id, mut erased) =
            (ByIndex::default(), HashMap::new(), BTreeMap::new());
        for e in &image.entries {
            if by_index.contains_key(&e.blind) || erased.contains_key(&e.blind) {
                return Err(duplicate());
            }
            match &e.key {
                Some(key) => {
                    if by_id.insert(e.key_id, e.blind).is_some() {
                        return Err(duplicate());
                    }
                    by_index.insert(
                        e.blind,
                        Entry {
                            key_id: e.key_id,
                            key: key.clone(),
                        },
                    );
                }
                None => {
                    erased.insert(e.blind, e.key_id);
                }
            }
        }
        let store = Self {
            path,
            index_mac: keyed(&image.index_secret),
            index_secret: image.index_secret.clone(),
            unattributed: Entry {
                key_id: image.unattributed.0,
                key: image.unattributed.1.clone(),
            },
            by_index,
            by_id,
            erased,
        };
        store.persist()?;
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyStore;
    use gdpr_core::subject::PatientId;

    #[test]
    fn an_image_makes_the_same_store_and_erased_stays_erased() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = FileKeyStore::create(dir.path().join("a")).unwrap();
        let (p1, p2) = (
            PatientId::new("P-1").unwrap(),
            PatientId::new("P-2").unwrap(),
        );
        let (id1, k1) = KeyStore::key_for(&mut a, &p1).unwrap();
        KeyStore::key_for(&mut a, &p2).unwrap();
        KeyStore::erase(&mut a, &p2).unwrap();
        let image = a.image();
        assert!(format!("{image:?}").contains("tombstones: 1"));
        let b = FileKeyStore::create_from_image(dir.path().join("b"), &image).unwrap();
        drop(b);
        let b = FileKeyStore::open(dir.path().join("b")).unwrap();
        assert_eq!(b.find(&p1), Some(id1));
        assert_eq!(
            KeyStore::key(&b, &id1).map(|k| *k.as_bytes()),
            Some(*k1.as_bytes())
        );
        assert!(b.is_erased(&p2));
        assert_eq!(KeyStore::unattributed(&b).0, KeyStore::unattributed(&a).0);
        assert!(FileKeyStore::create_from_image(dir.path().join("b"), &image).is_err());
    }
}
