//! The FAKE OpenEMR's token endpoint (tests/support/fake_openemr/) refuses
//! client assertions as OpenEMR does: a signature that does not verify
//! against the client's registered key, another audience, an `exp` more
//! than 5 minutes ahead or past, another issuer, and scopes the client was
//! not registered with; a right assertion gets a token. Each refusal is
//! sent once directly (a crafted assertion) and, where the store can make
//! it, through the OpenEMR store.

#[path = "support/fake_openemr/mod.rs"]
mod fake_openemr;

use std::time::Duration;

use fake_openemr::jwt::{CLIENT_KEY, sign};
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
    let fake = fake_openemr::start(Duration::from_secs(300)).await;
    let read = "system/*.read";
    let good = claims(&fake, 240);
    assert_eq!(
        ask(&fake, &sign(&good, CLIENT_KEY), read).await,
        (200, "ok".into())
    );

    // Signed with a key the client did not register.
    let refused = (401, "invalid_client".to_owned());
    assert_eq!(ask(&fake, &sign(&good, OTHER_KEY), read).await, refused);
    // The right key, but the payload changed after signing.
    let signed = sign(&good, CLIENT_KEY);
    let parts: Vec<&str> = signed.split('.').collect();
    let mut other = good.clone();
    other["exp"] = json!(good["exp"].as_i64().unwrap() - 1);
    let forged_payload = sign(&other, CLIENT_KEY);
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
    assert_eq!(ask(&fake, &sign(&aud, CLIENT_KEY), read).await, refused);
    // Expiring more than 5 minutes ahead, or already expired.
    assert_eq!(
        ask(&fake, &sign(&claims(&fake, 301), CLIENT_KEY), read).await,
        refused
    );
    assert_eq!(
        ask(&fake, &sign(&claims(&fake, -5), CLIENT_KEY), read).await,
        refused
    );
    // Another issuer.
    let mut iss = good.clone();
    iss["iss"] = json!("someone-else");
    assert_eq!(ask(&fake, &sign(&iss, CLIENT_KEY), read).await, refused);
    // A scope the client was not registered with.
    assert_eq!(
        ask(
            &fake,
            &sign(&good, CLIENT_KEY),
            "system/*.read system/Patient.write"
        )
        .await,
        (400, "invalid_scope".into())
    );
    assert_eq!(fake.state.lock().unwrap().token_requests, 8);
}

fn store(fake: &FakeOpenEmr, key: &str, scope: &str, dir: &std::path::Path) -> OpenEmrStore {
    let path = dir.join("client.pem");
    std::fs::write(&path, key).unwrap();
    let auth = ClientAuth::PrivateKeyJwt(PrivateKeyJwt::new(path, SigningAlgorithm::Es384));
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
    for (key, scope, refusal) in [
        (OTHER_KEY, "system/*.read", "invalid_client"),
        (CLIENT_KEY, "system/*.write", "invalid_scope"),
    ] {
        let err = store(&fake, key, scope, dir.path())
            .locate(&subject)
            .await
            .unwrap_err();
        assert!(
            !matches!(err, StoreError::NotFound { .. }),
            "refused ({refusal}), not a missing patient: {err:?}"
        );
        assert_eq!(fake.state.lock().unwrap().refusals.last(), Some(&refusal));
    }
    let ok = store(&fake, CLIENT_KEY, "system/*.read", dir.path());
    assert_eq!(ok.locate(&subject).await.unwrap().len(), 1);
}
