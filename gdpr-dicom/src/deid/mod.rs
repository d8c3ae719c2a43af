//! De-identification and keyed pseudonymisation of DICOM files for research
//! (GDPR Art. 4(5), Art. 9(2)(j), Art. 89(1)).
//!
//! Implements the **Basic Application Level Confidentiality Profile** of DICOM
//! PS3.15 Table E.1-1, edition 2024b ([`EDITION`]), with every action code
//! (X, Z, D, K, C, U and the combinations Z/D, X/Z, X/D, X/Z/D, X/Z/U*) and
//! all ten options ([`DeidOption`]). Sequences are de-identified at any
//! depth; private attributes are removed unless Retain Safe Private is chosen
//! and they are on [`private::SAFE_PRIVATE`]. New UIDs, the patient pseudonym
//! and the per-patient date shift are HMAC-SHA256 functions of a secret
//! [`ProjectKey`], so they are consistent across files, days and machines and
//! cannot be tested against guesses without the key.
//!
//! Files are streamed: only the header is parsed; pixel data is copied as
//! bytes. Files that may show burned-in text are refused or quarantined
//! ([`BurnedInPolicy`]); structured reports whose content tree holds free
//! text, names or dates are refused unless Clean Structured Content is
//! selected ([`structured`]).
//!
//! ```no_run
//! use gdpr_dicom::deid::{Deidentifier, DeidOption, DeidOptions, ProjectKey};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The key file comes from `gdpr dicom keygen`; keep it secret.
//! let key = ProjectKey::from_hex(&std::fs::read_to_string("project.key")?)?;
//! let options = DeidOptions::new([DeidOption::RetainLongitudinalModifiedDates])?;
//! let deid = Deidentifier::new(&key, options);
//! let outcome = deid.deidentify_file("in/ct.dcm".as_ref(), "out".as_ref())?;
//! println!("written to out/{}", outcome.relative_path().display());
//! # Ok(()) }
//! ```

pub mod action;
pub mod attr_type;
pub mod batch;
pub mod burned_in;
#[cfg(feature = "danger-reidentify")]
pub mod danger;
pub mod dates;
pub mod deidentifier;
pub mod dummy;
mod duplicate;
mod engine;
pub mod key;
mod method;
pub mod options;
pub mod private;
pub mod profile;
mod stream;
pub mod structured;
pub mod supplement;
mod table_2024b;

pub use action::{Action, resolve, resolve_in};
pub use batch::{FileResult, JOBS_PER_CORE, collect_inputs, deidentify_all, max_jobs};
pub use deidentifier::{BurnedInPolicy, Deidentifier, Outcome};
pub use key::{ProjectKey, Pseudonymiser};
pub use options::{DeidOption, DeidOptions};
pub use structured::{TextPatterns, Uncleaned};
pub use table_2024b::EDITION;

/// Writes preamble, meta and header (used by the `synthetic` generator).
#[cfg(any(test, feature = "testkit"))]
pub(crate) fn write_synthetic_head<W: std::io::Write>(
    w: &mut W,
    meta: &dicom_object::FileMetaTable,
    dataset: &dicom_object::InMemDicomObject,
    ts: &dicom_transfer_syntax_registry::TransferSyntax,
) -> Result<(), crate::Error> {
    stream::write_head(w, meta, dataset, ts)
}
