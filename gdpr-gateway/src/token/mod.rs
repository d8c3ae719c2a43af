//! Bearer tokens: a JWT verified against the OpenID provider's JWKS.
//!
//! The signature is checked with `ring` (the crypto provider rustls
//! already uses, as gdpr-connect's client assertions are signed: see
//! ARCHITECTURE.md), for the algorithms on the configured allow-list only;
//! `none` and the HMAC algorithms (`HS*`) cannot be configured, so a token
//! signed with the provider's *public* key as an HMAC secret is refused.
//! Then `iss` must be the issuer, `aud` must name this gateway, and `exp`
//! (required), `nbf` and `iat` must hold at the decision's instant, with
//! the configured leeway.

mod claims;
mod jwks;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

pub use jwks::Jwks;

/// A JWS signature algorithm the gateway can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    #[serde(rename = "RS384")]
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    #[serde(rename = "RS512")]
    Rs512,
    /// RSASSA-PSS with SHA-256.
    #[serde(rename = "PS256")]
    Ps256,
    /// ECDSA P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// ECDSA P-384 with SHA-384.
    #[serde(rename = "ES384")]
    Es384,
}

impl Algorithm {
    fn from_header(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "PS256" => Self::Ps256,
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            _ => return None,
        })
    }
}

/// Why a token was refused; the code goes into the 401 answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    Missing,
    /// Not three base64url parts of JSON, or too long.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// `alg` is `none`, HMAC, or not on the allow-list.
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    /// No key with the token's `kid`, even after refreshing the JWKS.
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    Signature,
    /// `exp` is past (beyond the leeway), or missing.
    #[error("the token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token is from another issuer")]
    Issuer,
    /// `aud` does not name this gateway.
    #[error("the token is for another audience")]
    Audience,
    /// The provider's keys could not be fetched.
    #[error("the provider's keys are unavailable")]
    KeysUnavailable,
}

impl TokenError {
    /// The stable code in the answer.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Missing => "token-missing",
            Self::Malformed => "token-malformed",
            Self::Algorithm => "token-algorithm",
            Self::UnknownKey => "token-unknown-key",
            Self::Signature => "token-signature",
            Self::Expired => "token-expired",
            Self::NotYetValid => "token-not-yet-valid",
            Self::Issuer => "token-issuer",
            Self::Audience => "token-audience",
            Self::KeysUnavailable => "token-keys-unavailable",
        }
    }
}

/// The longest token accepted.
const MAX_TOKEN: usize = 16 * 1024;

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A token split and decoded, its signature not yet checked.
pub(crate) struct Parsed {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) signed: String,
    pub(crate) signature: Vec<u8>,
    pub(crate) claims: serde_json::Map<String, serde_json::Value>,
}

/// Splits and decodes `token`, checking the algorithm against `allowed`.
pub(crate) fn parse(token: &str, allowed: &[Algorithm]) -> Result<Parsed, TokenError> {
    if token.len() > MAX_TOKEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed)
    };
    let header: Header = serde_json::from_slice(&decode(h)?).map_err(|_| TokenError::Malformed)?;
    if header.crit.is_some() {
        return Err(TokenError::Malformed);
    }
    let alg = Algorithm::from_header(&header.alg).ok_or(TokenError::Algorithm)?;
    if !allowed.contains(&alg) {
        return Err(TokenError::Algorithm);
    }
    let claims = serde_json::from_slice(&decode(p)?).map_err(|_| TokenError::Malformed)?;
    let signature = decode(s)?;
    Ok(Parsed {
        alg,
        kid: header.kid,
        signed: format!("{h}.{p}"),
        signature,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn none_and_hmac_are_refused() {
        for alg in ["none", "HS256", "HS512", "RS256"] {
            let token = format!("{}.{}.", b64(&format!("{{\"alg\":\"{alg}\"}}")), b64("{}"));
            let allowed = [Algorithm::Es256];
            assert_eq!(
                parse(&token, &allowed).err(),
                Some(TokenError::Algorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn malformed_tokens() {
        for t in ["", "a.b", "a.b.c.d", "!!.??.##", &"a".repeat(MAX_TOKEN + 1)] {
            assert_eq!(
                parse(t, &[Algorithm::Rs256]).err(),
                Some(TokenError::Malformed)
            );
        }
        let crit = format!("{}.{}.", b64(r#"{"alg":"RS256","crit":["x"]}"#), b64("{}"));
        assert_eq!(
            parse(&crit, &[Algorithm::Rs256]).err(),
            Some(TokenError::Malformed)
        );
    }
}
