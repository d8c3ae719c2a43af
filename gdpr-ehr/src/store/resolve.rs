//! Finding the subject's one Patient. The operator names the subject by a
//! FHIR identifier (system|value) or the Patient's logical id; never by name
//! or birth date. The server's identifier search is a hint: every Patient it
//! returns is checked again by comparing its identifiers exactly, byte for
//! byte (system and value both equal). Zero or several matches are errors
//! that name no value.

use gdpr_core::store::StoreError;

use crate::client::{FhirClient, matches};
use crate::model::Patient;

/// How the operator named the subject (until gdpr-core's `SubjectRef`).
#[derive(Clone, Copy)]
pub enum Named<'a> {
    /// By business identifier: both parts compared exactly.
    Identifier {
        /// The identifier's system (a URI).
        system: &'a str,
        /// The identifier's value.
        value: &'a str,
    },
    /// By the Patient's logical id on this server.
    LogicalId(&'a str),
}

const OP: &str = "find the subject's Patient";

/// Whether `patient` carries exactly `system|value` among its identifiers.
pub fn carries(patient: &Patient, system: &str, value: &str) -> bool {
    patient
        .identifier
        .iter()
        .any(|i| i.system.as_deref() == Some(system) && i.value.as_deref() == Some(value))
}

/// Escapes a token part for a FHIR search (R4 §3.1.1.4.14: `\`, `|`, `,`,
/// `$`).
pub fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        if matches!(c, '\\' | '|' | ',' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The subject's Patient: its logical id and the resource as read.
///
/// # Errors
/// [`StoreError::NotFound`] when no Patient matches exactly;
/// [`StoreError::Refused`] when more than one does; as [`FhirClient::read`]
/// and [`crate::client::Pages::next_page`] otherwise.
pub async fn resolve(client: &FhirClient, named: Named<'_>) -> Result<Patient, StoreError> {
    let found = match named {
        Named::LogicalId(id) => match client.read("Patient", id).await? {
            Some(resource) => vec![to_patient(resource)?],
            None => Vec::new(),
        },
        Named::Identifier { system, value } => {
            let token = format!("{}|{}", escape(system), escape(value));
            let mut pages = client.search("Patient", &[("identifier", &token)]);
            let mut found = Vec::new();
            while let Some(page) = pages.next_page().await? {
                for resource in matches(page) {
                    let patient = to_patient(resource)?;
                    if carries(&patient, system, value) {
                        found.push(patient);
                    }
                }
            }
            found
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
            {"system": "urn:other", "value": "x"}
        ]));
        assert!(carries(&p, "urn:mrn", "AB-1"));
        assert!(!carries(&p, "urn:mrn", "ab-1"));
        assert!(!carries(&p, "urn:mrn", "AB-1 "));
        assert!(!carries(&p, "urn:MRN", "AB-1"));
        assert!(!carries(&p, "urn:other", "AB-1"));
        let no_system = patient(serde_json::json!([{"value": "AB-1"}]));
        assert!(!carries(&no_system, "", "AB-1"));
    }

    #[test]
    fn search_tokens_are_escaped() {
        assert_eq!(escape(r"a|b,c$d\e"), r"a\|b\,c\$d\\e");
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
