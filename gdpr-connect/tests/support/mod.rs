//! The real OpenID provider started by scripts/oidc.sh, and a tiny resource
//! server that accepts a bearer token only when the provider's
//! introspection endpoint says it is active (RFC 7662), as a FHIR server
//! behind an authorization server does.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;

/// The provider's clients and files (see scripts/oidc/server.mjs).
pub struct Provider {
    /// The issuer (`http://127.0.0.1:PORT`).
    pub issuer: String,
    /// The RSA key registered for `gdpr-jwt` (kid `gdpr-rsa`).
    pub rsa_key: PathBuf,
    /// The EC P-384 key registered for `gdpr-jwt` (kid `gdpr-ec`).
    pub ec_key: PathBuf,
    /// An RSA key the provider does not know.
    pub wrong_key: PathBuf,
    /// The secret of `gdpr-secret` and `gdpr-secret-post`.
    pub secret_file: PathBuf,
    /// How long tokens live, in seconds.
    pub ttl: u64,
}

/// The provider started by scripts/oidc.sh. Panics — fails loudly — when
/// it is not running: these tests are compiled only with the `oidc-tests`
/// feature, which asks for it.
pub fn provider() -> Provider {
    let Ok(issuer) = std::env::var("GDPR_TEST_OIDC_ISSUER") else {
        panic!(
            "GDPR_TEST_OIDC_ISSUER is not set: these tests (feature oidc-tests) need the real \
             OpenID provider. Run ./scripts/test.sh, or `eval \"$(scripts/oidc.sh start)\"` \
             before cargo test"
        );
    };
    let var = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} is not set; scripts/oidc.sh start exports it"))
    };
    Provider {
        issuer,
        rsa_key: var("GDPR_TEST_OIDC_RSA_KEY_FILE").into(),
        ec_key: var("GDPR_TEST_OIDC_EC_KEY_FILE").into(),
        wrong_key: var("GDPR_TEST_OIDC_WRONG_KEY_FILE").into(),
        secret_file: var("GDPR_TEST_OIDC_SECRET_FILE").into(),
        ttl: var("GDPR_TEST_OIDC_TOKEN_TTL")
            .parse()
            .expect("a TTL in seconds"),
    }
}

impl Provider {
    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.issuer)
    }

    fn secret(&self) -> String {
        std::fs::read_to_string(&self.secret_file)
            .unwrap()
            .trim()
            .to_owned()
    }

    /// A form post to the provider as `gdpr-secret`.
    async fn post_as_secret_client(&self, path: &str, token: &str) -> reqwest::Response {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .finish();
        reqwest::Client::new()
            .post(format!("{}{path}", self.issuer))
            .basic_auth("gdpr-secret", Some(self.secret()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the provider answers")
    }

    /// The provider's introspection of `token` (as `gdpr-secret`).
    pub async fn introspect(&self, token: &str) -> serde_json::Value {
        self.post_as_secret_client("/token/introspection", token)
            .await
            .json()
            .await
            .expect("introspection answers JSON")
    }

    /// Revokes `token`, a token of `gdpr-secret` (RFC 7009), as an
    /// administrator revoking a session would.
    pub async fn revoke(&self, token: &str) {
        let status = self
            .post_as_secret_client("/token/revocation", token)
            .await
            .status();
        assert!(status.is_success(), "revocation answered {status}");
    }
}

/// What the resource server saw.
#[derive(Default)]
pub struct Seen {
    /// The bearer token of every request, in order.
    pub tokens: Vec<String>,
    /// The introspection answers of accepted tokens.
    pub accepted: Vec<serde_json::Value>,
    /// Requests to `/always401`.
    pub refused: u32,
}

impl Seen {
    /// The number of different tokens seen.
    pub fn distinct(&self) -> usize {
        let mut t = self.tokens.clone();
        t.sort();
        t.dedup();
        t.len()
    }
}

#[derive(Clone)]
struct Resource {
    provider: Arc<Provider>,
    seen: Arc<Mutex<Seen>>,
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

async fn patients(State(r): State<Resource>, headers: HeaderMap) -> (StatusCode, String) {
    let token = bearer(&headers);
    r.seen.lock().unwrap().tokens.push(token.clone());
    let answer = r.provider.introspect(&token).await;
    if answer["active"] != true {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    r.seen.lock().unwrap().accepted.push(answer);
    (
        StatusCode::OK,
        r#"{"resourceType":"Bundle","type":"searchset"}"#.into(),
    )
}

async fn always_401(State(r): State<Resource>, headers: HeaderMap) -> StatusCode {
    let mut seen = r.seen.lock().unwrap();
    seen.tokens.push(bearer(&headers));
    seen.refused += 1;
    StatusCode::UNAUTHORIZED
}

async fn smart_configuration(State(r): State<Resource>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "token_endpoint": r.provider.token_url(),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "capabilities": ["client-confidential-asymmetric"],
    }))
}

/// Starts the resource server on 127.0.0.1: `GET /fhir/Patient` (200 for
/// an active token, else 401), `GET /fhir/always401`, and
/// `GET /fhir/.well-known/smart-configuration` naming the provider's token
/// endpoint. Returns its FHIR base URL and what it saw.
pub async fn resource_server(provider: Provider) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = Resource {
        provider: Arc::new(provider),
        seen: Arc::clone(&seen),
    };
    let app = axum::Router::new()
        .route("/fhir/Patient", get(patients))
        .route("/fhir/always401", get(always_401))
        .route(
            "/fhir/.well-known/smart-configuration",
            get(smart_configuration),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fhir/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}
