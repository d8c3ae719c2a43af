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
//! `password_env`; a password file must be readable by its owner only
//! (`chmod 600`) unless the entry sets `danger_allow_shared_secret_file`.
//! Unknown keys are errors, so a typo cannot silently turn a setting off.
//! `max_attempts` is 1 to [`MAX_ATTEMPTS`]. Errors name the file and the
//! line but never quote it (a mistyped line can hold a secret).

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
use super::secret::{PasswordSource, read_regular_file};

/// The most attempts per operation a system may be given (`max_attempts`).
pub const MAX_ATTEMPTS: u32 = 10;

/// The largest `systems.toml` (1 MiB).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The parsed `systems.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemsConfig {
    systems: BTreeMap<String, SystemConfig>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    origin: String,
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
    /// Attempts per operation, retries included (default 4, at most
    /// [`MAX_ATTEMPTS`]).
    #[serde(default, deserialize_with = "attempts")]
    pub max_attempts: Option<u32>,
    /// Allow plain HTTP to remote hosts (default false).
    #[serde(default)]
    pub danger_allow_insecure_http: bool,
    /// Accept a `password_file` that group or other users can read
    /// (default false: such a file is refused).
    #[serde(default)]
    pub danger_allow_shared_secret_file: bool,
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
    /// AE title of the archive's view of rejected instances, which an
    /// interrupted erasure is finished from (default `IOCM_EXPIRED`, or
    /// `IOCM_QUALITY` for `113001^DCM`).
    pub rejected_view_aet: Option<String>,
    /// Seconds before a request times out (default 30).
    pub timeout_seconds: Option<u64>,
    /// Attempts per operation, retries included (default 4, at most
    /// [`MAX_ATTEMPTS`]).
    #[serde(default, deserialize_with = "attempts")]
    pub max_attempts: Option<u32>,
    /// Allow plain HTTP to remote hosts (default false).
    #[serde(default)]
    pub danger_allow_insecure_http: bool,
    /// Accept a `client_secret_file` that group or other users can read
    /// (default false: such a file is refused).
    #[serde(default)]
    pub danger_allow_shared_secret_file: bool,
    /// Extra CA certificates (PEM) to trust, e.g. the hospital's own CA.
    pub tls_ca_file: Option<PathBuf>,
}

/// `max_attempts`: 1 to [`MAX_ATTEMPTS`] (a huge value would retry for ever).
fn attempts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let n = u64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(n @ 1..=MAX_ATTEMPTS) => Ok(Some(n)),
        _ => Err(serde::de::Error::custom(format!(
            "`max_attempts` must be 1 to {MAX_ATTEMPTS} (attempts per operation, retries included)"
        ))),
    }
}

/// The secret's source; a file must be private unless `shared_ok`.
fn secret_source(
    what: &str,
    file: &Option<PathBuf>,
    env: &Option<String>,
    shared_ok: bool,
) -> Result<Option<PasswordSource>, StoreError> {
    let source = match (file, env) {
        (Some(f), None) => PasswordSource::File(f.clone()),
        (None, Some(e)) => PasswordSource::Env(e.clone()),
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(StoreError::Configuration {
                detail: format!("give either {what}_file or {what}_env, not both"),
            });
        }
    };
    if !shared_ok {
        source.check_private()?;
    }
    Ok(Some(source))
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
        config.password = secret_source(
            "password",
            &self.password_file,
            &self.password_env,
            self.danger_allow_shared_secret_file,
        )?;
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
    /// Parses the TOML text of a `systems.toml` (named "the systems
    /// configuration" in messages; [`SystemsConfig::load`] names the file).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] naming the line that is wrong and what
    /// is wrong with it, never quoting the line or a value from it.
    pub fn from_toml(text: &str) -> Result<Self, StoreError> {
        Self::parse("the systems configuration", text)
    }

    fn parse(origin: &str, text: &str) -> Result<Self, StoreError> {
        let mut config: Self = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| {
                    let end = span.start.min(text.len());
                    let line = text.as_bytes()[..end]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                    format!(" line {}:", line + 1)
                })
                .unwrap_or_default();
            let why = gdpr_core::redact::serde_message(e.message().trim());
            StoreError::Configuration {
                detail: format!("{origin}:{line} {why}"),
            }
        })?;
        config.origin = origin.to_owned();
        Ok(config)
    }

    /// Reads and parses a `systems.toml`: a regular file of at most 1 MiB.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] naming the file (and the line) when it
    /// cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        let origin = path.display().to_string();
        let bytes = read_regular_file(
            path,
            MAX_CONFIG_BYTES,
            "the systems file",
            "give a systems.toml",
        )?;
        let text = String::from_utf8(bytes).map_err(|_| StoreError::Configuration {
            detail: format!("{origin}: not UTF-8 text"),
        })?;
        Self::parse(&origin, &text)
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
                "no system named `{name}` in {}; configured: {}",
                self.origin,
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
                    entry.danger_allow_shared_secret_file,
                )?;
                if let Some(code) = &entry.rejection_code {
                    config.rejection_code = code.parse()?;
                }
                config.rejected_view_aet = entry.rejected_view_aet.clone();
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
    fn errors_name_the_real_file_and_line_but_never_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pacs-site-b.toml");
        std::fs::write(
            &path,
            "[systems.p]\nkind = \"orthanc\"\nurl = \"https://x/\"\npassword = CANARY-hunter2\n",
        )
        .unwrap();
        let err = SystemsConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("pacs-site-b.toml") && err.contains("line 4"),
            "{err}"
        );
        assert!(
            !err.contains("CANARY") && !err.contains("systems.toml"),
            "{err}"
        );
    }

    #[test]
    fn unknown_kinds_list_the_allowed_ones_but_not_the_value() {
        let err = SystemsConfig::from_toml("[systems.p]\nkind = \"CANARY\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`folder`") && err.contains("`orthanc`"),
            "{err}"
        );
        assert!(!err.contains("CANARY") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn max_attempts_is_bounded_by_name() {
        for n in ["0", "11", "4294967295", "99999999999999"] {
            let text = format!(
                "[systems.p]\nkind = \"orthanc\"\nurl = \"https://x/\"\nmax_attempts = {n}\n"
            );
            let err = SystemsConfig::from_toml(&text).unwrap_err().to_string();
            // The entry is buffered (tagged by `kind`): the line is its header's.
            assert!(
                err.contains("max_attempts") && err.contains("line 1:"),
                "{n}: {err}"
            );
        }
        let text = "[systems.p]\nkind = \"orthanc\"\nurl = \"https://x/\"\nmax_attempts = 10\n";
        SystemsConfig::from_toml(text).unwrap();
    }

    #[test]
    fn password_files_others_can_read_are_refused_unless_allowed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "CANARY-SECRET\n").unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = Some(pw.clone());
        let err = secret_source("password", &file, &None, false).unwrap_err();
        assert!(err.to_string().contains(&pw.display().to_string()), "{err}");
        assert!(!err.to_string().contains("CANARY"), "{err}");
        assert!(secret_source("password", &file, &None, true).is_ok());
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(secret_source("password", &file, &None, false).is_ok());
    }

    #[test]
    fn a_systems_file_that_is_not_a_regular_file_is_refused_by_name() {
        for path in ["/dev/zero", "/nonexistent/systems-x.toml"] {
            let err = SystemsConfig::load(Path::new(path))
                .unwrap_err()
                .to_string();
            assert!(err.contains(path), "{err}");
        }
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
