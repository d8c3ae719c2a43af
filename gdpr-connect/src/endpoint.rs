//! [`Endpoint`]: everything needed to reach one remote system — its URL, the
//! transport policy ([`HttpOptions`]: TLS, CA, timeouts, retries) and how
//! requests authenticate ([`Credentials`]). Every remote adapter, DICOM or
//! EHR, is configured through it; `systems.toml` spells it with the keys of
//! [`EndpointSettings`](crate::EndpointSettings).

use std::path::PathBuf;
use std::time::Duration;

use crate::grant::{ClientCredentials, PasswordGrant};
use crate::secret::SecretSource;

/// Timeouts, retries and transport policy of a remote system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// Upper bound for one request with a small answer (JSON, DELETE).
    pub timeout: Duration,
    /// Upper bound for establishing a connection.
    pub connect_timeout: Duration,
    /// Upper bound between two reads of a large download.
    pub read_timeout: Duration,
    /// Attempts per operation (1 = no retry).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled each time, capped at 5 s.
    pub backoff: Duration,
    /// The longest `Retry-After` (RFC 9110 §10.2.3) a 429 or 503 answer is
    /// waited for; a server asking for longer ends the operation as
    /// transient at once, naming the wait it asked for.
    pub max_retry_after: Duration,
    /// Allow plain `http://` to hosts other than loopback. Off by default:
    /// health data and credentials must not cross a network unencrypted.
    pub danger_allow_insecure_http: bool,
    /// Extra trust anchors (PEM), e.g. the hospital's internal CA, in
    /// addition to the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            max_attempts: 4,
            backoff: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(30),
            danger_allow_insecure_http: false,
            ca_file: None,
        }
    }
}

/// How requests to a system authenticate. Secrets are named by their source
/// (a file or an environment variable), read when the client is built and
/// held zeroized; a user without a password cannot be written down.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// No authentication.
    #[default]
    None,
    /// HTTP Basic (RFC 7617).
    Basic {
        /// The user name.
        username: String,
        /// Where the password comes from.
        password: SecretSource,
    },
    /// A fixed OAuth 2 bearer token (RFC 6750), e.g. a long-lived API token.
    Bearer {
        /// Where the token comes from.
        token: SecretSource,
    },
    /// OAuth 2 client credentials (RFC 6749 §4.4, as Keycloak and SMART
    /// Backend Services issue them), with a client secret or a signed
    /// `private_key_jwt` assertion: tokens fetched and renewed on demand.
    ClientCredentials(ClientCredentials),
    /// The OAuth 2 resource-owner password grant (RFC 6749 §4.3), for sites
    /// that enable it (OpenEMR): tokens fetched and renewed on demand.
    Password(PasswordGrant),
}

impl Credentials {
    /// HTTP Basic with `username` and a password from `password`.
    pub fn basic(username: impl Into<String>, password: SecretSource) -> Self {
        Self::Basic {
            username: username.into(),
            password,
        }
    }
}

/// How to reach one remote system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// Base URL (`https://…`; `http://` only to loopback unless
    /// [`HttpOptions::danger_allow_insecure_http`]).
    pub url: String,
    /// Timeouts, retries, transport policy.
    pub http: HttpOptions,
    /// How requests authenticate.
    pub credentials: Credentials,
}

impl Endpoint {
    /// An endpoint at `url` with default options and no credentials.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            http: HttpOptions::default(),
            credentials: Credentials::None,
        }
    }

    /// The same endpoint with `credentials`.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }
}
