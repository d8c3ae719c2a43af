//! # gdpr-dicom — DICOM de-identification and storage adapters
//!
//! **Not implemented yet** (tracked as the de-identification and
//! storage-adapter issues). This crate currently exports nothing.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod store;
