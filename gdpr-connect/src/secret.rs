//! Where a secret (password, client secret, bearer token) comes from: a file
//! or an environment variable, never the command line (which other users of
//! the machine can read in `ps`). The value is held as a zeroizing
//! [`SecretString`].
//!
//! Secret files must be regular files of at most 64 KiB. Reading one does
//! not check who else may read it; [`SecretSource::check_private`] does, and
//! [`EndpointSettings::endpoint`](crate::EndpointSettings::endpoint) refuses
//! a secret file that its group or other users can read unless the system's
//! entry says `danger_allow_shared_secret_file = true` (the library never
//! prints, so a warning nobody sees would be no protection).

use std::io::Read;
use std::path::{Path, PathBuf};

use gdpr_core::store::StoreError;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The source of a password, client secret or token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SecretSource {
    /// A file holding the secret (trailing newlines are ignored). Keep it
    /// readable by the service user only (mode 600).
    File(PathBuf),
    /// An environment variable holding the secret.
    Env(String),
}

impl SecretSource {
    /// Reads the secret.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when the file cannot be read, is not a
    /// regular file, is larger than 64 KiB or not UTF-8, the variable is
    /// unset, or the secret is empty. The message names the file or
    /// variable, never the secret.
    pub fn load(&self) -> Result<SecretString, StoreError> {
        let mut value = match self {
            Self::File(path) => {
                let bytes = zeroize::Zeroizing::new(read_regular_file(
                    path,
                    MAX_SECRET_BYTES,
                    "the secret file",
                    "fix the `…_file` setting",
                )?);
                String::from_utf8(bytes.to_vec()).map_err(|e| {
                    zeroize::Zeroize::zeroize(&mut e.into_bytes());
                    StoreError::Configuration {
                        detail: format!(
                            "the secret file {} is not UTF-8 text; fix the `…_file` setting",
                            path.display()
                        ),
                    }
                })?
            }
            Self::Env(name) => std::env::var(name).map_err(|_| StoreError::Configuration {
                detail: format!(
                    "the environment variable {name} is not set (or not UTF-8); export it or fix \
                     the `…_env` setting"
                ),
            })?,
        };
        while value.ends_with('\n') || value.ends_with('\r') {
            value.pop();
        }
        if value.is_empty() {
            return Err(StoreError::Configuration {
                detail: "the secret is empty; write it into the file or variable".into(),
            });
        }
        Ok(SecretString::from(value))
    }

    /// Checks that a secret file is readable by its owner only (no
    /// permission for group or others, as `chmod 600` leaves it). An
    /// environment variable always passes.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] naming the file when its group or other
    /// users may read or write it, or when its mode cannot be read.
    pub fn check_private(&self) -> Result<(), StoreError> {
        use std::os::unix::fs::PermissionsExt;
        let Self::File(path) = self else {
            return Ok(());
        };
        let mode = std::fs::metadata(path)
            .map_err(|e| StoreError::Configuration {
                detail: format!(
                    "cannot read the secret file {}: {}",
                    path.display(),
                    e.kind()
                ),
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::Configuration {
                detail: format!(
                    "the secret file {} can be read by other users (mode {:o}); run chmod 600 \
                     on it (or set danger_allow_shared_secret_file = true)",
                    path.display(),
                    mode & 0o777
                ),
            });
        }
        Ok(())
    }
}

/// The largest password or client-secret file (64 KiB).
const MAX_SECRET_BYTES: u64 = 64 << 10;

/// Reads a configuration file of at most `max_bytes`: it must be a regular
/// file (symbolic links are followed), so a FIFO, a device such as
/// `/dev/zero` or a directory is refused by name before it is opened.
/// `what` names the file in messages ("the CA file"), `fix` says what to do
/// ("fix `tls_ca_file`").
///
/// # Errors
/// [`StoreError::Configuration`] naming the file when it is missing, not a
/// regular file, unreadable or too large (its content is never quoted).
pub fn read_regular_file(
    path: &Path,
    max_bytes: u64,
    what: &str,
    fix: &str,
) -> Result<Vec<u8>, StoreError> {
    let fail = |why: String| StoreError::Configuration {
        detail: format!("{what} {}: {why}; {fix}", path.display()),
    };
    let meta =
        std::fs::metadata(path).map_err(|e| fail(format!("cannot read it ({})", e.kind())))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let file =
        std::fs::File::open(path).map_err(|e| fail(format!("cannot read it ({})", e.kind())))?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read it ({})", e.kind())))?;
    if bytes.len() as u64 > max_bytes {
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(fail(format!("is larger than {max_bytes} bytes")));
    }
    Ok(bytes)
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
        let secret = SecretSource::File(path).load().unwrap();
        assert_eq!(secret.expose_secret(), "CANARY-SECRET");
        assert!(!format!("{secret:?}").contains("CANARY"));
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for path in ["/dev/zero".into(), dir.path().to_path_buf()] {
            let err = SecretSource::File(path.clone()).load().unwrap_err();
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 65 << 10]).unwrap();
        let err = SecretSource::File(big).load().unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
    }

    #[test]
    fn a_password_file_others_can_read_is_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "CANARY-SECRET\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let source = SecretSource::File(path.clone());
        let err = source.check_private().unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(!err.to_string().contains("CANARY"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        source.check_private().unwrap();
    }

    #[test]
    fn missing_sources_name_themselves() {
        let err = SecretSource::File("/nonexistent/pw".into())
            .load()
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pw"), "{err}");
        let err = SecretSource::Env("GDPR_SURELY_UNSET_VAR_42".into())
            .load()
            .unwrap_err();
        assert!(
            err.to_string().contains("GDPR_SURELY_UNSET_VAR_42"),
            "{err}"
        );
    }
}
