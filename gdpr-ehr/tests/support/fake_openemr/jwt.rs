//! The fake's check of a `private_key_jwt` client assertion (RFC 7523,
//! SMART Backend Services): its RS384 signature (the algorithm OpenEMR's
//! API_README documents for `private_key_jwt`) or ES384 signature (SMART
//! allows both) against the public keys registered for the client (its
//! JWKS: one RSA, one P-384), then its claims. Also signs assertions for
//! the tests that send wrong ones on purpose.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P384_SHA384_FIXED, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_SHA384, RsaKeyPair, UnparsedPublicKey,
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

/// The registered client's RSA key (2048 bits, PKCS#8), made for these
/// tests only (no server trusts it); the fake knows its public half.
pub const CLIENT_RSA_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQChFo96F1AUNXFx
DxPMvnsMEqQO5W6ZiKMR1SjVLhO4Q3NYuOJtWg15VjkD2t0qYQI6D0ltHvbJFu8p
+QF+FUwcVLFrZlimH2yGfe4EgnQjlBrHZvvY6ZfJai9vTFbtRo0cGa2kNbacxyT7
I6sr3ykWNcVS1++1AJQN5JJ4/nYkxD4x3oB3WjXylEYdH+3deVjmNnzqT+9ddTO4
37o2B/ggSFGz/iJbGosL7h/J3Q+iquK0XvGpHMYfPE3UmTjiVxwBLgqcg8CPYYn5
sCqBvrT55cVrnD7i/RiBZlEuDkeO/1cXH6z3ON+91G0f+ZQCVnLbkApe5mTDOVsM
0BtfWQ2tAgMBAAECggEAHl2kWj1+yPByG//dmaDmjRYOewhg2uxY4QmvktAGw5tj
aPwhIr/w/kh0ovdk7ZIv20X6b2mA19NM7jqUP3JAUK7eawJ1/4q46HlgntUAk5xd
l+0f2HngNQWhP3fCgyPjgcKNawD9FXysyfKlV7XPhvJH6h/ufc5IGn5V5h0BpFhU
44TaVVpNVq5Cv+WPgyGHBfbKgqZLq7iEMLgLoM4ATmYX00PHZOf6ycYqp6TIUf5F
nmz3nTkDC9y8Y9LfPr6tNMOYr8MbmG3jrf3VK9b9Hau7SDZ8TUDhYDZES83QG+fy
5NgKRvqsmVTsPnrisxIm8Drd+yuLLjARQGel0x1hQQKBgQDimF9g28zXSJtcLE00
8jSJuaHMXak3E1myqKtyFOMLlhkHuyxgVr/X7fod3eeWDlXF++PoulnbY3+goGkp
zJJrUFc1kWlgd2umGTe3LmigswmZZDvOuNg+KZe2cnlLSXzb1MJdb3he1Rt54J1Q
5vUXtvn+yg62Dy/UNJLJ4MLR6QKBgQC1/gD4hYhCAXgTduNlJW9JR2YjXG9iqmtp
AAlBcHnR4gmxzXohp902n8cSwH7neRdo9pfWcymG4GDKM/7s8WxqVJFsvfA9dLkW
5Z6jSHl+e/lJlF/OSh1BbuYXugE9OF7n6L45oG7Tdyz1/sRi+nTAbJ6z4o9a80vj
6xPz0KmfJQKBgHNftAikQctH69rlr7YKsNeDTi+5bMRfNOez2/+tROGMXlhCZFj1
Mp8mS5jTeOw9hkzVcXj5EXGUWtKVepZO1CqR8KWU0XvNsmETK/w4RAu2vWd90rny
AiC8msPJy5qa41knHoPmkvpuNZw70r3zqs2VW/rwNMdcOjUpQ6hIqcmpAoGAN0Cz
mMApuyhpBTfOF/JClDPaHZg9tO3aiFlbdgOo6IDAwruIfdlR/viJXvcUUEBiTBq5
xIDYNbu/hwQ8PEGb0bh1IleULYRXgU0bWaVyRWVsLNugLqgvs6LwtnlhUO3hWnU9
847ytr7y5oh/pTE26wjPMfvx3AILo1nGh/ps1QUCgYBNNAgo6pGIGWROJKd6PJUt
gu+MiNgZj59w1IkqXxBXJYgPbc9xP7FdZc5Rk97Aw+x7vb53vHcUm6tw41PPlBCV
uruVJSTAqt4zN0YPFsZvMod22RjftjXuCyA0aAFMACwor58+KuKZ3Q9B5FyUSYpr
ahOSl40kDKjnf+aN9ObMtg==
-----END PRIVATE KEY-----
";

