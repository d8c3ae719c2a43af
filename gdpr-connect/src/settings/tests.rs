use super::*;

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
    assert!(err.contains("together"), "{err}");
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
