//! Writing one patient's export (GDPR Art. 15, 20): a FHIR R4 Bundle of type
//! `collection` (`bundle.json`), one NDJSON file per resource type
//! (`Observation.ndjson`, …), and a side file (`nonconformant-elements.ndjson`)
//! for elements that are not valid FHIR R4 JSON ([`crate::conformance`]).
//! File names are fixed or resource type names: free of identifiers.
//!
//! Nothing half-written ever looks complete: files are written under
//! temporary names (`.NAME.partial`), synced, and renamed when all are
//! done, into a directory that was empty (or held only an interrupted
//! export's files, removed first: the export runs again); the manifest is
//! written last ([`write_manifest`]), the same way.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use gdpr_core::store::StoreError;
use sha2::{Digest, Sha256};

use crate::conformance::{is_resource_type, write_split};
use crate::model::{Resource, logical_id, resource_type};

/// The Bundle's file name.
pub const BUNDLE_FILE: &str = "bundle.json";
/// The side file of elements that are not valid FHIR R4.
pub const SIDE_FILE: &str = "nonconformant-elements.ndjson";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The scratch file an OpenEMR bulk output file is streamed into (as
/// `.bulk-download.partial`), removed once read.
pub const BULK_SCRATCH: &str = "bulk-download";

/// One file of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// The file name (no identifier).
    pub name: String,
    /// SHA-256 of its content, lower-case hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// Resources (or side elements) in it.
    pub items: u64,
}

/// A file being written under its temporary name, hashed as it goes.
struct Pending {
    name: String,
    out: BufWriter<File>,
    /// `None` only for [`ExportWriter::bundle_only`].
    hash: Option<Sha256>,
    bytes: u64,
    items: u64,
}

impl Pending {
    fn create(dir: &Path, name: &str) -> Result<Self, StoreError> {
        Self::open(dir, name, true)
    }

    fn open(dir: &Path, name: &str, hashed: bool) -> Result<Self, StoreError> {
        let file = File::create(temp_path(dir, name)).map_err(local("create export file"))?;
        Ok(Self {
            name: name.to_owned(),
            out: BufWriter::with_capacity(1 << 16, file),
            hash: hashed.then(Sha256::new),
            bytes: 0,
            items: 0,
        })
    }

    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.out
            .write_all(data)
            .map_err(local("write export file"))?;
        if let Some(hash) = &mut self.hash {
            hash.update(data);
        }
        self.bytes += data.len() as u64;
        Ok(())
    }

    fn line(&mut self, value: &impl serde::Serialize) -> Result<(), StoreError> {
        let mut data = serde_json::to_vec(value).map_err(|_| unserialisable())?;
        data.push(b'\n');
        self.items += 1;
        self.write(&data)
    }

    /// Flushes and syncs; returns what the manifest says about the file.
    fn close(self) -> Result<WrittenFile, StoreError> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| local("write export file")(e.into_error()))?;
        file.sync_all().map_err(local("sync export file"))?;
        let sha256 = self.hash.map_or_else(String::new, |hash| {
            hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
        });
        Ok(WrittenFile {
            name: self.name,
            sha256,
            bytes: self.bytes,
            items: self.items,
        })
    }
}

/// Writes one patient's resources into an export directory.
pub struct ExportWriter {
    dir: PathBuf,
    /// `{"fullUrl":"` and the base URL with its `/`, as JSON.
    entry_start: Vec<u8>,
    bundle: Pending,
    types: BTreeMap<String, Pending>,
    side: Option<Pending>,
    /// Whether NDJSON files are written (not for [`Self::bundle_only`]).
    ndjson: bool,
    /// The resource being written, reused (one allocation for the export).
    body: Vec<u8>,
}

impl std::fmt::Debug for ExportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportWriter")
            .field("entries", &self.bundle.items)
            .finish_non_exhaustive()
    }
}

impl ExportWriter {
    /// Starts an export into `dir` (created if missing; refused unless
    /// empty or holding only what an interrupted export of ours left, which
    /// is removed). `base` is the server's base URL, for the entries'
    /// `fullUrl`.
    ///
    /// # Errors
    /// [`StoreError::Local`] when the directory is not empty or cannot be
    /// written.
    pub fn create(dir: &Path, base: &str) -> Result<Self, StoreError> {
        Self::start(dir, base, true)
    }

