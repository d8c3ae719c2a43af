//! OAuth 2 against a real OpenID provider (oidc-provider, started by
//! scripts/oidc.sh): client credentials with `private_key_jwt` (RS384 and
//! ES384 assertions, found by OIDC and SMART discovery or given), with a
//! client secret (Basic and form body, configured through `systems.toml`
//! keys), refusals with their typed cause, renewal before expiry, and a 401
//! from the resource server answered by exactly one renewal and one retry,
//! shared by concurrent requests. Enabled by the `oidc-tests` feature, which
//! scripts/test.sh turns on (`--all-features`); with the feature on and no
//! provider, they fail.
#![cfg(feature = "oidc-tests")]

mod support;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gdpr_connect::{
    Client, ClientAuth, ClientCredentials, Credentials, Endpoint, Error, PrivateKeyJwt, Section,
    SigningAlgorithm, SystemKeys, TokenEndpoint, TokenRefusal,
};
use gdpr_core::store::StoreError;
use support::{Introspection, Provider, provider, resource_server};

/// An adapter without keys of its own, to read endpoint keys alone.
#[derive(serde::Deserialize)]
struct NoKeys {}

impl SystemKeys for NoKeys {
    const KEYS: &'static [&'static str] = &[];
}

fn endpoint_from_toml(text: &str) -> Endpoint {
    let section: Section<NoKeys> = toml::from_str(text).expect("valid systems.toml entry");
    section.endpoint.endpoint("ehr").expect("valid endpoint")
}

fn jwt(key: &Path, algorithm: SigningAlgorithm, kid: &str, at: TokenEndpoint) -> Credentials {
    let key = PrivateKeyJwt::new(key, algorithm).with_key_id(kid);
    Credentials::ClientCredentials(
        ClientCredentials::with_auth(at, "gdpr-jwt", ClientAuth::PrivateKeyJwt(key))
            .with_scopes(["system/*.read"]),
    )
}

fn connect(url: &str, credentials: Credentials) -> Client {
    let mut endpoint = Endpoint::new(url).with_credentials(credentials);
    endpoint.http.backoff = Duration::from_millis(10);
    Client::connect(&endpoint).expect("valid endpoint")
}

async fn patients(client: &Client) -> Result<serde_json::Value, StoreError> {
    client
        .json("GET /Patient", |c| c.get(client.url(&["Patient"])))
        .await
}

/// A client whose secret authenticates as `gdpr-secret` (Basic), read from
/// `systems.toml` keys.
fn secret_client(p: &Provider, url: &str) -> Client {
    let endpoint = endpoint_from_toml(&format!(
        "url = \"{url}\"\ntoken_url = \"{}\"\nclient_id = \"gdpr-secret\"\n\
         client_secret_file = \"{}\"\nclient_auth = \"client_secret_basic\"\n\
         scopes = [\"system/*.read\"]\nmax_attempts = 2\n",
        p.token_url(),
        p.secret_file.display()
    ));
    Client::connect(&endpoint).expect("valid endpoint")
}

#[tokio::test]
async fn private_key_jwt_rs384_found_by_oidc_discovery_gets_a_token_the_server_accepts() {
    let p = provider();
    let at = TokenEndpoint::Oidc {
        issuer: p.issuer.clone(),
    };
    let credentials = jwt(&p.rsa_key, SigningAlgorithm::Rs384, "gdpr-rsa", at);
    let (url, seen) = resource_server(p).await;
    let client = connect(&url, credentials);
    client
        .authenticate()
        .await
        .expect("the provider issues a token");
    let bundle = patients(&client)
        .await
        .expect("the resource server accepts it");
    assert_eq!(bundle["resourceType"], "Bundle");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.accepted[0]["client_id"], "gdpr-jwt");
    assert_eq!(seen.accepted[0]["scope"], "system/*.read");
    assert_eq!(seen.distinct(), 1, "authenticate's token is reused");
    assert!(!format!("{client:?}").contains(&seen.tokens[0]));
}

#[tokio::test]
async fn private_key_jwt_es384_found_by_smart_discovery_gets_a_token() {
    let p = provider();
    let ec_key = p.ec_key.clone();
    let (url, seen) = resource_server(p).await;
    let at = TokenEndpoint::Smart {
        fhir_base: url.clone(),
    };
    let client = connect(&url, jwt(&ec_key, SigningAlgorithm::Es384, "gdpr-ec", at));
    patients(&client)
        .await
        .expect("the resource server accepts the token");
    assert_eq!(seen.lock().unwrap().accepted[0]["client_id"], "gdpr-jwt");
}

