use super::*;
use ring::signature::{ECDSA_P384_SHA384_FIXED, KeyPair, UnparsedPublicKey};
use secrecy::ExposeSecret;
use std::os::unix::fs::PermissionsExt;

/// An EC P-384 key in a PKCS#8 PEM file (mode 600), and its public key.
fn ec_key(dir: &Path) -> (PrivateKeyJwt, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    let path = dir.join("client.pem");
    std::fs::write(&path, pem).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let jwt = PrivateKeyJwt::new(path, SigningAlgorithm::Es384).with_key_id("k1");
    (jwt, pair.public_key().as_ref().to_vec())
}

fn part(jwt: &str, n: usize) -> serde_json::Value {
    let text = jwt.split('.').nth(n).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).unwrap()).unwrap()
}

#[test]
fn an_assertion_carries_the_claims_rfc_7523_asks_for_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (jwt, public) = ec_key(dir.path());
    let signer = Signer::load(&jwt).unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let token_url = "https://ehr.example.org/oauth2/default/token";
    let a = signer.assertion("gdpr-client", token_url, now).unwrap();
    let a = a.expose_secret();
    let header = part(a, 0);
    assert_eq!(header["alg"], "ES384");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], "k1");
    let claims = part(a, 1);
    assert_eq!(claims["iss"], "gdpr-client");
    assert_eq!(claims["sub"], "gdpr-client");
    assert_eq!(claims["aud"], token_url);
    assert_eq!(claims["iat"], 1_800_000_000u64);
    let lifetime = claims["exp"].as_u64().unwrap() - 1_800_000_000;
    assert!((1..=300).contains(&lifetime), "{lifetime}");
    let (input, signature) = a.rsplit_once('.').unwrap();
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, public)
        .verify(
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .unwrap();
    let b = signer.assertion("gdpr-client", token_url, now).unwrap();
    assert_ne!(
        part(b.expose_secret(), 1)["jti"],
        claims["jti"],
        "jti must be unique"
    );
}

#[test]
fn keys_of_the_wrong_kind_are_refused_by_setting_and_file_without_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let (mut jwt, _) = ec_key(dir.path());
    jwt.algorithm = SigningAlgorithm::Rs384;
    let err = Signer::load(&jwt).err().unwrap().to_string();
    assert!(
        err.contains("client_key_algorithm") && err.contains("client.pem"),
        "{err}"
    );
    let pem = std::fs::read_to_string(&jwt.key_file).unwrap();
    let body = pem.lines().nth(1).unwrap();
    assert!(!err.contains(&body[..20]), "{err}");

    std::fs::write(&jwt.key_file, "CANARY no key here\n").unwrap();
    let err = Signer::load(&jwt).err().unwrap().to_string();
    assert!(
        err.contains("no PEM block") && !err.contains("CANARY"),
        "{err}"
    );
    std::fs::write(
        &jwt.key_file,
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nQUJD\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = Signer::load(&jwt).err().unwrap().to_string();
    assert!(err.contains("encrypted"), "{err}");
    jwt.key_file = "/dev/zero".into();
    let err = Signer::load(&jwt).err().unwrap().to_string();
    assert!(err.contains("not a regular file"), "{err}");
}
