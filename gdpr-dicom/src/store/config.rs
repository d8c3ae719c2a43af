//! `systems.toml`: the systems a host can act on, by name.
//!
//! ```toml
//! [systems.pacs]
//! kind = "orthanc"
//! url = "https://pacs.example.org:8042/"
//! username = "gdpr"
//! password_file = "/etc/gdpr/pacs.password"
//!
//! [systems.archive]
//! kind = "folder"
//! path = "/var/lib/dicom"
//! ```
//!
//! Passwords are never written into this file: give `password_file` or
//! `password_env`. Unknown keys are errors, so a typo cannot silently turn a
//! setting off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gdpr_core::store::{DerivedPolicy, StoreError, SubjectStore};
use serde::Deserialize;

use super::dcm4chee::{Dcm4cheeConfig, Dcm4cheeStore};
use super::dicomweb::{DicomWebConfig, DicomWebStore};
use super::folder::FolderStore;
use super::http::HttpOptions;
use super::orthanc::{OrthancConfig, OrthancStore};
use super::secret::PasswordSource;

/// The parsed `systems.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemsConfig {
    systems: BTreeMap<String, SystemConfig>,
}

/// One system's entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SystemConfig {
    /// A directory tree of DICOM files.
    Folder {
        /// The root directory.
        path: PathBuf,
    },
    /// An Orthanc server.
    Orthanc(RemoteConfig),
    /// A DICOMweb server (QIDO-RS, WADO-RS, STOW-RS).
    Dicomweb(RemoteConfig),
    /// A dcm4chee-arc archive.
    Dcm4chee(Dcm4cheeEntry),
}

/// The settings every remote system shares.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RemoteConfig {
    /// Base URL (`https://…`; `http://` only to loopback unless
    /// `danger_allow_insecure_http`).
    pub url: String,
    /// User for HTTP Basic authentication.
    pub username: Option<String>,
    /// File holding the password.
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// Seconds before a request times out (default 30).
    pub timeout_seconds: Option<u64>,
    /// Attempts per operation, retries included (default 4).
    pub max_attempts: Option<u32>,
    /// Allow plain HTTP to remote hosts (default false).
    #[serde(default)]
    pub danger_allow_insecure_http: bool,
    /// Extra CA certificates (PEM) to trust, e.g. the hospital's own CA.
    pub tls_ca_file: Option<PathBuf>,
    /// What erasing a single study does with derived copies (default
    /// `erase`).
    #[serde(default)]
    pub derived: DerivedPolicy,
}

/// A dcm4chee-arc entry: DICOMweb settings plus Keycloak.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Dcm4cheeEntry {
    /// The archive's RESTful base, e.g.
    /// `https://arc.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/`.
    pub url: String,
    /// Keycloak token endpoint (client-credentials grant), if secured.
    pub token_url: Option<String>,
    /// Keycloak client id.
    pub client_id: Option<String>,
    /// File holding the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Rejection code: `113039^DCM` (data retention policy expired, the
    /// default) or `113001^DCM`.
    pub rejection_code: Option<String>,
    /// Seconds before a request times out (default 30).
    pub timeout_seconds: Option<u64>,
    /// Attempts per operation, retries included (default 4).
    pub max_attempts: Option<u32>,
    /// Allow plain HTTP to remote hosts (default false).
    #[serde(default)]
    pub danger_allow_insecure_http: bool,
    /// Extra CA certificates (PEM) to trust, e.g. the hospital's own CA.
    pub tls_ca_file: Option<PathBuf>,
}

fn secret_source(
    what: &str,
    file: &Option<PathBuf>,
    env: &Option<String>,
) -> Result<Option<PasswordSource>, StoreError> {
    match (file, env) {
        (Some(f), None) => Ok(Some(PasswordSource::File(f.clone()))),
        (None, Some(e)) => Ok(Some(PasswordSource::Env(e.clone()))),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(StoreError::Configuration {
            detail: format!("give either {what}_file or {what}_env, not both"),
        }),
    }
}

pub(crate) fn http_options(
    timeout: Option<u64>,
    attempts: Option<u32>,
    insecure: bool,
    ca_file: Option<&PathBuf>,
) -> HttpOptions {
    let mut options = HttpOptions::default();
    if let Some(t) = timeout {
        options.timeout = Duration::from_secs(t.max(1));
    }
    if let Some(a) = attempts {
        options.max_attempts = a.max(1);
    }
    options.danger_allow_insecure_http = insecure;
    options.ca_file = ca_file.cloned();
    options
}

