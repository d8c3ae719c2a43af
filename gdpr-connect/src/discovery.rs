//! Finding the token endpoint: SMART on FHIR's
//! `<fhir base>/.well-known/smart-configuration` or OpenID Connect
//! Discovery's `<issuer>/.well-known/openid-configuration` (whose `issuer`
//! must be the one configured). The endpoint found obeys the same TLS
//! policy as every other URL; discovery runs once per client.

use gdpr_core::store::{ProtocolCause, StoreError};
use reqwest::{Client, Url};
use serde::Deserialize;

use crate::address::{checked_base_url, checked_url};
use crate::answer::{check_status, describe, is_retryable, is_untrusted_certificate, untrusted};
use crate::client::{retry, retry_answer};
use crate::endpoint::HttpOptions;
use crate::grant::TokenEndpoint;
use crate::retry::{Attempt, with_retries};

const SMART: &str = "GET /.well-known/smart-configuration";
const OIDC: &str = "GET /.well-known/openid-configuration";

#[derive(Deserialize)]
struct Configuration {
    issuer: Option<String>,
    token_endpoint: Option<String>,
}

/// The token endpoint `endpoint` names or leads to.
pub(crate) async fn token_url(
    endpoint: &TokenEndpoint,
    http: &Client,
    options: &HttpOptions,
) -> Result<Url, StoreError> {
    let (op, base, issuer) = match endpoint {
        TokenEndpoint::Url(url) => return checked_url(url, options),
        TokenEndpoint::Smart { fhir_base } => (SMART, fhir_base, None),
        TokenEndpoint::Oidc { issuer } => (OIDC, issuer, Some(issuer)),
    };
    let document = checked_base_url(base, options)?
        .join(&op["GET /".len()..])
        .map_err(|_| StoreError::Configuration {
            detail: "cannot form the discovery URL; check `url` or `oidc_issuer`".into(),
        })?;
    let body = with_retries(op, options, || async {
        let sent = http
            .get(document.clone())
            .header("Accept", "application/json")
            .timeout(options.timeout)
            .send()
            .await;
        Ok(match sent {
            Err(e) if is_untrusted_certificate(&e) => return Err(untrusted(op)),
            Err(e) => retry(describe(e)),
            Ok(r) if is_retryable(r.status()) => retry_answer(&r),
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                return Err(StoreError::Configuration {
                    detail: format!(
                        "{op}: the server offers no discovery document (HTTP 404); set \
                         `token_url` instead"
                    ),
                });
            }
            Ok(r) => {
                check_status(op, r.status())?;
                match r.bytes().await {
                    Ok(body) => Attempt::Done(body),
                    Err(e) => retry(describe(e)),
                }
            }
        })
    })
    .await?;
    let found: Configuration = crate::answer::parse_json(op, &body)?;
    let invalid = |detail: &str| StoreError::Protocol {
        operation: op,
        cause: ProtocolCause::InvalidContent,
        detail: detail.into(),
    };
    if let Some(issuer) = issuer
        && found.issuer.as_deref() != Some(issuer.as_str())
    {
        return Err(invalid(
            "the discovery document names another issuer (OpenID Connect Discovery §4.3); \
             check `oidc_issuer` (exactly as the server spells it)",
        ));
    }
    let token_endpoint = found
        .token_endpoint
        .ok_or_else(|| invalid("the discovery document names no `token_endpoint`"))?;
    checked_url(&token_endpoint, options)
}