#[tokio::test]
async fn client_secrets_from_systems_toml_work_as_basic_and_in_the_form_body() {
    let p = provider();
    let post = endpoint_from_toml(&format!(
        "url = \"http://127.0.0.1:1/\"\ntoken_url = \"{}\"\nclient_id = \"gdpr-secret-post\"\n\
         client_secret_file = \"{}\"\n",
        p.token_url(),
        p.secret_file.display()
    ));
    Client::connect(&post)
        .unwrap()
        .authenticate()
        .await
        .expect("client_secret_post, the default, is accepted");
    let secret = std::fs::read_to_string(&p.secret_file).unwrap();
    let (url, seen) = resource_server(provider()).await;
    let client = secret_client(&p, &url);
    patients(&client)
        .await
        .expect("client_secret_basic is accepted");
    assert_eq!(seen.lock().unwrap().accepted[0]["client_id"], "gdpr-secret");
    assert!(!format!("{client:?}{post:?}").contains(secret.trim()));
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_its_typed_cause_and_no_secret_in_the_message() {
    let p = provider();
    let at = TokenEndpoint::Url(p.token_url());
    let client = connect(
        "http://127.0.0.1:1/",
        jwt(
            &p.wrong_key,
            SigningAlgorithm::Rs384,
            "gdpr-rsa",
            at.clone(),
        ),
    );
    let err = client.authenticate().await.unwrap_err();
    assert_eq!(
        err,
        Error::TokenRefused {
            refusal: TokenRefusal::InvalidClient
        }
    );
    let text = err.to_string();
    assert!(text.contains("client_key_file"), "{text}");
    assert!(!text.contains("eyJ"), "no JWT in the message: {text}");
    // Inside an operation the same refusal is a configuration error, and
    // the resource server is never called.
    let store = patients(&client).await.unwrap_err();
    assert!(
        matches!(&store, StoreError::Configuration { detail } if detail.contains("invalid_client")),
        "{store}"
    );
    // A scope the client may not have is told apart from a wrong key.
    let mut scoped = jwt(&p.rsa_key, SigningAlgorithm::Rs384, "gdpr-rsa", at);
    if let Credentials::ClientCredentials(c) = &mut scoped {
        c.scopes = vec!["openid".into()];
    }
    let err = connect("http://127.0.0.1:1/", scoped)
        .authenticate()
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::TokenRefused {
            refusal: TokenRefusal::InvalidScope
        }
    );
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires_with_a_fresh_assertion() {
    let p = provider();
    let ttl = p.ttl;
    let at = TokenEndpoint::Url(p.token_url());
    let credentials = jwt(&p.rsa_key, SigningAlgorithm::Rs384, "gdpr-rsa", at);
    let (url, seen) = resource_server(p).await;
    let client = connect(&url, credentials);
    patients(&client).await.unwrap();
    patients(&client).await.unwrap();
    let first_expires = seen.lock().unwrap().accepted[0]["exp"].as_u64().unwrap();
    assert_eq!(
        seen.lock().unwrap().distinct(),
        1,
        "a valid token is reused"
    );
    // The default margin (30 s) is capped at half the lifetime: a token of
    // `ttl` seconds is renewed after ttl/2 s.
    tokio::time::sleep(Duration::from_millis(ttl * 500 + 300)).await;
    patients(&client).await.unwrap();
    let renewed_by = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.distinct(), 2, "the token was renewed");
    assert_ne!(seen.tokens[2], seen.tokens[0]);
    // The new token came from a second assertion (the provider refuses a
    // repeated jti), and it came before the first token expired.
    assert!(
        renewed_by < first_expires,
        "renewed at {renewed_by}, the first token expired at {first_expires}"
    );
}

#[tokio::test]
async fn a_refused_token_costs_one_renewal_and_one_retry_shared_by_concurrent_requests() {
    let p = provider();
    let (url, seen) = resource_server(provider()).await;
    let client = secret_client(&p, &url);
    patients(&client).await.unwrap();
    let first = seen.lock().unwrap().tokens[0].clone();
    p.revoke(&first).await;
    patients(&client).await.expect("renewed after the 401");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.tokens.len(), 3, "one retry: {}", seen.tokens.len());
        assert_eq!(seen.tokens[1], first, "the revoked token was tried once");
        assert_ne!(seen.tokens[2], first);
    }
    let second = seen.lock().unwrap().tokens[2].clone();
    p.revoke(&second).await;
    let calls = (0..6).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { patients(&client).await })
    });
    for call in calls {
        call.await
            .unwrap()
            .expect("every request succeeds after the renewal");
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.distinct(), 3, "the six requests shared one renewal");
}

#[tokio::test]
async fn a_server_that_refuses_every_token_gets_one_retry_not_a_loop() {
    let p = provider();
    let (url, seen) = resource_server(provider()).await;
    let client = secret_client(&p, &url);
    let err = client
        .json::<serde_json::Value>("GET /always401", |c| c.get(client.url(&["always401"])))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Configuration { detail } if detail.contains("401")),
        "{err}"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.refused, 2, "one request and one retry");
    assert_eq!(seen.distinct(), 2, "one renewal");
    for token in &seen.tokens {
        assert!(!err.to_string().contains(token.as_str()));
    }
}
