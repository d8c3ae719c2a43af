//! Reading and writing the key store file durably: creating it, opening
//! and checking it, appending new keys (one `write` and one `fdatasync`
//! for a batch) and rewriting it whole (temporary file, `fdatasync`,
//! rename, directory `fsync`).

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::format::{ENTRY_LEN, HEADER_LEN};
use super::{ByIndex, Entry, FileKeyStore, keyed, random_id};
use crate::Error;
use crate::seal::DataKey;

impl FileKeyStore {
    /// Creates a new key store at `path` (which must not exist).
    ///
    /// # Errors
    /// [`Error::Io`] if the file exists or cannot be written.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        if path.exists() {
            return Err(Error::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "key store already exists",
                ),
            ));
        }
        let index_secret = DataKey::random()?;
        let store = Self {
            path,
            index_mac: keyed(&index_secret),
            index_secret,
            unattributed: Entry {
                key_id: random_id()?,
                key: DataKey::random()?,
            },
            by_index: ByIndex::default(),
            by_id: HashMap::new(),
            erased: BTreeMap::new(),
        };
        store.persist()?;
        Ok(store)
    }

    /// Opens the key store at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if unreadable; [`Error::KeyStoreDamaged`] if any of
    /// its checks fails (checksums, header, duplicate entries).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        let bytes = Zeroizing::new(fs::read(&path).map_err(|e| Error::io(&path, e))?);
        Self::parse(path, &bytes).map_err(|e| match e {
            Error::NonCanonical {
                offset,
                cause,
                detail,
                ..
            } => Error::KeyStoreDamaged {
                offset,
                cause,
                detail,
            },
            other => other,
        })
    }

    /// Checks the key store at `path` as [`FileKeyStore::open`] does, for
    /// verification: `Ok(None)` when there is no file there (an auditor's
    /// copy of the log without keys), else the number of subject keys.
    ///
    /// # Errors
    /// [`Error::KeyStoreDamaged`] if a check fails; [`Error::Io`] if the
    /// file exists but cannot be read.
    pub fn check(path: impl Into<PathBuf>) -> Result<Option<usize>, Error> {
        let path = path.into();
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
            Ok(_) => {}
        }
        Ok(Some(Self::open(path)?.by_index.len()))
    }

    /// Appends entries durably at the end of the complete entries
    /// (overwriting a torn one), then `fdatasync` (once).
    pub(super) fn append_entries(&self, entries: &[([u8; 32], Entry)]) -> Result<(), Error> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(entries.len() * ENTRY_LEN));
        for (index, entry) in entries {
            Self::entry_bytes(index, entry, &mut bytes);
        }
        let at = (HEADER_LEN + (self.by_index.len() + self.erased.len()) * ENTRY_LEN) as u64;
        let f = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        f.write_all_at(&bytes, at)
            .map_err(|e| Error::io(&self.path, e))?;
        f.set_len(at + bytes.len() as u64)
            .map_err(|e| Error::io(&self.path, e))?;
        f.sync_data().map_err(|e| Error::io(&self.path, e))
    }

    /// Writes the store durably: temporary file, `fdatasync`, rename,
    /// directory `fsync`.
    pub(super) fn persist(&self) -> Result<(), Error> {
        let bytes = self.encode();
        let tmp = self.path.with_extension("tmp");
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        f.write_all(&bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_data().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        sync_dir(&self.path)
    }
}

/// `fsync`s the directory holding `path`, so a rename or a new file is durable.
pub(crate) fn sync_dir(path: &Path) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}
