//! The fake's check of a `private_key_jwt` client assertion (RFC 7523,
//! SMART Backend Services): its ES384 signature against the public key
//! registered for the client (its JWKS), then its claims. Also signs
//! assertions for the tests that send wrong ones on purpose.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P384_SHA384_FIXED, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use serde_json::{Value, json};

/// The registered client's P-384 key, made for these tests only (no
/// server trusts it); the fake knows its public half.
pub const CLIENT_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBhIrktUtnhigJJB7ks
NgrDRxZcIsCccewVySfti4f64d3ySRBsECTdM7ADlHQMih+hZANiAAT2qQ/LH/Cp
miiEe1Pb0y5IppfI99OO50HbYLvMHueJpG+kOCFr7nSjQoPQDculCbTcah/4PzBv
3a0k9JyUFa44ezJt2QUQFVEqx1y3U27pIbOwdv3ENmcehnMS5ahkIb0=
-----END PRIVATE KEY-----
";

fn key_pair(pem: &str) -> EcdsaKeyPair {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("a PEM key");
    EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &der, &SystemRandom::new())
        .expect("a P-384 PKCS#8 key")
}

/// The public key (uncompressed point) of a PKCS#8 PEM P-384 key.
pub fn public_key_of(pem: &str) -> Vec<u8> {
    key_pair(pem).public_key().as_ref().to_vec()
}

/// An ES384 JWT with `claims`, signed with `pem`.
pub fn sign(claims: &Value, pem: &str) -> String {
    let header = json!({"alg": "ES384", "typ": "JWT"});
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", encode(&header), encode(claims));
    let signature = key_pair(pem)
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("signing works");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// Why an assertion is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    Signature,
    Issuer,
    Audience,
    Expiry,
}

/// Verifies `assertion`'s ES384 signature against `public_key`, then its
/// claims: `iss` = `sub` = `client_id`, `aud` = `token_url`, an `exp` in
/// the future at most 5 minutes ahead.
pub fn check(
    assertion: &str,
    public_key: &[u8],
    client_id: &str,
    token_url: &str,
) -> Result<(), Refusal> {
    let mut parts = assertion.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| Refusal::Malformed);
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| Refusal::Malformed)?;
    if header["alg"] != "ES384" {
        return Err(Refusal::Signature);
    }
    let signed = &assertion[..assertion.rfind('.').unwrap()];
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, public_key)
        .verify(signed.as_bytes(), &decode(signature)?)
        .map_err(|_| Refusal::Signature)?;
    let claims: Value =
        serde_json::from_slice(&decode(payload)?).map_err(|_| Refusal::Malformed)?;
    if claims["iss"] != client_id || claims["sub"] != client_id {
        return Err(Refusal::Issuer);
    }
    if claims["aud"] != token_url {
        return Err(Refusal::Audience);
    }
    let now = jiff::Timestamp::now().as_second();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if exp <= now || exp > now + 300 {
        return Err(Refusal::Expiry);
    }
    Ok(())
}
