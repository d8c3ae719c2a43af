//! The restriction register: where a restriction (GDPR Art. 18, or a
//! record kept under Art. 17(3) and restricted to the purposes that keep
//! it) is held when the system itself cannot carry the mark
//! ([`RestrictionOutcome::Unsupported`](gdpr_core::store::RestrictionOutcome)).
//! Hosts and the gateway read it before every access to a record.
//!
//! Entries name the system and the system's record id, never a patient
//! value. [`FileRegister`] is the embedded implementation:
//! `restrictions.jsonl`, one entry per line, each synced; a lifted
//! restriction is a later line with `"lifted"` set. A torn last line is
//! ignored (it was never acknowledged).
//!
//! Two kinds of entries live side by side, each lifted on its own: an
//! Art. 18 restriction (`ground` set; recorded for every record of the
//! subject, also where the system carries the mark itself, so that hosts
//! read one place), and a record kept under an exemption (`ground` unset,
//! restricted to the `purposes` that keep it, `citation` the provision).
//! [`consult`] turns the entries in force on a record into the inputs of
//! `gdpr_core::authorization::authorize`: an Art. 18 restriction (only
//! storage and the Art. 18(2) exceptions), and for a kept record a
//! retention phase limited to its purposes. A record restricted instead of
//! erased (§ 35 BDSG, no purposes) is limited to storage: the Art. 18(2)
//! exceptions there need a person's decision (conservative).
//!
//! Entries are per record, so a record a system gains *after* an Art. 18
//! restriction would not be covered on a system without its own mark. A
//! restriction therefore also records one **subject-wide** entry per
//! system: its record id is [`subject_record`] of the audit subject's key
//! id in the audit log's key store (`gdpr-subject:` and 32 hex digits; a
//! random id, never a patient value), so hosts that hold the audit log
//! find it for any record of the subject with [`in_force_for`], and
//! [`consult`] honours it like any Art. 18 entry.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gdpr_audit::KeyStore;
use gdpr_audit::seal::KeyId;
use gdpr_core::Citation;
use gdpr_core::authorization::{Request, RetentionPhase};
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{RequestId, SystemName};
use gdpr_core::restriction::{Restriction, RestrictionGround};
use gdpr_core::store::RecordId;
use gdpr_core::subject::{PatientId, SubjectState};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::fsio;
use crate::objections::ObjectionRegister;

/// One restriction of one record on one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct RestrictionEntry {
    /// The configured system.
    pub system: SystemName,
    /// The system's record id.
    pub record: RecordId,
    /// The only purposes the record may still be processed for (empty:
    /// storage and the Art. 18(2) exceptions only).
    pub purposes: Vec<Purpose>,
    /// The request that restricted it.
    pub request: RequestId,
    /// Since when.
    pub since: Timestamp,
    /// When it was lifted, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted: Option<Timestamp>,
    /// The Art. 18(1) ground, for a restriction the subject asked for;
    /// `None` for a record kept under an exemption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<RestrictionGround>,
    /// The provision that keeps the record (kept records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<Citation>,
    /// The system's own mark, when it carries one too (e.g. Orthanc's
    /// `GdprRestriction` metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_on_system: Option<String>,
}

impl RestrictionEntry {
    /// A restriction in force from `since`.
    pub fn new(
        system: SystemName,
        record: RecordId,
        purposes: Vec<Purpose>,
        request: RequestId,
        since: Timestamp,
    ) -> Self {
        Self {
            system,
            record,
            purposes,
            request,
            since,
            lifted: None,
            ground: None,
            citation: None,
            marked_on_system: None,
        }
    }

    /// An Art. 18 restriction of `record` on `ground`, in force from `since`.
    pub fn art18(
        system: SystemName,
        record: RecordId,
        ground: RestrictionGround,
        request: RequestId,
        since: Timestamp,
    ) -> Self {
        let mut e = Self::new(system, record, Vec::new(), request, since);
        e.ground = Some(ground);
        e
    }

    /// Whether this is an Art. 18 restriction (not a kept record's).
    pub fn is_art18(&self) -> bool {
        self.ground.is_some()
    }

    /// Whether this entry covers the subject as a whole on its system
    /// (its record is a [`subject_record`]), not one record.
    pub fn is_subject_wide(&self) -> bool {
        self.record.as_str().starts_with(SUBJECT_PREFIX)
    }

