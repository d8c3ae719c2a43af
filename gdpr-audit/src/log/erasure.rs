//! Erasure (Art. 17) through the log: the erasure event is recorded and
//! signed, then the subject's key destroyed; a new relationship gives the
//! subject a new key.

use gdpr_core::subject::PatientId;

use super::{AuditLog, Receipt, lock};
use crate::Error;
use crate::action::Action;
use crate::event::AuditEvent;
use crate::keys::KeyStore;
use crate::seal::KeyId;
use crate::store::AuditStore;

impl<S: AuditStore, K: KeyStore> AuditLog<S, K> {
    /// Erases a data subject (Art. 17): appends `erasure` (an event with
    /// action [`Action::Erasure`] about that subject) and a checkpoint,
    /// then destroys the subject's key. The subject's personal fields in
    /// every record become unreadable; every hash and proof still holds.
    ///
    /// # Errors
    /// [`Error::InvalidField`] unless `erasure` is an erasure about a
    /// subject; [`Error::UnknownSubject`] if the subject has no key;
    /// [`Error::Io`].
    pub fn erase_subject(&self, erasure: &AuditEvent) -> Result<(Receipt, KeyId), Error> {
        let subject: &PatientId = match (erasure.action(), erasure.subject()) {
            (Action::Erasure, Some(s)) => s,
            _ => {
                return Err(Error::InvalidField {
                    what: "erasure event",
                    rule: "action erasure with the data subject set",
                });
            }
        };
        if lock(&self.keys).find(subject).is_none() {
            return Err(Error::UnknownSubject);
        }
        let receipt = self.append(erasure)?;
        self.checkpoint()?;
        let id = lock(&self.keys).erase(subject)?;
        Ok((receipt, id))
    }

    /// Says that a new relationship with `subject` began (they came back
    /// after being erased): the subject gets a new key, so that events
    /// about them are recorded again. Records from before the erasure stay
    /// unreadable. Without this call, events about an erased subject are
    /// refused ([`Error::SubjectErased`]).
    ///
    /// # Errors
    /// [`Error::Random`]; [`Error::Io`].
    pub fn begin_relationship(&self, subject: &PatientId) -> Result<KeyId, Error> {
        lock(&self.keys).begin_relationship(subject)
    }
}
