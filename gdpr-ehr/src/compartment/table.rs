//! The table: each resource type of the Patient compartment that is the
//! patient's own, with its record category, the element naming the patient,
//! and where each retention date is; and the shared types with their reason.

use gdpr_core::category::RecordCategory::{self, *};
use gdpr_core::retention::Fact::{self, *};
use jiff::civil::Date;
use serde_json::Value;

use super::dates::{at, first_date};
use crate::model::Resource;

/// A resource type that is the patient's own record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnType {
    /// The FHIR resource type.
    pub name: &'static str,
    /// Its record category (some types refine it by content:
    /// [`OwnType::category_of`]).
    pub category: RecordCategory,
    /// The elements that reference the patient (the compartment's
    /// parameters), in order.
    pub patient_paths: &'static [&'static str],
    /// For each fact, the elements that may hold its date, first found wins.
    pub dates: &'static [(Fact, &'static [&'static str])],
}

impl OwnType {
    /// The record category of `resource`: an Observation or DiagnosticReport
    /// categorised `laboratory`/`LAB` is a lab result, a DiagnosticReport
    /// categorised `RAD` an imaging examination; otherwise the type's.
    pub fn category_of(&self, resource: &Resource) -> RecordCategory {
        let codes = category_codes(resource);
        let has = |code: &str| codes.iter().any(|c| c == code);
        match self.name {
            "Observation" if has("laboratory") => LabResult,
            "DiagnosticReport" if has("LAB") => LabResult,
            "DiagnosticReport" if has("RAD") => ImagingExamination,
            _ => self.category,
        }
    }

    /// The retention dates of `resource`, one per fact at most.
    pub fn dates_of(&self, resource: &Resource) -> Vec<(Fact, Date)> {
        self.dates
            .iter()
            .filter_map(|(fact, paths)| Some((*fact, first_date(resource, paths)?)))
            .collect()
    }
}

/// The codes of `resource.category[*].coding[*].code`.
fn category_codes(resource: &Resource) -> Vec<String> {
    let Some(Value::Array(categories)) = at(resource, "category") else {
        return Vec::new();
    };
    categories
        .iter()
        .filter_map(|c| c.get("coding")?.as_array())
        .flatten()
        .filter_map(|coding| Some(coding.get("code")?.as_str()?.to_owned()))
        .collect()
}

const SUBJECT: &[&str] = &["subject"];
const PATIENT: &[&str] = &["patient"];

macro_rules! own {
    ($name:literal, $category:expr, $patient:expr, [$(($fact:expr, [$($path:literal),*])),*]) => {
        OwnType {
            name: $name,
            category: $category,
            patient_paths: $patient,
            dates: &[$(($fact, &[$($path),*])),*],
        }
    };
}