    fn same_slot(&self, other: &Self) -> bool {
        self.system == other.system
            && self.record == other.record
            && self.is_art18() == other.is_art18()
    }
}

/// Applies the `entries` in force on a record to the inputs of
/// `gdpr_core::authorization::authorize`: an Art. 18 entry adds its
/// [`Restriction`] to `subject`, a kept record's entry sets the request's
/// retention phase to its purposes (storage only for § 35 BDSG).
///
/// # Errors
/// [`Error::Damaged`] for a kept entry without its citation.
pub fn consult(
    entries: &[RestrictionEntry],
    request: &mut Request,
    subject: &mut SubjectState,
) -> Result<(), Error> {
    for e in entries.iter().filter(|e| e.lifted.is_none()) {
        if let Some(ground) = e.ground {
            subject.restrictions.push(Restriction::new(ground, e.since));
            continue;
        }
        let damaged = || Error::Damaged {
            what: "a kept record's restriction (no citation)",
            line: 0,
        };
        let duty = e.citation.clone().ok_or_else(damaged)?;
        let purposes = if e.purposes.is_empty() {
            vec![Purpose::Storage]
        } else {
            e.purposes.clone()
        };
        request.retention_phase = Some(RetentionPhase::new(duty, purposes).map_err(|_| damaged())?);
    }
    Ok(())
}

/// How the record id of a subject-wide entry begins.
pub const SUBJECT_PREFIX: &str = "gdpr-subject:";

/// The record id under which a subject-wide entry is registered for the
/// subject whose audit-log key has id `key` (the key store's random id,
/// never derived from a patient value).
pub fn subject_record(key: &KeyId) -> RecordId {
    // Invariant: the prefix and 32 hex digits satisfy RecordId's rules.
    RecordId::new(format!("{SUBJECT_PREFIX}{}", key.to_hex()))
        .unwrap_or_else(|_| unreachable!("a prefix and hex digits"))
}

/// The subject-wide record id of `subject` in the audit log's key store
/// `keys`, if the subject has a key there (none: nothing subject-wide can
/// have been registered for it; a shredded subject has none either).
pub fn subject_record_of<K: KeyStore + ?Sized>(keys: &K, subject: &PatientId) -> Option<RecordId> {
    keys.find(subject).map(|id| subject_record(&id))
}

/// The entries in force on `record` of `system` and, with `subject` (its
/// [`subject_record_of`]), on the subject as a whole there: what a host
/// passes to [`consult`] before an access.
///
/// # Errors
/// As [`RestrictionRegister::in_force`].
pub async fn in_force_for(
    register: &dyn RestrictionRegister,
    system: &SystemName,
    record: &RecordId,
    subject: Option<&RecordId>,
) -> Result<Vec<RestrictionEntry>, Error> {
    let mut entries = register.in_force(system, record).await?;
    if let Some(subject) = subject {
        let wide = register.in_force(system, subject).await?;
        entries.extend(wide.into_iter().filter(RestrictionEntry::is_art18));
    }
    Ok(entries)
}

/// A register of restrictions kept outside the systems.
#[async_trait::async_trait]
pub trait RestrictionRegister: Send + Sync {
    /// Records `entry` durably (recording the same entry again changes
    /// nothing).
    ///
    /// # Errors
    /// [`Error::Io`].
    async fn record(&self, entry: &RestrictionEntry) -> Result<(), Error>;

