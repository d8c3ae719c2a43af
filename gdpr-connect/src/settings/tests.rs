use super::*;
use crate::grant::{ClientAuth, TokenEndpoint};

#[derive(Debug, Deserialize)]
struct Own {
    #[serde(default)]
    colour: Option<String>,
}

impl SystemKeys for Own {
    const KEYS: &'static [&'static str] = &["colour"];
}

fn section(text: &str) -> Result<Section<Own>, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

fn endpoint(text: &str) -> Result<Endpoint, String> {
    let section = section(text)?;
    section.endpoint.endpoint("p").map_err(|e| e.to_string())
}

#[test]
fn endpoint_and_own_keys_are_read_and_unknown_keys_are_errors() {
    let s = section("url = \"https://x/\"\ncolour = \"red\"\nmax_attempts = 2\n").unwrap();
    assert_eq!(s.system.colour.as_deref(), Some("red"));
    assert_eq!(s.endpoint.max_attempts, Some(2));
    let err = section("url = \"https://x/\"\npassword = \"CANARY-hunter2\"\n").unwrap_err();
    assert!(
        err.contains("unknown field `password`") && err.contains("`password_file`"),
        "{err}"
    );
    assert!(err.contains("`colour`") && !err.contains("CANARY"), "{err}");
    assert!(section("colour = \"red\"\n").unwrap_err().contains("url"));
}

#[test]
fn max_attempts_is_bounded() {
    for n in ["0", "11", "99999999999999"] {
        let err = section(&format!("url = \"https://x/\"\nmax_attempts = {n}\n")).unwrap_err();
        assert!(err.contains("max_attempts"), "{n}: {err}");
    }
}

#[test]
fn one_rule_for_half_given_credentials() {
    let err = endpoint("url = \"https://x/\"\nusername = \"gdpr\"\n").unwrap_err();
    assert!(
        err.contains("system `p`") && err.contains("no password") && err.contains("password_file"),
        "{err}"
    );
    let err = endpoint("url = \"https://x/\"\npassword_env = \"PW\"\n").unwrap_err();
    assert!(err.contains("no `username`"), "{err}");
    let err = endpoint("url = \"https://x/\"\ntoken_url = \"https://k/\"\n").unwrap_err();
    assert!(err.contains("need `client_id`"), "{err}");
    let err = endpoint(
        "url = \"https://x/\"\nusername = \"u\"\npassword_env = \"PW\"\nbearer_token_env = \"T\"\n",
    )
    .unwrap_err();
    assert!(err.contains("one kind of credentials"), "{err}");
    let err =
        endpoint("url = \"https://x/\"\nbearer_token_env = \"T\"\nbearer_token_file = \"/t\"\n")
            .unwrap_err();
    assert!(err.contains("not both"), "{err}");
}

#[test]
fn each_kind_of_credentials_is_built() {
    let e = endpoint("url = \"https://x/\"\n").unwrap();
    assert_eq!(e.credentials, Credentials::None);
    let e = endpoint("url = \"https://x/\"\nusername = \"u\"\npassword_env = \"PW\"\n").unwrap();
    assert_eq!(
        e.credentials,
        Credentials::basic("u", SecretSource::Env("PW".into()))
    );
    let e = endpoint("url = \"https://x/\"\nbearer_token_env = \"T\"\n").unwrap();
    assert!(matches!(e.credentials, Credentials::Bearer { .. }));
    let e = endpoint(
        "url = \"https://x/\"\ntoken_url = \"https://k/t\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\ntimeout_seconds = 5\n",
    )
    .unwrap();
    assert!(matches!(e.credentials, Credentials::ClientCredentials(_)));
    assert_eq!(e.http.timeout, Duration::from_secs(5));
}

#[test]
fn secret_files_others_can_read_are_refused_unless_allowed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "CANARY-SECRET\n").unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = format!(
        "url = \"https://x/\"\nusername = \"u\"\npassword_file = \"{}\"\n",
        pw.display()
    );
    let err = endpoint(&text).unwrap_err();
    assert!(err.contains(&pw.display().to_string()), "{err}");
    assert!(!err.contains("CANARY"), "{err}");
    endpoint(&format!("{text}danger_allow_shared_secret_file = true\n")).unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    endpoint(&text).unwrap();
}

