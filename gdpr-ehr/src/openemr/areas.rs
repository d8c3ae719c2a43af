//! What OpenEMR can delete through its standard API, and where everything
//! else stays. OpenEMR's APIs delete no patient; the standard API deletes
//! an allergy (`DELETE /api/patient/{puuid}/allergy/{auuid}`) and a medical
//! problem (`DELETE /api/patient/{puuid}/medical_problem/{muuid}`), both
//! addressed by the same uuids its FHIR API gives as logical ids, and a
//! medication list entry (`DELETE /api/patient/{pid}/medication/{mid}`, by
//! numeric ids looked up in the standard API). Every other
//! record is residue: the OpenEMR area it lives in (database tables,
//! documents on disk) and the administrator task that removes it.

use crate::model::Resource;

/// A DELETE route of OpenEMR's standard API, addressed by the patient's
/// uuid and the record's uuid (its FHIR logical id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// `DELETE /api/patient/{puuid}/allergy/{auuid}` (an allergy row of
    /// the `lists` table).
    Allergy,
    /// `DELETE /api/patient/{puuid}/medical_problem/{muuid}` (a medical
    /// problem row of the `lists` table).
    MedicalProblem,
    /// `DELETE /api/patient/{pid}/medication/{mid}` (a medication row of
    /// the `lists` table, addressed by numeric ids looked up first).
    Medication,
}

impl Route {
    /// The path segment below `/api/patient/{puuid}/`.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Allergy => "allergy",
            Self::MedicalProblem => "medical_problem",
            Self::Medication => "medication",
        }
    }
}

/// The route that deletes `resource`, if OpenEMR has one: an
/// AllergyIntolerance, or a Condition of the problem list (OpenEMR's FHIR
/// Conditions of other categories, encounter diagnoses and health
/// concerns, come from other tables and have no DELETE route).
pub fn route_of(resource: &Resource) -> Option<Route> {
    match resource.get("resourceType")?.as_str()? {
        "AllergyIntolerance" => Some(Route::Allergy),
        "Condition" if is_problem_list_item(resource) => Some(Route::MedicalProblem),
        // Only if the patient's medication list has its row (else it is a
        // prescription: no route).
        "MedicationRequest" => Some(Route::Medication),
        _ => None,
    }
}

/// Whether a resource type can have a DELETE route at all (the resource
/// itself decides: [`route_of`]).
pub fn may_have_route(kind: &str) -> bool {
    matches!(
        kind,
        "AllergyIntolerance" | "Condition" | "MedicationRequest"
    )
}

fn is_problem_list_item(resource: &Resource) -> bool {
    let Some(categories) = resource.get("category").and_then(|c| c.as_array()) else {
        return false;
    };
    categories
        .iter()
        .filter_map(|c| c.get("coding")?.as_array())
        .flatten()
        .any(|coding| coding.get("code").and_then(|c| c.as_str()) == Some("problem-list-item"))
}

/// Where OpenEMR keeps what a FHIR resource type shows, and what its
/// administrator does to remove it (no patient value; a reason for a
/// remnant).
pub fn residue_reason(kind: &str) -> String {
    let (area, task) = area_of(kind);
    format!("OpenEMR has no API that deletes it: kept in {area}; administrator task: {task}")
}

/// The administrator task for rows of a patient, after which the `log`
/// table's copies remain to be purged.
const PURGE: &str = "delete the patient in OpenEMR's user interface (Patient → Delete, as an \
                     administrator), then purge the copies of the deleted rows that OpenEMR \
                     writes into its `log` table";

fn area_of(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "Patient" => (
            "the tables `patient_data`, `history_data`, `insurance_data`, \
                       `employer_data` and the patient portal's tables",
            PURGE,
        ),
        "Encounter" => (
            "the tables `form_encounter`, `forms` and the tables of each form \
                         (`form_*`)",
            PURGE,
        ),
        "Observation" => (
            "the tables `form_vitals`, `history_data`, `procedure_result` and \
                           `form_observation`",
            PURGE,
        ),
        "Condition" => (
            "the tables `lists` (encounter diagnoses, health concerns) and \
                         `issue_encounter`",
            PURGE,
        ),
        "AllergyIntolerance" => ("the table `lists`", PURGE),
        "MedicationRequest" | "MedicationStatement" => (
            "the table `prescriptions` (only medication list entries have a DELETE route)",
            PURGE,
        ),
        "Immunization" => ("the table `immunizations`", PURGE),
        "Procedure" | "ServiceRequest" | "DiagnosticReport" | "Specimen" => (
            "the tables `procedure_order`, `procedure_order_code`, `procedure_report` and \
             `procedure_result`",
            PURGE,
        ),
        "DocumentReference" | "Binary" => (
            "the table `documents` and the files under `sites/{site}/documents/` (or CouchDB, \
             where configured)",
            "delete the documents in OpenEMR's user interface, then remove their files from \
             the document store and purge the `log` table's copies of the rows",
        ),
        "CarePlan" | "Goal" => ("the table `form_care_plan`", PURGE),
        "CareTeam" => ("the table `care_teams`", PURGE),
        "Coverage" => ("the table `insurance_data`", PURGE),
        "Appointment" => (
            "the table `openemr_postcalendar_events` (its appointment route deletes by numeric \
             ids the FHIR API does not give)",
            "delete the appointment in OpenEMR's calendar, then purge the `log` table's copy",
        ),
        _ => (
            "the OpenEMR database, in the table behind this resource type",
            PURGE,
        ),
    }
}

/// The reason of the one remnant every OpenEMR erasure that deleted
/// anything has: the `log` table's copies of the deleted rows.
pub const LOG_REASON: &str = "OpenEMR's audit log (the `log` table) keeps the statements that \
                              deleted these rows, with their values; administrator task: purge \
                              those `log` rows (they are the patient's data too)";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(value: serde_json::Value) -> Resource {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn only_allergies_and_problem_list_conditions_have_a_route() {
        let allergy = resource(json!({"resourceType": "AllergyIntolerance"}));
        assert_eq!(route_of(&allergy), Some(Route::Allergy));
        let problem = resource(
            json!({"resourceType": "Condition", "category": [{"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-category",
             "code": "problem-list-item"}]}]}),
        );
        assert_eq!(route_of(&problem), Some(Route::MedicalProblem));
        let diagnosis = resource(
            json!({"resourceType": "Condition", "category": [{"coding": [
            {"code": "encounter-diagnosis"}]}]}),
        );
        assert_eq!(route_of(&diagnosis), None);
        assert_eq!(
            route_of(&resource(json!({"resourceType": "Observation"}))),
            None
        );
    }

    #[test]
    fn every_residue_names_an_area_and_a_task() {
        for kind in ["Patient", "Observation", "DocumentReference", "Unknown"] {
            let reason = residue_reason(kind);
            assert!(reason.contains("kept in") && reason.contains("administrator task"));
        }
    }
}
