//! The objection register: where an objection (GDPR Art. 21) recorded by a
//! request is held so that every later `authorize` sees it — hosts and the
//! gateway read it before an access, as they read the restriction
//! register, from the same directory.
//!
//! An objection is about the subject, not one system or one record, so an
//! entry names the subject by its **subject-wide record id**
//! ([`subject_record`](crate::register::subject_record): the random id of
//! the subject's key in the audit log's key store, never a patient value)
//! and the request that recorded it. [`FileRegister`] keeps them in
//! `objections.jsonl` beside `restrictions.jsonl`, one synced line per
//! entry; the last line of a (subject, request) pair wins, so the
//! controller's compelling legitimate grounds (Art. 21(1)) are recorded as
//! the same objection again with `overridden-by` set. A torn last line is
//! ignored (it was never acknowledged).
//!
//! A [`RestrictionRegister`](crate::RestrictionRegister) that also holds
//! objections says so through
//! [`objections`](crate::RestrictionRegister::objections): hosts that hold
//! the register need no second handle.

use gdpr_core::objection::{CompellingGrounds, Objection};
use gdpr_core::request::RequestId;
use gdpr_core::store::RecordId;
use gdpr_core::subject::SubjectState;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::fsio;
use crate::register::FileRegister;

/// One objection of one subject, recorded by one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct ObjectionEntry {
    /// The subject-wide record id (`gdpr-subject:` and the key id).
    pub subject: RecordId,
    /// The request that recorded the objection.
    pub request: RequestId,
    /// The objection, with the controller's grounds once recorded.
    pub objection: Objection,
}

impl ObjectionEntry {
    /// The objection `objection` of `subject`, recorded by `request`.
    pub fn new(subject: RecordId, request: RequestId, objection: Objection) -> Self {
        Self {
            subject,
            request,
            objection,
        }
    }

    fn same_slot(&self, other: &Self) -> bool {
        self.subject == other.subject && self.request == other.request
    }
}

/// A register of objections kept outside the systems.
#[async_trait::async_trait]
pub trait ObjectionRegister: Send + Sync {
    /// Records `entry` durably; recording the entry its (subject, request)
    /// already holds changes nothing.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Damaged`].
    async fn record_objection(&self, entry: &ObjectionEntry) -> Result<(), Error>;

    /// The subject's objections (each request's latest entry), for
    /// `gdpr_core::authorization::authorize` through [`consult_objections`].
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Damaged`].
    async fn objections_of(&self, subject: &RecordId) -> Result<Vec<ObjectionEntry>, Error>;

    /// Records the controller's compelling legitimate grounds on the
    /// objection `request` recorded for `subject` (Art. 21(1)).
    ///
    /// # Errors
    /// [`Error::WrongStage`] when no such objection is registered; as
    /// [`ObjectionRegister::record_objection`].
    async fn record_grounds(
        &self,
        subject: &RecordId,
        request: &RequestId,
        grounds: CompellingGrounds,
    ) -> Result<(), Error> {
        let found = self
            .objections_of(subject)
            .await?
            .into_iter()
            .find(|e| &e.request == request);
        let Some(mut entry) = found else {
            return Err(Error::NoObjection);
        };
        entry.objection.overridden_by = Some(grounds);
        self.record_objection(&entry).await
    }
}

/// Adds the registered objections of a subject to the state `authorize`
/// decides on.
pub fn consult_objections(entries: &[ObjectionEntry], subject: &mut SubjectState) {
    subject
        .objections
        .extend(entries.iter().map(|e| e.objection.clone()));
}

/// The objection register's file name.
pub const OBJECTIONS_FILE: &str = "objections.jsonl";

impl FileRegister {
    /// Every objection entry, in the order recorded.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Damaged`].
    pub fn objection_entries(&self) -> Result<Vec<ObjectionEntry>, Error> {
        fsio::read_jsonl(
            self.objections_path(),
            "read the objection register",
            "the objection register",
        )
    }
}

#[async_trait::async_trait]
impl ObjectionRegister for FileRegister {
    async fn record_objection(&self, entry: &ObjectionEntry) -> Result<(), Error> {
        let all = self.objection_entries()?;
        if all.iter().rev().find(|e| e.same_slot(entry)) == Some(entry) {
            return Ok(());
        }
        let bytes = serde_json::to_vec(entry).map_err(Error::format("an objection entry"))?;
        self.append_objection(&bytes)
    }

    async fn objections_of(&self, subject: &RecordId) -> Result<Vec<ObjectionEntry>, Error> {
        let mut out: Vec<ObjectionEntry> = Vec::new();
        for e in self
            .objection_entries()?
            .into_iter()
            .rev()
            .filter(|e| &e.subject == subject)
        {
            if !out.iter().any(|o| o.same_slot(&e)) {
                out.push(e);
            }
        }
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RestrictionRegister;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn recorded_once_per_request_and_grounds_recorded_as_its_latest_line() {
        let tmp = tempfile::tempdir().unwrap();
        let reg = FileRegister::open(tmp.path()).unwrap();
        let objections = reg
            .objections()
            .expect("the file register holds objections");
        let subject = RecordId::new("gdpr-subject:00112233445566778899aabbccddeeff").unwrap();
        let other = RecordId::new("gdpr-subject:ffeeddccbbaa99887766554433221100").unwrap();
        let request = RequestId::new("dsr-obj").unwrap();
        let entry = ObjectionEntry::new(
            subject.clone(),
            request.clone(),
            Objection::to_all(ts("2026-02-01T00:00:00Z")),
        );
        objections.record_objection(&entry).await.unwrap();
        objections.record_objection(&entry).await.unwrap();
        assert_eq!(reg.objection_entries().unwrap().len(), 1);
        assert_eq!(
            objections.objections_of(&subject).await.unwrap(),
            vec![entry.clone()]
        );
        assert!(objections.objections_of(&other).await.unwrap().is_empty());
        let grounds = CompellingGrounds {
            recorded_at: ts("2026-02-10T00:00:00Z"),
            purposes: Vec::new(),
            assessment: "DPO case 14".into(),
        };
        objections
            .record_grounds(&subject, &request, grounds.clone())
            .await
            .unwrap();
        let now = objections.objections_of(&subject).await.unwrap();
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].objection.overridden_by, Some(grounds.clone()));
        let missing = objections
            .record_grounds(&other, &request, grounds)
            .await
            .unwrap_err();
        assert!(matches!(missing, Error::NoObjection), "{missing}");
        let mut state = SubjectState::default();
        consult_objections(&now, &mut state);
        assert_eq!(state.objections.len(), 1);
    }
}
