//! The `systems.toml` file itself, whatever kinds of system its entries
//! name: `[systems.NAME]` tables, read from a regular file of at most
//! 1 MiB, every error naming the file and the line but never quoting it (a
//! mistyped line can hold a secret). The entries' type `E` is the host's:
//! gdpr-dicom's PACS kinds, or gdpr-systems' PACS and EHR kinds together.

use std::collections::BTreeMap;
use std::path::Path;

use gdpr_core::store::{StoreError, SubjectStore};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::secret::read_regular_file;

/// The largest `systems.toml` read (1 MiB).
pub const MAX_SYSTEMS_FILE: u64 = 1 << 20;

/// An entry of `systems.toml` that can be opened as a store.
pub trait SystemEntry {
    /// Opens the entry of system `name` (named in messages and audit
    /// records) as a store; no request is made yet.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when the entry is unusable (a bad URL,
    /// plain HTTP to a remote host, an unreadable or shared secret file, a
    /// missing folder).
    fn open(&self, name: &str) -> Result<Box<dyn SubjectStore>, StoreError>;
}

/// A parsed `systems.toml`: the entries by system name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemsFile<E> {
    systems: BTreeMap<String, E>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    origin: String,
}

impl<E: DeserializeOwned> SystemsFile<E> {
    /// Parses the TOML text of a `systems.toml` (named "the systems
    /// configuration" in messages; [`SystemsFile::load`] names the file).
    ///
    /// # Errors
    /// [`StoreError::Configuration`] naming the line that is wrong and what
    /// is wrong with it, never quoting the line or a value from it.
    pub fn from_toml(text: &str) -> Result<Self, StoreError> {
        Self::parse("the systems configuration", text)
    }

    fn parse(origin: &str, text: &str) -> Result<Self, StoreError> {
        let mut file: Self = toml::from_str(text).map_err(|e| StoreError::Configuration {
            detail: format!("{origin}: {}", gdpr_core::redact::toml_message(text, &e)),
        })?;
        file.origin = origin.to_owned();
        Ok(file)
    }

    /// Reads and parses a `systems.toml`: a regular file of at most
    /// [`MAX_SYSTEMS_FILE`] bytes.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] naming the file (and the line) when it
    /// cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        let origin = path.display().to_string();
        let bytes = read_regular_file(
            path,
            MAX_SYSTEMS_FILE,
            "the systems file",
            "give a systems.toml",
        )?;
        let text = String::from_utf8(bytes).map_err(|_| StoreError::Configuration {
            detail: format!("{origin}: not UTF-8 text"),
        })?;
        Self::parse(&origin, &text)
    }
}

impl<E> SystemsFile<E> {
    /// The names of the configured systems, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.systems.keys().map(String::as_str)
    }

    /// The entry of system `name`.
    pub fn get(&self, name: &str) -> Option<&E> {
        self.systems.get(name)
    }

    /// Where the file was read from (or "the systems configuration").
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The entry of system `name`.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when no system has that name; the
    /// message lists the names configured.
    pub fn entry(&self, name: &str) -> Result<&E, StoreError> {
        self.get(name).ok_or_else(|| StoreError::Configuration {
            detail: format!(
                "no system named `{name}` in {}; configured: {}",
                self.origin,
                self.names().collect::<Vec<_>>().join(", ")
            ),
        })
    }
}

impl<E: SystemEntry> SystemsFile<E> {
    /// Opens system `name` as a store.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when no system has that name or its
    /// entry is unusable (see [`SystemEntry::open`]).
    pub fn open(&self, name: &str) -> Result<Box<dyn SubjectStore>, StoreError> {
        self.entry(name)?.open(name)
    }
}
