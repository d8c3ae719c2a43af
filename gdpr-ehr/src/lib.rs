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
//! - [`conformance`], [`export`] — elements that are not valid FHIR R4 (an
//!   element its type does not have, the wrong repetition or JSON type,
//!   bad JSON syntax; checked against every R4 type's elements) set aside;
//!   one patient's export (Bundle, NDJSON per type, side file) written so
//!   that a half-written export never looks complete.
//! - [`store`] (feature `adapters`) — [`store::FhirStore`], gdpr-core's
//!   `SubjectStore` for any FHIR R4 server: the subject (a FHIR identifier or
//!   the Patient's logical id) matched exactly, its compartment located with
//!   categories and retention dates, exported (Art. 15, 20; with the
//!   DocumentReferences' attachments), erased with a
//!   re-check before each DELETE and an honest report of what is left
//!   (versions in `_history`, shared resources; a Group keeps its other
//!   members and loses the subject's entry), restricted (Art. 18) by a
//!   security label.
//! - [`openemr`] (feature `adapters`) — [`openemr::OpenEmrStore`] for an
//!   OpenEMR site: located and exported through its FHIR API, erased
//!   through the DELETE routes of its standard API where it has them, the
//!   rest reported exactly as residue with the OpenEMR area and the
//!   administrator task (OpenEMR deletes no patient through any API);
//!   exported by Bulk Data `$export` only for a Group of the patient alone.
//!
//! The front door: connect to a server (no request is made yet) and act on
//! a subject through gdpr-core's `SubjectStore`.
//!
//! ```
//! use gdpr_core::store::{FhirIdentifier, FhirSubject, SubjectRef, SubjectStore};
//! use gdpr_ehr::store::{FhirConfig, FhirStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = FhirStore::connect(&FhirConfig::new("ehr", "https://ehr.example.org/fhir/r4"))?;
//! let mrn = FhirIdentifier::parse("urn:oid:1.2.276.0.76.3.1.1|MRN-0042")?;
//! let subject = SubjectRef::Fhir(FhirSubject::Identifier(mrn));
//! assert_eq!(store.identity().kind(), "fhir");
//! // store.locate(&subject).await?, store.export(&subject, dir).await?,
//! // store.erase_subject(&subject, DerivedPolicy::Erase).await?, …
//! # let _ = subject;
//! # Ok(()) }
//! ```
//!
//! The compartment table alone needs no network (`default-features = false`):
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
pub mod openemr;
#[cfg(feature = "adapters")]
pub mod store;
