//! The endpoint keys of a system's entry in `systems.toml`, the same for
//! every remote system (PACS or EHR):
//!
//! ```toml
//! [systems.pacs]
//! kind = "orthanc"                      # the adapter's own key
//! url = "https://pacs.example.org:8042/"
//! username = "gdpr"                     # HTTP Basic: both or neither
//! password_file = "/etc/gdpr/pacs.password"
//! timeout_seconds = 30
//! max_attempts = 4
//! tls_ca_file = "/etc/gdpr/hospital-ca.pem"
//! ```
//!
//! Credentials, at most one kind per system: `username` with
//! `password_file` or `password_env` (HTTP Basic); `bearer_token_file` or
//! `bearer_token_env`; or an OAuth 2 client. A half-given kind (a user
//! without a password) is refused with a message saying what to add, for
//! every system alike. Secret files (and the client key file) must be
//! private (`chmod 600`) unless `danger_allow_shared_secret_file = true`.
//!
//! An OAuth 2 client (module `oauth`) needs `client_id` and the token
//! endpoint given one way: `token_url`, `smart_discovery = true` (from
//! `<url>/.well-known/smart-configuration`) or `oidc_issuer` (OpenID Connect
//! Discovery). It authenticates with `client_secret_file`/`_env` (sent in
//! the form body, or as HTTP Basic with `client_auth =
//! "client_secret_basic"`) or with a key, `private_key_jwt`:
//!
//! ```toml
//! [systems.ehr]
//! kind = "fhir"
//! url = "https://ehr.example.org/apis/default/fhir"
//! smart_discovery = true
//! client_id = "gdpr-health"
//! client_key_file = "/etc/gdpr/ehr-client.pem"   # PEM private key, mode 600
//! client_key_id = "gdpr-2026"                    # the kid registered with the key
//! client_key_algorithm = "RS384"                 # or "ES384"
//! scopes = ["system/*.read"]
//! token_renewal_margin_seconds = 30              # renew this long before expiry
//! ```
//!
//! `grant = "password"` turns `username` and the password keys into the
//! resource owner's for the password grant (a client secret or key is then
//! optional); `token_parameters` adds non-secret form parameters a server
//! requires (OpenEMR: `{ user_role = "users" }`).
//!
//! [`Section`] joins these keys with an adapter's own and keeps unknown keys
//! errors, so a typo cannot silently turn a setting off.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use gdpr_core::store::StoreError;
use serde::Deserialize;

use crate::endpoint::{Credentials, Endpoint, HttpOptions};
use crate::grant::SigningAlgorithm;
use crate::secret::SecretSource;

mod oauth;
pub use oauth::{GrantKind, SecretMethod};

/// The most attempts per operation a system may be given (`max_attempts`).
pub const MAX_ATTEMPTS: u32 = 10;

