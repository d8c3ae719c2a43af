//! Finding the subject's one Patient. The operator names the subject by a
//! FHIR identifier (system|value) or the Patient's logical id; never by name
//! or birth date. The server's identifier search is a hint: every Patient it
//! returns is checked again by comparing its identifiers exactly, byte for
//! byte (system and value both equal). Zero or several matches are errors
//! that name no value.

use gdpr_core::store::{FhirIdentifier, FhirSubject, StoreError};

use crate::client::{FhirClient, matches};
use crate::model::Patient;

const OP: &str = "find the subject's Patient";

/// Whether `patient` carries `identifier` among its identifiers, by
/// gdpr-core's one rule ([`FhirIdentifier::matches`]: system and value
/// byte for byte).
pub fn carries(patient: &Patient, identifier: &FhirIdentifier) -> bool {
    patient.identifier.iter().any(|i| {
        i.value
            .as_deref()
            .is_some_and(|value| identifier.matches(i.system.as_deref(), value))
    })
}

/// The subject's Patient: its logical id and the resource as read.
///
/// # Errors
/// [`StoreError::NotFound`] when no Patient matches exactly;
/// [`StoreError::Refused`] when more than one does; as [`FhirClient::read`]
/// and [`crate::client::Pages::next_page`] otherwise.
pub async fn resolve(client: &FhirClient, subject: &FhirSubject) -> Result<Patient, StoreError> {
    let found = match subject {
        FhirSubject::LogicalId(id) => match client.read("Patient", id.as_str()).await? {
            Some(resource) => vec![to_patient(resource)?],
            None => Vec::new(),
        },
        FhirSubject::Identifier(identifier) => {
            let token = identifier.search_token();
            let mut pages = client.search("Patient", &[("identifier", &token)]);
            let mut found = Vec::new();
            while let Some(page) = pages.next_page().await? {
                for resource in matches(page) {
                    let patient = to_patient(resource)?;
                    if carries(&patient, identifier) {
                        found.push(patient);
                    }
                }
            }
            found
        }
        _ => {
            return Err(StoreError::UnsupportedSubject {
                expected: "a FHIR identifier or logical id",
                given: "another kind of FHIR reference",
            });
        }
    };
    one(found)
}

fn one(mut found: Vec<Patient>) -> Result<Patient, StoreError> {
    match found.len() {
        0 => Err(StoreError::NotFound {
            what: "a Patient carrying exactly the given identifier (or with the given id)",
        }),
        1 => Ok(found.remove(0)),
        n => Err(StoreError::Refused {
            operation: OP,
            reason: format!(
                "{n} Patients carry exactly the given identifier; the subject must be one \
                 Patient: merge or correct them on the server, or name the Patient by its \
                 logical id"
            ),
        }),
    }
}

fn to_patient(resource: crate::model::Resource) -> Result<Patient, StoreError> {
    let patient: Patient = serde_json::from_value(serde_json::Value::Object(resource))
        .map_err(|_| crate::client::invalid(OP, "a Patient the server sent is malformed"))?;
    if patient.resource_type != "Patient" || patient.id.is_none() {
        return Err(crate::client::invalid(
            OP,
            "the server answered a Patient search with another resource or without an id",
        ));
    }
    Ok(patient)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(identifiers: serde_json::Value) -> Patient {
        serde_json::from_value(serde_json::json!({
            "resourceType": "Patient", "id": "p", "identifier": identifiers
        }))
        .unwrap()
    }

    #[test]
    fn identifiers_match_byte_for_byte_on_system_and_value() {
        let p = patient(serde_json::json!([
            {"system": "urn:mrn", "value": "AB-1"},
            {"system": "urn:other", "value": "x"},
            {"value": "NOSYS"}
        ]));
        let id = |token: &str| FhirIdentifier::parse(token).unwrap();
        assert!(carries(&p, &id("urn:mrn|AB-1")));
        assert!(!carries(&p, &id("urn:mrn|ab-1")));
        assert!(!carries(&p, &id("urn:MRN|AB-1")));
        assert!(!carries(&p, &id("urn:other|AB-1")));
        assert!(!carries(&p, &id("|AB-1")));
        assert!(carries(&p, &id("|NOSYS")));
        assert!(!carries(&p, &id("urn:mrn|NOSYS")));
    }

    #[test]
    fn zero_or_several_matches_are_errors_without_values() {
        assert!(matches!(one(vec![]), Err(StoreError::NotFound { .. })));
        let p = patient(serde_json::json!([{"system": "urn:mrn", "value": "CANARY"}]));
        let err = one(vec![p.clone(), p]).unwrap_err();
        assert!(matches!(err, StoreError::Refused { .. }));
        assert!(!err.to_string().contains("CANARY"));
    }
}
