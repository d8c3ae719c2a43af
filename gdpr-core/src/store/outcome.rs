//! What erasures report: the items erased, refused and left, and the
//! verification behind them.

use serde::{Deserialize, Serialize};

use super::handle::RecordId;
use super::not_checked::NotChecked;
use super::unreadable::UnreadableItem;

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
    /// An EHR record, such as a FHIR resource.
    Record,
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
    /// What it is (a study when a report written before this field was
    /// added is read).
    #[serde(default = "study_kind")]
    pub kind: ResourceKind,
    /// The system's reason, free of patient values.
    pub reason: String,
}

fn study_kind() -> ResourceKind {
    ResourceKind::Study
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
    /// Why it remains, when the store knows (a resource shared with other
    /// patients, a version kept in the server's history, an area the system
    /// offers no deletion for and the administrator task that removes it);
    /// free of patient values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Remnant {
    /// A remnant `id` of `kind`, not derived, without a reason.
    pub fn new(id: RecordId, kind: ResourceKind) -> Self {
        Self {
            id,
            kind,
            derived_from: None,
            reason: None,
        }
    }

    /// The same remnant with the reason it remains (free of patient values).
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// The result of checking that an erasure left nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verification {
    remaining: Vec<Remnant>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<UnreadableItem>,
    #[serde(default)]
    ignored: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    not_checked: Vec<NotChecked>,
}

impl Verification {
    /// A verification that found `remaining` (empty: confirmed).
    pub fn new(remaining: Vec<Remnant>) -> Self {
        Self {
            remaining,
            unreadable: Vec::new(),
            ignored: 0,
            not_checked: Vec::new(),
        }
    }

    /// The same verification, which could not check `what` (for instance
    /// derived copies, on a system without provenance): it is then never
    /// confirmed.
    #[must_use]
    pub fn with_not_checked(mut self, what: NotChecked) -> Self {
        if !self.not_checked.contains(&what) {
            self.not_checked.push(what);
        }
        self
    }

    /// The same verification, which also met files it could not read.
    #[must_use]
    pub fn with_unreadable(mut self, unreadable: Vec<UnreadableItem>) -> Self {
        self.unreadable = unreadable;
        self
    }

    /// The same verification, which also passed over `ignored` files that
    /// are not the store's kind of record (for the folder store: files
    /// without the DICOM `DICM` code, such as a README or a thumbnail).
    #[must_use]
    pub fn with_ignored(mut self, ignored: u64) -> Self {
        self.ignored = ignored;
        self
    }

    /// Whether nothing remains, every file could be read and nothing was
    /// left unchecked.
    pub fn is_confirmed(&self) -> bool {
        self.remaining.is_empty() && self.unreadable.is_empty() && self.not_checked.is_empty()
    }

    /// What verification did not check.
    pub fn not_checked(&self) -> &[NotChecked] {
        &self.not_checked
    }

    /// What verification still found.
    pub fn remaining(&self) -> &[Remnant] {
        &self.remaining
    }

    /// The files verification could not read.
    pub fn unreadable(&self) -> &[UnreadableItem] {
        &self.unreadable
    }

    /// How many files were not the store's kind of record and were ignored.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }
}

/// The outcome of an erasure: what is confirmed gone, what the system
/// refused, and what verification still found.
///
/// Built only by [`ErasureReport::reconcile`] (deserialising goes through it
/// too), so `erased` never lists a resource that verification found
/// remaining and `verified` is never true with something left or a file
/// that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ReportFields")]
pub struct ErasureReport {
    erased: Vec<ErasedItem>,
    refused: Vec<Refusal>,
    left: Vec<Remnant>,
    unreadable: Vec<UnreadableItem>,
    ignored: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    not_checked: Vec<NotChecked>,
    verified: bool,
}

/// The serialised form; `verified` is recomputed, never trusted.
#[derive(Deserialize)]
struct ReportFields {
    erased: Vec<ErasedItem>,
    refused: Vec<Refusal>,
    left: Vec<Remnant>,
    #[serde(default)]
    unreadable: Vec<UnreadableItem>,
    #[serde(default)]
    ignored: u64,
    #[serde(default)]
    not_checked: Vec<NotChecked>,
}

impl From<ReportFields> for ErasureReport {
    fn from(f: ReportFields) -> Self {
        let verification = f.not_checked.into_iter().fold(
            Verification::new(f.left)
                .with_unreadable(f.unreadable)
                .with_ignored(f.ignored),
            Verification::with_not_checked,
        );
        Self::reconcile(f.erased, f.refused, verification)
    }
}

impl ErasureReport {
    /// Reconciles what an erasure attempted with what verification found:
    /// every attempted item that verification still saw moves from `erased`
    /// to `left`. `verified` is true only when nothing is left, every file
    /// could be read, nothing was left unchecked and nothing was refused.
    pub fn reconcile(
        attempted: Vec<ErasedItem>,
        refused: Vec<Refusal>,
        verification: Verification,
    ) -> Self {
        let Verification {
            remaining: left,
            unreadable,
            ignored,
            not_checked,
        } = verification;
        let erased = attempted
            .into_iter()
            .filter(|item| !left.iter().any(|r| r.id == item.id))
            .collect();
        let verified = left.is_empty()
            && unreadable.is_empty()
            && refused.is_empty()
            && not_checked.is_empty();
        Self {
            erased,
            refused,
            left,
            unreadable,
            ignored,
            not_checked,
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

    /// Files that claim to hold records but could not be read (the subject's
    /// data may remain in them: see [`UnreadableStatus`](super::UnreadableStatus)).
    pub fn unreadable(&self) -> &[UnreadableItem] {
        &self.unreadable
    }

    /// How many files were not the store's kind of record and were ignored
    /// (neither read nor changed).
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// What verification did not check (e.g. "derived copies not
    /// checked"): the subject's data may remain there.
    pub fn not_checked(&self) -> &[NotChecked] {
        &self.not_checked
    }

    /// True only when verification confirmed that nothing is left, every
    /// file could be read, nothing was left unchecked and the system refused
    /// nothing.
    pub fn is_verified(&self) -> bool {
        self.verified
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{UnreadableCause, UnreadableStatus};

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
            reason: None,
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
            kind: ResourceKind::Study,
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

    #[test]
    fn an_unreadable_file_prevents_verification_and_survives_serde() {
        let file = UnreadableItem::new(
            "CANARY-NAME/0.dcm",
            UnreadableCause::Malformed,
            UnreadableStatus::Left,
            "sequences nested too deeply, near byte 400",
        );
        let verification = Verification::new(vec![])
            .with_unreadable(vec![file.clone()])
            .with_ignored(2);
        assert!(!verification.is_confirmed());
        let report = ErasureReport::reconcile(vec![item("a")], vec![], verification);
        assert!(!report.is_verified());
        assert_eq!(report.unreadable(), std::slice::from_ref(&file));
        assert_eq!(report.ignored(), 2);
        assert!(!format!("{report:?}").contains("CANARY"));
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains(r#""status":"left""#), "{json}");
        assert!(json.contains(r#""cause":"malformed""#), "{json}");
        let back: ErasureReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        assert!(!back.is_verified());
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
                    reason: None,
                }).collect()),
            );
            for e in report.erased() {
                proptest::prop_assert!(!report.left().iter().any(|l| l.id == e.id));
            }
            proptest::prop_assert_eq!(report.is_verified(), remaining.is_empty());
        }
    }
}
