use super::*;
use crate::grant::{PasswordGrant, PrivateKeyJwt, SigningAlgorithm};
use crate::secret::SecretSource;

fn secret_file(dir: &std::path::Path, value: &str) -> SecretSource {
    let path = dir.join("secret");
    std::fs::write(&path, value).unwrap();
    SecretSource::File(path)
}

fn url() -> Url {
    Url::parse("https://idp.example.org/token").unwrap()
}

fn pairs(form: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect()
}

fn source(client: &ClientCredentials, password: Option<&str>) -> TokenSource {
    let password = password.map(|p| ("alice".to_owned(), SecretString::from(p.to_owned())));
    TokenSource::load(client, password, &HttpOptions::default()).unwrap()
}

#[test]
fn forms_carry_what_each_client_authentication_needs() {
    let dir = tempfile::tempdir().unwrap();
    let s = secret_file(dir.path(), "CANARY-SECRET\n");
    let post = ClientCredentials::new("https://idp.example.org/token", "c1", s.clone())
        .with_scopes(["system/*.read", "system/Patient.rs"]);
    let form = pairs(&source(&post, None).form(&url()).unwrap());
    assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
    assert!(form.contains(&("client_id".into(), "c1".into())));
    assert!(form.contains(&("client_secret".into(), "CANARY-SECRET".into())));
    assert!(form.contains(&("scope".into(), "system/*.read system/Patient.rs".into())));

    let mut basic = post.clone();
    basic.auth = ClientAuth::SecretBasic(s);
    let form = pairs(&source(&basic, None).form(&url()).unwrap());
    assert!(
        form.iter()
            .all(|(k, _)| k != "client_secret" && k != "client_id")
    );

    let mut public = post;
    public.auth = ClientAuth::None;
    public.parameters = vec![("user_role".into(), "users".into())];
    let grant = PasswordGrant::new(public.clone(), "alice", SecretSource::Env("UNUSED".into()));
    let form = pairs(
        &source(&grant.client, Some("CANARY-PW"))
            .form(&url())
            .unwrap(),
    );
    assert!(form.contains(&("grant_type".into(), "password".into())));
    assert!(form.contains(&("username".into(), "alice".into())));
    assert!(form.contains(&("password".into(), "CANARY-PW".into())));
    assert!(form.contains(&("user_role".into(), "users".into())));
    assert!(form.contains(&("client_id".into(), "c1".into())));
}

#[test]
fn a_private_key_jwt_form_carries_a_fresh_assertion_and_no_secret() {
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let path = dir.path().join("key.pem");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pkcs8.as_ref())
    );
    std::fs::write(&path, pem).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let client = ClientCredentials::with_auth(
        TokenEndpoint::Url(url().to_string()),
        "c1",
        ClientAuth::PrivateKeyJwt(PrivateKeyJwt::new(path, SigningAlgorithm::Es384)),
    );
    let source = source(&client, None);
    let first = pairs(&source.form(&url()).unwrap());
    let second = pairs(&source.form(&url()).unwrap());
    assert!(first.contains(&(
        "client_assertion_type".into(),
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()
    )));
    assert!(first.iter().all(|(k, _)| k != "client_secret"));
    let assertion = |form: &[(String, String)]| {
        form.iter()
            .find(|(k, _)| k == "client_assertion")
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_ne!(assertion(&first), assertion(&second));
}

#[test]
fn tokens_are_renewed_a_margin_before_expiry_but_at_most_half_their_lifetime() {
    let s = Duration::from_secs;
    assert_eq!(renew_after(s(300), s(30)), s(270));
    assert_eq!(renew_after(s(3600), s(30)), s(3570));
    assert_eq!(renew_after(s(10), s(30)), s(5));
    assert_eq!(renew_after(s(10), s(2)), s(8));
    assert_eq!(renew_after(s(1), s(30)), Duration::from_millis(500));
}

#[tokio::test]
async fn a_refused_token_is_dropped_only_if_no_newer_one_replaced_it() {
    let dir = tempfile::tempdir().unwrap();
    let client = ClientCredentials::new(url().as_str(), "c1", secret_file(dir.path(), "s\n"));
    let source = source(&client, None);
    let later = Instant::now() + Duration::from_secs(60);
    {
        let mut cache = source.cache.lock().await;
        cache.generation = 2;
        cache.current = Some((SecretString::from("t2".to_owned()), later));
    }
    source.invalidate(1).await;
    assert!(source.cache.lock().await.current.is_some());
    source.invalidate(2).await;
    assert!(source.cache.lock().await.current.is_none());
}

fn response(status: u16, body: &str) -> Response {
    axum::http::Response::builder()
        .status(status)
        .body(body.to_owned())
        .unwrap()
        .into()
}

#[tokio::test]
async fn refusals_are_typed_and_never_quote_the_server() {
    let body = r#"{"error":"invalid_client","error_description":"CANARY key mismatch"}"#;
    let err = read_answer(CLIENT_CREDENTIALS, response(401, body))
        .await
        .err()
        .unwrap();
    assert_eq!(
        err,
        Error::TokenRefused {
            refusal: TokenRefusal::InvalidClient
        }
    );
    assert!(!err.to_string().contains("CANARY"), "{err}");
    let err = read_answer(CLIENT_CREDENTIALS, response(400, "CANARY"))
        .await
        .err()
        .unwrap();
    assert!(matches!(
        err,
        Error::TokenRefused {
            refusal: TokenRefusal::Other { status: 400 }
        }
    ));
    let dpop = r#"{"access_token":"CANARY-TOKEN","token_type":"DPoP","expires_in":300}"#;
    let err = read_answer(CLIENT_CREDENTIALS, response(200, dpop))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("bearer") && !err.to_string().contains("CANARY"));
    let ok = r#"{"access_token":"CANARY-TOKEN","token_type":"Bearer","expires_in":300}"#;
    let (token, lifetime) = read_answer(CLIENT_CREDENTIALS, response(200, ok))
        .await
        .unwrap();
    assert_eq!(lifetime, Duration::from_secs(300));
    assert!(!format!("{token:?}").contains("CANARY"));
}
