//! The folder store: a directory tree of DICOM files, the embedded default.
//!
//! Every operation indexes the tree afresh (patient → study → series →
//! files) by reading each file's header up to the pixel data, so the index
//! can never be stale. Files placed by [`FolderStore::import`] are named by
//! hashes of their UIDs, never by a patient value; files placed by other
//! means are found wherever they are. Erasure removes files, fsyncs their
//! directories, removes directories left empty, and verifies by indexing
//! again. Derived copies — files whose Source Image or Source Instance
//! Sequence names one of the erased instances, directly or through another
//! copy (`folder_derived.rs`) — are erased with them under
//! [`DerivedPolicy::Erase`] (always for `erase_study`) and left and reported
//! under [`DerivedPolicy::Report`], so that erasure is then not verified.
//!
//! Headers are read with the crate's hardened reader (bounded lengths,
//! nesting and sizes; deflated data sets inflated), so a hostile file fails
//! alone. Files without the `DICM` code (a README, a thumbnail) are not
//! records: they are counted ([`Verification::ignored`]) and otherwise left
//! alone. A file with the `DICM` code that cannot be read or indexed (a
//! corrupt length, a missing or invalid UID, an unknown encoding), or that
//! cannot be opened at all (cause `io`), is never
//! skipped silently: locate passes over it, export lists it in
//! [`ExportReport::unreadable`], erasure leaves it in place (its owner
//! cannot be established), and verification reports it by
//! its path relative to the root as an
//! [`UnreadableItem`](gdpr_core::store::UnreadableItem) — with status
//! `left` when the subject's Patient ID or an erased study's UID occurs in
//! its bytes (see `residue.rs`), `unreadable` otherwise — so the erasure is
//! not verified until someone repairs or removes it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::studies::{StudyStore, subject_store};
use gdpr_connect::blocking;
use gdpr_core::store::{
    DerivedPolicy, ErasedItem, ErasureReport, ExportReport, Modality, ProtocolCause, RecordId,
    Refusal, Remnant, ResourceKind, StoreError, StudyHandle, StudyUid, SystemIdentity,
    Verification,
};
use gdpr_core::subject::{PatientId, strip_lo_padding};

use super::dicomfile::{DicomHeader, read_header};
use super::export::{ExportWriter, hashed_id, local, sync_dir};
use super::folder_derived::{self as derived, Origins};
use super::folder_index::Entry;

/// The folder store's file work, named in errors.
const WORKER: &str = "folder store worker";

/// A store over a directory tree of DICOM Part 10 files.
#[derive(Debug, Clone)]
pub struct FolderStore {
    pub(super) root: PathBuf,
    identity: SystemIdentity,
}

