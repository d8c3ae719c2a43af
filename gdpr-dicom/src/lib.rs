//! # gdpr-dicom — DICOM de-identification and storage adapters
//!
//! [`store`] holds the storage adapters (folder, Orthanc, DICOMweb,
//! dcm4chee) behind `gdpr_core::store::SubjectStore`: locate, export, erase
//! and verify a data subject's studies (GDPR Art. 15, 17, 20). See
//! docs/storage-adapters.md.
//!
//! De-identification and pseudonymisation are tracked by their own issue.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod store;
