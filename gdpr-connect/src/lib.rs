//! # gdpr-connect — the connection layer of every remote adapter
//!
//! The plumbing the PACS adapters (gdpr-dicom) and the EHR adapters
//! (gdpr-ehr) share, written once:
//!
//! - [`Endpoint`] — one configuration: URL, TLS and CA ([`HttpOptions`]),
//!   timeouts, bounded retries, and [`Credentials`] (HTTP Basic, bearer
//!   token, OAuth 2 client credentials with a client secret or a
//!   `private_key_jwt` key ([`ClientCredentials`], [`PrivateKeyJwt`]), the
//!   OAuth 2 password grant ([`PasswordGrant`])) whose secrets come from a
//!   file or an environment variable ([`SecretSource`]), never from the
//!   command line;
//! - OAuth 2 tokens: the token endpoint given or discovered
//!   ([`TokenEndpoint`]: SMART configuration, OpenID Connect Discovery),
//!   tokens renewed before they expire, a 401 answered by one renewal and
//!   one retry, refusals with a typed cause ([`Error::TokenRefused`],
//!   checked up front with [`Client::authenticate`]);
//! - [`EndpointSettings`] and [`Section`] — the same keys in every
//!   `systems.toml` entry, with one rule for half-given credentials and
//!   unknown keys as errors; [`SystemsFile`] — the file itself (1 MiB at
//!   most, errors naming file and line, never quoting it) over any host's
//!   entry type ([`SystemEntry`]);
//! - [`Client`] — one HTTP client (reqwest over rustls): `https://` by
//!   default, plain HTTP only to loopback unless `danger_…`; retries with
//!   exponential backoff that honour `Retry-After`; errors that never carry
//!   a URL (URLs can carry patient identifiers);
//! - [`check_status`], [`parse_json`] — one mapping of answers into
//!   gdpr-core's [`StoreError`](gdpr_core::store::StoreError);
//! - [`Erasure`] — erase, then verify: the report is made only with a fresh
//!   verification.
//!
//! ```
//! use gdpr_connect::{Client, Credentials, Endpoint, SecretSource};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let password_file = dir.path().join("pacs.password");
//! # std::fs::write(&password_file, "s3cret\n")?;
//! let password = SecretSource::File(password_file); // mode 600
//! let endpoint = Endpoint::new("https://pacs.example.org/dicom-web/")
//!     .with_credentials(Credentials::basic("gdpr", password));
//! let client = Client::connect(&endpoint)?; // secrets loaded, no request yet
//! assert_eq!(
//!     client.url(&["studies", "1.2.3"]).as_str(),
//!     "https://pacs.example.org/dicom-web/studies/1.2.3"
//! );
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod answer;
mod assertion;
mod blocking;
mod client;
mod discovery;
mod endpoint;
mod erase;
mod error;
mod grant;
mod oauth;
mod retry;
mod secret;
mod settings;
mod systems;

pub use address::{checked_base_url, checked_url};
pub use answer::{check_status, describe, parse_json};
pub use blocking::blocking;
pub use client::Client;
pub use endpoint::{Credentials, Endpoint, HttpOptions};
pub use erase::{Erasure, Outcome, outcome_of};
pub use error::{Error, TokenRefusal};
pub use grant::{
    ClientAuth, ClientCredentials, DEFAULT_RENEWAL_MARGIN, PasswordGrant, PrivateKeyJwt,
    SigningAlgorithm, TokenEndpoint,
};
pub use secret::{SecretSource, read_regular_file};
pub use settings::{EndpointSettings, GrantKind, MAX_ATTEMPTS, SecretMethod, Section, SystemKeys};
pub use systems::{MAX_SYSTEMS_FILE, SystemEntry, SystemsFile};

/// The HTTP library the [`Client`] builds requests with (its request
/// builders appear in [`Client::call`]).
pub use reqwest;
