//! The OAuth 2 keys of a system's entry: the token endpoint (`token_url`,
//! `smart_discovery` or `oidc_issuer`), the client (`client_id` with a
//! secret or a `private_key_jwt` key), `scopes`, the `grant`, the renewal
//! margin and extra token parameters, checked into
//! [`Credentials::ClientCredentials`] or [`Credentials::Password`].

use std::time::Duration;

use gdpr_core::store::StoreError;
use serde::Deserialize;

use super::{EndpointSettings, refuse};
use crate::endpoint::Credentials;
use crate::grant::{ClientAuth, ClientCredentials, PasswordGrant, PrivateKeyJwt, TokenEndpoint};
use crate::secret::SecretSource;

/// How a client secret is sent (`client_auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecretMethod {
    /// In the form body (the default).
    ClientSecretPost,
    /// As HTTP Basic credentials.
    ClientSecretBasic,
}

/// The OAuth 2 grant (`grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantKind {
    /// Client credentials (RFC 6749 §4.4), the default.
    ClientCredentials,
    /// Resource-owner password (RFC 6749 §4.3) with `username` and the
    /// password settings.
    Password,
}

impl EndpointSettings {
    /// Whether any OAuth 2 key is given.
    fn uses_oauth(&self, client_secret: bool) -> bool {
        client_secret
            || self.token_url.is_some()
            || self.smart_discovery
            || self.oidc_issuer.is_some()
            || self.client_id.is_some()
            || self.client_auth.is_some()
            || self.client_key_file.is_some()
            || self.client_key_id.is_some()
            || self.client_key_algorithm.is_some()
            || self.scopes.is_some()
            || self.grant.is_some()
            || self.token_renewal_margin_seconds.is_some()
            || self.token_parameters.is_some()
    }

    /// The OAuth 2 credentials, when any OAuth 2 key is given;
    /// `owner_password` is the password of a password grant.
    pub(super) fn oauth(
        &self,
        system: &str,
        client_secret: Option<SecretSource>,
        owner_password: Option<SecretSource>,
    ) -> Result<Option<Credentials>, StoreError> {
        if !self.uses_oauth(client_secret.is_some()) {
            return Ok(None);
        }
        let client_id = self.client_id.as_ref().ok_or_else(|| {
            refuse(
                system,
                "the OAuth 2 settings need `client_id`: add it, or remove them",
            )
        })?;
        let auth = self.client_auth(system, client_secret)?;
        let mut client =
            ClientCredentials::with_auth(self.token_endpoint(system)?, client_id, auth);
        client.scopes = self.scopes.clone().unwrap_or_default();
        if let Some(s) = self.token_renewal_margin_seconds {
            client.renewal_margin = Duration::from_secs(s);
        }
        client.parameters = self
            .token_parameters
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if self.grant != Some(GrantKind::Password) {
            if client.auth == ClientAuth::None {
                return Err(refuse(
                    system,
                    "an OAuth 2 client-credentials client needs a client secret \
                     (client_secret_file or client_secret_env) or a key (client_key_file)",
                ));
            }
            return Ok(Some(Credentials::ClientCredentials(client)));
        }
        match (&self.username, owner_password) {
            (Some(user), Some(password)) => Ok(Some(Credentials::Password(PasswordGrant::new(
                client, user, password,
            )))),
            _ => Err(refuse(
                system,
                "`grant = \"password\"` needs `username` and `password_file` (or \
                 `password_env`) of the user the tokens are issued to",
            )),
        }
    }

    /// Exactly one of `token_url`, `smart_discovery`, `oidc_issuer`.
    fn token_endpoint(&self, system: &str) -> Result<TokenEndpoint, StoreError> {
        match (&self.token_url, self.smart_discovery, &self.oidc_issuer) {
            (Some(url), false, None) => Ok(TokenEndpoint::Url(url.clone())),
            (None, true, None) => Ok(TokenEndpoint::Smart {
                fhir_base: self.url.clone(),
            }),
            (None, false, Some(issuer)) => Ok(TokenEndpoint::Oidc {
                issuer: issuer.clone(),
            }),
            _ => Err(refuse(
                system,
                "give the OAuth 2 token endpoint one way: `token_url`, `smart_discovery = true` \
                 or `oidc_issuer`",
            )),
        }
    }

    /// A client secret or a key, not both; key settings only with a key.
    fn client_auth(
        &self,
        system: &str,
        client_secret: Option<SecretSource>,
    ) -> Result<ClientAuth, StoreError> {
        let key_only = self.client_key_id.is_some() || self.client_key_algorithm.is_some();
        match (client_secret, &self.client_key_file) {
            (Some(_), Some(_)) => Err(refuse(
                system,
                "give either a client secret or `client_key_file` (private_key_jwt), not both",
            )),
            (Some(secret), None) if !key_only => Ok(match self.client_auth {
                Some(SecretMethod::ClientSecretBasic) => ClientAuth::SecretBasic(secret),
                Some(SecretMethod::ClientSecretPost) | None => ClientAuth::SecretPost(secret),
            }),
            (None, Some(file)) if self.client_auth.is_none() => {
                let source = SecretSource::File(file.clone());
                if !self.danger_allow_shared_secret_file {
                    source.check_private()?;
                }
                let mut jwt =
                    PrivateKeyJwt::new(file, self.client_key_algorithm.unwrap_or_default());
                jwt.key_id = self.client_key_id.clone();
                Ok(ClientAuth::PrivateKeyJwt(jwt))
            }
            (None, None) if !key_only && self.client_auth.is_none() => Ok(ClientAuth::None),
            (_, Some(_)) => Err(refuse(
                system,
                "`client_auth` is for client secrets; a `client_key_file` always signs a \
                 private_key_jwt assertion: remove `client_auth`",
            )),
            (_, None) => Err(refuse(
                system,
                "`client_key_id` and `client_key_algorithm` need `client_key_file` (and \
                 `client_auth` a client secret): add it, or remove them",
            )),
        }
    }
}
