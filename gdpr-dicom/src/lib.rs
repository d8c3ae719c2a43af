//! # gdpr-dicom — DICOM de-identification and storage adapters
//!
//! [`deid`] implements the complete Basic Application Level Confidentiality
//! Profile of DICOM PS3.15 Table E.1-1 (edition 2024b) with all ten options
//! and keyed, consistent pseudonymisation (GDPR Art. 4(5), Art. 89(1)):
//! streamed (pixel data is copied as bytes, never decoded) and parallel.
//!
//! `store` (feature `adapters`, on by default) holds the storage adapters
//! (folder, Orthanc, DICOMweb, dcm4chee) behind
//! `gdpr_core::store::SubjectStore`: locate, export, erase and verify a data
//! subject's studies (GDPR Art. 15, 17, 20), the remote ones over
//! `gdpr-connect`. They return `gdpr_core::store::StoreError`, the error of
//! that cross-crate contract; [`Error`] is this crate's own error for
//! everything else. See docs/storage-adapters.md.
//!
//! Without the feature (`default-features = false`) the crate is the
//! synchronous de-identification half only: no tokio, reqwest, rustls or
//! zip. Both halves read DICOM through the same hardened reader.
//!
//! ## De-identify a file
//!
//! ```no_run
//! use gdpr_dicom::deid::{DeidOptions, Deidentifier, ProjectKey};
//!
//! let key = ProjectKey::from_file("/etc/gdpr/project.key".as_ref())?;
//! let deid = Deidentifier::new(&key, DeidOptions::basic());
//! let outcome = deid.deidentify_file("in/ct-0001.dcm".as_ref(), "research-copy".as_ref())?;
//! println!("written: {}", outcome.relative_path().display());
//! # Ok::<(), gdpr_dicom::Error>(())
//! ```
//!
//! Many files at once, on every core: [`deid::deidentify_all`]. Erasing a
//! subject from a store: `store::SystemsConfig` opens any configured system
//! as a `Box<dyn SubjectStore>`; `erase_subject` erases and verifies (see
//! docs/storage-adapters.md).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod deid;
pub mod error;
mod reader;
#[cfg(feature = "adapters")]
pub mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod synthetic;

pub use error::Error;
/// The hardened reader's entry point for other crates: the header of a
/// Part 10 file (everything before the pixel data, every length bounded)
/// and its file meta group. gdpr-request reads the keys of its DICOMDIR
/// records with it.
pub use reader::read_file_header_with_meta as read_part10_header;
