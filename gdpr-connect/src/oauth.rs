//! OAuth 2 access tokens (RFC 6749): the client-credentials grant (§4.4;
//! Keycloak, SMART Backend Services) and the password grant (§4.3;
//! OpenEMR), with the client authenticated by a secret or a
//! `private_key_jwt` assertion (RFC 7523). Tokens are cached and renewed
//! before they expire ([`ClientCredentials::renewal_margin`]); a token the
//! resource server refused is dropped by [`TokenSource::invalidate`], so
//! that concurrent requests that saw the same refusal share one renewal.
//! Secrets, tokens and assertions are zeroizing secrets and never appear in
//! errors. Token requests go through the layer's one retry loop.

use std::time::{Duration, SystemTime};

use gdpr_core::store::{ProtocolCause, StoreError};
use reqwest::{Client, Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::{Mutex, OnceCell};
use tokio::time::Instant;
use url::form_urlencoded::{Serializer, byte_serialize};
use zeroize::Zeroizing;

use crate::answer::{describe, is_retryable, is_untrusted_certificate, untrusted};
use crate::assertion::{ASSERTION_TYPE, Signer};
use crate::client::{retry, retry_answer};
use crate::endpoint::HttpOptions;
use crate::error::{Error, TokenRefusal};
use crate::grant::{ClientAuth, ClientCredentials, TokenEndpoint};
use crate::retry::{Attempt, with_retries};

/// How the client authenticates, with its secret loaded.
enum Authn {
    None,
    Post(SecretString),
    Basic(SecretString),
    Jwt(Box<Signer>),
}

/// The grant, with the resource owner's password loaded.
enum Grant {
    ClientCredentials,
    Password {
        username: String,
        password: SecretString,
    },
}

/// A token handed out, with the generation that names it for
/// [`TokenSource::invalidate`].
pub(crate) struct Token {
    pub(crate) secret: SecretString,
    pub(crate) generation: u64,
}

#[derive(Default)]
struct Cache {
    current: Option<(SecretString, Instant)>,
    generation: u64,
}

/// A token source with its cache.
pub(crate) struct TokenSource {
    endpoint: TokenEndpoint,
    token_url: OnceCell<Url>,
    client_id: String,
    authn: Authn,
    grant: Grant,
    scope: Option<String>,
    parameters: Vec<(String, String)>,
    margin: Duration,
    cache: Mutex<Cache>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default = "default_lifetime")]
    expires_in: u64,
    #[serde(default)]
    token_type: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: Option<String>,
}

/// How long after it was asked for a token of `lifetime` is renewed:
/// `margin` before it expires, but never more than half its lifetime before
/// (so that a short-lived token is not renewed on every call).
fn renew_after(lifetime: Duration, margin: Duration) -> Duration {
    lifetime - margin.min(lifetime / 2)
}

/// The lifetime assumed when a server names none.
fn default_lifetime() -> u64 {
    60
}

const CLIENT_CREDENTIALS: &str = "POST {token_url} (client credentials)";
const PASSWORD: &str = "POST {token_url} (password grant)";