impl FolderStore {
    /// A store over `root` (which must exist), named `name` in audit records.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when `root` is not a directory.
    pub fn open(name: &str, root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        if !root.is_dir() {
            return Err(StoreError::Configuration {
                detail: format!(
                    "folder store `{name}`: {} is not a directory; create it or fix `path`",
                    root.display()
                ),
            });
        }
        let identity = SystemIdentity::new(name, "folder", root.display().to_string());
        Ok(Self { root, identity })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Copies a DICOM file into the store as
    /// `<root>/<study hash>/<series hash>/<instance hash>.dcm` and returns
    /// the new path. Importing the same instance twice replaces it.
    ///
    /// # Errors
    /// [`StoreError::Protocol`] when the file is not DICOM or lacks its UIDs;
    /// [`StoreError::Local`] when it cannot be copied.
    pub async fn import(&self, source: &Path) -> Result<PathBuf, StoreError> {
        let root = self.root.clone();
        let source = source.to_owned();
        blocking(WORKER, move || {
            let header = read_header(&source).map_err(|_| StoreError::Protocol {
                operation: "import DICOM file",
                cause: ProtocolCause::NotDicom,
                detail: "not a DICOM Part 10 file with study, series and instance UIDs".into(),
            })?;
            let dir = root
                .join(hashed_id("st", &header.study_uid).as_str())
                .join(hashed_id("se", &header.series_uid).as_str());
            fs::create_dir_all(&dir).map_err(local("create store folder"))?;
            let target = dir.join(format!("{}.dcm", hashed_id("in", &header.sop_uid)));
            // If a crash leaves it behind, indexing still sees (and erasure
            // still removes) the copy.
            let tmp = dir.join(format!("import-{}.part", std::process::id()));
            fs::copy(&source, &tmp).map_err(local("copy into store"))?;
            fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(local("sync imported file"))?;
            fs::rename(&tmp, &target).map_err(local("rename imported file"))?;
            sync_dir(&dir)?;
            Ok(target)
        })
        .await
    }

    fn handles(entries: &[&Entry]) -> Result<Vec<StudyHandle>, StoreError> {
        let mut studies: BTreeMap<&str, (Option<jiff::civil::Date>, BTreeSet<&str>)> =
            BTreeMap::new();
        for e in entries {
            let study = studies.entry(e.header.study_uid.as_str()).or_default();
            study.0 = study.0.or(e.header.study_date);
            if let Some(m) = &e.header.modality {
                study.1.insert(m);
            }
        }
        studies
            .into_iter()
            .map(|(uid, (date, modalities))| {
                let study_uid = StudyUid::new(uid).map_err(|_| StoreError::Protocol {
                    operation: "index DICOM files",
                    cause: ProtocolCause::InvalidContent,
                    detail: "a file carries a malformed Study Instance UID".into(),
                })?;
                let modalities = modalities
                    .into_iter()
                    .filter_map(|m| m.trim().parse::<Modality>().ok())
                    .collect();
                Ok(StudyHandle::new(
                    hashed_id("study", uid),
                    study_uid,
                    date,
                    modalities,
                ))
            })
            .collect()
    }

    fn erase_files(&self, files: &[&Entry]) -> Result<(), StoreError> {
        let mut dirs = BTreeSet::new();
        for e in files {
            match fs::remove_file(&e.path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(local("remove DICOM file")(err)),
            }
            if let Some(parent) = e.path.parent() {
                dirs.insert(parent.to_owned());
            }
        }
        for dir in &dirs {
            sync_dir(dir)?;
        }
        // Remove folders left empty, deepest first, never the root itself.
        let mut candidates: Vec<PathBuf> = dirs
            .iter()
            .flat_map(|d| d.ancestors().map(Path::to_owned).collect::<Vec<_>>())
            .filter(|d| d.starts_with(&self.root) && *d != self.root)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        candidates.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in candidates {
            if fs::remove_dir(&dir).is_ok()
                && let Some(parent) = dir.parent()
            {
                sync_dir(parent)?;
            }
        }
        Ok(())
    }

    /// Erases `originals` and what [`derived::plan`] adds under `policy`;
    /// returns the originals' instances and the derived studies erased.
    fn erase_with_copies(
        &self,
        entries: &[Entry],
        originals: Vec<&Entry>,
        policy: DerivedPolicy,
    ) -> Result<(Origins, Vec<ErasedItem>), StoreError> {
        let origins = derived::origins(originals.iter().map(|e| &e.header));
        let (copies, items) = derived::plan(entries, |e| &e.header, &origins, policy);
        let mut files = originals;
        files.extend(copies);
        self.erase_files(&files)?;
        Ok((origins, items))
    }

    /// Looks again: the subject's files, the erased studies, and copies
    /// derived from `origins` or from the subject's files still present.
    fn verify_sync(
        &self,
        subject: Option<&PatientId>,
        erased: &[StudyHandle],
        origins: &Origins,
    ) -> Result<Verification, StoreError> {
        let scan = self.scan()?;
        let erased_uids: BTreeSet<&str> = erased.iter().map(|h| h.study_uid().expose()).collect();
        let mut remaining: BTreeMap<String, Remnant> = BTreeMap::new();
        for e in &scan.entries {
            let of_subject = subject.is_some_and(|s| matches_subject(&e.header, s));
            if of_subject || erased_uids.contains(e.header.study_uid.as_str()) {
                let id = hashed_id("study", &e.header.study_uid);
                remaining.entry(id.to_string()).or_insert(Remnant {
                    id,
                    kind: ResourceKind::Study,
                    derived_from: None,
                    reason: None,
                });
            }
        }
        let mut seeds = origins.clone();
        if let Some(subject) = subject {
            seeds.extend(derived::origins(
                of_subject(&scan.entries, subject).iter().map(|e| &e.header),
            ));
        }
        let headers: Vec<&DicomHeader> = scan.entries.iter().map(|e| &e.header).collect();
        for (header, origin) in derived::derived(&headers, &seeds) {
            let copy = derived::remnant(header, &origin);
            remaining.entry(copy.id.to_string()).or_insert(copy);
        }
        let values: Vec<&str> = subject
            .map(|s| strip_lo_padding(s.expose()))
            .into_iter()
            .chain(erased_uids.iter().copied())
            .collect();
        Ok(Verification::new(remaining.into_values().collect())
            .with_unreadable(self.unreadable_items(&scan.unindexed, &values))
            .with_ignored(scan.ignored))
    }
}

/// The entries whose header names `subject` (and its issuer, when given).
fn of_subject<'e>(entries: &'e [Entry], subject: &PatientId) -> Vec<&'e Entry> {
    entries
        .iter()
        .filter(|e| matches_subject(&e.header, subject))
        .collect()
}

