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
//! Every remote system (Orthanc, DICOMweb, dcm4chee) takes the same endpoint
//! keys — `url`, credentials, `timeout_seconds`, `max_attempts`,
//! `tls_ca_file`, `danger_…` — defined once in
//! [`gdpr_connect::EndpointSettings`], with one rule for credentials: a
//! `username` without a password (or the reverse) is refused with a message
//! saying what to add. Secrets are never written into this file: give
//! `password_file` or `password_env` (or the token and client-secret
//! equivalents); a secret file must be readable by its owner only
//! (`chmod 600`) unless the entry sets `danger_allow_shared_secret_file`.
//! Each kind adds its own keys ([`OrthancKeys`], [`DicomWebKeys`],
//! [`Dcm4cheeKeys`]). Unknown keys are errors, so a typo cannot silently
//! turn a setting off. `max_attempts` is 1 to
//! [`gdpr_connect::MAX_ATTEMPTS`]. Errors name the file and the line but
//! never quote it (a mistyped line can hold a secret).

use std::path::PathBuf;

use gdpr_connect::{Section, SystemEntry, SystemKeys, SystemsFile};
use gdpr_core::store::{DerivedPolicy, StoreError, SubjectStore};
use serde::Deserialize;

use super::dcm4chee::{Dcm4cheeConfig, Dcm4cheeStore};
use super::dicomweb::{DicomWebConfig, DicomWebStore};
use super::folder::FolderStore;
use super::orthanc::{OrthancConfig, OrthancStore};

/// The parsed `systems.toml` of PACS kinds: `from_toml`, `load` (a regular
/// file of at most 1 MiB), `names`, `get` and `open` (see
/// [`gdpr_connect::SystemsFile`]). A host that also reaches EHR systems
/// reads the file with gdpr-systems instead, whose entries embed these.
pub type SystemsConfig = SystemsFile<SystemConfig>;

/// One system's entry. Remote systems share the endpoint keys of
/// [`gdpr_connect::EndpointSettings`] and add their own.
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
    Orthanc(Section<OrthancKeys>),
    /// A DICOMweb server (QIDO-RS, WADO-RS, STOW-RS).
    Dicomweb(Section<DicomWebKeys>),
    /// A dcm4chee-arc archive.
    Dcm4chee(Section<Dcm4cheeKeys>),
}

/// The keys of an Orthanc entry besides the endpoint's.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct OrthancKeys {
    /// What erasing a single study does with derived copies (default
    /// `erase`).
    #[serde(default)]
    pub derived: DerivedPolicy,
    /// The user-defined metadata that marks a patient restricted (declared
    /// in Orthanc's own `UserMetadata` setting); without it `restrict`
    /// answers unsupported.
    #[serde(default)]
    pub restriction_metadata: Option<String>,
}

impl SystemKeys for OrthancKeys {
    const KEYS: &'static [&'static str] = &["derived", "restriction_metadata"];
}

/// The keys of a DICOMweb entry besides the endpoint's: none. DICOMweb
/// cannot find derived copies, so `derived` is refused rather than
/// silently ignored (its reports say "derived copies not checked").
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct DicomWebKeys {}

impl SystemKeys for DicomWebKeys {
    const KEYS: &'static [&'static str] = &[];
}

/// The keys of a dcm4chee-arc entry besides the endpoint's (whose `url` is
/// the archive's RESTful base, e.g.
/// `https://arc.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/`, and whose
/// `token_url`, `client_id` and client secret are Keycloak's).
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct Dcm4cheeKeys {
    /// Rejection code: `113039^DCM` (data retention policy expired, the
    /// default) or `113001^DCM`.
    pub rejection_code: Option<String>,
    /// AE title of the archive's view of rejected instances, which an
    /// interrupted erasure is finished from (default `IOCM_EXPIRED`, or
    /// `IOCM_QUALITY` for `113001^DCM`).
    pub rejected_view_aet: Option<String>,
}

impl SystemKeys for Dcm4cheeKeys {
    const KEYS: &'static [&'static str] = &["rejection_code", "rejected_view_aet"];
}

impl SystemConfig {
    /// The values of `kind` this entry type reads.
    pub const KINDS: &'static [&'static str] = &["folder", "orthanc", "dicomweb", "dcm4chee"];
}

impl SystemEntry for SystemConfig {
    fn open(&self, name: &str) -> Result<Box<dyn SubjectStore>, StoreError> {
        Ok(match self {
            SystemConfig::Folder { path } => Box::new(FolderStore::open(name, path)?),
            SystemConfig::Orthanc(section) => {
                let mut config =
                    OrthancConfig::with_endpoint(name, section.endpoint.endpoint(name)?);
                config.derived = section.system.derived;
                config.restriction_metadata = section.system.restriction_metadata.clone();
                Box::new(OrthancStore::connect(&config)?)
            }
            SystemConfig::Dicomweb(section) => {
                let config = DicomWebConfig::with_endpoint(name, section.endpoint.endpoint(name)?);
                Box::new(DicomWebStore::connect(&config)?)
            }
            SystemConfig::Dcm4chee(section) => {
                let mut config =
                    Dcm4cheeConfig::with_endpoint(name, section.endpoint.endpoint(name)?);
                if let Some(code) = &section.system.rejection_code {
                    config.rejection_code = code.parse()?;
                }
                config.rejected_view_aet = section.system.rejected_view_aet.clone();
                Box::new(Dcm4cheeStore::connect(&config)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
        let entry = format!(
            "[systems.p]\nkind = \"orthanc\"\nurl = \"http://127.0.0.1:1/\"\nusername = \"u\"\n\
             password_file = \"{}\"\n",
            pw.display()
        );
        let err = SystemsConfig::from_toml(&entry)
            .unwrap()
            .open("p")
            .err()
            .unwrap();
        assert!(err.to_string().contains(&pw.display().to_string()), "{err}");
        assert!(!err.to_string().contains("CANARY"), "{err}");
        let shared = format!("{entry}danger_allow_shared_secret_file = true\n");
        assert!(SystemsConfig::from_toml(&shared).unwrap().open("p").is_ok());
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(SystemsConfig::from_toml(&entry).unwrap().open("p").is_ok());
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

    #[test]
    fn every_remote_kind_follows_one_credential_rule_and_its_own_keys() {
        for kind in ["orthanc", "dicomweb", "dcm4chee"] {
            let url = "http://127.0.0.1:1/dcm4chee-arc/aets/A/rs/";
            let text =
                format!("[systems.p]\nkind = \"{kind}\"\nurl = \"{url}\"\nusername = \"u\"\n");
            let err = SystemsConfig::from_toml(&text)
                .unwrap()
                .open("p")
                .err()
                .unwrap();
            assert!(
                err.to_string()
                    .contains("`username` is set but no password"),
                "{kind}: {err}"
            );
        }
        // DICOMweb has its own section: `derived` (which it cannot honour)
        // is an error, not silently lost; Orthanc takes it.
        let err = SystemsConfig::from_toml(
            "[systems.w]\nkind = \"dicomweb\"\nurl = \"https://x/\"\nderived = \"report\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown field `derived`"), "{err}");
        SystemsConfig::from_toml(
            "[systems.o]\nkind = \"orthanc\"\nurl = \"https://x/\"\nderived = \"report\"\n",
        )
        .unwrap();
        let err = SystemsConfig::from_toml(
            "[systems.a]\nkind = \"dcm4chee\"\nurl = \"https://x/\"\nrejection_kode = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("unknown field `rejection_kode`") && err.contains("`rejection_code`"),
            "{err}"
        );
    }
}
