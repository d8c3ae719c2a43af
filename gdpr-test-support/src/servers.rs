//! The real servers of the tests, as the scripts started them
//! (`scripts/orthanc.sh`, `scripts/fhir.sh`): their settings come from the
//! `GDPR_TEST_*` variables the scripts print. These tests are compiled only
//! under their crate's test feature (`orthanc-tests`, `fhir-tests`), which
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
