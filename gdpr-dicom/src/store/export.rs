//! Writing an export: our own file names (`study-001/series-001/
//! instance-0001.dcm`, never a patient value), a SHA-256 per file, files and
//! directories fsynced, and `manifest.json` written last and atomically.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use gdpr_core::store::{
    ExportManifest, ExportReport, ExportedFile, ExportedStudy, StoreError, StudyHandle,
    SystemIdentity,
};
use sha2::{Digest, Sha256};

/// The name of the manifest in every export directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Builds an export directory. Synchronous: run it on a blocking thread.
pub(crate) struct ExportWriter {
    root: PathBuf,
    manifest: ExportManifest,
    series: Vec<HashMap<String, usize>>,
}

pub(crate) fn local(operation: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::Local {
        operation,
        detail: e.kind().to_string(),
    }
}

impl ExportWriter {
    /// Prepares `root`: created if missing; refused if it already holds
    /// anything, so that an export never mixes with other files.
    pub(crate) fn create(root: &Path, system: SystemIdentity) -> Result<Self, StoreError> {
        fs::create_dir_all(root).map_err(local("create export directory"))?;
        let mut entries = fs::read_dir(root).map_err(local("read export directory"))?;
        if entries.next().is_some() {
            return Err(StoreError::Local {
                operation: "prepare export directory",
                detail: "the directory is not empty; choose a new or empty directory".into(),
            });
        }
        Ok(Self {
            root: root.to_owned(),
            manifest: ExportManifest::new(system, jiff::Timestamp::now()),
            series: Vec::new(),
        })
    }

    /// Starts the next study; returns its index.
    pub(crate) fn begin_study(&mut self, handle: &StudyHandle) -> usize {
        let index = self.manifest.studies.len();
        let folder = format!("study-{:03}", index + 1);
        self.manifest
            .studies
            .push(ExportedStudy::from_handle(folder, handle));
        self.series.push(HashMap::new());
        index
    }

    /// Adds one file of `study`, grouped by `series_key` (any stable key: a
    /// Series UID or an archive folder; it is not written anywhere).
    #[cfg(test)]
    pub(crate) fn add_file(
        &mut self,
        study: usize,
        series_key: &str,
        content: &[u8],
    ) -> Result<(), StoreError> {
        self.add_file_reader(study, series_key, &mut &*content)
    }

    /// Adds one file of `study` copied from `source` in pieces, hashed
    /// while copying: memory stays flat whatever the file's size.
    pub(crate) fn add_file_from(
        &mut self,
        study: usize,
        series_key: &str,
        source: &Path,
    ) -> Result<(), StoreError> {
        let mut input = File::open(source).map_err(local("read DICOM file"))?;
        self.add_file_reader(study, series_key, &mut input)
    }

    /// Adds one file of `study` streamed from `input` (an archive entry, a
    /// file), hashed while written: memory stays flat whatever its size.
    pub(crate) fn add_file_reader(
        &mut self,
        study: usize,
        series_key: &str,
        input: &mut dyn Read,
    ) -> Result<(), StoreError> {
        let (relative, path) = self.next_path(study, series_key);
        fs::create_dir_all(path.parent().unwrap_or(&self.root))
            .map_err(local("create export folder"))?;
        let (bytes, sha256) = write_hashed(&path, |w| {
            std::io::copy(input, w)
                .map(drop)
                .map_err(local("write exported file"))
        })?;
        self.push(study, relative, bytes, sha256);
        Ok(())
    }

    /// Streams one file into a staging file of the export (`write` gets
    /// the file; what it writes is hashed on the way), for a file whose
    /// series is known only once it is written (a WADO-RS part); then
    /// [`ExportWriter::add_staged`].
    pub(crate) fn stage(
        &self,
        write: impl FnOnce(&mut dyn Write) -> Result<(), StoreError>,
    ) -> Result<Staged, StoreError> {
        let path = self.root.join(".staged.part");
        let (bytes, sha256) = write_hashed(&path, write)?;
        Ok(Staged {
            path,
            bytes,
            sha256,
        })
    }

    /// Moves a staged file into `study`, grouped by `series_key`.
    pub(crate) fn add_staged(
        &mut self,
        study: usize,
        series_key: &str,
        staged: Staged,
    ) -> Result<(), StoreError> {
        let (relative, path) = self.next_path(study, series_key);
        fs::create_dir_all(path.parent().unwrap_or(&self.root))
            .map_err(local("create export folder"))?;
        fs::rename(&staged.path, &path).map_err(local("move exported file"))?;
        self.push(study, relative, staged.bytes, staged.sha256);
        Ok(())
    }

    fn push(&mut self, study: usize, path: String, bytes: u64, sha256: String) {
        self.manifest.studies[study].files.push(ExportedFile {
            path,
            bytes,
            sha256,
        });
    }