/// The patient's own resource types.
pub const OWN: &[OwnType] = &[
    own!(
        "Patient",
        Demographics,
        &[],
        [
            (BirthDate, ["birthDate"]),
            (DeathDate, ["deceasedDateTime"])
        ]
    ),
    own!(
        "Encounter",
        PatientRecord,
        SUBJECT,
        [
            (EventDate, ["period.start"]),
            (TreatmentEnd, ["period.end"]),
            (LastVisit, ["period.end", "period.start"])
        ]
    ),
    own!(
        "EpisodeOfCare",
        PatientRecord,
        PATIENT,
        [
            (EventDate, ["period.start"]),
            (TreatmentEnd, ["period.end"])
        ]
    ),
    own!(
        "Condition",
        Diagnosis,
        SUBJECT,
        [
            (
                EventDate,
                ["recordedDate", "onsetDateTime", "onsetPeriod.start"]
            ),
            (TreatmentEnd, ["abatementDateTime", "abatementPeriod.end"])
        ]
    ),
    own!(
        "Observation",
        PatientRecord,
        SUBJECT,
        [(
            EventDate,
            [
                "effectiveDateTime",
                "effectivePeriod.start",
                "effectiveInstant",
                "issued"
            ]
        )]
    ),
    own!(
        "DiagnosticReport",
        PatientRecord,
        SUBJECT,
        [(
            EventDate,
            ["effectiveDateTime", "effectivePeriod.start", "issued"]
        )]
    ),
    own!(
        "MedicationRequest",
        Medication,
        SUBJECT,
        [(EventDate, ["authoredOn"])]
    ),
    own!(
        "MedicationStatement",
        Medication,
        SUBJECT,
        [
            (
                EventDate,
                ["effectiveDateTime", "effectivePeriod.start", "dateAsserted"]
            ),
            (TreatmentEnd, ["effectivePeriod.end"])
        ]
    ),
    own!(
        "MedicationAdministration",
        Medication,
        SUBJECT,
        [(EventDate, ["effectiveDateTime", "effectivePeriod.start"])]
    ),
    own!(
        "MedicationDispense",
        Medication,
        SUBJECT,
        [(EventDate, ["whenHandedOver", "whenPrepared"])]
    ),
    own!(
        "AllergyIntolerance",
        PatientRecord,
        PATIENT,
        [(EventDate, ["recordedDate", "onsetDateTime"])]
    ),
    own!(
        "Procedure",
        PatientRecord,
        SUBJECT,
        [
            (EventDate, ["performedDateTime", "performedPeriod.start"]),
            (TreatmentEnd, ["performedPeriod.end"])
        ]
    ),
    own!(
        "Immunization",
        Medication,
        PATIENT,
        [(EventDate, ["occurrenceDateTime", "recorded"])]
    ),
    own!(
        "DocumentReference",
        ClinicalNote,
        SUBJECT,
        [(EventDate, ["date", "context.period.start"])]
    ),
    own!(
        "Composition",
        ClinicalNote,
        SUBJECT,
        [(EventDate, ["date"])]
    ),
    own!(
        "CarePlan",
        PatientRecord,
        SUBJECT,
        [
            (EventDate, ["period.start", "created"]),
            (TreatmentEnd, ["period.end"])
        ]
    ),
    own!(
        "CareTeam",
        PatientRecord,
        SUBJECT,
        [
            (EventDate, ["period.start"]),
            (TreatmentEnd, ["period.end"])
        ]
    ),
    own!(
        "Goal",
        PatientRecord,
        SUBJECT,
        [(EventDate, ["startDate", "statusDate"])]
    ),
    own!(
        "ServiceRequest",
        PatientRecord,
        SUBJECT,
        [(EventDate, ["authoredOn", "occurrenceDateTime"])]
    ),
    own!(
        "ClinicalImpression",
        PatientRecord,
        SUBJECT,
        [(EventDate, ["effectiveDateTime", "date"])]
    ),
    own!(
        "FamilyMemberHistory",
        PatientRecord,
        PATIENT,
        [(EventDate, ["date"])]
    ),
    own!(
        "RiskAssessment",
        PatientRecord,
        SUBJECT,
        [(EventDate, ["occurrenceDateTime"])]
    ),
    own!(
        "Consent",
        PatientRecord,
        PATIENT,
        [(EventDate, ["dateTime"])]
    ),
    own!(
        "Flag",
        PatientRecord,
        SUBJECT,
        [(EventDate, ["period.start"])]
    ),
    own!(
        "QuestionnaireResponse",
        PatientRecord,
        SUBJECT,
        [(EventDate, ["authored"])]
    ),
    own!(
        "NutritionOrder",
        PatientRecord,
        PATIENT,
        [(EventDate, ["dateTime"])]
    ),
    own!(
        "DeviceRequest",
        PatientRecord,
        SUBJECT,
        [(EventDate, ["authoredOn"])]
    ),
    own!(
        "ImagingStudy",
        ImagingExamination,
        SUBJECT,
        [(EventDate, ["started"])]
    ),
    own!(
        "Specimen",
        LabResult,
        SUBJECT,
        [(EventDate, ["collection.collectedDateTime", "receivedTime"])]
    ),
    own!("MolecularSequence", GeneticTest, PATIENT, []),
    own!(
        "Coverage",
        Billing,
        &["beneficiary"],
        [(EventDate, ["period.start"])]
    ),
    own!("Claim", Billing, PATIENT, [(EventDate, ["created"])]),
    own!(
        "ExplanationOfBenefit",
        Billing,
        PATIENT,
        [(EventDate, ["created"])]
    ),
    own!("Invoice", Billing, SUBJECT, [(EventDate, ["date"])]),
    own!(
        "ChargeItem",
        Billing,
        SUBJECT,
        [(EventDate, ["occurrenceDateTime", "enteredDate"])]
    ),
];

/// The patient's own type named `name`, if it is one.
pub fn own_type(name: &str) -> Option<&'static OwnType> {
    OWN.iter().find(|t| t.name == name)
}