    /// The restrictions in force on `record` of `system` (at most one
    /// Art. 18 entry and one kept record's entry), for [`consult`].
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Damaged`].
    async fn in_force(
        &self,
        system: &SystemName,
        record: &RecordId,
    ) -> Result<Vec<RestrictionEntry>, Error>;

    /// The restriction in force on `record` of `system`, the Art. 18 one
    /// first, if any.
    ///
    /// # Errors
    /// As [`RestrictionRegister::in_force`].
    async fn lookup(
        &self,
        system: &SystemName,
        record: &RecordId,
    ) -> Result<Option<RestrictionEntry>, Error> {
        let mut all = self.in_force(system, record).await?;
        all.sort_by_key(|e| !e.is_art18());
        Ok(all.into_iter().next())
    }

    /// The objection register kept with this one, if this register holds
    /// objections too (the embedded one does; `None` by default).
    fn objections(&self) -> Option<&dyn ObjectionRegister> {
        None
    }
}

/// The embedded register: `restrictions.jsonl` in a directory.
#[derive(Debug)]
pub struct FileRegister {
    path: PathBuf,
    file: Mutex<File>,
    objections: PathBuf,
    objections_file: Mutex<File>,
}

/// The register's file name.
pub const REGISTER_FILE: &str = "restrictions.jsonl";

impl FileRegister {
    /// Opens (or creates) the register in `dir`.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn open(dir: &Path) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(Error::io("create the register's directory"))?;
        let path = dir.join(REGISTER_FILE);
        let file = fsio::open_append(&path, "open the restriction register")?;
        let objections = dir.join(crate::objections::OBJECTIONS_FILE);
        let objections_file = fsio::open_append(&objections, "open the objection register")?;
        Ok(Self {
            path,
            file: Mutex::new(file),
            objections,
            objections_file: Mutex::new(objections_file),
        })
    }

    pub(crate) fn objections_path(&self) -> &Path {
        &self.objections
    }

    pub(crate) fn append_objection(&self, line: &[u8]) -> Result<(), Error> {
        // A poisoned lock: a writer panicked; the file is still valid.
        let mut f = self
            .objections_file
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        fsio::append_line(&mut f, line, "append to the objection register")
    }

    /// Every entry, in the order recorded (the last one of a record wins).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Damaged`].
    pub fn entries(&self) -> Result<Vec<RestrictionEntry>, Error> {
        fsio::read_jsonl(
            &self.path,
            "read the restriction register",
            "the restriction register",
        )
    }
}

#[async_trait::async_trait]
impl RestrictionRegister for FileRegister {
    async fn record(&self, entry: &RestrictionEntry) -> Result<(), Error> {
        if self.entries()?.last_like(entry) == Some(entry) {
            return Ok(());
        }
        let bytes = serde_json::to_vec(entry).map_err(Error::format("a register entry"))?;
        // A poisoned lock: a writer panicked; the file is still valid.
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        fsio::append_line(&mut f, &bytes, "append to the restriction register")
    }

    async fn in_force(
        &self,
        system: &SystemName,
        record: &RecordId,
    ) -> Result<Vec<RestrictionEntry>, Error> {
        let entries = self.entries()?;
        let mut out: Vec<RestrictionEntry> = Vec::new();
        for e in entries
            .iter()
            .rev()
            .filter(|e| &e.system == system && &e.record == record)
        {
            if !out.iter().any(|o| o.same_slot(e)) {
                out.push(e.clone());
            }
        }
        out.retain(|e| e.lifted.is_none());
        Ok(out)
    }

    fn objections(&self) -> Option<&dyn ObjectionRegister> {
        Some(self)
    }
}

trait LastOf {
    fn last_like(&self, entry: &RestrictionEntry) -> Option<&RestrictionEntry>;
}

impl LastOf for Vec<RestrictionEntry> {
    fn last_like(&self, entry: &RestrictionEntry) -> Option<&RestrictionEntry> {
        self.iter().rev().find(|e| e.same_slot(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recorded_once_found_by_system_and_record_and_lifted_by_a_later_line() {
        let tmp = tempfile::tempdir().unwrap();
        let reg = FileRegister::open(tmp.path()).unwrap();
        let sys = SystemName::new("pacs").unwrap();
        let rec = RecordId::new("study-1").unwrap();
        let entry = RestrictionEntry::new(
            sys.clone(),
            rec.clone(),
            vec![Purpose::LegalClaims],
            RequestId::new("r-1").unwrap(),
            Timestamp::UNIX_EPOCH,
        );
        reg.record(&entry).await.unwrap();
        reg.record(&entry).await.unwrap();
        assert_eq!(reg.entries().unwrap().len(), 1);
        assert_eq!(reg.lookup(&sys, &rec).await.unwrap(), Some(entry.clone()));
        let other = RecordId::new("study-2").unwrap();
        assert_eq!(reg.lookup(&sys, &other).await.unwrap(), None);
        let mut lifted = entry;
        lifted.lifted = Some(Timestamp::UNIX_EPOCH);
        reg.record(&lifted).await.unwrap();
        assert_eq!(reg.lookup(&sys, &rec).await.unwrap(), None);
    }
}
