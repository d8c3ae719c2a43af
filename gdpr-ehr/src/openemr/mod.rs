//! OpenEMR (feature `adapters`): [`OpenEmrStore`], gdpr-core's
//! `SubjectStore` for one OpenEMR site. Its FHIR R4 API
//! (`/apis/{site}/fhir`) locates and exports the patient's records; its
//! standard API (`/apis/{site}/api`) deletes what it can delete (allergies,
//! problem-list conditions and medication list entries, [`Route`]); everything else, the patient
//! included (no OpenEMR API deletes a patient), is reported as residue with
//! the OpenEMR area that keeps it and the administrator task that removes
//! it, so an erasure on OpenEMR is at best *partially completed*. Tokens:
//! OAuth 2 at `/oauth2/{site}/token` through gdpr-connect (client
//! credentials with a `private_key_jwt` assertion, 300 s tokens renewed
//! before expiry and once on a 401; or the password grant).
//!
//! ```
//! use gdpr_core::store::SubjectStore;
//! use gdpr_ehr::openemr::{OpenEmrConfig, OpenEmrStore, Site};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = OpenEmrConfig::new("emr", "https://emr.example.org", Site::new("default")?);
//! assert_eq!(config.token_url(), "https://emr.example.org/oauth2/default/token");
//! let store = OpenEmrStore::connect(&config)?; // no request yet
//! assert_eq!(store.identity().kind(), "openemr");
//! // store.locate(&subject).await?, store.export(&subject, dir).await?,
//! // store.erase_subject(&subject, DerivedPolicy::Erase).await? (partial: see docs/ehr.md)
//! # Ok(()) }
//! ```

mod areas;
pub mod bulk;
mod config;
mod medication;
mod store;
mod subject_store;

pub use areas::{LOG_REASON, Route, residue_reason, route_of};
pub use config::{OpenEmrConfig, Site};
pub use store::OpenEmrStore;
pub use subject_store::RESTRICTION_UNSUPPORTED;