/// The endpoint keys of a remote system's entry (see the module docs).
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct EndpointSettings {
    /// Base URL (`https://…`; `http://` only to loopback unless
    /// `danger_allow_insecure_http`).
    pub url: String,
    /// User for HTTP Basic authentication.
    pub username: Option<String>,
    /// File holding the Basic password.
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the Basic password.
    pub password_env: Option<String>,
    /// File holding a fixed bearer token.
    pub bearer_token_file: Option<PathBuf>,
    /// Environment variable holding a fixed bearer token.
    pub bearer_token_env: Option<String>,
    /// OAuth 2 token endpoint, given (or `smart_discovery`, `oidc_issuer`).
    pub token_url: Option<String>,
    /// Find the OAuth 2 token endpoint in
    /// `<url>/.well-known/smart-configuration` (SMART on FHIR).
    #[serde(default)]
    pub smart_discovery: bool,
    /// Find the OAuth 2 token endpoint by OpenID Connect Discovery of this
    /// issuer.
    pub oidc_issuer: Option<String>,
    /// OAuth 2 client id.
    pub client_id: Option<String>,
    /// File holding the OAuth 2 client secret.
    pub client_secret_file: Option<PathBuf>,
    /// Environment variable holding the OAuth 2 client secret.
    pub client_secret_env: Option<String>,
    /// How the client secret is sent (default `client_secret_post`).
    pub client_auth: Option<SecretMethod>,
    /// PEM file of the client's private key (`private_key_jwt`, mode 600).
    pub client_key_file: Option<PathBuf>,
    /// The `kid` of the client's key.
    pub client_key_id: Option<String>,
    /// `"RS384"` (default) or `"ES384"`.
    pub client_key_algorithm: Option<SigningAlgorithm>,
    /// OAuth 2 scopes to ask for (`["system/*.read"]`).
    pub scopes: Option<Vec<String>>,
    /// The OAuth 2 grant: `"client_credentials"` (default) or `"password"`
    /// (then `username` and the password are the resource owner's).
    pub grant: Option<GrantKind>,
    /// Renew tokens this many seconds before they expire (default 30, at
    /// most half a token's lifetime).
    pub token_renewal_margin_seconds: Option<u64>,
    /// Further, non-secret form parameters of token requests (OpenEMR:
    /// `{ user_role = "users" }`).
    pub token_parameters: Option<BTreeMap<String, String>>,
    /// Seconds before a request times out (default 30).
    pub timeout_seconds: Option<u64>,
    /// Attempts per operation, retries included (default 4, at most
    /// [`MAX_ATTEMPTS`]).
    #[serde(default, deserialize_with = "attempts")]
    pub max_attempts: Option<u32>,
    /// Allow plain HTTP to remote hosts (default false).
    #[serde(default)]
    pub danger_allow_insecure_http: bool,
    /// Accept secret files that group or other users can read (default
    /// false: such a file is refused).
    #[serde(default)]
    pub danger_allow_shared_secret_file: bool,
    /// Extra CA certificates (PEM) to trust, e.g. the hospital's own CA.
    pub tls_ca_file: Option<PathBuf>,
}

/// The keys [`EndpointSettings`] reads, for messages.
const ENDPOINT_KEYS: &[&str] = &[
    "url",
    "username",
    "password_file",
    "password_env",
    "bearer_token_file",
    "bearer_token_env",
    "token_url",
    "smart_discovery",
    "oidc_issuer",
    "client_id",
    "client_secret_file",
    "client_secret_env",
    "client_auth",
    "client_key_file",
    "client_key_id",
    "client_key_algorithm",
    "scopes",
    "grant",
    "token_renewal_margin_seconds",
    "token_parameters",
    "timeout_seconds",
    "max_attempts",
    "danger_allow_insecure_http",
    "danger_allow_shared_secret_file",
    "tls_ca_file",
];

/// `max_attempts`: 1 to [`MAX_ATTEMPTS`] (a huge value would retry for ever).
fn attempts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let n = u64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(n @ 1..=MAX_ATTEMPTS) => Ok(Some(n)),
        _ => Err(serde::de::Error::custom(format!(
            "`max_attempts` must be 1 to {MAX_ATTEMPTS} (attempts per operation, retries included)"
        ))),
    }
}

fn refuse(system: &str, detail: &str) -> StoreError {
    StoreError::Configuration {
        detail: format!("system `{system}`: {detail}"),
    }
}

impl EndpointSettings {
    /// The endpoint of system `system` (named in messages).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when credentials are half given (a
    /// `username` without a password source or the reverse, an incomplete
    /// client-credentials grant), more than one kind is given, a secret has
    /// both a file and a variable, or a secret file others can read.
    pub fn endpoint(&self, system: &str) -> Result<Endpoint, StoreError> {
        let mut endpoint = Endpoint::new(&self.url);
        endpoint.http = self.http_options();
        endpoint.credentials = self.credentials(system)?;
        Ok(endpoint)
    }

    fn http_options(&self) -> HttpOptions {
        let mut options = HttpOptions::default();
        if let Some(t) = self.timeout_seconds {
            options.timeout = Duration::from_secs(t.max(1));
        }
        if let Some(a) = self.max_attempts {
            options.max_attempts = a.max(1);
        }
        options.danger_allow_insecure_http = self.danger_allow_insecure_http;
        options.ca_file = self.tls_ca_file.clone();
        options
    }

