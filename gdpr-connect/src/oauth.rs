//! OAuth 2 client-credentials tokens (RFC 6749 §4.4; Keycloak as dcm4chee-arc
//! uses it, SMART Backend Services), cached until shortly before they
//! expire. Client secret and tokens are zeroizing secrets and never appear
//! in errors. Token requests go through the layer's one retry loop.

use std::time::{Duration, Instant};

use gdpr_core::store::{ProtocolCause, StoreError};
use reqwest::{Client, Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::answer::{describe, is_retryable, is_untrusted_certificate, untrusted};
use crate::client::{retry, retry_answer};
use crate::endpoint::HttpOptions;
use crate::retry::{Attempt, with_retries};

/// A client-credentials token source with its cache.
pub(crate) struct TokenSource {
    token_url: Url,
    client_id: String,
    secret: SecretString,
    cache: Mutex<Option<(SecretString, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default = "default_lifetime")]
    expires_in: u64,
}

fn default_lifetime() -> u64 {
    60
}

const OP: &str = "POST {token_url} (client credentials)";

impl TokenSource {
    pub(crate) fn new(token_url: Url, client_id: String, secret: SecretString) -> Self {
        Self {
            token_url,
            client_id,
            secret,
            cache: Mutex::new(None),
        }
    }

    /// A valid token: the cached one, or a fresh one.
    pub(crate) async fn token(
        &self,
        client: &Client,
        options: &HttpOptions,
    ) -> Result<SecretString, StoreError> {
        let mut cache = self.cache.lock().await;
        if let Some((token, until)) = cache.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.secret.expose_secret())
            .finish();
        let response: Response = with_retries(OP, options, || async {
            let sent = client
                .post(self.token_url.clone())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .timeout(options.timeout)
                .send()
                .await;
            Ok(match sent {
                Err(e) if is_untrusted_certificate(&e) => return Err(untrusted(OP)),
                Err(e) => retry(describe(e)),
                Ok(r) if is_retryable(r.status()) => retry_answer(&r),
                Ok(r) => Attempt::Done(r),
            })
        })
        .await?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => {
                return Err(StoreError::Configuration {
                    detail: "the token endpoint refused the client credentials; check \
                             `client_id` and the client secret file or variable"
                        .into(),
                });
            }
            s => {
                return Err(StoreError::Protocol {
                    operation: OP,
                    cause: ProtocolCause::UnexpectedStatus(s.as_u16()),
                    detail: format!("HTTP {}", s.as_u16()),
                });
            }
        }
        let body = response.bytes().await.map_err(|e| StoreError::Transient {
            operation: OP,
            attempts: 1,
            detail: describe(e),
        })?;
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|_| StoreError::Protocol {
                operation: OP,
                cause: ProtocolCause::MalformedJson,
                detail: "the token answer is not the expected JSON; check `token_url`".into(),
            })?;
        let token = SecretString::from(answer.access_token);
        // Renew 30 s early so that a token never expires mid-request.
        let lifetime = Duration::from_secs(answer.expires_in.saturating_sub(30).max(1));
        *cache = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }
}
