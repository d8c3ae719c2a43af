//! # gdpr-ehr — EHR records as FHIR R4
//!
//! - [`model`] — typed serde models of exactly the FHIR R4 elements read
//!   (Patient, Bundle, OperationOutcome, Identifier, Reference, Meta with
//!   security labels, Period); everything else passes through as JSON.
//! - [`compartment`] — the Patient compartment's resource types mapped to
//!   gdpr-core's record categories and retention dates; shared types (never
//!   deleted) with their reason.
//! - [`client`] (feature `adapters`, on by default) — a FHIR R4 client on
//!   gdpr-connect's HTTP client: read, search with bounded paging that never
//!   leaves the base URL, `$everything`, `_history`, update, DELETE.
//! - [`conformance`], [`export`] — elements that are not valid FHIR JSON set
//!   aside; one patient's export (Bundle, NDJSON per type, side file) written
//!   so that a half-written export never looks complete.
//! - `store` (feature `adapters`) — a FHIR R4 server as a store of
//!   subjects' records: the subject's one Patient matched exactly, its
//!   compartment, export, erasure with a re-check before each DELETE, what
//!   is left, the Art. 18 security label. (Its `SubjectStore`
//!   implementation is not built yet.)
//!
//! ```
//! use gdpr_core::category::RecordCategory;
//! use gdpr_ehr::compartment::{classify, Classification};
//!
//! let encounter = serde_json::json!({
//!     "resourceType": "Encounter", "subject": {"reference": "Patient/p1"},
//!     "period": {"start": "2020-01-01", "end": "2020-01-05"}
//! });
//! let Classification::Own(record) = classify(encounter.as_object().unwrap(), "p1") else {
//!     panic!("an encounter of p1 is p1's own record");
//! };
//! assert_eq!(record.category, RecordCategory::PatientRecord);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "adapters")]
pub mod client;
pub mod compartment;
pub mod conformance;
pub mod export;
pub mod model;
#[cfg(feature = "adapters")]
pub mod store;
