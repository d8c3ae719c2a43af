//! Resuming an interrupted export. Every so often the writer records a
//! checkpoint (`.export-progress.partial`): for each file written so far its
//! length, item count and SHA-256, and where the source of the resources
//! stands (an opaque cursor: the next page's URL). A later export into the
//! same directory ([`ExportWriter::resume`]) keeps those files only when
//! each still has at least its recorded length and its recorded prefix
//! hashes to the recorded SHA-256; it cuts what was written after the
//! checkpoint and continues from the cursor. Anything that does not verify
//! is removed and the export runs from the start. The checkpoint is removed
//! when the files are renamed into place; the manifest still comes last.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom};
use std::path::Path;

use gdpr_core::store::StoreError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    BUNDLE_FILE, ExportWriter, Pending, SIDE_FILE, interrupted_files, local, sync_dir, temp_path,
    unserialisable,
};
use crate::model::Resource;

/// The checkpoint's name (as `.export-progress.partial`; written as
/// `.export-progress.next.partial`, then renamed over it).
pub(super) const PROGRESS: &str = "export-progress";
/// The checkpoint's name while it is written.
pub(super) const PROGRESS_NEXT: &str = "export-progress.next";

/// What a checkpoint records.
#[derive(Serialize, Deserialize)]
struct Progress {
    /// The format's version (1).
    version: u32,
    /// The `fullUrl` prefix of the Bundle entries (another server's export
    /// is never continued).
    entry_start: String,
    /// Where the source stands.
    cursor: serde_json::Value,
    /// The files as they were at the checkpoint.
    files: Vec<FileState>,
}

/// One file at a checkpoint.
#[derive(Serialize, Deserialize)]
struct FileState {
    name: String,
    bytes: u64,
    items: u64,
    sha256: String,
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Pending {
    /// Flushes and syncs the file; its state for a checkpoint.
    fn snapshot(&mut self) -> Result<FileState, StoreError> {
        use std::io::Write;
        self.out.flush().map_err(local("write export file"))?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(local("sync export file"))?;
        let sha256 = self
            .hash
            .as_ref()
            .map_or_else(String::new, |h| hex(&h.clone().finalize()));
        Ok(FileState {
            name: self.name.clone(),
            bytes: self.bytes,
            items: self.items,
            sha256,
        })
    }

    /// The file of `state` as it was at the checkpoint: `None` when it is
    /// missing, shorter, or its first `bytes` do not hash to the recorded
    /// SHA-256; else cut to that length, ready to append, hash continued.
    fn reopen(dir: &Path, state: &FileState) -> Result<Option<Self>, StoreError> {
        let Ok(mut file) = OpenOptions::new()
            .read(true)
            .write(true)
            .open(temp_path(dir, &state.name))
        else {
            return Ok(None);
        };
        let length = file.metadata().map_err(local("read export file"))?.len();
        if length < state.bytes {
            return Ok(None);
        }
        let mut hash = Sha256::new();
        let mut prefix = BufReader::new(&mut file).take(state.bytes);
        let mut buffer = vec![0; 1 << 16];
        loop {
            let n = prefix
                .read(&mut buffer)
                .map_err(local("read export file"))?;
            if n == 0 {
                break;
            }
            hash.update(&buffer[..n]);
        }
        if hex(&hash.clone().finalize()) != state.sha256 {
            return Ok(None);
        }
        file.set_len(state.bytes)
            .map_err(local("cut export file to its checkpoint"))?;
        file.seek(SeekFrom::End(0))
            .map_err(local("cut export file to its checkpoint"))?;
        Ok(Some(Self {
            name: state.name.clone(),
            out: BufWriter::with_capacity(1 << 16, file),
            hash: Some(hash),
            bytes: state.bytes,
            items: state.items,
        }))
    }
}

impl ExportWriter {
    /// Records a checkpoint: every file flushed and synced, then its
    /// length, items and SHA-256 with `cursor` (where the source stands
    /// after the resources added so far) in the checkpoint file.
    ///
    /// # Errors
    /// [`StoreError::Local`] when a file cannot be synced or the
    /// checkpoint written.
    pub fn checkpoint(&mut self, cursor: serde_json::Value) -> Result<(), StoreError> {
        let mut files = vec![self.bundle.snapshot()?];
        for file in self.types.values_mut().chain(self.side.as_mut()) {
            files.push(file.snapshot()?);
        }
        let progress = Progress {
            version: 1,
            entry_start: String::from_utf8_lossy(&self.entry_start).into_owned(),
            cursor,
            files,
        };
        let data = serde_json::to_vec(&progress).map_err(|_| unserialisable())?;
        let next = temp_path(&self.dir, PROGRESS_NEXT);
        std::fs::write(&next, data).map_err(local("write export checkpoint"))?;
        File::open(&next)
            .and_then(|f| f.sync_all())
            .map_err(local("sync export checkpoint"))?;
        std::fs::rename(&next, temp_path(&self.dir, PROGRESS))
            .map_err(local("write export checkpoint"))?;
        sync_dir(&self.dir)
    }

