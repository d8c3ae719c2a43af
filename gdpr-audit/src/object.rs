//! The object an event acted on (DICOM `ParticipantObjectIdentification`,
//! FHIR `AuditEvent.entity`), and free text. Object identifiers (a Study
//! Instance UID, a document id) and free text are personal data: they never
//! print and are stored encrypted under the data subject's key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// What kind of object was acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ObjectKind {
    /// A patient's master record.
    Patient,
    /// A DICOM study.
    Study,
    /// A DICOM series.
    Series,
    /// A DICOM instance.
    Instance,
    /// A clinical document (report, letter, discharge summary).
    Document,
    /// An encounter or case.
    Encounter,
    /// An observation or lab result.
    Observation,
    /// A consent record.
    Consent,
    /// A data set handed out for research or statistics.
    DataSet,
    /// A query (its parameters are the object).
    Query,
    /// The audit log itself.
    AuditLog,
}

impl ObjectKind {
    /// Every kind, for listings and property tests.
    pub const ALL: [ObjectKind; 11] = [
        Self::Patient,
        Self::Study,
        Self::Series,
        Self::Instance,
        Self::Document,
        Self::Encounter,
        Self::Observation,
        Self::Consent,
        Self::DataSet,
        Self::Query,
        Self::AuditLog,
    ];

    /// The stable kebab-case name used in JSON and in the canonical encoding.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Study => "study",
            Self::Series => "series",
            Self::Instance => "instance",
            Self::Document => "document",
            Self::Encounter => "encounter",
            Self::Observation => "observation",
            Self::Consent => "consent",
            Self::DataSet => "data-set",
            Self::Query => "query",
            Self::AuditLog => "audit-log",
        }
    }
}

/// The rule of [`ObjectId::new`], for values checked where they are
/// borrowed ([`crate::batch::EventFields`]).
pub(crate) fn check_object_id(value: &str) -> Result<(), Error> {
    if value.is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
        return Err(Error::InvalidField {
            what: "object id",
            rule: "1 to 256 bytes, no control characters",
        });
    }
    Ok(())
}

/// The rule of [`FreeText::new`], for values checked where they are
/// borrowed.
pub(crate) fn check_free_text(value: &str) -> Result<(), Error> {
    if value.is_empty() || value.len() > 4096 {
        return Err(Error::InvalidField {
            what: "free text",
            rule: "1 to 4096 bytes",
        });
    }
    Ok(())
}

/// The identifier of the object (a UID, a document id). Personal data:
/// `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectId(String);

impl ObjectId {
    /// Parses an object id: 1 to 256 bytes, no control characters.
    ///
    /// # Errors
    /// [`Error::InvalidField`] when the value breaks these rules.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        check_object_id(&value)?;
        Ok(Self(value))
    }

    /// The identifier itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ObjectId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ObjectId> for String {
    fn from(id: ObjectId) -> Self {
        id.0
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ObjectId(<redacted>)")
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted object>")
    }
}

/// The object acted on: its kind (stored in clear) and its id (encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    /// What kind of object.
    pub kind: ObjectKind,
    /// Which one (personal; redacted in `Debug`).
    pub id: ObjectId,
}

impl ObjectRef {
    /// An object of `kind` with identifier `id`.
    pub fn new(kind: ObjectKind, id: ObjectId) -> Self {
        Self { kind, id }
    }
}

/// Free text about the event (a reason given for a break-glass access, a
/// comment). Personal data: `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FreeText(String);

impl FreeText {
    /// Free text of 1 to 4096 bytes.
    ///
    /// # Errors
    /// [`Error::InvalidField`] when empty or longer than 4096 bytes.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        check_free_text(&value)?;
        Ok(Self(value))
    }

    /// The text itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FreeText {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<FreeText> for String {
    fn from(text: FreeText) -> Self {
        text.0
    }
}

impl fmt::Debug for FreeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FreeText(<redacted>)")
    }
}

impl fmt::Display for FreeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted text>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_values_never_print() {
        let obj = ObjectRef::new(ObjectKind::Study, ObjectId::new("1.2.CANARY").unwrap());
        let text = FreeText::new("CANARY reason").unwrap();
        for s in [
            format!("{obj:?}"),
            format!("{}", obj.id),
            format!("{text:?} {text}"),
        ] {
            assert!(!s.contains("CANARY"), "{s}");
        }
        assert_eq!(obj.id.expose(), "1.2.CANARY");
    }

    #[test]
    fn names_match_serde() {
        for k in ObjectKind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
    }
}
