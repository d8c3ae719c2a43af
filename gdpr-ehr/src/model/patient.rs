//! The `Patient` resource (R4 §8.1): the elements matching and retention
//! read, the rest kept as sent.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::datatypes::{Identifier, Meta};

/// A FHIR R4 `Patient`. Only `id`, `meta`, `identifier`, `birthDate` and
/// `deceasedDateTime` are interpreted; names, addresses and every other
/// element stay in `other`. `Debug` shows no value.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// Always `"Patient"`.
    pub resource_type: String,
    /// The logical id on the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Version and security labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Business identifiers (medical record numbers, insurance numbers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    /// The date of birth (a FHIR `date`, possibly partial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// The date of death, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deceased_date_time: Option<String>,
    /// Every other element, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl fmt::Debug for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Patient")
            .field("identifiers", &self.identifier.len())
            .field("meta", &self.meta.as_ref().map(|m| m.security.len()))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_round_trips_and_prints_nothing_identifying() {
        let json = serde_json::json!({
            "resourceType": "Patient", "id": "p1",
            "identifier": [{"system": "urn:mrn", "value": "CANARY-1"}],
            "name": [{"family": "CANARY"}], "birthDate": "1970-01-02",
            "deceasedDateTime": "2020-03-04"
        });
        let patient: Patient = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&patient).unwrap(), json);
        let debug = format!("{patient:?}");
        assert!(
            !debug.contains("CANARY") && !debug.contains("1970"),
            "{debug}"
        );
    }
}