/// A private key file (its content is a canary: no message may quote it).
fn key_file(dir: &std::path::Path, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("client.pem");
    std::fs::write(&path, "CANARY-KEY\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn private_key_jwt_clients_are_read_with_kid_algorithm_scopes_and_margin() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), 0o600);
    let text = format!(
        "url = \"https://ehr/apis/default/fhir\"\nsmart_discovery = true\nclient_id = \"c\"\n\
         client_key_file = \"{}\"\nclient_key_id = \"k1\"\nclient_key_algorithm = \"ES384\"\n\
         scopes = [\"system/*.read\"]\ntoken_renewal_margin_seconds = 5\n",
        key.display()
    );
    let Credentials::ClientCredentials(client) = endpoint(&text).unwrap().credentials else {
        panic!("client credentials expected");
    };
    assert_eq!(
        client.token_endpoint,
        TokenEndpoint::Smart {
            fhir_base: "https://ehr/apis/default/fhir".into()
        }
    );
    let ClientAuth::PrivateKeyJwt(jwt) = &client.auth else {
        panic!("private_key_jwt expected");
    };
    assert_eq!(jwt.key_id.as_deref(), Some("k1"));
    assert_eq!(jwt.algorithm, SigningAlgorithm::Es384);
    assert_eq!(client.scopes, ["system/*.read"]);
    assert_eq!(client.renewal_margin, Duration::from_secs(5));

    let text = format!(
        "url = \"https://x/\"\noidc_issuer = \"https://idp\"\nclient_id = \"c\"\n\
         client_key_file = \"{}\"\n",
        key.display()
    );
    let Credentials::ClientCredentials(client) = endpoint(&text).unwrap().credentials else {
        panic!("client credentials expected");
    };
    assert_eq!(
        client.token_endpoint,
        TokenEndpoint::Oidc {
            issuer: "https://idp".into()
        }
    );
    assert!(
        matches!(&client.auth, ClientAuth::PrivateKeyJwt(j) if j.algorithm == SigningAlgorithm::Rs384 && j.key_id.is_none())
    );
}

#[test]
fn a_key_file_others_can_read_is_refused_without_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), 0o644);
    let text = format!(
        "url = \"https://x/\"\ntoken_url = \"https://k/t\"\nclient_id = \"c\"\n\
         client_key_file = \"{}\"\n",
        key.display()
    );
    let err = endpoint(&text).unwrap_err();
    assert!(
        err.contains("chmod 600") && err.contains("client.pem"),
        "{err}"
    );
    assert!(!err.contains("CANARY"), "{err}");
}

#[test]
fn secret_clients_choose_basic_or_post_and_password_grants_take_the_owner() {
    let e = endpoint(
        "url = \"https://x/\"\ntoken_url = \"https://k/t\"\nclient_id = \"c\"\n\
         client_secret_env = \"S\"\nclient_auth = \"client_secret_basic\"\n",
    )
    .unwrap();
    assert!(
        matches!(e.credentials, Credentials::ClientCredentials(ref c)
        if c.auth == ClientAuth::SecretBasic(SecretSource::Env("S".into())))
    );
    let e = endpoint(
        "url = \"https://x/\"\ntoken_url = \"https://k/t\"\nclient_id = \"c\"\n\
         grant = \"password\"\nusername = \"alice\"\npassword_env = \"PW\"\n\
         token_parameters = { user_role = \"users\" }\nscopes = [\"openid\", \"api:fhir\"]\n",
    )
    .unwrap();
    let Credentials::Password(grant) = e.credentials else {
        panic!("password grant expected");
    };
    assert_eq!(grant.username, "alice");
    assert_eq!(grant.password, SecretSource::Env("PW".into()));
    assert_eq!(grant.client.auth, ClientAuth::None);
    assert_eq!(
        grant.client.parameters,
        [("user_role".into(), "users".into())]
    );
}

#[test]
fn half_given_or_contradictory_oauth_settings_say_what_to_fix_without_values() {
    let base = "url = \"https://x/\"\nclient_id = \"c\"\n";
    let cases = [
        ("client_secret_env = \"CANARY_S\"\n", "one way"),
        (
            "token_url = \"https://k/t\"\nsmart_discovery = true\nclient_secret_env = \"S\"\n",
            "one way",
        ),
        ("token_url = \"https://k/t\"\n", "needs a client secret"),
        (
            "token_url = \"https://k/t\"\nclient_secret_env = \"S\"\nclient_key_file = \"/k\"\n",
            "not both",
        ),
        (
            "token_url = \"https://k/t\"\nclient_secret_env = \"S\"\nclient_key_id = \"k\"\n",
            "need `client_key_file`",
        ),
        (
            "token_url = \"https://k/t\"\ngrant = \"password\"\nusername = \"CANARY-USER\"\n",
            "needs `username` and `password_file`",
        ),
    ];
    for (extra, expected) in cases {
        let err = endpoint(&format!("{base}{extra}")).unwrap_err();
        assert!(err.contains(expected), "{extra}: {err}");
        assert!(!err.contains("CANARY"), "{err}");
    }
    let err = section("url = \"https://x/\"\nclient_key_algorithm = \"HS256\"\n").unwrap_err();
    assert!(err.contains("RS384") && err.contains("ES384"), "{err}");
    let err = section("url = \"https://x/\"\ngrant = \"implicit\"\n").unwrap_err();
    assert!(
        err.contains("client_credentials") && err.contains("password"),
        "{err}"
    );
    let err = section("url = \"https://x/\"\nclient_key_password = \"CANARY\"\n").unwrap_err();
    assert!(
        err.contains("unknown field `client_key_password`") && err.contains("`client_key_file`"),
        "{err}"
    );
    assert!(!err.contains("CANARY"), "{err}");
}
