//! # gdpr-ehr — EHR records as FHIR R4
//!
//! **Not implemented yet**: FHIR R4 export bundles and adapters for OpenEMR
//! and FHIR servers. This crate currently exports nothing.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
