//! `private_key_jwt` client assertions (RFC 7523 §2.2, §3; SMART Backend
//! Services): a JWT signed with the client's private key, with `iss` =
//! `sub` = the client id, `aud` = the token endpoint, a random `jti` used
//! once, `iat` and an `exp` four minutes later (SMART allows at most five).
//!
//! Signing is ring's (already the TLS provider): RSASSA-PKCS1-v1_5 SHA-384
//! and ECDSA P-384 SHA-384 with the fixed-length signature JWS needs. The
//! key's PEM and DER bytes are zeroized after parsing; an assertion is a
//! [`SecretString`] and never printed.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gdpr_core::store::StoreError;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA384, RsaKeyPair,
};
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::grant::{PrivateKeyJwt, SigningAlgorithm};

/// How long an assertion is valid (SMART Backend Services: at most 5 min).
pub(crate) const ASSERTION_LIFETIME: Duration = Duration::from_secs(240);

/// The largest key file (64 KiB; a 8192-bit RSA key is about 6.5 KiB).
const MAX_KEY_BYTES: u64 = 64 << 10;

/// The type of a client assertion (RFC 7523 §2.2).
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

enum Key {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// A loaded signing key with its JWS header.
pub(crate) struct Signer {
    key: Key,
    /// `base64url(header)`, fixed per key.
    header: String,
    rng: SystemRandom,
}

fn refuse(path: &Path, why: &str) -> StoreError {
    StoreError::Configuration {
        detail: format!(
            "the client key file {}: {why}; `client_key_file` must be a PEM private key \
             (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072, or -algorithm EC \
             -pkeyopt ec_paramgen_curve:P-384), unencrypted, mode 600",
            path.display()
        ),
    }
}

impl Signer {
    /// Reads and parses the key `jwt` names.
    pub(crate) fn load(jwt: &PrivateKeyJwt) -> Result<Self, StoreError> {
        let path = &jwt.key_file;
        let pem = Zeroizing::new(crate::secret::read_regular_file(
            path,
            MAX_KEY_BYTES,
            "the client key file",
            "fix `client_key_file`",
        )?);
        let (label, der) = pem_block(&pem).ok_or_else(|| refuse(path, "holds no PEM block"))?;
        let rng = SystemRandom::new();
        let key = match (jwt.algorithm, label.as_str()) {
            (SigningAlgorithm::Rs384, "PRIVATE KEY") => RsaKeyPair::from_pkcs8(&der).map(Key::Rsa),
            (SigningAlgorithm::Rs384, "RSA PRIVATE KEY") => {
                RsaKeyPair::from_der(&der).map(Key::Rsa)
            }
            (SigningAlgorithm::Es384, "PRIVATE KEY") => {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &der, &rng)
                    .map(Key::Ecdsa)
            }
            (_, "ENCRYPTED PRIVATE KEY") => {
                return Err(refuse(
                    path,
                    "is encrypted (store it unencrypted, mode 600)",
                ));
            }
            (SigningAlgorithm::Es384, "EC PRIVATE KEY") => {
                return Err(refuse(
                    path,
                    "is a SEC1 EC key (convert it: openssl pkcs8 -topk8 -nocrypt)",
                ));
            }
            _ => return Err(refuse(path, "is not a private key of that kind")),
        }
        .map_err(|_| {
            refuse(
                path,
                &format!(
                    "is not a usable {} key (RS384 needs RSA of 2048 to 8192 bits, ES384 an EC \
                     P-384 key; set `client_key_algorithm` to match the key)",
                    jwt.algorithm.name()
                ),
            )
        })?;
        let mut header = serde_json::json!({ "alg": jwt.algorithm.name(), "typ": "JWT" });
        if let Some(kid) = &jwt.key_id {
            header["kid"] = kid.as_str().into();
        }
        Ok(Self {
            key,
            header: URL_SAFE_NO_PAD.encode(header.to_string()),
            rng,
        })
    }

    /// A fresh assertion of `client_id` for the token endpoint `audience`,
    /// issued at `now`.
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: SystemTime,
    ) -> Result<SecretString, StoreError> {
        let failed = || StoreError::Configuration {
            detail: "cannot sign the client assertion (the system's random generator or the \
                     key failed); check `client_key_file`"
                .into(),
        };
        let mut jti = [0u8; 16];
        self.rng.fill(&mut jti).map_err(|_| failed())?;
        let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME.as_secs(),
        });
        let mut input = format!(
            "{}.{}",
            self.header,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &self.key {
            Key::Rsa(key) => {
                let mut sig = vec![0; key.public().modulus_len()];
                key.sign(&RSA_PKCS1_SHA384, &self.rng, input.as_bytes(), &mut sig)
                    .map_err(|_| failed())?;
                sig
            }
            Key::Ecdsa(key) => key
                .sign(&self.rng, input.as_bytes())
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
        };
        input.push('.');
        input.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(SecretString::from(input))
    }
}

/// The label and the decoded body of the first PEM block.
fn pem_block(pem: &[u8]) -> Option<(String, Zeroizing<Vec<u8>>)> {
    let text = std::str::from_utf8(pem).ok()?;
    let begin = text.find("-----BEGIN ")?;
    let rest = &text[begin + 11..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body = &rest[label_end + 5..];
    let end = body.find(&format!("-----END {label}-----"))?;
    let base64: Zeroizing<String> =
        Zeroizing::new(body[..end].chars().filter(|c| !c.is_whitespace()).collect());
    let der = STANDARD.decode(base64.as_bytes()).ok()?;
    Some((label, Zeroizing::new(der)))
}

#[cfg(test)]
mod tests;
