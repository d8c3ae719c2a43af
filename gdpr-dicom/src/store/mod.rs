//! Storage adapters: the systems where images live, behind
//! [`gdpr_core::store::SubjectStore`] so that access and portability (GDPR
//! Art. 15, 20) and erasure (Art. 17) act on them.
//!
//! - [`FolderStore`] — a directory tree of DICOM files (the embedded default);
//! - [`OrthancStore`] — Orthanc's REST API (1.10 and later);
//! - [`DicomWebStore`] — any QIDO-RS / WADO-RS / STOW-RS server;
//! - [`Dcm4cheeStore`] — dcm4chee-arc: DICOMweb plus its own REST erasure.
//!
//! Each adapter implements [`StudyStore`] (subjects by Patient ID, records
//! that are studies) and, on top of it, the family's
//! [`gdpr_core::store::SubjectStore`], which refuses a FHIR subject or an
//! EHR record handle with a typed error. `restrict` marks the patient on
//! Orthanc (a user-defined metadata, when configured) and answers
//! "unsupported" elsewhere (the request workflow then keeps its own
//! register).
//!
//! The remote ones are configured with a [`gdpr_connect::Endpoint`] (URL,
//! TLS, timeouts, retries, [`Credentials`]) and talk through its one client.
//! [`SystemsConfig`] reads `systems.toml` and opens any of them as a
//! `Box<dyn SubjectStore>`; `gdpr_audit::Audited` (feature `audited`)
//! wraps any of them so that every operation leaves an audit event.
//!
//! Derived copies: Orthanc finds them through its provenance metadata, the
//! folder through the Source Image / Source Instance Sequences in the files;
//! DICOMweb and dcm4chee cannot find them, so their reports say "derived
//! copies not checked" and are never verified.
//!
//! No adapter ever writes a URL, patient identifier or UID into an error:
//! operations are named by templates (`"DELETE /studies/{id}"`).
//!
//! ```
//! use gdpr_core::store::{DerivedPolicy, SubjectRef, SubjectStore};
//! use gdpr_core::subject::PatientId;
//! use gdpr_dicom::store::FolderStore;
//! use gdpr_dicom::synthetic::SyntheticInstance;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! SyntheticInstance::new("1.2.826.0.1.3680043.10.1234", "MRN-7", 1, 1, 1)
//!     .write_to(&dir.path().join("ct.dcm"))?;
//! let store: Box<dyn SubjectStore> = Box::new(FolderStore::open("archive", dir.path())?);
//! let subject = SubjectRef::from(PatientId::new("MRN-7")?);
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let report = runtime.block_on(async {
//!     assert_eq!(store.locate(&subject).await?.len(), 1);
//!     store.erase_subject(&subject, DerivedPolicy::Erase).await
//! })?;
//! assert!(report.is_verified());
//! # Ok(()) }
//! ```

mod config;
mod dcm4chee;
mod dicomfile;
mod dicomweb;
mod export;
mod folder;
mod folder_derived;
mod folder_index;
mod multipart;
mod orthanc;
mod orthanc_archive;
mod orthanc_batch;
mod orthanc_derived;
mod orthanc_erasure;
mod orthanc_restrict;
mod residue;
mod studies;

pub use config::{Dcm4cheeKeys, DicomWebKeys, OrthancKeys, SystemConfig, SystemsConfig};
pub use dcm4chee::{Dcm4cheeConfig, Dcm4cheeStore, RejectionCode};
pub use dicomweb::{DicomWebConfig, DicomWebStore};
pub use export::MANIFEST_FILE;
pub use folder::{FolderStore, folder_study_id};
/// The connection layer the remote adapters are configured with.
pub use gdpr_connect::{ClientCredentials, Credentials, Endpoint, HttpOptions, SecretSource};
pub use orthanc::{OrthancConfig, OrthancStore, orthanc_patient_id};
pub use studies::StudyStore;
