//! The upstream as a system of `systems.toml`: the gateway's `system` names
//! an entry of the host's systems file (gdpr-connect's
//! [`gdpr_connect::SystemsFile`], the file `gdpr` and
//! gdpr-systems read), whose kind must speak DICOMweb:
//!
//! - `dicomweb`: `url` is the DICOMweb root;
//! - `orthanc`: `url` is Orthanc's root, the DICOMweb plugin's root is
//!   `{url}/dicom-web/`;
//! - `dcm4chee`: `url` is the archive's RESTful base
//!   (`…/dcm4chee-arc/aets/DCM4CHEE/rs/`), which is its DICOMweb root.
//!
//! The endpoint keys are gdpr-connect's ([`EndpointSettings`]): HTTP Basic
//! (`username` with `password_file`/`password_env`) or a fixed bearer token
//! (`bearer_token_file`/`bearer_token_env`), `tls_ca_file`,
//! `danger_allow_insecure_http`, the secret-file mode check. OAuth 2
//! clients are refused for now: the gateway streams its answers and
//! gdpr-connect's token-renewing client reads answers whole. Entries of
//! other kinds (`folder`, `fhir`, `openemr`) may sit in the same file; they
//! are not read beyond their `kind`, and naming one is an error.

use std::path::Path;

use base64::Engine as _;
use gdpr_connect::{Credentials, EndpointSettings, HttpOptions, Section, SystemKeys, SystemsFile};
use secrecy::{ExposeSecret, SecretString};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::Error;

/// The kinds of system the gateway can stand in front of.
pub const KINDS: &[&str] = &["dicomweb", "orthanc", "dcm4chee"];

/// Keys a kind adds to the endpoint's; accepted (the same file feeds the
/// `gdpr` command's adapters) and not used by the gateway.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrthancKeys {
    #[serde(default, rename = "derived")]
    _derived: Option<toml::Value>,
    #[serde(default, rename = "restriction_metadata")]
    _restriction_metadata: Option<toml::Value>,
}

impl SystemKeys for OrthancKeys {
    const KEYS: &'static [&'static str] = &["derived", "restriction_metadata"];
}

/// A DICOMweb entry adds no keys.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DicomWebKeys {}

impl SystemKeys for DicomWebKeys {
    const KEYS: &'static [&'static str] = &[];
}

/// The dcm4chee keys of the `gdpr` command's adapter (not used here).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Dcm4cheeKeys {
    #[serde(default, rename = "rejection_code")]
    _rejection_code: Option<toml::Value>,
    #[serde(default, rename = "rejected_view_aet")]
    _rejected_view_aet: Option<toml::Value>,
}

impl SystemKeys for Dcm4cheeKeys {
    const KEYS: &'static [&'static str] = &["rejection_code", "rejected_view_aet"];
}

/// One entry of `systems.toml`, as the gateway reads it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SystemEntry {
    /// `kind = "dicomweb"`.
    Dicomweb(Section<DicomWebKeys>),
    /// `kind = "orthanc"`.
    Orthanc(Section<OrthancKeys>),
    /// `kind = "dcm4chee"`.
    Dcm4chee(Section<Dcm4cheeKeys>),
    /// Any other kind (a folder, an EHR): not a DICOMweb server.
    Other(String),
}

impl<'de> Deserialize<'de> for SystemEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(d)?;
        let kind = match table.remove("kind") {
            Some(toml::Value::String(kind)) => kind,
            Some(_) => return Err(D::Error::custom("`kind` is a string")),
            None => return Err(D::Error::missing_field("kind")),
        };
        let entry = toml::Value::Table(table);
        let inner = |e: toml::de::Error| D::Error::custom(e.message().trim());
        match kind.as_str() {
            "dicomweb" => Section::deserialize(entry)
                .map(Self::Dicomweb)
                .map_err(inner),
            "orthanc" => Section::deserialize(entry)
                .map(Self::Orthanc)
                .map_err(inner),
            "dcm4chee" => Section::deserialize(entry)
                .map(Self::Dcm4chee)
                .map_err(inner),
            _ => Ok(Self::Other(kind)),
        }
    }
}

/// The upstream a systems entry describes.
pub(crate) struct Target {
    /// The DICOMweb root (not yet checked against the TLS policy).
    pub(crate) url: String,
    /// TLS policy and extra CA.
    pub(crate) options: HttpOptions,
    /// The `Authorization` value sent upstream.
    pub(crate) authorization: Option<SecretString>,
}

fn refuse(detail: String) -> Error {
    Error::config(format!("systems_file: {detail}"))
}

/// Reads `path` and gives the upstream of system `name`.
///
/// # Errors
/// [`Error::Config`] when the file cannot be read, has no such system, the
/// system is not a DICOMweb kind, or its credentials are unusable here.
pub(crate) fn target(path: &Path, name: &str) -> Result<Target, Error> {
    let file: SystemsFile<SystemEntry> =
        SystemsFile::load(path).map_err(|e| refuse(e.to_string()))?;
    target_of(&file, name)
}

