//! The real servers of the tests, as the scripts started them
//! (`scripts/orthanc.sh`, `scripts/fhir.sh`, `scripts/oidc.sh`,
//! `scripts/postgres.sh`): their settings come from the `GDPR_TEST_*`
//! variables the scripts print. These tests are compiled only under their
//! crate's test feature (`orthanc-tests`, `fhir-tests`, `oidc-tests`,
//! `gateway-tests`, `postgres-tests`), which
//! asks for the server, so a missing variable panics: the test fails
//! loudly, it never passes without its server.

use std::path::PathBuf;

/// The value of `name`, which `script start` exports; panics (failing the
/// test) when it is unset or empty, naming the variable, the `feature`
/// that asked for the server and the script that starts it.
pub fn setting(name: &str, feature: &str, script: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: the `{feature}` feature needs the real server. Run \
             ./scripts/test.sh, or `eval \"$({script} start)\"` before cargo nextest"
        ),
    }
}

/// The real Orthanc of `scripts/orthanc.sh`.
#[derive(Clone)]
pub struct Orthanc {
    /// Its base URL (`GDPR_TEST_ORTHANC_URL`).
    pub url: String,
    /// The HTTP Basic user (`GDPR_TEST_ORTHANC_USER`).
    pub user: String,
    /// The file holding the user's password
    /// (`GDPR_TEST_ORTHANC_PASSWORD_FILE`).
    pub password_file: PathBuf,
}

impl Orthanc {
    /// The settings, for tests under `feature`; panics as [`setting`] does.
    pub fn from_env(feature: &str) -> Self {
        let var = |name| setting(name, feature, "scripts/orthanc.sh");
        Self {
            url: var("GDPR_TEST_ORTHANC_URL"),
            user: var("GDPR_TEST_ORTHANC_USER"),
            password_file: PathBuf::from(var("GDPR_TEST_ORTHANC_PASSWORD_FILE")),
        }
    }

    /// The password (the file's text, trimmed), for raw requests that
    /// check the server independently of the adapter.
    ///
    /// # Panics
    /// When the file cannot be read.
    pub fn password(&self) -> String {
        std::fs::read_to_string(&self.password_file)
            .expect("the Orthanc password file of scripts/orthanc.sh")
            .trim()
            .to_owned()
    }
}

/// The base URL of the real FHIR R4 server of `scripts/fhir.sh`
/// (`GDPR_TEST_FHIR_URL`), without a trailing slash, for tests under
/// `feature`; panics as [`setting`] does.
pub fn fhir_url(feature: &str) -> String {
    setting("GDPR_TEST_FHIR_URL", feature, "scripts/fhir.sh")
        .trim_end_matches('/')
        .to_owned()
}

/// The real OpenID provider of `scripts/oidc.sh` (oidc-provider; its
/// clients are in `scripts/oidc/server.mjs`).
#[derive(Clone)]
pub struct Oidc {
    /// The issuer, `http://127.0.0.1:PORT` (`GDPR_TEST_OIDC_ISSUER`).
    pub issuer: String,
    /// The RSA key registered for `gdpr-jwt`, kid `gdpr-rsa`
    /// (`GDPR_TEST_OIDC_RSA_KEY_FILE`).
    pub rsa_key: PathBuf,
    /// The EC P-384 key registered for `gdpr-jwt`, kid `gdpr-ec`
    /// (`GDPR_TEST_OIDC_EC_KEY_FILE`).
    pub ec_key: PathBuf,
    /// An RSA key the provider does not know
    /// (`GDPR_TEST_OIDC_WRONG_KEY_FILE`).
    pub wrong_key: PathBuf,
    /// The file holding the secret of the secret clients
    /// (`GDPR_TEST_OIDC_SECRET_FILE`).
    pub secret_file: PathBuf,
    /// How long its tokens live, in seconds (`GDPR_TEST_OIDC_TOKEN_TTL`).
    pub ttl: u64,
}

impl Oidc {
    /// The settings, for tests under `feature`; panics as [`setting`] does,
    /// and on a TTL that is not a number of seconds.
    pub fn from_env(feature: &str) -> Self {
        let var = |name| setting(name, feature, "scripts/oidc.sh");
        Self {
            issuer: var("GDPR_TEST_OIDC_ISSUER"),
            rsa_key: PathBuf::from(var("GDPR_TEST_OIDC_RSA_KEY_FILE")),
            ec_key: PathBuf::from(var("GDPR_TEST_OIDC_EC_KEY_FILE")),
            wrong_key: PathBuf::from(var("GDPR_TEST_OIDC_WRONG_KEY_FILE")),
            secret_file: PathBuf::from(var("GDPR_TEST_OIDC_SECRET_FILE")),
            ttl: var("GDPR_TEST_OIDC_TOKEN_TTL")
                .parse()
                .expect("GDPR_TEST_OIDC_TOKEN_TTL: a number of seconds"),
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// The secret clients' secret (the file's text, trimmed).
    ///
    /// # Panics
    /// When the file cannot be read.
    pub fn secret(&self) -> String {
        std::fs::read_to_string(&self.secret_file)
            .expect("the client secret file of scripts/oidc.sh")
            .trim()
            .to_owned()
    }
}

/// The real PostgreSQL of `scripts/postgres.sh`.
#[derive(Clone)]
pub struct Postgres {
    /// Its host (`GDPR_TEST_PG_HOST`).
    pub host: String,
    /// Its port (`GDPR_TEST_PG_PORT`).
    pub port: String,
    /// The test database (`GDPR_TEST_PG_DB`).
    pub db: String,
    /// The role that owns it (`GDPR_TEST_PG_OWNER`).
    pub owner: String,
    /// The file holding the owner's password
    /// (`GDPR_TEST_PG_OWNER_PASSWORD_FILE`).
    pub owner_password_file: PathBuf,
    /// The file holding the superuser's password
    /// (`GDPR_TEST_PG_SUPER_PASSWORD_FILE`), for what the application
    /// never does (scratch databases, restarts).
    pub super_password_file: PathBuf,
}

impl Postgres {
    /// The settings, for tests under `feature`; panics as [`setting`] does.
    pub fn from_env(feature: &str) -> Self {
        let var = |name| setting(name, feature, "scripts/postgres.sh");
        Self {
            host: var("GDPR_TEST_PG_HOST"),
            port: var("GDPR_TEST_PG_PORT"),
            db: var("GDPR_TEST_PG_DB"),
            owner: var("GDPR_TEST_PG_OWNER"),
            owner_password_file: PathBuf::from(var("GDPR_TEST_PG_OWNER_PASSWORD_FILE")),
            super_password_file: PathBuf::from(var("GDPR_TEST_PG_SUPER_PASSWORD_FILE")),
        }
    }

    /// The connection string (libpq key-value form, no password) of
    /// `user` on database `db`.
    pub fn conn(&self, user: &str, db: &str) -> String {
        format!(
            "host={} port={} user={user} dbname={db}",
            self.host, self.port
        )
    }
}
