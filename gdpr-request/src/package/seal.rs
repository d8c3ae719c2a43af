//! The package encrypted to its recipient: one `package.tar.age` (a tar
//! of the verified package, manifest included, encrypted with age to an
//! X25519 public key or to a passphrase through scrypt).
//!
//! One archive rather than a file each: the recipient decrypts once, and
//! neither the number of files nor their sizes or names (the shape of the
//! studies) show outside the encryption. The tar entries are written in
//! the manifest's order with fixed metadata (mode 0600, mtime 0, no
//! owner), streamed from the files through the encryptor in bounded
//! buffers. The archive is written to `package.tar.age.part`, synced and
//! renamed; only then is the plaintext `package/` removed, so a crash
//! leaves either the plaintext staging (sealed again on resume) or the
//! complete archive, never both for long and never a torn archive under
//! the final name.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use age::secrecy::SecretString;

use super::{PACKAGE_MANIFEST, PackageError, PackageFile, Progress};
use crate::Error;

/// The encrypted package's file name in the request directory.
pub const SEALED_PACKAGE: &str = "package.tar.age";
/// Within the archive, every path starts with this folder.
pub const ARCHIVE_ROOT: &str = "package";

/// To whom the package is encrypted.
#[derive(Clone)]
#[non_exhaustive]
pub enum Encryption {
    /// An age X25519 public key (`age1…`).
    Recipient(age::x25519::Recipient),
    /// A passphrase (scrypt, work factor chosen by age for about one second).
    Passphrase(Arc<SecretString>),
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Recipient(r) => write!(f, "Recipient({r})"),
            Self::Passphrase(_) => f.write_str("Passphrase(<redacted>)"),
        }
    }
}

impl Encryption {
    /// To an age X25519 public key (`age1…`).
    ///
    /// # Errors
    /// [`PackageError::Recipient`] when it is not one.
    pub fn to_recipient(key: &str) -> Result<Self, PackageError> {
        age::x25519::Recipient::from_str(key.trim())
            .map(Self::Recipient)
            .map_err(|_| PackageError::Recipient)
    }

    /// To a passphrase.
    pub fn to_passphrase(passphrase: SecretString) -> Self {
        Self::Passphrase(Arc::new(passphrase))
    }

    fn encryptor(&self) -> Result<age::Encryptor, PackageError> {
        match self {
            Self::Recipient(r) => age::Encryptor::with_recipients(std::iter::once(
                r as &dyn age::Recipient,
            ))
            .map_err(|_| PackageError::Encode {
                what: "the age header",
            }),
            Self::Passphrase(p) => Ok(age::Encryptor::with_user_passphrase(SecretString::from(
                secrecy_text(p),
            ))),
        }
    }
}

fn secrecy_text(p: &SecretString) -> String {
    use age::secrecy::ExposeSecret;
    p.expose_secret().to_owned()
}

fn entry(bytes: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(bytes);
    h.set_mode(0o600);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Seals the verified package at `root` (its manifest's `files`) into
/// `sealed`, then removes `root`. Idempotent: when `sealed` exists it was
/// complete (renamed into place), and only the plaintext is removed.
///
/// # Errors
/// [`Error::Io`]; [`Error::Package`] when encryption fails.
pub(crate) fn seal(
    root: &Path,
    files: &[PackageFile],
    sealed: &Path,
    to: &Encryption,
    progress: &Progress,
) -> Result<u64, Error> {
    if !sealed.exists() {
        progress.begin("sealing", files.iter().map(|f| f.bytes).sum());
        let part = sealed.with_extension("age.part");
        let file = File::create(&part).map_err(Error::io("write the encrypted package"))?;
        let out = to
            .encryptor()?
            .wrap_output(BufWriter::with_capacity(64 << 10, file))
            .map_err(Error::io("write the encrypted package"))?;
        let mut tar = tar::Builder::new(out);
        let names = files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes))
            .chain(std::iter::once((PACKAGE_MANIFEST, 0)));
        for (name, _) in names {
            let from = root.join(name);
            let file = File::open(&from).map_err(Error::io("read a package file"))?;
            let len = file
                .metadata()
                .map_err(Error::io("read a package file"))?
                .len();
            let mut header = entry(len);
            tar.append_data(&mut header, format!("{ARCHIVE_ROOT}/{name}"), file)
                .map_err(Error::io("write the encrypted package"))?;
            progress.advance(len);
        }
        progress.end();
        let out = tar
            .into_inner()
            .map_err(Error::io("write the encrypted package"))?;
        let buffered = out
            .finish()
            .map_err(Error::io("write the encrypted package"))?;
        let file = buffered.into_inner().map_err(|e| Error::Io {
            what: "write the encrypted package",
            source: e.into_error(),
        })?;
        file.sync_all()
            .map_err(Error::io("write the encrypted package"))?;
        fs::rename(&part, sealed).map_err(Error::io("write the encrypted package"))?;
        crate::fsio::sync_dir(sealed.parent().unwrap_or(Path::new(".")))?;
    }
    if root.exists() {
        fs::remove_dir_all(root).map_err(Error::io("remove the plaintext package"))?;
    }
    let size = fs::metadata(sealed)
        .map_err(Error::io("read the encrypted package"))?
        .len();
    Ok(size)
}