/// The upstream of system `name` in a parsed systems file.
pub(crate) fn target_of(file: &SystemsFile<SystemEntry>, name: &str) -> Result<Target, Error> {
    let entry = file.entry(name).map_err(|e| refuse(e.to_string()))?;
    let (settings, orthanc): (&EndpointSettings, bool) = match entry {
        SystemEntry::Dicomweb(s) => (&s.endpoint, false),
        SystemEntry::Orthanc(s) => (&s.endpoint, true),
        SystemEntry::Dcm4chee(s) => (&s.endpoint, false),
        SystemEntry::Other(kind) => {
            return Err(refuse(format!(
                "system `{name}` is of kind `{kind}`; the gateway needs a DICOMweb server \
                 (kind {})",
                KINDS.join(", ")
            )));
        }
    };
    let endpoint = settings.endpoint(name).map_err(|e| refuse(e.to_string()))?;
    let authorization = match &endpoint.credentials {
        Credentials::None => None,
        Credentials::Basic { username, password } => {
            let password = password.load().map_err(|e| refuse(e.to_string()))?;
            let pair = format!("{username}:{}", password.expose_secret());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            Some(SecretString::from(format!("Basic {encoded}")))
        }
        Credentials::Bearer { token } => {
            let token = token.load().map_err(|e| refuse(e.to_string()))?;
            Some(SecretString::from(format!(
                "Bearer {}",
                token.expose_secret()
            )))
        }
        _ => {
            return Err(refuse(format!(
                "system `{name}`: the gateway supports HTTP Basic or a fixed bearer token \
                 towards the upstream, not an OAuth 2 client"
            )));
        }
    };
    let mut url = endpoint.url.clone();
    if orthanc {
        url = format!("{}/dicom-web/", url.trim_end_matches('/'));
    }
    Ok(Target {
        url,
        options: endpoint.http.clone(),
        authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SystemsFile<SystemEntry> {
        SystemsFile::from_toml(text).unwrap()
    }

    #[test]
    fn kinds_give_their_dicomweb_root() {
        let f = file(
            r#"
            [systems.pacs]
            kind = "orthanc"
            url = "http://127.0.0.1:8042"
            derived = "erase"

            [systems.web]
            kind = "dicomweb"
            url = "https://pacs.example.org/dicom-web/"

            [systems.arc]
            kind = "dcm4chee"
            url = "https://arc.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/"
            rejection_code = "113039^DCM"

            [systems.ehr]
            kind = "fhir"
            url = "https://ehr.example.org/fhir"
            page_size = 100
            "#,
        );
        assert_eq!(
            target_of(&f, "pacs").unwrap().url,
            "http://127.0.0.1:8042/dicom-web/"
        );
        assert_eq!(
            target_of(&f, "web").unwrap().url,
            "https://pacs.example.org/dicom-web/"
        );
        assert_eq!(
            target_of(&f, "arc").unwrap().url,
            "https://arc.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/"
        );
        let err = target_of(&f, "ehr").err().unwrap().to_string();
        assert!(err.contains("kind `fhir`"), "{err}");
        let err = target_of(&f, "nope").err().unwrap().to_string();
        assert!(err.contains("arc, ehr, pacs, web"), "{err}");
    }

    #[test]
    fn typos_and_oauth_are_refused_without_quoting() {
        let err = SystemsFile::<SystemEntry>::from_toml(
            "[systems.p]\nkind = \"orthanc\"\nurl = \"https://x/\"\npasword_file = \"CANARY\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("pasword_file") && !err.contains("CANARY"),
            "{err}"
        );
        let f = file(
            r#"
            [systems.p]
            kind = "dicomweb"
            url = "https://x.example.org/dicom-web/"
            client_id = "gw"
            token_url = "https://idp.example.org/token"
            client_secret_env = "GW_SECRET_NOT_SET"
            "#,
        );
        let err = target_of(&f, "p").err().unwrap().to_string();
        assert!(err.contains("OAuth 2"), "{err}");
    }

    #[test]
    fn credentials_are_read_from_private_files() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("pw");
        std::fs::write(&secret, "s3cret\n").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let text = format!(
            "[systems.p]\nkind = \"dicomweb\"\nurl = \"https://x.example.org/\"\n\
             username = \"gw\"\npassword_file = \"{}\"\n",
            secret.display()
        );
        let t = target_of(&file(&text), "p").unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("gw:s3cret");
        assert_eq!(
            t.authorization.unwrap().expose_secret(),
            format!("Basic {expected}")
        );
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(target_of(&file(&text), "p").is_err());
    }
}