    fn credentials(&self, system: &str) -> Result<Credentials, StoreError> {
        let secret = |what, file, env| self.secret(system, what, file, env);
        let password = secret("password", &self.password_file, &self.password_env)?;
        let bearer = secret(
            "bearer_token",
            &self.bearer_token_file,
            &self.bearer_token_env,
        )?;
        let client_secret = secret(
            "client_secret",
            &self.client_secret_file,
            &self.client_secret_env,
        )?;
        let password_grant = self.grant == Some(GrantKind::Password);
        let (basic, owner_password) = if password_grant {
            (None, password)
        } else {
            (self.basic(system, password)?, None)
        };
        let bearer = bearer.map(|token| Credentials::Bearer { token });
        let oauth = self.oauth(system, client_secret, owner_password)?;
        let mut given = [basic, bearer, oauth].into_iter().flatten();
        let credentials = given.next().unwrap_or_default();
        if given.next().is_some() {
            return Err(refuse(
                system,
                "give one kind of credentials: username and password, a bearer token, or an \
                 OAuth 2 client (client_id with a token endpoint)",
            ));
        }
        Ok(credentials)
    }

    /// HTTP Basic, when `username` or a password is given.
    fn basic(
        &self,
        system: &str,
        password: Option<SecretSource>,
    ) -> Result<Option<Credentials>, StoreError> {
        match (&self.username, password) {
            (Some(user), Some(password)) => Ok(Some(Credentials::basic(user, password))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(refuse(
                system,
                "`username` is set but no password: add `password_file` (or `password_env`), \
                 or remove `username`",
            )),
            (None, Some(_)) => Err(refuse(
                system,
                "a password is set but no `username`: add `username`, or remove the password \
                 setting",
            )),
        }
    }

    /// A secret's source; a file must be private unless
    /// `danger_allow_shared_secret_file`.
    fn secret(
        &self,
        system: &str,
        what: &str,
        file: &Option<PathBuf>,
        env: &Option<String>,
    ) -> Result<Option<SecretSource>, StoreError> {
        let source = match (file, env) {
            (Some(f), None) => SecretSource::File(f.clone()),
            (None, Some(e)) => SecretSource::Env(e.clone()),
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(refuse(
                    system,
                    &format!("give either {what}_file or {what}_env, not both"),
                ));
            }
        };
        if !self.danger_allow_shared_secret_file {
            source.check_private()?;
        }
        Ok(Some(source))
    }
}

/// The keys an adapter adds to the endpoint keys of its entry.
pub trait SystemKeys {
    /// The adapter's own keys, for the message about an unknown key.
    const KEYS: &'static [&'static str];
}

/// One remote system's entry: the endpoint keys and the adapter's own keys
/// `T`, any other key an error naming the key (never its value) and the
/// keys allowed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Section<T> {
    /// The endpoint keys.
    pub endpoint: EndpointSettings,
    /// The adapter's own keys.
    pub system: T,
}

#[derive(Deserialize)]
struct RawSection<T> {
    #[serde(flatten)]
    endpoint: EndpointSettings,
    #[serde(flatten)]
    system: T,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

impl<'de, T: Deserialize<'de> + SystemKeys> Deserialize<'de> for Section<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawSection::<T>::deserialize(d)?;
        if let Some(key) = raw.unknown.keys().next() {
            let allowed: Vec<String> = ENDPOINT_KEYS
                .iter()
                .chain(T::KEYS)
                .map(|k| format!("`{k}`"))
                .collect();
            return Err(serde::de::Error::custom(format!(
                "unknown field `{key}`, expected one of {}",
                allowed.join(", ")
            )));
        }
        Ok(Self {
            endpoint: raw.endpoint,
            system: raw.system,
        })
    }
}

#[cfg(test)]
mod tests;
