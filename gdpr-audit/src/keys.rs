//! The key-storage seam: what a backend must do so that
//! [`crate::AuditLog`] can seal personal fields per data subject and erase
//! a subject by destroying its key (Art. 17). The embedded default is
//! [`crate::FileKeyStore`]; a shared-engine backend (PostgreSQL: one row per
//! blind index holding a key or a tombstone, `COMMIT` as the durability
//! point) implements the same trait, next to [`crate::AuditStore`].
//!
//! **Tombstones.** Erasing a subject leaves a tombstone: later events about
//! the subject are refused with [`Error::SubjectErased`] instead of
//! silently getting a fresh, readable key. Only
//! [`KeyStore::begin_relationship`] (the caller says a new relationship
//! with the person began, e.g. they came back as a patient) gives the
//! subject a new key.

use gdpr_core::subject::PatientId;

use crate::Error;
use crate::seal::{DataKey, KeyId};

/// Per-subject data keys. Implementations find subjects by a blind index
/// (never store a subject reference in clear) and make every change
/// durable before returning.
pub trait KeyStore: Send + Sync {
    /// The key of `subject`, created and stored durably if the subject has
    /// none.
    ///
    /// # Errors
    /// [`Error::SubjectErased`] if the subject was erased (a tombstone);
    /// [`Error::Random`]; [`Error::Io`] if a new key cannot be stored.
    fn key_for(&mut self, subject: &PatientId) -> Result<(KeyId, DataKey), Error>;

    /// The key of each of `subjects` in order (the key for events without
    /// a subject where it is `None`), creating the missing ones. The
    /// default asks [`KeyStore::key_for`] one by one; a backend stores a
    /// batch's new keys in one durable write (one transaction, one sync).
    ///
    /// # Errors
    /// As [`KeyStore::key_for`], for the first subject that fails.
    fn keys_for_each(
        &mut self,
        subjects: &[Option<&PatientId>],
    ) -> Result<Vec<(KeyId, DataKey)>, Error> {
        subjects
            .iter()
            .map(|s| match s {
                Some(s) => self.key_for(s),
                None => Ok(self.unattributed()),
            })
            .collect()
    }

    /// [`KeyStore::keys_for_each`] for subjects given by their id and
    /// issuer as text that the rules of [`PatientId`] accept (a bulk
    /// writer's batch holds no [`PatientId`] of its own per event). The
    /// default builds each [`PatientId`] and calls `keys_for_each`; the
    /// file store computes the blind indexes from the text.
    ///
    /// # Errors
    /// As [`KeyStore::keys_for_each`]; [`Error::Core`] for text the rules
    /// of [`PatientId`] refuse.
    fn keys_for_each_ref(
        &mut self,
        subjects: &[Option<(&str, Option<&str>)>],
    ) -> Result<Vec<(KeyId, DataKey)>, Error> {
        let ids = subjects
            .iter()
            .map(|s| {
                s.map(|(id, issuer)| {
                    let p = PatientId::new(id)?;
                    match issuer {
                        None => Ok(p),
                        Some(i) => p.with_issuer(i),
                    }
                })
                .transpose()
            })
            .collect::<Result<Vec<_>, gdpr_core::Error>>()?;
        let refs: Vec<Option<&PatientId>> = ids.iter().map(Option::as_ref).collect();
        self.keys_for_each(&refs)
    }

    /// [`KeyStore::keys_for_each_ref`] that creates nothing: the keys when
    /// every subject given already has one, `None` when one has none (or
    /// is erased, or the store cannot tell without asking its backend).
    /// A bulk writer seals a batch of known subjects this way out of
    /// input order, and takes its turn only when keys must be created. The
    /// default answers `None`.
    ///
    /// # Errors
    /// As [`KeyStore::keys_for_each_ref`].
    fn known_keys_for_each_ref(
        &self,
        subjects: &[Option<(&str, Option<&str>)>],
    ) -> Result<Option<Vec<(KeyId, DataKey)>>, Error> {
        let _ = subjects;
        Ok(None)
    }

    /// The id of `subject`'s key, if it has one (not erased).
    fn find(&self, subject: &PatientId) -> Option<KeyId>;

    /// The key with id `id`, unless erased or unknown.
    fn key(&self, id: &KeyId) -> Option<DataKey>;

    /// The key for events without a data subject.
    fn unattributed(&self) -> (KeyId, DataKey);

    /// Destroys `subject`'s key durably and leaves a tombstone. Returns
    /// the id of the destroyed key.
    ///
    /// # Errors
    /// [`Error::UnknownSubject`] if the subject has no key; [`Error::Io`]
    /// (the key then stays).
    fn erase(&mut self, subject: &PatientId) -> Result<KeyId, Error>;

    /// Whether `subject` was erased (a tombstone is in place).
    ///
    /// # Errors
    /// [`Error::Backend`] / [`Error::Io`] when the store cannot be asked:
    /// a failed look-up is an error, never an answer either way.
    fn is_erased(&self, subject: &PatientId) -> Result<bool, Error>;

    /// Says that a new relationship with `subject` began: replaces a
    /// tombstone by a new key (earlier records stay unreadable). A subject
    /// with a key keeps it; one never seen gets one.
    ///
    /// # Errors
    /// [`Error::Random`]; [`Error::Io`] if the key cannot be stored.
    fn begin_relationship(&mut self, subject: &PatientId) -> Result<KeyId, Error>;

    /// Whether the key with id `id` still exists.
    fn has_key(&self, id: &KeyId) -> bool {
        self.key(id).is_some()
    }
}
