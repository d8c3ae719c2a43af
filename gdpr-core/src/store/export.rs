//! What an export (Art. 15 access, Art. 20 portability) writes and reports:
//! the files, the studies and records they hold, and `manifest.json`.

use serde::{Deserialize, Serialize};

use super::handle::{RecordId, StudyHandle, StudyUid, SystemIdentity};
use super::record::{ResourceHandle, ResourceType};
use super::unreadable::UnreadableItem;
use crate::category::RecordCategory;
use crate::retention::Modality;

/// One exported file, named by the exporter (never by a patient value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Path relative to the export directory, e.g.
    /// `study-001/series-001/instance-0001.dcm`.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
}

/// One exported study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedStudy {
    /// The folder of the study inside the export, e.g. `study-001`.
    pub folder: String,
    /// The system's identifier of the study.
    pub id: RecordId,
    /// The Study Instance UID (part of the data the subject receives).
    pub study_uid: StudyUid,
    /// The study date, when known.
    pub study_date: Option<jiff::civil::Date>,
    /// The modalities.
    pub modalities: Vec<Modality>,
    /// The record category.
    pub category: RecordCategory,
    /// The files.
    pub files: Vec<ExportedFile>,
}

impl ExportedStudy {
    /// An exported study described by its handle, with no files yet.
    pub fn from_handle(folder: impl Into<String>, handle: &StudyHandle) -> Self {
        Self {
            folder: folder.into(),
            id: handle.id().clone(),
            study_uid: handle.study_uid().clone(),
            study_date: handle.study_date(),
            modalities: handle.modalities().to_vec(),
            category: handle.category(),
            files: Vec::new(),
        }
    }
}

/// One exported EHR record, listed in the manifest (its content is in the
/// manifest's files, e.g. a FHIR Bundle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedRecord {
    /// The system's identifier of the record (`Type:id` for FHIR).
    pub id: RecordId,
    /// The FHIR resource type, for FHIR records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<ResourceType>,
    /// The record category.
    pub category: RecordCategory,
}

impl ExportedRecord {
    /// An exported record described by its handle.
    pub fn from_handle(handle: &ResourceHandle) -> Self {
        Self {
            id: handle.id().clone(),
            resource_type: Some(handle.resource_type().clone()),
            category: handle.category(),
        }
    }
}

/// The `manifest.json` every export writes next to its files (Art. 15(3),
/// Art. 20(1): a copy in a structured, commonly used, machine-readable
/// format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// Format tag: `gdpr-health-export/1`.
    pub format: String,
    /// The system exported from.
    pub system: SystemIdentity,
    /// When the export was made.
    pub exported_at: jiff::Timestamp,
    /// The legal basis of the export.
    pub legal_basis: String,
    /// The studies.
    pub studies: Vec<ExportedStudy>,
    /// The EHR records (for instance FHIR resources), when the system holds
    /// such records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<ExportedRecord>,
    /// Files of the export that belong to no single study (a FHIR Bundle,
    /// NDJSON per resource type, attachments, a side file of elements that
    /// are not valid FHIR).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ExportedFile>,
}

impl ExportManifest {
    /// The format tag of this version of the manifest.
    pub const FORMAT: &'static str = "gdpr-health-export/1";

    /// An empty manifest for an export made at `exported_at`.
    pub fn new(system: SystemIdentity, exported_at: jiff::Timestamp) -> Self {
        Self {
            format: Self::FORMAT.to_owned(),
            system,
            exported_at,
            legal_basis: "GDPR Art. 15(3), Art. 20(1)".to_owned(),
            studies: Vec::new(),
            records: Vec::new(),
            files: Vec::new(),
        }
    }
}

/// The result of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportReport {
    /// The manifest as written to `manifest.json`.
    pub manifest: ExportManifest,
    /// Number of files written (without the manifest).
    pub files: usize,
    /// Number of bytes written (without the manifest).
    pub bytes: u64,
    /// Files that could not be read and so were not exported (not in the
    /// manifest): when one is [`UnreadableStatus::Left`](super::UnreadableStatus::Left), the export may be
    /// incomplete for the subject. Empty for systems that read no files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableItem>,
}

impl ExportReport {
    /// Summarises a manifest: the files of its studies and its other files.
    pub fn from_manifest(manifest: ExportManifest) -> Self {
        let all = || {
            manifest
                .studies
                .iter()
                .flat_map(|s| &s.files)
                .chain(&manifest.files)
        };
        let files = all().count();
        let bytes = all().map(|f| f.bytes).sum();
        Self {
            manifest,
            files,
            bytes,
            unreadable: Vec::new(),
        }
    }
}