    /// The next file's name in `study` and `series_key`'s series.
    fn next_path(&mut self, study: usize, series_key: &str) -> (String, PathBuf) {
        let series_map = &mut self.series[study];
        let next = series_map.len() + 1;
        let series = *series_map.entry(series_key.to_owned()).or_insert(next);
        let exported = &self.manifest.studies[study];
        let instance = exported.files.len() + 1;
        let relative = format!(
            "{}/series-{series:03}/instance-{instance:04}.dcm",
            exported.folder
        );
        let path = self.root.join(&relative);
        (relative, path)
    }

    /// Writes `manifest.json` (via a temporary file and rename), fsyncs every
    /// directory of the export and returns the report.
    pub(crate) fn finish(self) -> Result<ExportReport, StoreError> {
        let json = serde_json::to_vec_pretty(&self.manifest).map_err(|e| StoreError::Local {
            operation: "encode manifest",
            detail: e.to_string(),
        })?;
        let tmp = self.root.join(".manifest.json.part");
        let mut file = File::create(&tmp).map_err(local("write manifest"))?;
        file.write_all(&json).map_err(local("write manifest"))?;
        file.sync_all().map_err(local("sync manifest"))?;
        fs::rename(&tmp, self.root.join(MANIFEST_FILE)).map_err(local("rename manifest"))?;
        for study in &self.manifest.studies {
            let dir = self.root.join(&study.folder);
            if dir.is_dir() {
                for entry in fs::read_dir(&dir).map_err(local("read export folder"))? {
                    sync_dir(&entry.map_err(local("read export folder"))?.path())?;
                }
                sync_dir(&dir)?;
            }
        }
        sync_dir(&self.root)?;
        Ok(ExportReport::from_manifest(self.manifest))
    }
}

/// A file streamed into the export's staging name, hashed.
pub(crate) struct Staged {
    /// Where it is.
    pub(crate) path: PathBuf,
    bytes: u64,
    sha256: String,
}

/// Counts and hashes what goes through to the file.
struct Hashing {
    file: std::io::BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Creates `path`, lets `write` fill it through a 64 KiB buffer that
/// hashes on the way, syncs it; returns its size and SHA-256 (hex).
fn write_hashed(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), StoreError>,
) -> Result<(u64, String), StoreError> {
    let file = File::create(path).map_err(local("write exported file"))?;
    let mut w = Hashing {
        file: std::io::BufWriter::with_capacity(64 << 10, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    write(&mut w)?;
    let Hashing {
        file,
        hasher,
        bytes,
    } = w;
    let file = file
        .into_inner()
        .map_err(|e| local("write exported file")(e.into_error()))?;
    file.sync_all().map_err(local("sync exported file"))?;
    let digest = hasher.finalize();
    Ok((bytes, hex(&digest)))
}

/// Fsyncs a directory so that created, renamed or removed entries survive a
/// crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(local("sync directory"))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A stable, non-identifying record id for a value (a UID): a prefix and the
/// first 20 hex digits of its SHA-256.
pub(crate) fn hashed_id(prefix: &str, value: &str) -> gdpr_core::store::RecordId {
    let digest = hex(&Sha256::digest(value.as_bytes()));
    // Invariant: prefix is one of our ASCII constants and the digest is hex,
    // so the id always satisfies RecordId's rules.
    gdpr_core::store::RecordId::new(format!("{prefix}-{}", &digest[..20]))
        .unwrap_or_else(|_| unreachable!("hashed ids are ASCII alphanumerics and '-'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdpr_core::store::{Modality, StudyUid};

    #[test]
    fn export_names_carry_no_values_and_hashes_match() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let mut writer =
            ExportWriter::create(&root, SystemIdentity::new("t", "folder", "/x")).unwrap();
        let handle = StudyHandle::new(
            hashed_id("study", "1.2.3"),
            StudyUid::new("1.2.3").unwrap(),
            None,
            vec!["CT".parse::<Modality>().unwrap()],
        );
        let s = writer.begin_study(&handle);
        writer.add_file(s, "Doe^Jane/series A", b"one").unwrap();
        writer.add_file(s, "Doe^Jane/series B", b"two").unwrap();
        writer.add_file(s, "Doe^Jane/series A", b"three").unwrap();
        let report = writer.finish().unwrap();
        let paths: Vec<_> = report.manifest.studies[0]
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "study-001/series-001/instance-0001.dcm",
                "study-001/series-002/instance-0002.dcm",
                "study-001/series-001/instance-0003.dcm"
            ]
        );
        assert_eq!(
            report.manifest.studies[0].files[0].sha256,
            hex(&Sha256::digest(b"one"))
        );
        assert_eq!(report.files, 3);
        assert_eq!(report.bytes, 11);
        let manifest = std::fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
        assert!(!manifest.contains("Doe"));
        // A second export into the same directory is refused.
        assert!(ExportWriter::create(&root, SystemIdentity::new("t", "folder", "/x")).is_err());
    }
}
