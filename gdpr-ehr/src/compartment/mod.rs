//! The Patient compartment (<https://hl7.org/fhir/R4/compartmentdefinition-patient.html>)
//! mapped to gdpr-core's record categories, with the dates retention reads
//! and the element that names the patient. Pure: no I/O, one table
//! ([`table`]).
//!
//! A resource type is either the patient's **own** record (erased with the
//! patient when its patient reference is exactly the subject) or **shared**:
//! it is not the patient's alone (a Group, an Appointment with other
//! participants, a Practitioner, …) and is never deleted, only reported with
//! the reason. A type the table does not know is shared too: nothing is
//! deleted on a guess.

mod dates;
mod shared;
pub mod table;

use std::fmt;

use gdpr_core::category::RecordCategory;
use gdpr_core::retention::Fact;
use jiff::civil::Date;

pub use dates::fhir_date;
pub use shared::{SHARED, SHARED_SEARCHES};
pub use table::{OwnType, own_type};

use crate::model::{Resource, resource_type};

/// What a resource is to the patient whose compartment it was found in.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Classification {
    /// The patient's own record.
    Own(OwnRecord),
    /// Not the patient's alone: never deleted.
    Shared {
        /// Why, in words for the report (no patient value).
        reason: &'static str,
    },
}

impl fmt::Debug for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Own(own) => f.debug_tuple("Own").field(own).finish(),
            Self::Shared { reason } => f.debug_struct("Shared").field("reason", reason).finish(),
        }
    }
}

/// A record of the patient's own: its category and the dates retention
/// reads. `Debug` shows which facts are known, never the dates.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnRecord {
    /// The record category retention rules apply to.
    pub category: RecordCategory,
    /// The dates found, one per fact at most.
    pub dates: Vec<(Fact, Date)>,
}

impl fmt::Debug for OwnRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let facts: Vec<Fact> = self.dates.iter().map(|(fact, _)| *fact).collect();
        f.debug_struct("OwnRecord")
            .field("category", &self.category)
            .field("facts", &facts)
            .finish()
    }
}

/// Classifies `resource` for the patient with logical id `patient_id`: an
/// own record only when its type is one of the patient's own (see [`table`])
/// and it names no other Patient anywhere (a resource that also references
/// another patient is shared).
pub fn classify(resource: &Resource, patient_id: &str) -> Classification {
    let Some(kind) = resource_type(resource) else {
        return Classification::Shared {
            reason: "the server sent a resource without resourceType",
        };
    };
    let Some(own) = own_type(kind) else {
        return Classification::Shared {
            reason: shared::shared_reason(kind),
        };
    };
    if references_other_patient(resource, patient_id) {
        return Classification::Shared {
            reason: "it also references another patient",
        };
    }
    Classification::Own(OwnRecord {
        category: own.category_of(resource),
        dates: own.dates_of(resource),
    })
}

/// Whether the patient reference of `resource` (its type's `subject`,
/// `patient` or `beneficiary` element; the `id` of a Patient) is exactly
/// `Patient/{patient_id}` (relative, or absolute below `base`). The re-check
/// right before a deletion.
pub fn belongs_to(resource: &Resource, patient_id: &str, base: &str) -> bool {
    let Some(kind) = resource_type(resource) else {
        return false;
    };
    if kind == "Patient" {
        return crate::model::logical_id(resource) == Some(patient_id);
    }
    let Some(own) = own_type(kind) else {
        return false;
    };
    let relative = format!("Patient/{patient_id}");
    let absolute = format!("{}/{relative}", base.trim_end_matches('/'));
    own.patient_paths.iter().any(|path| {
        dates::at(resource, path)
            .and_then(|r| r.get("reference"))
            .and_then(|r| r.as_str())
            .is_some_and(|r| r == relative || r == absolute)
    }) && !references_other_patient(resource, patient_id)
}

/// The logical id of the Patient that the patient element of `resource`
/// names (`Patient/{id}`, relative or below `base`), for an own record
/// whose patient elements all name that one Patient; the id of a Patient.
pub fn patient_of(resource: &Resource, base: &str) -> Option<String> {
    let kind = resource_type(resource)?;
    if kind == "Patient" {
        return crate::model::logical_id(resource).map(str::to_owned);
    }
    let absolute = format!("{}/Patient/", base.trim_end_matches('/'));
    let id = own_type(kind)?.patient_paths.iter().find_map(|path| {
        let r = dates::at(resource, path)?.get("reference")?.as_str()?;
        let id = r
            .strip_prefix("Patient/")
            .or_else(|| r.strip_prefix(&absolute))?;
        (!id.is_empty() && !id.contains('/')).then(|| id.to_owned())
    })?;
    belongs_to(resource, &id, base).then_some(id)
}

/// Whether any `reference` in `resource` names a Patient other than
/// `patient_id` (read in place).
fn references_other_patient(resource: &Resource, patient_id: &str) -> bool {
    fn object(map: &Resource, patient_id: &str) -> bool {
        map.iter().any(|(key, v)| match (key.as_str(), v) {
            ("reference", serde_json::Value::String(r)) => names_other_patient(r, patient_id),
            _ => value(v, patient_id),
        })
    }
    fn value(v: &serde_json::Value, patient_id: &str) -> bool {
        match v {
            serde_json::Value::Object(map) => object(map, patient_id),
            serde_json::Value::Array(items) => items.iter().any(|v| value(v, patient_id)),
            _ => false,
        }
    }
    object(resource, patient_id)
}

/// Whether `resource` is the Patient `patient_id` or has a `reference`
/// naming it anywhere (`Patient/{id}`, absolute, or with `_history`).
pub fn mentions_patient(resource: &Resource, patient_id: &str) -> bool {
    if resource_type(resource) == Some("Patient") {
        return crate::model::logical_id(resource) == Some(patient_id);
    }
    fn walk(value: &serde_json::Value, patient_id: &str) -> bool {
        match value {
            serde_json::Value::Object(map) => map.iter().any(|(key, v)| match (key.as_str(), v) {
                ("reference", serde_json::Value::String(r)) => names_patient(r, patient_id),
                _ => walk(v, patient_id),
            }),
            serde_json::Value::Array(items) => items.iter().any(|v| walk(v, patient_id)),
            _ => false,
        }
    }
    resource.values().any(|v| walk(v, patient_id))
}

/// Whether literal reference `r` names the Patient `patient_id`.
pub(crate) fn names_patient(r: &str, patient_id: &str) -> bool {
    let mut parts = r.split('/').skip_while(|p| *p != "Patient");
    matches!((parts.next(), parts.next()), (Some("Patient"), Some(id)) if id == patient_id)
}

/// Whether literal reference `r` names a Patient other than `patient_id`
/// (`Patient/x`, `…/Patient/x`, `Patient/x/_history/n`).
fn names_other_patient(r: &str, patient_id: &str) -> bool {
    let mut parts = r.split('/').skip_while(|p| *p != "Patient");
    match (parts.next(), parts.next()) {
        (Some("Patient"), Some(id)) => id != patient_id,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