    /// Continues the export in `dir` from its last checkpoint when there is
    /// one whose files all verify (see the module), returning the cursor
    /// recorded with it; else starts afresh as [`ExportWriter::create`]
    /// (and returns no cursor).
    ///
    /// # Errors
    /// As [`ExportWriter::create`].
    pub fn resume(dir: &Path, base: &str) -> Result<(Self, Option<serde_json::Value>), StoreError> {
        let afresh = || Self::create(dir, base).map(|w| (w, None));
        if !dir.is_dir() {
            return afresh();
        }
        // Refuses a directory holding anything but an interrupted export.
        let ours = interrupted_files(dir)?;
        let entry_start = super::entry_start(base)?;
        let progress = std::fs::read(temp_path(dir, PROGRESS))
            .ok()
            .and_then(|data| serde_json::from_slice::<Progress>(&data).ok())
            .filter(|p| p.version == 1 && p.entry_start.as_bytes() == entry_start.as_slice());
        let Some(progress) = progress else {
            return afresh();
        };
        let mut kept = Vec::new();
        for state in &progress.files {
            match Pending::reopen(dir, state)? {
                Some(file) => kept.push(file),
                None => return afresh(),
            }
        }
        let Some(at) = kept.iter().position(|f| f.name == BUNDLE_FILE) else {
            return afresh();
        };
        // Only the checkpoint's files stay (one begun later is made again).
        for (name, path) in ours {
            let keep = name == format!(".{PROGRESS}.partial")
                || kept.iter().any(|f| name == format!(".{}.partial", f.name));
            if !keep {
                std::fs::remove_file(path).map_err(local("remove an interrupted export's file"))?;
            }
        }
        let bundle = kept.swap_remove(at);
        let mut writer = Self::with_bundle(dir, entry_start, bundle, true);
        for file in kept {
            if file.name == SIDE_FILE {
                writer.side = Some(file);
            } else if let Some(kind) = file.name.strip_suffix(".ndjson") {
                writer.types.insert(kind.to_owned(), file);
            }
        }
        Ok((writer, Some(progress.cursor)))
    }