impl RemoteConfig {
    fn orthanc(&self, name: &str) -> Result<OrthancConfig, StoreError> {
        let mut config = OrthancConfig::new(name, &self.url);
        config.username = self.username.clone();
        config.password = secret_source("password", &self.password_file, &self.password_env)?;
        config.http = http_options(
            self.timeout_seconds,
            self.max_attempts,
            self.danger_allow_insecure_http,
            self.tls_ca_file.as_ref(),
        );
        config.derived = self.derived;
        Ok(config)
    }
}

impl SystemsConfig {
    /// Parses the TOML text of a `systems.toml`.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] naming the line and key that are wrong.
    pub fn from_toml(text: &str) -> Result<Self, StoreError> {
        toml::from_str(text).map_err(|e| StoreError::Configuration {
            detail: format!("systems.toml: {}", e.to_string().trim()),
        })
    }

    /// Reads and parses a `systems.toml`.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when the file cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| StoreError::Configuration {
            detail: format!("cannot read {}: {}", path.display(), e.kind()),
        })?;
        Self::from_toml(&text)
    }

    /// The names of the configured systems.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.systems.keys().map(String::as_str)
    }

    /// The entry of system `name`.
    pub fn get(&self, name: &str) -> Option<&SystemConfig> {
        self.systems.get(name)
    }

    /// Opens system `name` as a store.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when no system has that name or its
    /// entry is unusable (bad URL, unreadable password, missing folder).
    pub fn open(&self, name: &str) -> Result<Box<dyn SubjectStore>, StoreError> {
        let entry = self.get(name).ok_or_else(|| StoreError::Configuration {
            detail: format!(
                "no system named `{name}` in systems.toml; configured: {}",
                self.names().collect::<Vec<_>>().join(", ")
            ),
        })?;
        Ok(match entry {
            SystemConfig::Folder { path } => Box::new(FolderStore::open(name, path)?),
            SystemConfig::Orthanc(remote) => {
                Box::new(OrthancStore::connect(&remote.orthanc(name)?)?)
            }
            SystemConfig::Dicomweb(remote) => {
                let orthanc = remote.orthanc(name)?;
                let mut config = DicomWebConfig::new(name, &remote.url);
                config.username = orthanc.username;
                config.password = orthanc.password;
                config.http = orthanc.http;
                Box::new(DicomWebStore::connect(&config)?)
            }
            SystemConfig::Dcm4chee(entry) => {
                let mut config = Dcm4cheeConfig::new(name, &entry.url);
                config.token_url = entry.token_url.clone();
                config.client_id = entry.client_id.clone();
                config.client_secret = secret_source(
                    "client_secret",
                    &entry.client_secret_file,
                    &entry.client_secret_env,
                )?;
                if let Some(code) = &entry.rejection_code {
                    config.rejection_code = code.parse()?;
                }
                config.http = http_options(
                    entry.timeout_seconds,
                    entry.max_attempts,
                    entry.danger_allow_insecure_http,
                    entry.tls_ca_file.as_ref(),
                );
                Box::new(Dcm4cheeStore::connect(&config)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_parses_and_typos_are_errors() {
        let config = SystemsConfig::from_toml(
            r#"
            [systems.pacs]
            kind = "orthanc"
            url = "https://pacs.example.org/"
            username = "gdpr"
            password_env = "PACS_PASSWORD"

            [systems.archive]
            kind = "folder"
            path = "/nonexistent"
            "#,
        )
        .unwrap();
        assert_eq!(config.names().collect::<Vec<_>>(), ["archive", "pacs"]);
        let err = SystemsConfig::from_toml(
            "[systems.p]\nkind = \"orthanc\"\nurl = \"https://x/\"\npassword = \"hunter2\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("password"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = config.open("nope").err().unwrap();
        assert!(err.to_string().contains("archive, pacs"), "{err}");
        assert!(matches!(
            config.open("archive").err().unwrap(),
            StoreError::Configuration { .. }
        ));
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_at_open() {
        let config = SystemsConfig::from_toml(
            "[systems.p]\nkind = \"orthanc\"\nurl = \"http://pacs.example.org/\"\n",
        )
        .unwrap();
        let err = config.open("p").err().unwrap();
        assert!(err.to_string().contains("https"), "{err}");
    }
}
