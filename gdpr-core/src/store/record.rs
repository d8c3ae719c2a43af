//! Handles to what a store holds, whatever the system: an imaging study
//! ([`StudyHandle`]) or an EHR record such as a FHIR resource
//! ([`ResourceHandle`]), each with its record category and the dates
//! retention needs.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::handle::{RecordId, StudyHandle};
use super::outcome::ResourceKind;
use super::subject_ref::FhirId;
use crate::Error;
use crate::category::RecordCategory;
use crate::retention::{Fact, RetentionRecord};

/// One record (or record group) a store holds about a data subject.
///
/// `Debug` shows nothing identifying: a study's UID is redacted, a FHIR
/// resource shows its type and the system's id only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RecordHandle {
    /// An imaging study (PACS, DICOMweb, a folder of DICOM files).
    Study(StudyHandle),
    /// An EHR record, such as a FHIR resource.
    Resource(ResourceHandle),
}

impl RecordHandle {
    /// The system's own identifier of the record.
    pub fn id(&self) -> &RecordId {
        match self {
            Self::Study(study) => study.id(),
            Self::Resource(resource) => resource.id(),
        }
    }

    /// What kind of resource it is, as erasure reports name it.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::Study(_) => ResourceKind::Study,
            Self::Resource(_) => ResourceKind::Record,
        }
    }

    /// The record category retention rules apply to.
    pub fn category(&self) -> RecordCategory {
        match self {
            Self::Study(study) => study.category(),
            Self::Resource(resource) => resource.category(),
        }
    }

    /// The facts retention rules read; keep the record until the latest of
    /// their decisions is due.
    pub fn retention_records(&self) -> Vec<RetentionRecord> {
        match self {
            Self::Study(study) => study.retention_records(),
            Self::Resource(resource) => vec![resource.retention_record()],
        }
    }

    /// The study, when this is one.
    pub fn as_study(&self) -> Option<&StudyHandle> {
        match self {
            Self::Study(study) => Some(study),
            Self::Resource(_) => None,
        }
    }

    /// The EHR record, when this is one.
    pub fn as_resource(&self) -> Option<&ResourceHandle> {
        match self {
            Self::Resource(resource) => Some(resource),
            Self::Study(_) => None,
        }
    }

    /// What kind of record this is, in words, for messages.
    pub const fn kind_name(&self) -> &'static str {
        match self {
            Self::Study(_) => "an imaging study",
            Self::Resource(_) => "an EHR record",
        }
    }

    /// The study, for a system that holds studies.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedRecord`](super::StoreError::UnsupportedRecord)
    /// for any other kind of record.
    pub fn study(&self) -> Result<&StudyHandle, super::StoreError> {
        self.as_study().ok_or(super::StoreError::UnsupportedRecord {
            expected: "imaging studies",
            given: self.kind_name(),
        })
    }
}

impl From<StudyHandle> for RecordHandle {
    fn from(study: StudyHandle) -> Self {
        Self::Study(study)
    }
}

impl From<ResourceHandle> for RecordHandle {
    fn from(resource: ResourceHandle) -> Self {
        Self::Resource(resource)
    }
}

/// A FHIR resource type name such as `Observation`: a capital letter, then
/// up to 62 letters (so that `Type:id` always fits a [`RecordId`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceType(String);

