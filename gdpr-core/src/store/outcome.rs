//! What store operations report: exports with their manifest, erasures and
//! their verification.

use serde::{Deserialize, Serialize};

use super::handle::{RecordId, StudyHandle, StudyUid, SystemIdentity};
use crate::category::RecordCategory;
use crate::retention::Modality;

/// What to do with derived copies (instances Orthanc or another system made
/// by anonymising or modifying the subject's studies) when erasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DerivedPolicy {
    /// Erase derived copies together with the originals (the default: a
    /// "modified" copy still holds the subject's data).
    #[default]
    Erase,
    /// Leave derived copies in place and report them; the erasure is then not
    /// confirmed complete.
    Report,
}

/// The kind of resource an erasure acted on or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ResourceKind {
    /// A patient record (the container of studies).
    Patient,
    /// A study.
    Study,
    /// A study derived (anonymised or modified) from one of the subject's.
    DerivedStudy,
    /// A single stored file or instance.
    Instance,
}

/// A resource that an erasure removed, confirmed by verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedItem {
    /// The system's identifier of the resource.
    pub id: RecordId,
    /// What it was.
    pub kind: ResourceKind,
    /// True when it was already gone (an earlier, interrupted run erased it).
    pub already_absent: bool,
}

/// A resource the system refused to erase, with its reason (for instance
/// dcm4chee's "Retention period not yet expired").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The system's identifier of the resource.
    pub id: RecordId,
    /// The system's reason, free of patient values.
    pub reason: String,
}

/// Something verification still found after an erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remnant {
    /// The system's identifier of the resource.
    pub id: RecordId,
    /// What it is.
    pub kind: ResourceKind,
    /// For a derived copy: the erased resource it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<RecordId>,
}

/// The result of checking that an erasure left nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verification {
    remaining: Vec<Remnant>,
}

impl Verification {
    /// A verification that found `remaining` (empty: confirmed).
    pub fn new(remaining: Vec<Remnant>) -> Self {
        Self { remaining }
    }

    /// Whether nothing remains.
    pub fn is_confirmed(&self) -> bool {
        self.remaining.is_empty()
    }

    /// What verification still found.
    pub fn remaining(&self) -> &[Remnant] {
        &self.remaining
    }
}

/// The outcome of an erasure: what is confirmed gone, what the system
/// refused, and what verification still found.
///
/// Built only by [`ErasureReport::reconcile`] (deserialising goes through it
/// too), so `erased` never lists a resource that verification found
/// remaining and `verified` is never true with something left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ReportFields")]
pub struct ErasureReport {
    erased: Vec<ErasedItem>,
    refused: Vec<Refusal>,
    left: Vec<Remnant>,
    verified: bool,
}

/// The serialised form; `verified` is recomputed, never trusted.
#[derive(Deserialize)]
struct ReportFields {
    erased: Vec<ErasedItem>,
    refused: Vec<Refusal>,
    left: Vec<Remnant>,
}

impl From<ReportFields> for ErasureReport {
    fn from(f: ReportFields) -> Self {
        Self::reconcile(f.erased, f.refused, Verification::new(f.left))
    }
}

impl ErasureReport {
    /// Reconciles what an erasure attempted with what verification found:
    /// every attempted item that verification still saw moves from `erased`
    /// to `left`. `verified` is true only when nothing is left and nothing was
    /// refused.
    pub fn reconcile(
        attempted: Vec<ErasedItem>,
        refused: Vec<Refusal>,
        verification: Verification,
    ) -> Self {
        let left = verification.remaining;
        let erased = attempted
            .into_iter()
            .filter(|item| !left.iter().any(|r| r.id == item.id))
            .collect();
        let verified = left.is_empty() && refused.is_empty();
        Self {
            erased,
            refused,
            left,
            verified,
        }
    }

    /// Resources confirmed gone.
    pub fn erased(&self) -> &[ErasedItem] {
        &self.erased
    }

    /// Resources the system refused to erase.
    pub fn refused(&self) -> &[Refusal] {
        &self.refused
    }

    /// What verification still found.
    pub fn left(&self) -> &[Remnant] {
        &self.left
    }

    /// True only when verification confirmed that nothing is left and the
    /// system refused nothing.
    pub fn is_verified(&self) -> bool {
        self.verified
    }
}

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
}

impl ExportReport {
    /// Summarises a manifest.
    pub fn from_manifest(manifest: ExportManifest) -> Self {
        let files = manifest.studies.iter().map(|s| s.files.len()).sum();
        let bytes = manifest
            .studies
            .iter()
            .flat_map(|s| &s.files)
            .map(|f| f.bytes)
            .sum();
        Self {
            manifest,
            files,
            bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> RecordId {
        RecordId::new(s).unwrap()
    }

    fn item(s: &str) -> ErasedItem {
        ErasedItem {
            id: id(s),
            kind: ResourceKind::Study,
            already_absent: false,
        }
    }

    #[test]
    fn reconcile_never_claims_what_verification_found() {
        let remnant = Remnant {
            id: id("b"),
            kind: ResourceKind::Study,
            derived_from: None,
        };
        let report = ErasureReport::reconcile(
            vec![item("a"), item("b")],
            vec![],
            Verification::new(vec![remnant.clone()]),
        );
        assert_eq!(report.erased(), &[item("a")]);
        assert_eq!(report.left(), &[remnant]);
        assert!(!report.is_verified());
    }

    #[test]
    fn refusals_prevent_verification() {
        let refusal = Refusal {
            id: id("a"),
            reason: "Retention period not yet expired".into(),
        };
        let report = ErasureReport::reconcile(vec![], vec![refusal], Verification::default());
        assert!(!report.is_verified());
        let clean = ErasureReport::reconcile(vec![item("a")], vec![], Verification::default());
        assert!(clean.is_verified());
    }

    #[test]
    fn a_deserialised_report_cannot_claim_verification() {
        let forged = r#"{"erased":[],"refused":[],
            "left":[{"id":"s1","kind":"study"}],"verified":true}"#;
        let report: ErasureReport = serde_json::from_str(forged).unwrap();
        assert!(!report.is_verified());
        let clean = ErasureReport::reconcile(vec![item("a")], vec![], Verification::default());
        let back: ErasureReport =
            serde_json::from_str(&serde_json::to_string(&clean).unwrap()).unwrap();
        assert_eq!(back, clean);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        #[test]
        fn erased_and_left_are_disjoint(
            attempted in proptest::collection::vec(0u8..16, 0..12),
            remaining in proptest::collection::vec(0u8..16, 0..12),
        ) {
            let report = ErasureReport::reconcile(
                attempted.iter().map(|n| item(&format!("r{n}"))).collect(),
                vec![],
                Verification::new(remaining.iter().map(|n| Remnant {
                    id: id(&format!("r{n}")),
                    kind: ResourceKind::Study,
                    derived_from: None,
                }).collect()),
            );
            for e in report.erased() {
                proptest::prop_assert!(!report.left().iter().any(|l| l.id == e.id));
            }
            proptest::prop_assert_eq!(report.is_verified(), remaining.is_empty());
        }
    }
}