    /// The Bundle-writing part of an export on its own: the conformance
    /// split and the Bundle (and the side file), buffered and synced as
    /// [`Self::create`] does, but no NDJSON files and no SHA-256 (the
    /// files' `sha256` is empty). No export: the benchmark compares it
    /// with plain `serde_json` serialisation of the same Bundle.
    ///
    /// # Errors
    /// As [`Self::create`].
    pub fn bundle_only(dir: &Path, base: &str) -> Result<Self, StoreError> {
        Self::start(dir, base, false)
    }

    fn start(dir: &Path, base: &str, full: bool) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(local("create export directory"))?;
        clear_interrupted(dir)?;
        let mut bundle = Pending::open(dir, BUNDLE_FILE, full)?;
        bundle.write(br#"{"resourceType":"Bundle","type":"collection","entry":["#)?;
        Ok(Self::with_bundle(dir, entry_start(base)?, bundle, full))
    }

    fn with_bundle(dir: &Path, entry_start: Vec<u8>, bundle: Pending, full: bool) -> Self {
        Self {
            dir: dir.to_owned(),
            entry_start,
            bundle,
            types: BTreeMap::new(),
            side: None,
            ndjson: full,
            body: Vec::with_capacity(1 << 12),
        }
    }

    /// Adds one resource: its invalid elements to the side file, the rest
    /// to the Bundle and its type's NDJSON file. A resource without a
    /// well-formed id or of a type R4 does not have goes to the side file
    /// whole.
    ///
    /// # Errors
    /// [`StoreError::Local`] when a file cannot be written.
    pub fn add(&mut self, mut resource: Resource) -> Result<(), StoreError> {
        let (Some(kind), Some(id)) = (resource_type(&resource), logical_id(&resource)) else {
            return self.aside_whole(resource);
        };
        if !is_type_name(kind) || !is_resource_type(kind) || !is_fhir_id(id) {
            return self.aside_whole(resource);
        }
        let name = format!("{kind}/{id}");
        let kind = &name[..kind.len()];
        // One walk: the conformance split and the serialisation, into a
        // buffer reused for the Bundle entry and the NDJSON line.
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        let side = write_split(&mut resource, &name, &mut body);
        let written = self.put(kind, &name, &body);
        self.body = body;
        for element in side {
            self.side_file()?.line(&element)?;
        }
        written
    }

    /// Writes one resource's JSON as a Bundle entry and an NDJSON line.
    fn put(&mut self, kind: &str, name: &str, body: &[u8]) -> Result<(), StoreError> {
        let bundle = &mut self.bundle;
        if bundle.items > 0 {
            bundle.write(b",")?;
        }
        // `{"fullUrl":"BASE/` (escaped once), then `Type/id`, checked to
        // need no escaping.
        bundle.write(&self.entry_start)?;
        bundle.write(name.as_bytes())?;
        bundle.write(br#"","resource":"#)?;
        bundle.write(body)?;
        bundle.write(b"}")?;
        bundle.items += 1;
        if !self.ndjson {
            return Ok(());
        }
        let file = match self.types.get_mut(kind) {
            Some(file) => file,
            None => {
                let file = Pending::create(&self.dir, &format!("{kind}.ndjson"))?;
                self.types.entry(kind.to_owned()).or_insert(file)
            }
        };
        file.write(body)?;
        file.write(b"\n")?;
        file.items += 1;
        Ok(())
    }

    fn aside_whole(&mut self, resource: Resource) -> Result<(), StoreError> {
        let element = crate::conformance::SideElement {
            resource: "(no R4 resourceType or no valid id)".into(),
            path: String::new(),
            value: serde_json::Value::Object(resource),
        };
        self.side_file()?.line(&element)
    }

    fn side_file(&mut self) -> Result<&mut Pending, StoreError> {
        if self.side.is_none() {
            self.side = Some(Pending::open(&self.dir, SIDE_FILE, self.ndjson)?);
        }
        Ok(self.side.as_mut().expect("just created"))
    }

    /// The number of resources in the Bundle so far.
    pub fn entries(&self) -> u64 {
        self.bundle.items
    }

    /// Closes, syncs and renames every file into place; returns them
    /// (Bundle first). The export is complete only once the manifest is
    /// written after this ([`write_manifest`]).
    ///
    /// # Errors
    /// [`StoreError::Local`] when a file cannot be written or renamed.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, StoreError> {
        self.bundle.write(b"]}\n")?;
        let mut pending = vec![self.bundle];
        pending.extend(self.types.into_values());
        pending.extend(self.side);
        let files = pending
            .into_iter()
            .map(Pending::close)
            .collect::<Result<Vec<_>, _>>()?;
        for file in &files {
            std::fs::rename(temp_path(&self.dir, &file.name), self.dir.join(&file.name))
                .map_err(local("rename export file"))?;
        }
        // The checkpoint, if any, names files no longer there.
        match std::fs::remove_file(temp_path(&self.dir, checkpoint::PROGRESS)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(local("remove export checkpoint")(e));
            }
            _ => {}
        }
        sync_dir(&self.dir)?;
        Ok(files)
    }
}