impl TokenSource {
    /// Loads the secrets of `client` (and the resource owner's `password`
    /// for the password grant); an explicit token URL is checked now.
    pub(crate) fn load(
        client: &ClientCredentials,
        password: Option<(String, SecretString)>,
        options: &HttpOptions,
    ) -> Result<Self, StoreError> {
        let token_url = OnceCell::new();
        if let TokenEndpoint::Url(url) = &client.token_endpoint {
            let _ = token_url.set(crate::address::checked_url(url, options)?);
        }
        let authn = match &client.auth {
            ClientAuth::None => Authn::None,
            ClientAuth::SecretPost(s) => Authn::Post(s.load()?),
            ClientAuth::SecretBasic(s) => Authn::Basic(s.load()?),
            ClientAuth::PrivateKeyJwt(jwt) => Authn::Jwt(Box::new(Signer::load(jwt)?)),
        };
        let grant = match password {
            None => Grant::ClientCredentials,
            Some((username, password)) => Grant::Password { username, password },
        };
        Ok(Self {
            endpoint: client.token_endpoint.clone(),
            token_url,
            client_id: client.client_id.clone(),
            authn,
            grant,
            scope: (!client.scopes.is_empty()).then(|| client.scopes.join(" ")),
            parameters: client.parameters.clone(),
            margin: client.renewal_margin,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// A valid token: the cached one until its renewal time, else a fresh
    /// one (concurrent callers wait for the same request).
    pub(crate) async fn token(&self, http: &Client, options: &HttpOptions) -> Result<Token, Error> {
        let mut cache = self.cache.lock().await;
        if let Some((token, renew_at)) = &cache.current
            && Instant::now() < *renew_at
        {
            return Ok(Token {
                secret: token.clone(),
                generation: cache.generation,
            });
        }
        let asked_at = Instant::now();
        let (token, lifetime) = self.fetch(http, options).await?;
        cache.generation += 1;
        cache.current = Some((token.clone(), asked_at + renew_after(lifetime, self.margin)));
        Ok(Token {
            secret: token,
            generation: cache.generation,
        })
    }

    /// Drops the token of `generation` after a resource server refused it
    /// (a later generation, already renewed by another request, stays).
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut cache = self.cache.lock().await;
        if cache.generation == generation {
            cache.current = None;
        }
    }

    fn operation(&self) -> &'static str {
        match self.grant {
            Grant::ClientCredentials => CLIENT_CREDENTIALS,
            Grant::Password { .. } => PASSWORD,
        }
    }

    /// One token request: the token and its lifetime.
    async fn fetch(
        &self,
        http: &Client,
        options: &HttpOptions,
    ) -> Result<(SecretString, Duration), Error> {
        let op = self.operation();
        let token_url = self
            .token_url
            .get_or_try_init(|| crate::discovery::token_url(&self.endpoint, http, options))
            .await?;
        let response: Response = with_retries(op, options, || async {
            let body = self.form(token_url)?;
            let mut request = http
                .post(token_url.clone())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .body(body.to_string())
                .timeout(options.timeout);
            if let Authn::Basic(secret) = &self.authn {
                let user: String = byte_serialize(self.client_id.as_bytes()).collect();
                let password: Zeroizing<String> =
                    Zeroizing::new(byte_serialize(secret.expose_secret().as_bytes()).collect());
                request = request.basic_auth(user, Some(password.as_str()));
            }
            Ok(match request.send().await {
                Err(e) if is_untrusted_certificate(&e) => return Err(untrusted(op)),
                Err(e) => retry(describe(e)),
                Ok(r) if is_retryable(r.status()) => retry_answer(&r),
                Ok(r) => Attempt::Done(r),
            })
        })
        .await?;
        read_answer(op, response).await
    }

    /// The form body of a token request (a fresh assertion each time).
    fn form(&self, token_url: &Url) -> Result<Zeroizing<String>, StoreError> {
        let mut form = Serializer::new(String::new());
        match &self.grant {
            Grant::ClientCredentials => {
                form.append_pair("grant_type", "client_credentials");
            }
            Grant::Password { username, password } => {
                form.append_pair("grant_type", "password")
                    .append_pair("username", username)
                    .append_pair("password", password.expose_secret());
            }
        }
        if let Some(scope) = &self.scope {
            form.append_pair("scope", scope);
        }
        for (name, value) in &self.parameters {
            form.append_pair(name, value);
        }
        match &self.authn {
            Authn::None => {
                form.append_pair("client_id", &self.client_id);
            }
            Authn::Post(secret) => {
                form.append_pair("client_id", &self.client_id)
                    .append_pair("client_secret", secret.expose_secret());
            }
            Authn::Basic(_) => {}
            Authn::Jwt(signer) => {
                let assertion =
                    signer.assertion(&self.client_id, token_url.as_str(), SystemTime::now())?;
                form.append_pair("client_assertion_type", ASSERTION_TYPE)
                    .append_pair("client_assertion", assertion.expose_secret());
            }
        }
        Ok(Zeroizing::new(form.finish()))
    }
}

/// The token of a successful answer, or the refusal of a failed one.
async fn read_answer(
    op: &'static str,
    response: Response,
) -> Result<(SecretString, Duration), Error> {
    let status = response.status();
    let body = Zeroizing::new(
        response
            .bytes()
            .await
            .map_err(|e| StoreError::Transient {
                operation: op,
                attempts: 1,
                detail: describe(e),
            })?
            .to_vec(),
    );
    if matches!(
        status,
        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        let code = serde_json::from_slice::<ErrorAnswer>(&body)
            .ok()
            .and_then(|e| e.error);
        return Err(Error::TokenRefused {
            refusal: TokenRefusal::from_code(code.as_deref(), status.as_u16()),
        });
    }
    if !status.is_success() {
        return Err(StoreError::Protocol {
            operation: op,
            cause: ProtocolCause::UnexpectedStatus(status.as_u16()),
            detail: format!("HTTP {}", status.as_u16()),
        }
        .into());
    }
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| StoreError::Protocol {
        operation: op,
        cause: ProtocolCause::MalformedJson,
        detail: "the token answer is not the expected JSON; check `token_url`".into(),
    })?;
    let token = SecretString::from(answer.access_token);
    if answer
        .token_type
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(StoreError::Protocol {
            operation: op,
            cause: ProtocolCause::InvalidContent,
            detail: "the token is not a bearer token (DPoP and other bound tokens are not \
                     supported)"
                .into(),
        }
        .into());
    }
    Ok((token, Duration::from_secs(answer.expires_in.max(1))))
}

#[cfg(test)]
mod tests;
