//! The provider's signing keys: found through OIDC discovery, cached, and
//! fetched again when a token names a key id the cache does not hold (at
//! most once per `jwks_min_refresh_seconds`, so a flood of tokens with
//! invented key ids cannot make the gateway hammer the provider).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::claims::{Expect, check_claims};
use super::{Algorithm, TokenError, parse};
use crate::config::OidcConfig;

/// A public key from the JWKS.
#[derive(Clone)]
enum Key {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { curve: Curve, point: Vec<u8> },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

#[derive(Deserialize)]
struct JwkText {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

fn b64(v: Option<&String>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(v?.trim_end_matches('=')).ok()
}

impl Key {
    fn from_jwk(jwk: &JwkText) -> Option<Key> {
        match jwk.kty.as_str() {
            "RSA" => Some(Key::Rsa {
                n: b64(jwk.n.as_ref())?,
                e: b64(jwk.e.as_ref())?,
            }),
            "EC" => {
                let curve = match jwk.crv.as_deref()? {
                    "P-256" => Curve::P256,
                    "P-384" => Curve::P384,
                    _ => return None,
                };
                let mut point = vec![4u8];
                point.extend(b64(jwk.x.as_ref())?);
                point.extend(b64(jwk.y.as_ref())?);
                Some(Key::Ec { curve, point })
            }
            _ => None,
        }
    }

    fn verify(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> Result<(), TokenError> {
        let ok = match (self, alg) {
            (
                Key::Rsa { n, e },
                Algorithm::Rs256 | Algorithm::Rs384 | Algorithm::Rs512 | Algorithm::Ps256,
            ) => {
                let params: &signature::RsaParameters = match alg {
                    Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    _ => &signature::RSA_PSS_2048_8192_SHA256,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, sig)
                    .is_ok()
            }
            (
                Key::Ec {
                    curve: Curve::P256,
                    point,
                },
                Algorithm::Es256,
            ) => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, sig)
                .is_ok(),
            (
                Key::Ec {
                    curve: Curve::P384,
                    point,
                },
                Algorithm::Es384,
            ) => UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                .verify(message, sig)
                .is_ok(),
            // A key of another type than the token's algorithm.
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(TokenError::Signature)
        }
    }
}

struct Cache {
    jwks_uri: Option<url::Url>,
    keys: HashMap<String, Key>,
    fetched: Option<Instant>,
}

/// The verifier: the issuer's keys and the rules of the configuration.
pub struct Jwks {
    config: OidcConfig,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl Jwks {
    /// A verifier for `config`'s issuer; keys are fetched on first use.
    pub fn new(config: OidcConfig, http: reqwest::Client) -> Self {
        Self {
            config,
            http,
            cache: Mutex::new(Cache {
                jwks_uri: None,
                keys: HashMap::new(),
                fetched: None,
            }),
        }
    }

    /// Verifies `token` at the instant `now` (seconds since the epoch) and
    /// gives its claims.
    ///
    /// # Errors
    /// A [`TokenError`].
    pub async fn verify(&self, token: &str, now: i64) -> Result<Map<String, Value>, TokenError> {
        let parsed = parse(token, &self.config.algorithms)?;
        let kid = parsed.kid.clone().ok_or(TokenError::UnknownKey)?;
        let key = self.key(&kid).await?;
        key.verify(parsed.alg, parsed.signed.as_bytes(), &parsed.signature)?;
        let leeway = i64::try_from(self.config.leeway_seconds).unwrap_or(i64::MAX);
        let expect = Expect {
            issuer: &self.config.issuer,
            audience: &self.config.audience,
            leeway,
            now,
        };
        check_claims(&parsed.claims, &expect)?;
        Ok(parsed.claims)
    }

    async fn key(&self, kid: &str) -> Result<Key, TokenError> {
        let mut cache = self.cache.lock().await;
        if let Some(key) = cache.keys.get(kid) {
            return Ok(key.clone());
        }
        let min = Duration::from_secs(self.config.jwks_min_refresh_seconds);
        if cache.fetched.is_some_and(|at| at.elapsed() < min) {
            return Err(TokenError::UnknownKey);
        }
        self.refresh(&mut cache).await?;
        cache.keys.get(kid).cloned().ok_or(TokenError::UnknownKey)
    }

    async fn refresh(&self, cache: &mut Cache) -> Result<(), TokenError> {
        cache.fetched = Some(Instant::now());
        let uri = match &cache.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let uri = self.discover().await?;
                cache.jwks_uri = Some(uri.clone());
                uri
            }
        };
        #[derive(Deserialize)]
        struct Set {
            keys: Vec<JwkText>,
        }
        let set: Set = self.get_json(uri).await?;
        cache.keys = set
            .keys
            .iter()
            .filter(|k| k.usage.as_deref().is_none_or(|u| u == "sig"))
            .filter_map(|k| Some((k.kid.clone()?, Key::from_jwk(k)?)))
            .collect();
        Ok(())
    }

    async fn discover(&self) -> Result<url::Url, TokenError> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let base = self.config.issuer.trim_end_matches('/');
        let url = url::Url::parse(&format!("{base}/.well-known/openid-configuration"))
            .map_err(|_| TokenError::KeysUnavailable)?;
        let found: Discovery = self.get_json(url).await?;
        if found.issuer != self.config.issuer {
            return Err(TokenError::KeysUnavailable);
        }
        let options = gdpr_connect::HttpOptions::default();
        gdpr_connect::checked_url(&found.jwks_uri, &options)
            .map_err(|_| TokenError::KeysUnavailable)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: url::Url,
    ) -> Result<T, TokenError> {
        let answer = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|_| TokenError::KeysUnavailable)?;
        if !answer.status().is_success() {
            return Err(TokenError::KeysUnavailable);
        }
        let bytes = answer
            .bytes()
            .await
            .map_err(|_| TokenError::KeysUnavailable)?;
        if bytes.len() > 1024 * 1024 {
            return Err(TokenError::KeysUnavailable);
        }
        serde_json::from_slice(&bytes).map_err(|_| TokenError::KeysUnavailable)
    }
}
