//! Reading records back: the personal fields of a record, when its key
//! still exists, and the Art. 15 report of a data subject.
//!
//! The report lists the date, purpose, action and lawful basis of every
//! operation on the subject's data, with the actor's role. Staff
//! identities are included only when the caller asks for them: the CJEU
//! held in C-579/21 (*Pankki S*) that the log data showing the dates and
//! purposes of consultations are covered by Art. 15(1), while the identity
//! of employees is not, as a rule, unless needed for the subject to check
//! lawfulness.

use gdpr_core::Citation;
use gdpr_core::actor::{ActorId, Role};
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use serde::Serialize;

use crate::Error;
use crate::action::{Action, EventType, Outcome};
use crate::keys::KeyStore;
use crate::object::ObjectKind;
use crate::record::Record;
use crate::seal::{KeyId, PersonalFields};
use crate::store::{Entry, EntrySource};

/// The personal fields of a record, as far as they can still be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Personal {
    /// The event had no personal fields.
    NoneRecorded,
    /// Decrypted.
    Readable(PersonalFields),
    /// The key was destroyed (Art. 17 erasure): the fields are gone. The
    /// key id links the record to the other records of the same erased
    /// subject, not to the person.
    Erased(KeyId),
    /// The key exists but the fields cannot be read: exports show the
    /// record without them (see [`personal_or_unreadable`]).
    Unreadable {
        /// The key the fields were sealed under.
        key_id: KeyId,
        /// Why they cannot be read.
        cause: UnreadableCause,
    },
}

/// Why a record's personal fields cannot be read although its key exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnreadableCause {
    /// Decryption failed: the ciphertext or the key store was altered, or
    /// the key store belongs to another log.
    Decrypt,
    /// The fields decrypt but break a format rule (for example a subject id
    /// that versions before `AuditEvent::check` let in).
    Malformed,
}

impl UnreadableCause {
    /// A stable code for exports and monitoring.
    pub fn code(self) -> &'static str {
        match self {
            Self::Decrypt => "decrypt-failed",
            Self::Malformed => "malformed-fields",
        }
    }
}

/// The personal fields of `record`, with fields that cannot be read
/// reported as [`Personal::Unreadable`] instead of an error: one bad record
/// must not hide the others from an export.
pub fn personal_or_unreadable(record: &Record, keys: &dyn KeyStore) -> Personal {
    let Some(sealed) = record.sealed() else {
        return Personal::NoneRecorded;
    };
    let key_id = *sealed.key_id();
    let Some(key) = keys.key(&key_id) else {
        return Personal::Erased(key_id);
    };
    match sealed.open(&key, record.position()) {
        Ok(fields) => Personal::Readable(fields),
        Err(Error::Decrypt { .. }) => Personal::Unreadable {
            key_id,
            cause: UnreadableCause::Decrypt,
        },
        Err(_) => Personal::Unreadable {
            key_id,
            cause: UnreadableCause::Malformed,
        },
    }
}

/// The personal fields of `record`.
///
/// # Errors
/// [`Error::Decrypt`] if the key exists but decryption fails;
/// [`Error::NonCanonical`] if the decrypted fields break a format rule.
pub fn personal(record: &Record, keys: &dyn KeyStore) -> Result<Personal, Error> {
    let Some(sealed) = record.sealed() else {
        return Ok(Personal::NoneRecorded);
    };
    match keys.key(sealed.key_id()) {
        None => Ok(Personal::Erased(*sealed.key_id())),
        Some(k) => Ok(Personal::Readable(sealed.open(&k, record.position())?)),
    }
}

/// Whether staff identities go into a subject report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StaffIdentities {
    /// Roles only (the default under C-579/21).
    Withhold,
    /// Include the actor ids (the caller has a reason: the subject needs
    /// them to check lawfulness, or the DPO reviews an incident).
    Include,
}

/// One operation on the subject's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    /// Position in the log.
    pub position: u64,
    /// When.
    pub recorded: Timestamp,
    /// What kind of event.
    pub event_type: EventType,
    /// What was done.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
    /// Why.
    pub purpose: Purpose,
    /// On which lawful basis.
    pub lawful_basis: LawfulBasis,
    /// The actor's role.
    pub actor_role: Role,
    /// The actor's identity, only with [`StaffIdentities::Include`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<ActorId>,
    /// Which system reported it.
    pub source: String,
    /// The kind of object acted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_kind: Option<ObjectKind>,
}

impl AccessEntry {
    /// The entry of one decoded record, with the actor's id only when
    /// `staff` is [`StaffIdentities::Include`] (the record's subject is the
    /// caller's to have checked).
    pub fn from_record(record: &Record, staff: StaffIdentities) -> Self {
        Self {
            position: record.position(),
            recorded: record.recorded(),
            event_type: record.event_type(),
            action: record.action(),
            outcome: record.outcome(),
            purpose: record.purpose(),
            lawful_basis: record.lawful_basis().clone(),
            actor_role: record.actor().role,
            actor_id: (staff == StaffIdentities::Include).then(|| record.actor().id.clone()),
            source: record.source().as_str().to_owned(),
            object_kind: record.object_kind(),
        }
    }
}

/// The Art. 15 report of one data subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectReport {
    /// The legal basis of the report.
    pub citation: Citation,
    /// Whether staff identities are included.
    pub staff_identities: bool,
    /// Every operation, in log order.
    pub entries: Vec<AccessEntry>,
}

/// Builds the Art. 15 report of `subject` from `source`.
///
/// # Errors
/// [`Error::UnknownSubject`] if the subject has no key (never recorded, or
/// erased); [`Error::NonCanonical`] / [`Error::Decrypt`] for damaged
/// records; [`Error::Io`].
pub fn subject_report(
    source: &dyn EntrySource,
    keys: &dyn KeyStore,
    subject: &PatientId,
    staff: StaffIdentities,
) -> Result<SubjectReport, Error> {
    let id = keys.find(subject).ok_or(Error::UnknownSubject)?;
    let mut entries = Vec::new();
    source.entries(&mut |_, entry| {
        let Entry::Record(bytes) = entry else {
            return Ok(());
        };
        let record = Record::decode(&bytes)?;
        if record.sealed().map(|s| *s.key_id()) != Some(id) {
            return Ok(());
        }
        let Personal::Readable(fields) = personal(&record, keys)? else {
            return Ok(());
        };
        if fields.subject.as_ref() != Some(subject) {
            return Ok(());
        }
        entries.push(AccessEntry::from_record(&record, staff));
        Ok(())
    })?;
    Ok(SubjectReport {
        citation: Citation::from_static("GDPR Art. 15(1)(a), (c); CJEU C-579/21"),
        staff_identities: staff == StaffIdentities::Include,
        entries,
    })
}
