//! Handles to what a store holds: study UIDs that never print, the system's
//! own identifiers, modalities, and the identity of the system itself.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::category::RecordCategory;
use crate::retention::{Fact, Modality, RetentionRecord};

/// Whether a modality belongs to radiotherapy (`RTPLAN`, `RTDOSE`, …).
fn is_radiotherapy(modality: &Modality) -> bool {
    modality.as_str().starts_with("RT")
}

/// A DICOM Study Instance UID (0020,000D). It identifies an examination of a
/// person, so `Debug` and `Display` never show it; [`StudyUid::expose`] gives
/// it to the system that needs it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StudyUid(String);

impl StudyUid {
    /// Parses a UID: 1 to 64 characters, digits and dots, no empty component
    /// (DICOM PS3.5 §9.1).
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when the value breaks these rules; the
    /// message does not repeat the value.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 64
            && value.chars().all(|c| c.is_ascii_digit() || c == '.')
            && value.split('.').all(|part| !part.is_empty());
        if !ok {
            return Err(Error::InvalidIdentifier {
                what: "study instance uid",
                rule: "1 to 64 digits and dots, no empty component (DICOM PS3.5 9.1)",
            });
        }
        Ok(Self(value))
    }

    /// The UID itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StudyUid {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl From<StudyUid> for String {
    fn from(uid: StudyUid) -> String {
        uid.0
    }
}

impl fmt::Debug for StudyUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StudyUid(<redacted>)")
    }
}

impl fmt::Display for StudyUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted study uid>")
    }
}

/// The identifier a system gives a resource (Orthanc's resource id, a hash
/// for folder and DICOMweb stores). By contract it contains no patient value,
/// so it may appear in audit records and reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordId(String);

impl RecordId {
    /// Parses an identifier: 1 to 128 characters from `A-Z a-z 0-9 . _ : -`.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when the value breaks these rules.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 128
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !ok {
            return Err(Error::InvalidIdentifier {
                what: "record id",
                rule: "1 to 128 characters from A-Z a-z 0-9 . _ : -",
            });
        }
        Ok(Self(value))
    }

    /// The identifier as the system spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RecordId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl From<RecordId> for String {
    fn from(id: RecordId) -> String {
        id.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One study a store holds about a data subject, with what retention and
/// export need to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyHandle {
    id: RecordId,
    study_uid: StudyUid,
    study_date: Option<jiff::civil::Date>,
    modalities: Vec<Modality>,
    category: RecordCategory,
}

impl StudyHandle {
    /// A handle. The category is derived from the modalities:
    /// [`RecordCategory::Radiotherapy`] when any is a radiotherapy modality,
    /// else [`RecordCategory::ImagingExamination`]. Modalities are sorted and
    /// deduplicated.
    pub fn new(
        id: RecordId,
        study_uid: StudyUid,
        study_date: Option<jiff::civil::Date>,
        mut modalities: Vec<Modality>,
    ) -> Self {
        modalities.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        modalities.dedup();
        let category = if modalities.iter().any(is_radiotherapy) {
            RecordCategory::Radiotherapy
        } else {
            RecordCategory::ImagingExamination
        };
        Self {
            id,
            study_uid,
            study_date,
            modalities,
            category,
        }
    }

    /// The system's own identifier of the study.
    pub fn id(&self) -> &RecordId {
        &self.id
    }

    /// The Study Instance UID.
    pub fn study_uid(&self) -> &StudyUid {
        &self.study_uid
    }

    /// The study date (0008,0020), when the system knows it.
    pub fn study_date(&self) -> Option<jiff::civil::Date> {
        self.study_date
    }

    /// The modalities in the study, sorted.
    pub fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    /// The record category retention rules apply to.
    pub fn category(&self) -> RecordCategory {
        self.category
    }

    /// The facts retention rules read ([`crate::retention`]): one record per
    /// modality (a record carries one), each with the category and the study
    /// date as the event date; one record without modality if none is known.
    /// Keep the study until the latest of their decisions is due.
    pub fn retention_records(&self) -> Vec<RetentionRecord> {
        let base = RetentionRecord::new(self.category);
        let base = match self.study_date {
            Some(date) => base.with_date(Fact::EventDate, date),
            None => base,
        };
        if self.modalities.is_empty() {
            return vec![base];
        }
        self.modalities
            .iter()
            .map(|m| base.with_modality(*m))
            .collect()
    }
}

/// Who a store is, for audit records and reports: its configured name, its
/// kind (`folder`, `orthanc`, `dicomweb`, `dcm4chee`, …) and its endpoint
/// without credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SystemIdentity {
    name: String,
    kind: String,
    endpoint: String,
}

impl SystemIdentity {
    /// An identity. Any `user:password@` part of the endpoint is removed.
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        endpoint: impl Into<String>,
    ) -> Self {
        let endpoint = endpoint.into();
        let endpoint = match (endpoint.find("://"), endpoint.find('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}{}", &endpoint[..scheme + 3], &endpoint[at + 1..])
            }
            _ => endpoint,
        };
        Self {
            name: name.into(),
            kind: kind.into(),
            endpoint,
        }
    }

    /// The name the system has in the configuration.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind of adapter.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The endpoint (URL or folder path), without credentials.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_uid_never_prints_and_checks_its_form() {
        let uid = StudyUid::new("1.2.826.0.1.3680043.99.42").unwrap();
        assert!(!format!("{uid:?}{uid}").contains("3680043"));
        assert_eq!(uid.expose(), "1.2.826.0.1.3680043.99.42");
        for bad in ["", "1..2", "1.2.", "1.2a", &"1".repeat(65)] {
            let err = StudyUid::new(bad).unwrap_err().to_string();
            assert!(err.contains("study instance uid"), "{err}");
        }
        let json = serde_json::to_string(&uid).unwrap();
        assert_eq!(serde_json::from_str::<StudyUid>(&json).unwrap(), uid);
        assert!(serde_json::from_str::<StudyUid>("\"x\"").is_err());
    }

    #[test]
    fn radiotherapy_modalities_make_radiotherapy_records() {
        let handle = |mods: &[&str]| {
            StudyHandle::new(
                RecordId::new("s1").unwrap(),
                StudyUid::new("1.2.3").unwrap(),
                Some(jiff::civil::date(2020, 5, 1)),
                mods.iter()
                    .map(|m| m.parse::<Modality>().unwrap())
                    .collect(),
            )
        };
        assert_eq!(
            handle(&["CT", "RTPLAN"]).category(),
            RecordCategory::Radiotherapy
        );
        assert_eq!(
            handle(&["MR", "MR"]).category(),
            RecordCategory::ImagingExamination
        );
        assert_eq!(handle(&["MR", "MR", "CT"]).modalities().len(), 2);
        assert_eq!(handle(&["MR", "CT"]).retention_records().len(), 2);
        assert_eq!(handle(&[]).retention_records().len(), 1);
    }

    #[test]
    fn identity_drops_credentials() {
        let id = SystemIdentity::new("pacs", "orthanc", "https://u:secret@pacs.example:8042/");
        assert_eq!(id.endpoint(), "https://pacs.example:8042/");
        assert!(!format!("{id:?}").contains("secret"));
    }

    #[test]
    fn record_ids_reject_paths_and_spaces() {
        assert!(RecordId::new("a/b").is_err());
        assert!(RecordId::new("a b").is_err());
        assert!(RecordId::new("0a1b-2c3d").is_ok());
    }
}
