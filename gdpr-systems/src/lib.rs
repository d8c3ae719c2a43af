//! # gdpr-systems — every system a host acts on, by name
//!
//! One `systems.toml` names the PACS and the EHR systems a host (the `gdpr`
//! command, a gateway, the examples) acts on; [`SystemsConfig::open`]
//! opens any of them as a gdpr-core
//! [`SubjectStore`](gdpr_core::store::SubjectStore), so that one
//! data-subject request reaches images and records alike. This crate is the
//! one place that sees both adapter crates: gdpr-dicom and gdpr-ehr never
//! depend on each other.
//!
//! ```toml
//! [systems.pacs]
//! kind = "orthanc"                    # or folder, dicomweb, dcm4chee (gdpr-dicom)
//! url = "https://pacs.example.org:8042/"
//! username = "gdpr"
//! password_file = "/etc/gdpr/pacs.password"
//!
//! [systems.ehr]
//! kind = "fhir"                       # any FHIR R4 server (gdpr-ehr)
//! url = "https://ehr.example.org/fhir/r4"
//! bearer_token_file = "/etc/gdpr/ehr.token"
//! page_size = 100                     # `_count` asked for (1 to 1000)
//! max_pages = 10000                   # the most pages of one listing
//!
//! [systems.emr]
//! kind = "openemr"                    # one OpenEMR site (gdpr-ehr)
//! url = "https://emr.example.org"     # the root; the APIs follow from `site`
//! site = "default"                    # the default
//! client_id = "gdpr-health"
//! client_key_file = "/etc/gdpr/emr-client.pem"   # private_key_jwt, mode 600
//! scopes = ["system/*.read"]
//! # token_url defaults to {url}/oauth2/{site}/token
//! ```
//!
//! The rules, for every kind alike:
//!
//! - **Kinds**: `folder`, `orthanc`, `dicomweb`, `dcm4chee` are read by
//!   gdpr-dicom's [`gdpr_dicom::store::SystemConfig`], unchanged (see its
//!   docs for their own keys); `fhir` and `openemr` by this crate
//!   ([`FhirKeys`], [`OpenEmrKeys`]).
//! - **Endpoint keys**: every remote kind takes the keys of
//!   [`gdpr_connect::EndpointSettings`]: `url`, HTTP Basic (`username` with
//!   `password_file`/`password_env`), a fixed bearer token
//!   (`bearer_token_file`/`bearer_token_env`), or an OAuth 2 / SMART
//!   backend-services client (`client_id`, `token_url` or
//!   `smart_discovery = true` or `oidc_issuer`, `client_secret_file`/`_env`
//!   or `client_key_file` with `client_key_id` and `client_key_algorithm`,
//!   `scopes`, `grant = "password"`, `token_parameters`,
//!   `token_renewal_margin_seconds`), `timeout_seconds`, `max_attempts`,
//!   `tls_ca_file`, `danger_allow_insecure_http`,
//!   `danger_allow_shared_secret_file`.
//! - **Secrets** only through `*_file` (mode 600, checked when the system
//!   is opened) or `*_env`, never in the file itself.
//! - **TLS by default**: `http://` only to loopback unless
//!   `danger_allow_insecure_http = true`.
//! - **Unknown keys are errors**, so a typo cannot silently turn a setting
//!   off; errors name the file and the line but never quote it (a mistyped
//!   line can hold a secret); the file is a regular file of at most 1 MiB.
//!
//! For `openemr`, `url` is the server's root: the FHIR API is
//! `{url}/apis/{site}/fhir`, the standard API `{url}/apis/{site}/api`, and
//! an OAuth 2 client without a token endpoint uses
//! `{url}/oauth2/{site}/token` (`smart_discovery = true` reads the FHIR
//! API's SMART configuration). With `grant = "password"`, OpenEMR's
//! `user_role = "users"` is added to the token parameters unless given.
//!
//! ```
//! use gdpr_systems::SystemsConfig;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let systems = SystemsConfig::from_toml(
//!     r#"
//!     [systems.ehr]
//!     kind = "fhir"
//!     url = "https://ehr.example.org/fhir/r4"
//!     "#,
//! )?;
//! let store = systems.open("ehr")?; // a Box<dyn SubjectStore>; no request yet
//! assert_eq!(store.identity().kind(), "fhir");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ehr;
mod entry;

pub use ehr::{FhirKeys, OpenEmrKeys};
pub use entry::SystemConfig;

/// The parsed `systems.toml` of every kind: `from_toml`, `load`, `names`,
/// `get` and `open` (see [`gdpr_connect::SystemsFile`]).
pub type SystemsConfig = gdpr_connect::SystemsFile<SystemConfig>;

#[cfg(test)]
mod tests;
