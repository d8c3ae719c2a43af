//! Erasure (Art. 17) in the key store: a subject's key is destroyed and
//! a tombstone left in its place, so that later events about the subject
//! are refused until a new relationship begins (see [`crate::KeyStore`]).

use gdpr_core::subject::PatientId;

use super::{Entry, FileKeyStore, random_id};
use crate::Error;
use crate::seal::{DataKey, KeyId};

impl FileKeyStore {
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
    pub(super) fn refuse_erased(&self, index: &[u8; 32]) -> Result<(), Error> {
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
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

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
}
