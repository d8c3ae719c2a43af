//! Typed serde models of exactly the FHIR R4 elements this crate reads
//! (<https://hl7.org/fhir/R4/>). Everything else a server sends is kept, not
//! interpreted: each model carries the rest of its JSON object in `other`
//! (serialised back unchanged), and resources we do not model are plain
//! [`Resource`] maps. Values held here are patient data: `Debug` of the
//! types that hold identifiers or dates is redacted.

mod bundle;
mod datatypes;
mod patient;

pub use bundle::{Bundle, BundleEntry, BundleLink, EntrySearch, OperationOutcome};
pub use datatypes::{Coding, Identifier, Meta, Period, Reference};
pub use patient::Patient;

/// Any FHIR resource as the server sent it (a JSON object with
/// `resourceType`), passed through without interpretation.
pub type Resource = serde_json::Map<String, serde_json::Value>;

/// The `resourceType` of a resource, if it has one.
pub fn resource_type(resource: &Resource) -> Option<&str> {
    resource.get("resourceType")?.as_str()
}

/// The logical `id` of a resource, if it has one.
pub fn logical_id(resource: &Resource) -> Option<&str> {
    resource.get("id")?.as_str()
}
