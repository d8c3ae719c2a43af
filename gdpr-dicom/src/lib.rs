//! # gdpr-dicom — DICOM de-identification and storage adapters
//!
//! [`deid`] implements the complete Basic Application Level Confidentiality
//! Profile of DICOM PS3.15 Table E.1-1 (edition 2024b) with all ten options
//! and keyed, consistent pseudonymisation (GDPR Art. 4(5), Art. 89(1)):
//! streamed (pixel data is copied as bytes, never decoded) and parallel.
//!
//! Storage adapters are **not implemented yet** (tracked as their own issue).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod deid;
pub mod error;
pub mod synthetic;

pub use error::Error;
