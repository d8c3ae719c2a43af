//! OAuth 2 configuration: the client at a token endpoint
//! ([`ClientCredentials`]: its id, how it authenticates, its scopes), where
//! the token endpoint is ([`TokenEndpoint`]: given, or discovered the SMART
//! or the OpenID Connect way), and the resource-owner password grant
//! ([`PasswordGrant`]) for sites that enable it. Only sources of secrets are
//! named here; [`Client::connect`](crate::Client::connect) loads them.

use std::path::PathBuf;
use std::time::Duration;

use crate::secret::SecretSource;

/// Where the token endpoint is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEndpoint {
    /// The token endpoint's URL, given.
    Url(String),
    /// SMART on FHIR (App Launch 2.x §2.0.4, Backend Services): the
    /// `token_endpoint` of `<fhir_base>/.well-known/smart-configuration`.
    Smart {
        /// The FHIR base URL (usually the system's own `url`).
        fhir_base: String,
    },
    /// OpenID Connect Discovery 1.0: the `token_endpoint` of
    /// `<issuer>/.well-known/openid-configuration`, whose `issuer` must be
    /// `issuer` exactly (§4.3).
    Oidc {
        /// The issuer identifier.
        issuer: String,
    },
}

/// How a client authenticates at the token endpoint (RFC 6749 §2.3,
/// OpenID Connect Core §9).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A public client: only `client_id` in the form body.
    None,
    /// `client_secret_post`: the secret as `client_secret` in the form body
    /// (what Keycloak accepts and earlier releases sent).
    SecretPost(SecretSource),
    /// `client_secret_basic`: the id and secret as HTTP Basic credentials
    /// (RFC 6749 §2.3.1), the method every server must support.
    SecretBasic(SecretSource),
    /// `private_key_jwt` (RFC 7523 §2.2; SMART Backend Services): a signed
    /// client assertion instead of a shared secret.
    PrivateKeyJwt(PrivateKeyJwt),
}

/// The key a `private_key_jwt` client signs its assertions with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrivateKeyJwt {
    /// A PEM file holding the private key: PKCS#8 (`BEGIN PRIVATE KEY`, RSA
    /// or EC P-384) or PKCS#1 (`BEGIN RSA PRIVATE KEY`). Keep it readable by
    /// the service user only (mode 600).
    pub key_file: PathBuf,
    /// The `kid` header naming the key among those the server knows for the
    /// client (SMART requires it when the client has several).
    pub key_id: Option<String>,
    /// The signature algorithm (RS384 unless the key is an EC key).
    pub algorithm: SigningAlgorithm,
}

impl PrivateKeyJwt {
    /// A key in `key_file`, signing with `algorithm`, without a `kid`.
    pub fn new(key_file: impl Into<PathBuf>, algorithm: SigningAlgorithm) -> Self {
        Self {
            key_file: key_file.into(),
            key_id: None,
            algorithm,
        }
    }

    /// The same key, announced with `kid`.
    #[must_use]
    pub fn with_key_id(mut self, kid: impl Into<String>) -> Self {
        self.key_id = Some(kid.into());
        self
    }
}

/// The JWS algorithm of a client assertion (the two SMART Backend Services
/// requires servers to support).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-384 (RFC 7518 §3.3), an RSA key of 2048
    /// to 8192 bits. The default.
    #[default]
    #[serde(rename = "RS384")]
    Rs384,
    /// ECDSA on P-384 with SHA-384 (RFC 7518 §3.4).
    #[serde(rename = "ES384")]
    Es384,
}

impl SigningAlgorithm {
    /// The JWS name (`"RS384"`, `"ES384"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs384 => "RS384",
            Self::Es384 => "ES384",
        }
    }

    /// The algorithm of a JWS name, if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS384" => Some(Self::Rs384),
            "ES384" => Some(Self::Es384),
            _ => None,
        }
    }
}

/// How long before its expiry a token is renewed by default: 30 s, but
/// never more than half of the token's lifetime (see
/// [`ClientCredentials::renewal_margin`]).
pub const DEFAULT_RENEWAL_MARGIN: Duration = Duration::from_secs(30);

/// An OAuth 2 client at a token endpoint: the client-credentials grant
/// (RFC 6749 §4.4, as Keycloak and SMART Backend Services issue tokens) on
/// its own, or the client part of a [`PasswordGrant`]. Tokens are fetched
/// on demand and renewed before they expire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCredentials {
    /// Where the token endpoint is (same TLS policy as the system's URL).
    pub token_endpoint: TokenEndpoint,
    /// The client id.
    pub client_id: String,
    /// How the client authenticates.
    pub auth: ClientAuth,
    /// The scopes asked for (`system/*.read`); none: the server's default.
    pub scopes: Vec<String>,
    /// A token is renewed this long before it expires, but never more than
    /// half of its lifetime before (a 300 s token with the default 30 s:
    /// after 270 s; a 10 s token: after 5 s). Tokens without a refresh
    /// token, as client-credentials tokens are, are simply requested anew.
    pub renewal_margin: Duration,
    /// Further form parameters of the token request that some servers
    /// require (OpenEMR's password grant: `user_role = "users"`). Not
    /// secret: never put a secret here.
    pub parameters: Vec<(String, String)>,
}

impl ClientCredentials {
    /// A client at `token_url` for `client_id` whose secret comes from
    /// `client_secret` (sent as `client_secret` in the form body).
    pub fn new(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretSource,
    ) -> Self {
        Self::with_auth(
            TokenEndpoint::Url(token_url.into()),
            client_id,
            ClientAuth::SecretPost(client_secret),
        )
    }

    /// A client at `token_endpoint` for `client_id` authenticating with
    /// `auth`, no scopes, the default renewal margin.
    pub fn with_auth(
        token_endpoint: TokenEndpoint,
        client_id: impl Into<String>,
        auth: ClientAuth,
    ) -> Self {
        Self {
            token_endpoint,
            client_id: client_id.into(),
            auth,
            scopes: Vec::new(),
            renewal_margin: DEFAULT_RENEWAL_MARGIN,
            parameters: Vec::new(),
        }
    }

    /// The same client asking for `scopes`.
    #[must_use]
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The same client renewing tokens `margin` before they expire.
    #[must_use]
    pub fn with_renewal_margin(mut self, margin: Duration) -> Self {
        self.renewal_margin = margin;
        self
    }
}

/// The resource-owner password grant (RFC 6749 §4.3) for sites that enable
/// it (OpenEMR): a user's name and password exchanged for tokens by a
/// registered client. Renewed by asking again with the same password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordGrant {
    /// The client that asks (its `auth` may be [`ClientAuth::None`]).
    pub client: ClientCredentials,
    /// The resource owner's user name.
    pub username: String,
    /// Where the resource owner's password comes from.
    pub password: SecretSource,
}

impl PasswordGrant {
    /// The password grant of `username` through `client`.
    pub fn new(
        client: ClientCredentials,
        username: impl Into<String>,
        password: SecretSource,
    ) -> Self {
        Self {
            client,
            username: username.into(),
            password,
        }
    }
}