/// The core matching rule ([`PatientId::matches_stored`]) on a header.
fn matches_subject(header: &DicomHeader, subject: &PatientId) -> bool {
    header
        .patient_id
        .as_deref()
        .is_some_and(|id| subject.matches_stored(id, header.issuer.as_deref()))
}

#[async_trait]
impl StudyStore for FolderStore {
    const NO_RESTRICTION_MARK: &'static str = "a folder of DICOM files has no place for a restriction mark; keep the restriction in the request workflow's register";

    async fn find_studies(&self, subject: &PatientId) -> Result<Vec<StudyHandle>, StoreError> {
        let store = self.clone();
        let subject = subject.clone();
        blocking(WORKER, move || {
            let entries = store.scan()?.entries;
            let mine = of_subject(&entries, &subject);
            Self::handles(&mine)
        })
        .await
    }

    async fn export_studies(
        &self,
        subject: &PatientId,
        destination: &Path,
    ) -> Result<ExportReport, StoreError> {
        let store = self.clone();
        let subject = subject.clone();
        let destination = destination.to_owned();
        blocking(WORKER, move || {
            let scan = store.scan()?;
            let mine = of_subject(&scan.entries, &subject);
            let mut writer = ExportWriter::create(&destination, store.identity.clone())?;
            for handle in Self::handles(&mine)? {
                let study = writer.begin_study(&handle);
                for e in mine
                    .iter()
                    .filter(|e| e.header.study_uid == handle.study_uid().expose())
                {
                    writer.add_file_from(study, &e.header.series_uid, &e.path)?;
                }
            }
            let mut report = writer.finish()?;
            let id = strip_lo_padding(subject.expose());
            report.unreadable = store.unreadable_items(&scan.unindexed, &[id]);
            Ok(report)
        })
        .await
    }

    async fn erase_study(&self, study: &StudyHandle) -> Result<ErasureReport, StoreError> {
        let store = self.clone();
        let study = study.clone();
        blocking(WORKER, move || {
            let entries = store.scan()?.entries;
            let files: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.header.study_uid == study.study_uid().expose())
                .collect();
            let item = ErasedItem {
                id: study.id().clone(),
                kind: ResourceKind::Study,
                already_absent: files.is_empty(),
            };
            let (origins, copies) =
                store.erase_with_copies(&entries, files, DerivedPolicy::Erase)?;
            let verification = store.verify_sync(None, std::slice::from_ref(&study), &origins)?;
            let attempted = std::iter::once(item).chain(copies).collect();
            Ok(ErasureReport::reconcile(attempted, vec![], verification))
        })
        .await
    }

    async fn erase_patient(
        &self,
        subject: &PatientId,
        policy: DerivedPolicy,
    ) -> Result<ErasureReport, StoreError> {
        let store = self.clone();
        let subject = subject.clone();
        blocking(WORKER, move || {
            let entries = store.scan()?.entries;
            let files = of_subject(&entries, &subject);
            let handles = Self::handles(&files)?;
            // Copies of the subject's studies elsewhere in the tree (same
            // Study UID, other or removed Patient ID) are erased with them.
            let uids: BTreeSet<&str> = handles.iter().map(|h| h.study_uid().expose()).collect();
            let all: Vec<&Entry> = entries
                .iter()
                .filter(|e| {
                    matches_subject(&e.header, &subject)
                        || uids.contains(e.header.study_uid.as_str())
                })
                .collect();
            let (origins, copies) = store.erase_with_copies(&entries, all, policy)?;
            let verification = store.verify_sync(Some(&subject), &handles, &origins)?;
            let attempted = handles
                .iter()
                .map(|h| ErasedItem {
                    id: h.id().clone(),
                    kind: ResourceKind::Study,
                    already_absent: false,
                })
                .chain(copies)
                .collect();
            Ok(ErasureReport::reconcile(
                attempted,
                Vec::<Refusal>::new(),
                verification,
            ))
        })
        .await
    }

    async fn verify_studies_gone(
        &self,
        subject: &PatientId,
        erased: &[StudyHandle],
    ) -> Result<Verification, StoreError> {
        let store = self.clone();
        let subject = subject.clone();
        let erased = erased.to_vec();
        // Derived copies are found from the subject's files still present;
        // those of files already erased are found by the erasure itself.
        blocking(WORKER, move || {
            store.verify_sync(Some(&subject), &erased, &Origins::new())
        })
        .await
    }
}

subject_store!(FolderStore, |s| &s.identity);

/// The record id a folder store gives a study with this UID.
pub fn folder_study_id(study_uid: &StudyUid) -> RecordId {
    hashed_id("study", study_uid.expose())
}