    /// The resources written so far, to be read back from the NDJSON files
    /// (and those the side file holds whole): what a resumed export
    /// rebuilds its list of records from.
    ///
    /// # Errors
    /// [`StoreError::Local`] when a file cannot be flushed.
    pub fn read_back(&mut self) -> Result<ReadBack, StoreError> {
        use std::io::Write;
        let mut files = std::collections::VecDeque::new();
        // The side file first: what it holds of a resource is known by the
        // time the resource is read back from its NDJSON file.
        for file in self
            .side
            .as_mut()
            .into_iter()
            .chain(self.types.values_mut())
        {
            file.out.flush().map_err(local("write export file"))?;
            let side = file.name == SIDE_FILE;
            files.push_back((temp_path(&self.dir, &file.name), file.bytes, side));
        }
        Ok(ReadBack {
            files,
            current: None,
            references: std::collections::HashMap::new(),
        })
    }
}

/// The resources an export wrote so far, read back a batch at a time
/// ([`ExportWriter::read_back`]).
pub struct ReadBack {
    files: std::collections::VecDeque<(std::path::PathBuf, u64, bool)>,
    current: Option<(std::io::Take<BufReader<File>>, bool)>,
    /// Per `Type/id`, the elements set aside from it that hold a
    /// reference (read from the side file first).
    references: std::collections::HashMap<String, Vec<serde_json::Value>>,
}

/// The key under which a resource read back carries the elements set aside
/// from it that hold a reference ([`ReadBack::next_batch`]). Not a FHIR
/// element name (it starts with NUL), so nothing reads it as one.
pub const SET_ASIDE_REFERENCES: &str = "\u{0}set-aside-references";

impl std::fmt::Debug for ReadBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadBack").finish_non_exhaustive()
    }
}

impl ReadBack {
    /// Up to `count` more resources; empty at the end. Each carries, under
    /// [`SET_ASIDE_REFERENCES`], the elements set aside from it that hold
    /// a `reference` (as `{"reference": …}` where the element was the
    /// reference itself): whom a resource names is read from everything
    /// the server sent, so a resumed export classifies it as one run does.
    ///
    /// # Errors
    /// [`StoreError::Local`] when a file cannot be read or holds a line
    /// that is not JSON (it was verified against its checkpoint).
    pub fn next_batch(&mut self, count: usize) -> Result<Vec<Resource>, StoreError> {
        let mut batch = Vec::new();
        let mut line = Vec::new();
        while batch.len() < count {
            let Some((reader, side)) = &mut self.current else {
                let Some((path, bytes, side)) = self.files.pop_front() else {
                    break;
                };
                let file = File::open(path).map_err(local("read export file"))?;
                self.current = Some((BufReader::new(file).take(bytes), side));
                continue;
            };
            line.clear();
            if reader
                .read_until(b'\n', &mut line)
                .map_err(local("read export file"))?
                == 0
            {
                self.current = None;
                continue;
            }
            let value: serde_json::Value =
                serde_json::from_slice(&line).map_err(|_| unserialisable())?;
            let resource = if *side {
                self.side_entry(value)
            } else {
                value.as_object().cloned().map(|r| self.with_references(r))
            };
            batch.extend(resource);
        }
        Ok(batch)
    }
}

impl ReadBack {
    /// A side entry: the resource it holds when it was set aside whole;
    /// else, if it holds a reference, kept for its resource.
    fn side_entry(&mut self, entry: serde_json::Value) -> Option<Resource> {
        let serde_json::Value::Object(mut entry) = entry else {
            return None;
        };
        let path = entry.get("path")?.as_str()?.to_owned();
        let value = entry.remove("value")?;
        if path.is_empty() {
            return value.as_object().cloned();
        }
        let name = entry.get("resource")?.as_str()?.to_owned();
        let held = match value {
            // The element was a reference itself (`code.reference`).
            serde_json::Value::String(r) if path.rsplit('.').next() == Some("reference") => {
                serde_json::json!({ "reference": r })
            }
            other if holds_reference(&other) => other,
            _ => return None,
        };
        self.references.entry(name).or_default().push(held);
        None
    }

    /// `resource` with the references set aside from it, if any.
    fn with_references(&mut self, mut resource: Resource) -> Resource {
        let name = format!(
            "{}/{}",
            crate::model::resource_type(&resource).unwrap_or_default(),
            crate::model::logical_id(&resource).unwrap_or_default()
        );
        if let Some(held) = self.references.remove(&name) {
            resource.insert(SET_ASIDE_REFERENCES.into(), serde_json::Value::Array(held));
        }
        resource
    }
}

/// Whether `value` has a `reference` member holding a string anywhere.
fn holds_reference(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(key, v)| (key == "reference" && v.is_string()) || holds_reference(v)),
        serde_json::Value::Array(items) => items.iter().any(holds_reference),
        _ => false,
    }
}
