//! The FAKE OpenEMR's token endpoint (tests/support/fake_openemr/) refuses
//! client assertions as OpenEMR does, RS384 (OpenEMR's documented
//! `private_key_jwt` algorithm) and ES384 alike: a signature that does not verify
//! against the client's registered key, another audience, an `exp` more
//! than 5 minutes ahead or past, another issuer, and scopes the client was
//! not registered with; a right assertion gets a token. Each refusal is
//! sent once directly (a crafted assertion) and, where the store can make
//! it, through the OpenEMR store.

#[path = "support/fake_openemr/mod.rs"]
mod fake_openemr;

use std::time::Duration;

use fake_openemr::jwt::{CLIENT_KEY, CLIENT_RSA_KEY, sign};
use fake_openemr::{CLIENT_ID, FakeOpenEmr};
use gdpr_connect::{
    ClientAuth, ClientCredentials, Credentials, PrivateKeyJwt, SigningAlgorithm, TokenEndpoint,
};
use gdpr_core::store::{FhirId, FhirSubject, StoreError, SubjectRef, SubjectStore};
use gdpr_ehr::openemr::{OpenEmrConfig, OpenEmrStore, Site};
use serde_json::{Value, json};

/// A P-384 key the fake does not know (made for this test only).
const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBk4Fw7KtzRYptl9RLZ
/a3e+gQAb4fRyusTracPzQSJZEsR0roHlgZK1973tWG6TWahZANiAAReWw5tjezk
KRnjA1k61GVugdcNa4l243owVYFhrfHEQdcOotGcng+ntGiwlCVPjugnEZHdQIBQ
rphOMinZrGCjMfkykfqza75m9kJpagxUX0BXdEdvSLOiencLLVhz3Zo=
-----END PRIVATE KEY-----
";

/// An RSA key the fake does not know (2048 bits, made for this test only).
const OTHER_RSA_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCgahGJCCAuxhEc
3KpAzs8Kuyp+aTZ0Tk8j18uS8lF/BvlmJ8ZsMCypu/8Q9DdkSM24nLsEEzsvmvG9
9j/GmwPuTglpHLiiQKoBfMzhYerPrh+stMe0bkUK+pyGkH/MTzvaX7i83XpTDWF+
RMHMd3iC70f0BgykVEaGSqTkV02M31fQEczEqizWSu8ii7IqnGSFzR0ixN5kfVY2
iyoER4DOF7rP+HG9F7JUdg3Q5NfYA15baCKal5gtsIv7TSjP0TJsjqnzN54P9TVp
ryHcgXaqrtjVNc/gwtYPkJ4S8+w9sr1RWE78X2c6KMWw2c6xKQ/4wnwH24RNnJFt
IG2SiJPdAgMBAAECggEABCyudyP0fnMeF+OwNI6NOcjEItUHG0C8c4DWpeTTdRxP
2jY3xjH8v5AKY70PQfdZDzBY95KujB8aomhpoXgAQq/aM9eRAHvxUKeYR1c+fpgX
7+0mc04ZUt9RunjBMqZvNtAd5SBYYhfrjRcp+fGz+6hRdYrAwngE+9KudtjExmEw
9sLlIoeuImHi/L8SKsqgKM++5uK8NiBdjzPGHdGBfUAU8wg+hSUf+Gco7ipV3NBt
P2JijCPhaMYGoOI/LvPu7voCYTarSBsc56GjhV/MjXZdocGchFuS3knzBRnpYPSn
p5PpdufXqIT5pH6ZoVuAWaZJMdBZh+b8ZQkuqsgEcQKBgQDeLxa4wtK4U9a/GJoo
oIRnWteZVkCQ9+tTrltS78gO1sgDPbMZG253ZBeQCwuB4lEU3NCbiQWAVklCz1mW
e7/odb6HCQVWMBy1UoU8kS31/EcvpnDKpyrmKqWNNKPoJvEtZ7TefEFuaXfCxd39
XwAgDzDXhaB2zq9zXVdUWW2jtQKBgQC41EMRZEL6netjgQqK1gBuISQ9YYxRf2WN
N3TqIRaNZXndrikxskz5kKi998sSZCDnR9wPSHGp3j4sI/CPOKgCTbskwfYqVoSE
Ln+Bn8kxsCSzckd+XMdpH2kbEVuTrpRwlNIKO5/NFL4yNGwmlelWaOkZzIZaPEc1
n99buVcYiQKBgESeJlZJVOq4ecnqvzFs4XdKBuvER4x+BJ+DaZDjnNV4X60gkP9g
CW2169EAmD00t/XJfGOMnbZU76tCfliLP2l7c6wgjRVhJnyZT6y06YzerN16ebsc
hZMv+JDzgOthm3p6XNGZblu7FtGAal6lyFQeXOcyzavjiSwH18ClHcdBAoGBAI7W
AwqyuAxj9GBOfi4zGdwCIraI516oHHvYyrKRZZNaQ6asjEtKprALOkys7bPFy6PQ
5eCttKF5DgUgtSyJtVUqayEKAEpR2FEqegFb0aljnclL3LJr0vOLgbeYX3Qu66ph
aDzePS3JBP9ZgecD3XKY2uPEKmQbx1BKv9trzUI5AoGAclTbr3FHpzWq9znjaSLr
bNqFnmitJZfxRyA3IEqNNisSnormvFpp4B5exdgapwR8T2deN6/SG2NAGphDxwy4
7ezcqSWJgFiNCV4F16N9PEq+xQX3O90djtrc3a5n60z5KImiswEXPb0te2+fmTCQ
om/3B5rBNU68Kgpjahp19b8=
-----END PRIVATE KEY-----
";