impl ResourceType {
    /// Parses a resource type name.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when the name breaks the rule.
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        let ok = name.len() <= 63
            && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
            && name.bytes().all(|b| b.is_ascii_alphabetic());
        if !ok {
            return Err(Error::InvalidIdentifier {
                what: "fhir resource type",
                rule: "a capital letter, then up to 62 letters",
            });
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ResourceType {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl From<ResourceType> for String {
    fn from(t: ResourceType) -> String {
        t.0
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An EHR record a store holds about a subject: a FHIR resource with its
/// type, logical id, record category and the dates retention needs.
///
/// Its [`RecordId`] is `Type:id` (e.g. `Observation:123`), unambiguous since
/// neither part may contain `:`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ResourceFields", into = "ResourceFields")]
pub struct ResourceHandle {
    id: RecordId,
    resource_type: ResourceType,
    logical_id: FhirId,
    category: RecordCategory,
    dates: Vec<(Fact, Date)>,
    shared: bool,
}

/// The serde form; the record id is recomputed, never trusted.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceFields {
    resource_type: ResourceType,
    logical_id: FhirId,
    category: RecordCategory,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dates: Vec<(Fact, Date)>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    shared: bool,
}

impl ResourceHandle {
    /// A handle to the resource `resource_type/logical_id` of `category`,
    /// with no dates, the subject's own.
    pub fn new(resource_type: ResourceType, logical_id: FhirId, category: RecordCategory) -> Self {
        let id = RecordId::new(format!(
            "{}:{}",
            resource_type.as_str(),
            logical_id.as_str()
        ))
        .expect("a resource type and a FHIR id always make a valid record id");
        Self {
            id,
            resource_type,
            logical_id,
            category,
            dates: Vec::new(),
            shared: false,
        }
    }

    /// The same handle with `fact` (an event date, the end of treatment, the
    /// last visit, a birth or death date) set to `date`; a fact given twice
    /// keeps the later call.
    #[must_use]
    pub fn with_date(mut self, fact: Fact, date: Date) -> Self {
        self.dates.retain(|(f, _)| *f != fact);
        self.dates.push((fact, date));
        self.dates.sort_by_key(|(f, _)| f.name());
        self
    }

    /// The same handle marked as not the subject's alone (a Group, an
    /// Appointment or Communication with other participants, a referenced
    /// Practitioner or Organization): an erasure never deletes it and
    /// reports it as left, with the reason.
    #[must_use]
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// The system's identifier, `Type:id`.
    pub fn id(&self) -> &RecordId {
        &self.id
    }

    /// The FHIR resource type.
    pub fn resource_type(&self) -> &ResourceType {
        &self.resource_type
    }

    /// The resource's logical id.
    pub fn logical_id(&self) -> &FhirId {
        &self.logical_id
    }

    /// The record category retention rules apply to.
    pub fn category(&self) -> RecordCategory {
        self.category
    }

    /// The dates known for the record, by fact.
    pub fn dates(&self) -> &[(Fact, Date)] {
        &self.dates
    }

    /// The date of one fact, if known.
    pub fn date(&self, fact: Fact) -> Option<Date> {
        self.dates.iter().find(|(f, _)| *f == fact).map(|(_, d)| *d)
    }

    /// Whether the resource is not the subject's alone (never deleted).
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The facts retention rules read: the category and every known date.
    pub fn retention_record(&self) -> RetentionRecord {
        self.dates.iter().fold(
            RetentionRecord::new(self.category),
            |record, (fact, date)| record.with_date(*fact, *date),
        )
    }
}

impl TryFrom<ResourceFields> for ResourceHandle {
    type Error = Error;
    fn try_from(f: ResourceFields) -> Result<Self, Error> {
        let handle = Self::new(f.resource_type, f.logical_id, f.category);
        let handle = f
            .dates
            .into_iter()
            .fold(handle, |h, (fact, date)| h.with_date(fact, date));
        Ok(if f.shared { handle.shared() } else { handle })
    }
}

impl From<ResourceHandle> for ResourceFields {
    fn from(h: ResourceHandle) -> Self {
        Self {
            resource_type: h.resource_type,
            logical_id: h.logical_id,
            category: h.category,
            dates: h.dates,
            shared: h.shared,
        }
    }
}

impl fmt::Debug for ResourceHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Dates of a person's care are health data: only which facts are
        // known is shown.
        let facts: Vec<&str> = self.dates.iter().map(|(fact, _)| fact.name()).collect();
        f.debug_struct("ResourceHandle")
            .field("id", &self.id.as_str())
            .field("category", &self.category)
            .field("dates", &facts)
            .field("shared", &self.shared)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StudyUid;

    fn observation(id: &str) -> ResourceHandle {
        ResourceHandle::new(
            ResourceType::new("Observation").unwrap(),
            FhirId::new(id).unwrap(),
            RecordCategory::LabResult,
        )
    }

    #[test]
    fn a_resource_is_named_type_colon_id_and_carries_its_dates() {
        let handle = observation("obs-1")
            .with_date(Fact::EventDate, jiff::civil::date(2020, 1, 2))
            .with_date(Fact::EventDate, jiff::civil::date(2021, 3, 4));
        assert_eq!(handle.id().as_str(), "Observation:obs-1");
        assert_eq!(
            handle.date(Fact::EventDate),
            Some(jiff::civil::date(2021, 3, 4))
        );
        assert_eq!(handle.dates().len(), 1);
        let record = RecordHandle::from(handle.clone());
        assert_eq!(record.kind(), ResourceKind::Record);
        assert_eq!(record.category(), RecordCategory::LabResult);
        assert_eq!(record.retention_records().len(), 1);
        assert!(record.study().is_err());
        assert_eq!(record.as_resource(), Some(&handle));
    }

    #[test]
    fn longest_names_still_make_a_record_id() {
        let handle = ResourceHandle::new(
            ResourceType::new(format!("A{}", "b".repeat(62))).unwrap(),
            FhirId::new("9".repeat(64)).unwrap(),
            RecordCategory::PatientRecord,
        );
        assert_eq!(handle.id().as_str().len(), 128);
        assert!(ResourceType::new(format!("A{}", "b".repeat(63))).is_err());
        for bad in ["", "observation", "Obs1", "Obs:x"] {
            assert!(ResourceType::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn handles_round_trip_and_print_no_dates_or_uids() {
        let resource = RecordHandle::from(
            observation("o2")
                .with_date(Fact::EventDate, jiff::civil::date(1961, 7, 13))
                .shared(),
        );
        let study = RecordHandle::from(StudyHandle::new(
            RecordId::new("s1").unwrap(),
            StudyUid::new("1.2.3.4").unwrap(),
            None,
            vec![],
        ));
        for handle in [&resource, &study] {
            let json = serde_json::to_string(handle).unwrap();
            assert_eq!(
                &serde_json::from_str::<RecordHandle>(&json).unwrap(),
                handle
            );
        }
        let printed = format!("{resource:?}{study:?}");
        assert!(
            !printed.contains("1961") && !printed.contains("1.2.3.4"),
            "{printed}"
        );
        assert!(resource.as_resource().unwrap().is_shared());
    }

    #[test]
    fn facts_serialise_under_their_json_names() {
        for fact in [
            Fact::BirthDate,
            Fact::DeathDate,
            Fact::EventDate,
            Fact::TreatmentEnd,
            Fact::LastVisit,
            Fact::LastChange,
            Fact::LastExamination,
        ] {
            assert_eq!(
                serde_json::to_string(&fact).unwrap(),
                format!("\"{}\"", fact.name())
            );
        }
    }
}
