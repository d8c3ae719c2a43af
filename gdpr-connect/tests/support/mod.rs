//! The real OpenID provider started by scripts/oidc.sh, and a tiny resource
//! server that accepts a bearer token only when the provider's
//! introspection endpoint says it is active (RFC 7662), as a FHIR server
//! behind an authorization server does.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;

/// The provider's clients and files (see scripts/oidc/server.mjs).
pub use gdpr_test_support::servers::Oidc as Provider;

/// The provider started by scripts/oidc.sh. Panics — fails loudly — when
/// it is not running: these tests are compiled only with the `oidc-tests`
/// feature, which asks for it.
pub fn provider() -> Provider {
    Provider::from_env("oidc-tests")
}

/// What these tests ask of the provider besides tokens, as `gdpr-secret`.
pub trait Introspection {
    /// The provider's introspection of `token`.
    async fn introspect(&self, token: &str) -> serde_json::Value;
    /// Revokes `token`, a token of `gdpr-secret` (RFC 7009), as an
    /// administrator revoking a session would.
    async fn revoke(&self, token: &str);
}

impl Introspection for Provider {
    async fn introspect(&self, token: &str) -> serde_json::Value {
        post_as_secret_client(self, "/token/introspection", token)
            .await
            .json()
            .await
            .expect("introspection answers JSON")
    }

    async fn revoke(&self, token: &str) {
        let status = post_as_secret_client(self, "/token/revocation", token)
            .await
            .status();
        assert!(status.is_success(), "revocation answered {status}");
    }
}

/// A form post of `token` to the provider's `path` as `gdpr-secret`.
async fn post_as_secret_client(p: &Provider, path: &str, token: &str) -> reqwest::Response {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .finish();
    reqwest::Client::new()
        .post(format!("{}{path}", p.issuer))
        .basic_auth("gdpr-secret", Some(p.secret()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("the provider answers")
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
