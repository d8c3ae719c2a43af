//! # gdpr-ehr — EHR records as FHIR R4
//!
//! Work in progress (issue 13).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
