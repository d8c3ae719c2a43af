//! Where a password comes from: a file or an environment variable, never the
//! command line (which other users of the machine can read in `ps`). The
//! value is held as a zeroizing [`SecretString`].

use std::path::PathBuf;

use gdpr_core::store::StoreError;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The source of a password or client secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PasswordSource {
    /// A file holding the password (one trailing newline is ignored). Keep it
    /// readable by the service user only (mode 600).
    File(PathBuf),
    /// An environment variable holding the password.
    Env(String),
}

impl PasswordSource {
    /// Reads the secret.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when the file cannot be read, the
    /// variable is unset, or the secret is empty. The message names the file
    /// or variable, never the secret.
    pub fn load(&self) -> Result<SecretString, StoreError> {
        let mut value = match self {
            Self::File(path) => {
                std::fs::read_to_string(path).map_err(|e| StoreError::Configuration {
                    detail: format!(
                        "cannot read the password file {}: {}; create it (mode 600) or fix \
                         `password_file`",
                        path.display(),
                        e.kind()
                    ),
                })?
            }
            Self::Env(name) => std::env::var(name).map_err(|_| StoreError::Configuration {
                detail: format!(
                    "the environment variable {name} is not set (or not UTF-8); export it or fix \
                     `password_env`"
                ),
            })?,
        };
        while value.ends_with('\n') || value.ends_with('\r') {
            value.pop();
        }
        if value.is_empty() {
            return Err(StoreError::Configuration {
                detail: "the password is empty; write it into the file or variable".into(),
            });
        }
        Ok(SecretString::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_passwords_lose_their_newline_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "CANARY-SECRET\n").unwrap();
        let secret = PasswordSource::File(path).load().unwrap();
        assert_eq!(secret.expose_secret(), "CANARY-SECRET");
        assert!(!format!("{secret:?}").contains("CANARY"));
    }

    #[test]
    fn missing_sources_name_themselves() {
        let err = PasswordSource::File("/nonexistent/pw".into())
            .load()
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pw"), "{err}");
        let err = PasswordSource::Env("GDPR_SURELY_UNSET_VAR_42".into())
            .load()
            .unwrap_err();
        assert!(
            err.to_string().contains("GDPR_SURELY_UNSET_VAR_42"),
            "{err}"
        );
    }
}