/// The registered key and a stranger's, for each algorithm.
const KEYS: [(SigningAlgorithm, &str, &str); 2] = [
    (SigningAlgorithm::Rs384, CLIENT_RSA_KEY, OTHER_RSA_KEY),
    (SigningAlgorithm::Es384, CLIENT_KEY, OTHER_KEY),
];

fn claims(fake: &FakeOpenEmr, exp_in: i64) -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": fake.token_url(),
           "jti": format!("j{now}{exp_in}"), "exp": now + exp_in})
}

/// POSTs a client-credentials request with `assertion` and `scope`;
/// returns the status and the OAuth error code (or "ok").
async fn ask(fake: &FakeOpenEmr, assertion: &str, scope: &str) -> (u16, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let form = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", scope),
    ];
    let response = reqwest::Client::new()
        .post(fake.token_url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let code = body["error"].as_str().unwrap_or("ok").to_owned();
    (status, code)
}

#[tokio::test]
async fn each_wrong_assertion_is_refused_and_the_right_one_is_not() {
    for (_, client_key, other_key) in KEYS {
        wrong_assertions_refused(client_key, other_key).await;
    }
}

async fn wrong_assertions_refused(client_key: &str, other_key: &str) {
    let fake = fake_openemr::start(Duration::from_secs(300)).await;
    let read = "system/*.read";
    let good = claims(&fake, 240);
    assert_eq!(
        ask(&fake, &sign(&good, client_key), read).await,
        (200, "ok".into())
    );

    // Signed with a key the client did not register.
    let refused = (401, "invalid_client".to_owned());
    assert_eq!(ask(&fake, &sign(&good, other_key), read).await, refused);
    // The right key, but the payload changed after signing.
    let signed = sign(&good, client_key);
    let parts: Vec<&str> = signed.split('.').collect();
    let mut other = good.clone();
    other["exp"] = json!(good["exp"].as_i64().unwrap() - 1);
    let forged_payload = sign(&other, client_key);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        forged_payload.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_eq!(ask(&fake, &forged, read).await, refused);
    // Another audience (the FHIR base instead of the token URL).
    let mut aud = good.clone();
    aud["aud"] = json!(fake.state.lock().unwrap().base.clone());
    assert_eq!(ask(&fake, &sign(&aud, client_key), read).await, refused);
    // Expiring more than 5 minutes ahead, or already expired. (A minute
    // past the limit, not a second: the clock may tick between signing
    // and the check, and 301 s ahead then was 300 s ahead, accepted.)
    assert_eq!(
        ask(&fake, &sign(&claims(&fake, 360), client_key), read).await,
        refused
    );
    assert_eq!(
        ask(&fake, &sign(&claims(&fake, -5), client_key), read).await,
        refused
    );
    // Another issuer.
    let mut iss = good.clone();
    iss["iss"] = json!("someone-else");
    assert_eq!(ask(&fake, &sign(&iss, client_key), read).await, refused);
    // A scope the client was not registered with.
    assert_eq!(
        ask(
            &fake,
            &sign(&good, client_key),
            "system/*.read system/Patient.write"
        )
        .await,
        (400, "invalid_scope".into())
    );
    // The right signature under another algorithm's name (RS384 passed
    // off as ES384 and back): refused, not verified with the other key.
    let (head, rest) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, head).unwrap(),
    )
    .unwrap();
    let other_alg = if header["alg"] == "RS384" {
        "ES384"
    } else {
        "RS384"
    };
    let swapped = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        json!({"alg": other_alg, "typ": "JWT"}).to_string(),
    );
    assert_eq!(
        ask(&fake, &format!("{swapped}.{rest}"), read).await,
        refused
    );
    assert_eq!(fake.state.lock().unwrap().token_requests, 9);
}