/// A PKCS#8 PEM key of either kind.
enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

fn key_pair(pem: &str) -> Pair {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("a PEM key");
    match EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &der, &SystemRandom::new()) {
        Ok(ec) => Pair::Ec(ec),
        Err(_) => Pair::Rsa(RsaKeyPair::from_pkcs8(&der).expect("a P-384 or RSA PKCS#8 key")),
    }
}

/// The public key of a PKCS#8 PEM key: a P-384 key's uncompressed point,
/// an RSA key's DER `RSAPublicKey`.
pub fn public_key_of(pem: &str) -> Vec<u8> {
    match key_pair(pem) {
        Pair::Ec(ec) => ec.public_key().as_ref().to_vec(),
        Pair::Rsa(rsa) => rsa.public_key().as_ref().to_vec(),
    }
}

/// A JWT with `claims`, signed with `pem`: ES384 for a P-384 key, RS384
/// for an RSA key.
pub fn sign(claims: &Value, pem: &str) -> String {
    let pair = key_pair(pem);
    let alg = match pair {
        Pair::Ec(_) => "ES384",
        Pair::Rsa(_) => "RS384",
    };
    let header = json!({"alg": alg, "typ": "JWT"});
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", encode(&header), encode(claims));
    let rng = SystemRandom::new();
    let signature = match pair {
        Pair::Ec(ec) => ec
            .sign(&rng, input.as_bytes())
            .expect("signing works")
            .as_ref()
            .to_vec(),
        Pair::Rsa(rsa) => {
            let mut signature = vec![0; rsa.public().modulus_len()];
            rsa.sign(&RSA_PKCS1_SHA384, &rng, input.as_bytes(), &mut signature)
                .expect("signing works");
            signature
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The client's registered public keys (its JWKS).
#[derive(Debug, Clone, Default)]
pub struct ClientKeys {
    /// P-384, for ES384.
    pub ec: Vec<u8>,
    /// RSA, for RS384.
    pub rsa: Vec<u8>,
}

impl ClientKeys {
    /// The public halves of [`CLIENT_KEY`] and [`CLIENT_RSA_KEY`].
    pub fn registered() -> Self {
        Self {
            ec: public_key_of(CLIENT_KEY),
            rsa: public_key_of(CLIENT_RSA_KEY),
        }
    }
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

/// Verifies `assertion`'s signature (RS384 against the RSA key, ES384
/// against the P-384 key, any other `alg` refused), then its
/// claims: `iss` = `sub` = `client_id`, `aud` = `token_url`, an `exp` in
/// the future at most 5 minutes ahead.
pub fn check(
    assertion: &str,
    keys: &ClientKeys,
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
    let signed = &assertion[..assertion.rfind('.').unwrap()];
    let signature = decode(signature)?;
    let verified = match header["alg"].as_str() {
        Some("RS384") => UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA384, &keys.rsa)
            .verify(signed.as_bytes(), &signature),
        Some("ES384") => UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, &keys.ec)
            .verify(signed.as_bytes(), &signature),
        _ => return Err(Refusal::Signature),
    };
    verified.map_err(|_| Refusal::Signature)?;
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
