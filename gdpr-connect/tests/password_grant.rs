//! The OAuth 2 password grant (RFC 6749 §4.3) as OpenEMR offers it to sites
//! that enable it, configured through `systems.toml` keys, against a small
//! fake token endpoint and resource server (oidc-provider, the real
//! provider of `tests/oidc.rs`, does not offer this grant): the form carries
//! the user, the password from its file and the site's extra parameter; a
//! token the server stops accepting is renewed with the same grant, once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use gdpr_connect::{Client, Section, SystemKeys};

#[derive(Default)]
struct Fake {
    /// The form of every token request.
    forms: Vec<HashMap<String, String>>,
    /// The token the resource server accepts now.
    valid: Option<String>,
}

type Shared = Arc<Mutex<Fake>>;

async fn token(State(fake): State<Shared>, body: String) -> (StatusCode, String) {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut fake = fake.lock().unwrap();
    if form.get("password").map(String::as_str) != Some("CANARY-pw") {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error":"invalid_grant","error_description":"CANARY-pw wrong"}"#.into(),
        );
    }
    fake.forms.push(form);
    let issued = format!("token-{}", fake.forms.len());
    fake.valid = Some(issued.clone());
    let answer = serde_json::json!({
        "access_token": issued, "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": "ignored", "scope": "openid api:fhir user/Patient.read",
    });
    (StatusCode::OK, answer.to_string())
}

async fn patients(State(fake): State<Shared>, headers: HeaderMap) -> StatusCode {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if bearer.is_some() && bearer == fake.lock().unwrap().valid {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

async fn fake_openemr() -> (String, Shared) {
    let fake = Shared::default();
    let app = axum::Router::new()
        .route("/oauth2/default/token", post(token))
        .route("/apis/default/fhir/Patient", get(patients))
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

#[derive(serde::Deserialize)]
struct NoKeys {}

impl SystemKeys for NoKeys {
    const KEYS: &'static [&'static str] = &[];
}

fn client(base: &str, password_file: &std::path::Path) -> Client {
    let text = format!(
        "url = \"{base}/apis/default/fhir\"\ntoken_url = \"{base}/oauth2/default/token\"\n\
         grant = \"password\"\nclient_id = \"gdpr-public\"\nusername = \"alice\"\n\
         password_file = \"{}\"\nscopes = [\"openid\", \"api:fhir\", \"user/Patient.read\"]\n\
         token_parameters = {{ user_role = \"users\" }}\n",
        password_file.display()
    );
    let section: Section<NoKeys> = toml::from_str(&text).unwrap();
    Client::connect(&section.endpoint.endpoint("openemr").unwrap()).unwrap()
}

fn password_file(dir: &std::path::Path, password: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("openemr.password");
    std::fs::write(&path, password).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[tokio::test]
async fn the_password_grant_sends_the_user_and_renews_once_after_a_401() {
    let (base, fake) = fake_openemr().await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&base, &password_file(dir.path(), "CANARY-pw\n"));
    let patients = || client.call("GET /Patient", |c| c.get(client.url(&["Patient"])));
    assert_eq!(patients().await.unwrap().0, 200);
    {
        let fake = fake.lock().unwrap();
        let form = &fake.forms[0];
        assert_eq!(form["grant_type"], "password");
        assert_eq!(form["username"], "alice");
        assert_eq!(form["client_id"], "gdpr-public");
        assert_eq!(form["user_role"], "users");
        assert_eq!(form["scope"], "openid api:fhir user/Patient.read");
    }
    // The server stops accepting the token (OpenEMR restarted, the token
    // revoked): one renewal with the same grant, one retry.
    fake.lock().unwrap().valid = None;
    assert_eq!(patients().await.unwrap().0, 200);
    assert_eq!(fake.lock().unwrap().forms.len(), 2);
}

#[tokio::test]
async fn a_wrong_password_is_an_invalid_grant_without_the_password_in_the_message() {
    let (base, _fake) = fake_openemr().await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&base, &password_file(dir.path(), "not-it\n"));
    let err = client.authenticate().await.unwrap_err();
    assert_eq!(
        err,
        gdpr_connect::Error::TokenRefused {
            refusal: gdpr_connect::TokenRefusal::InvalidGrant
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("username") && text.contains("password"),
        "{text}"
    );
    assert!(
        !text.contains("CANARY") && !text.contains("not-it"),
        "{text}"
    );
}