fn store(
    fake: &FakeOpenEmr,
    (algorithm, key): (SigningAlgorithm, &str),
    scope: &str,
    dir: &std::path::Path,
) -> OpenEmrStore {
    let path = dir.join("client.pem");
    std::fs::write(&path, key).unwrap();
    let auth = ClientAuth::PrivateKeyJwt(PrivateKeyJwt::new(path, algorithm));
    let client =
        ClientCredentials::with_auth(TokenEndpoint::Url(fake.token_url()), CLIENT_ID, auth)
            .with_scopes([scope]);
    let mut config = OpenEmrConfig::new("emr", &fake.root, Site::new("default").unwrap());
    config.endpoint = config
        .endpoint
        .with_credentials(Credentials::ClientCredentials(client));
    OpenEmrStore::connect(&config).unwrap()
}

#[tokio::test]
async fn the_store_is_refused_with_an_unregistered_key_or_scope() {
    let fake = fake_openemr::start(Duration::from_secs(300)).await;
    fake.add(json!({"resourceType": "Patient", "id": "pa"}));
    let subject = SubjectRef::Fhir(FhirSubject::LogicalId(FhirId::new("pa").unwrap()));
    let dir = tempfile::tempdir().unwrap();
    for (algorithm, client_key, other_key) in KEYS {
        refused_store(
            &fake,
            &subject,
            (algorithm, client_key, other_key),
            dir.path(),
        )
        .await;
        // Our client's own assertion with the registered key gets a token.
        let ok = store(&fake, (algorithm, client_key), "system/*.read", dir.path());
        assert_eq!(ok.locate(&subject).await.unwrap().len(), 1, "{algorithm:?}");
    }
}

async fn refused_store(
    fake: &FakeOpenEmr,
    subject: &SubjectRef,
    (algorithm, client_key, other_key): (SigningAlgorithm, &str, &str),
    dir: &std::path::Path,
) {
    for (key, scope, refusal) in [
        (other_key, "system/*.read", "invalid_client"),
        (client_key, "system/*.write", "invalid_scope"),
    ] {
        let err = store(fake, (algorithm, key), scope, dir)
            .locate(subject)
            .await
            .unwrap_err();
        assert!(
            !matches!(err, StoreError::NotFound { .. }),
            "refused ({refusal}), not a missing patient: {err:?}"
        );
        assert_eq!(fake.state.lock().unwrap().refusals.last(), Some(&refusal));
    }
}
