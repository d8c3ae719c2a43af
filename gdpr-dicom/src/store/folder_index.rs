//! Indexing a folder store: one pass over the tree reading each file's
//! header (hidden files too), and the files that could not be indexed as
//! report items.

use std::fs;
use std::path::PathBuf;

use gdpr_core::store::{StoreError, UnreadableCause, UnreadableItem, UnreadableStatus};

use super::dicomfile::{DicomHeader, HeaderError, read_header};
use super::export::local;
use super::folder::FolderStore;
use super::residue::{file_holds_any, needles};

pub(super) struct Entry {
    pub(super) path: PathBuf,
    pub(super) header: DicomHeader,
}

/// A file with the `DICM` code that could not be indexed.
pub(super) struct Unindexed {
    path: PathBuf,
    cause: UnreadableCause,
    detail: String,
}

/// One pass over the tree.
#[derive(Default)]
pub(super) struct Scan {
    pub(super) entries: Vec<Entry>,
    pub(super) unindexed: Vec<Unindexed>,
    /// Files without the `DICM` code.
    pub(super) ignored: u64,
}

impl FolderStore {
    /// One pass over the tree: every file's header, read afresh.
    pub(super) fn scan(&self) -> Result<Scan, StoreError> {
        let mut scan = Scan::default();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for item in fs::read_dir(&dir).map_err(local("read store folder"))? {
                // Hidden files are indexed too: a DICOM file that erasure
                // cannot see would survive it.
                let item = item.map_err(local("read store folder"))?;
                let kind = item.file_type().map_err(local("read store folder"))?;
                let path = item.path();
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() {
                    match read_header(&path) {
                        Ok(header) => scan.entries.push(Entry { path, header }),
                        // Files that are not DICOM are not ours to index.
                        Err(HeaderError::NotDicom) => scan.ignored += 1,
                        // Removed since it was listed (an import's temporary
                        // file renamed): nothing of it remains to report.
                        Err(HeaderError::Unreadable {
                            cause: UnreadableCause::Io,
                            ..
                        }) if fs::symlink_metadata(&path).is_err() => {}
                        Err(HeaderError::Unreadable { cause, detail }) => {
                            scan.unindexed.push(Unindexed {
                                path,
                                cause,
                                detail,
                            });
                        }
                    }
                }
            }
        }
        scan.entries.sort_by(|a, b| a.path.cmp(&b.path));
        scan.unindexed.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(scan)
    }

    /// The files that could not be indexed, as report items: `left` when
    /// one of `values` occurs in their bytes.
    pub(super) fn unreadable_items(
        &self,
        unindexed: &[Unindexed],
        values: &[&str],
    ) -> Vec<UnreadableItem> {
        let needles = needles(values.iter().copied());
        unindexed
            .iter()
            .map(|u| {
                let status = if file_holds_any(&u.path, &needles) {
                    UnreadableStatus::Left
                } else {
                    UnreadableStatus::Unreadable
                };
                let location = u.path.strip_prefix(&self.root).unwrap_or(&u.path);
                UnreadableItem::new(
                    location.to_string_lossy(),
                    u.cause,
                    status,
                    u.detail.clone(),
                )
            })
            .collect()
    }
}