/// Writes `manifest` as `manifest.json` in `dir`: temporary name, sync,
/// rename, sync the directory. Returns its SHA-256.
///
/// # Errors
/// [`StoreError::Local`] when it cannot be written.
pub fn write_manifest(dir: &Path, manifest: &impl serde::Serialize) -> Result<(), StoreError> {
    let data = serde_json::to_vec_pretty(manifest).map_err(|_| unserialisable())?;
    write_file(dir, MANIFEST_FILE, &data).map(drop)
}

/// Writes `data` as `name` in `dir` (temporary name, sync, rename, sync
/// the directory) and describes it; `items` is 1. `name` must be a plain
/// file name.
///
/// # Errors
/// [`StoreError::Local`] when it cannot be written.
pub fn write_file(dir: &Path, name: &str, data: &[u8]) -> Result<WrittenFile, StoreError> {
    let mut file = Pending::create(dir, name)?;
    file.write(data)?;
    file.items = 1;
    let written = file.close()?;
    std::fs::rename(temp_path(dir, name), dir.join(name)).map_err(local("rename export file"))?;
    sync_dir(dir)?;
    Ok(written)
}

/// Makes `dir` ready for a new export: it must be empty, or hold only
/// what an interrupted export of ours leaves (our file names, no manifest:
/// an export without its manifest was never complete), which is removed so
/// the export runs again from the start. Anything else is refused.
fn clear_interrupted(dir: &Path) -> Result<(), StoreError> {
    for (_, path) in interrupted_files(dir)? {
        std::fs::remove_file(path).map_err(local("remove an interrupted export's file"))?;
    }
    Ok(())
}

/// The files (name, path) an interrupted export of ours left in `dir`;
/// refused when anything else is there.
fn interrupted_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, StoreError> {
    let mut ours = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(local("read export directory"))? {
        let entry = entry.map_err(local("read export directory"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || !is_interrupted_file(&name) {
            // As gdpr-dicom's exports: files of another export (or a
            // complete one, with its manifest) must not be mistaken for
            // this one's.
            return Err(StoreError::Local {
                operation: "prepare export directory",
                detail: "the directory is not empty (nor the remains of an interrupted \
                         export); choose a new or empty directory"
                    .into(),
            });
        }
        ours.push((name, entry.path()));
    }
    Ok(ours)
}

/// Whether `name` is a file an export writes before its manifest: the
/// Bundle, the side file, `{Type}.ndjson`, the attachments and their index,
/// or one of these under its temporary name.
fn is_interrupted_file(name: &str) -> bool {
    let name = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".partial"))
        .unwrap_or(name);
    let attachment = name
        .strip_prefix("attachment-")
        .and_then(|n| n.strip_suffix(".bin"))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let ndjson = name.strip_suffix(".ndjson").is_some_and(is_resource_type);
    let scratch =
        name == BULK_SCRATCH || name == checkpoint::PROGRESS || name == checkpoint::PROGRESS_NEXT;
    name == BUNDLE_FILE
        || name == SIDE_FILE
        || name == "attachments.json"
        || attachment
        || ndjson
        || scratch
}

/// `{"fullUrl":"` and `base` with its `/`, as JSON without the closing
/// quote (`Type/id` follows).
fn entry_start(base: &str) -> Result<Vec<u8>, StoreError> {
    let mut start = br#"{"fullUrl":"#.to_vec();
    let base = format!("{}/", base.trim_end_matches('/'));
    serde_json::to_writer(&mut start, &base).map_err(|_| unserialisable())?;
    start.pop();
    Ok(start)
}

fn temp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.partial"))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(local("sync export directory"))
}

/// A FHIR resource type name: an upper-case letter, then letters.
fn is_type_name(name: &str) -> bool {
    name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphabetic())
}

/// A FHIR logical id (R4 §2.24.0.1 `id`): 1–64 of `A-Z a-z 0-9 - .`.
pub fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn local(operation: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::Local {
        operation,
        detail: e.kind().to_string(),
    }
}

fn unserialisable() -> StoreError {
    StoreError::Local {
        operation: "serialise export",
        detail: "a resource could not be serialised".into(),
    }
}

mod checkpoint;
pub use checkpoint::{ReadBack, SET_ASIDE_REFERENCES};

#[cfg(test)]
mod tests;
