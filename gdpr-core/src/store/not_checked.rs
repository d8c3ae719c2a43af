//! What an erasure's verification could not look at.

use serde::{Deserialize, Serialize};

/// Something a store's verification did not (or could not) check. A report
/// that names one is never verified: what was not looked at may remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NotChecked {
    /// Derived copies (studies another system or the server itself made by
    /// anonymising or modifying the subject's studies): the store cannot
    /// find them (DICOMweb carries no provenance), so the
    /// [`DerivedPolicy`](super::DerivedPolicy) could be neither applied nor
    /// verified. Look for copies in the system's own tools.
    DerivedCopies,
}

impl NotChecked {
    /// What was not checked, in words for reports.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::DerivedCopies => "derived copies not checked",
        }
    }
}

impl std::fmt::Display for NotChecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ErasedItem, ErasureReport, RecordId, ResourceKind, Verification};

    #[test]
    fn a_report_with_anything_unchecked_is_never_verified() {
        let item = ErasedItem {
            id: RecordId::new("a").unwrap(),
            kind: ResourceKind::Study,
            already_absent: false,
        };
        let verification = Verification::new(vec![]).with_not_checked(NotChecked::DerivedCopies);
        assert!(!verification.is_confirmed());
        let report = ErasureReport::reconcile(vec![item.clone()], vec![], verification);
        assert!(!report.is_verified());
        assert_eq!(report.not_checked(), &[NotChecked::DerivedCopies]);
        assert_eq!(report.erased(), std::slice::from_ref(&item));
        assert_eq!(
            NotChecked::DerivedCopies.to_string(),
            "derived copies not checked"
        );
        // Survives serde, and a forged report cannot drop it and claim more.
        let json = serde_json::to_string(&report).unwrap();
        assert!(
            json.contains("\"not_checked\":[\"derived-copies\"]"),
            "{json}"
        );
        let back: ErasureReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        let forged = json.replace(",\"verified\":false", ",\"verified\":true");
        let back: ErasureReport = serde_json::from_str(&forged).unwrap();
        assert!(!back.is_verified());
        // Adding the same thing twice names it once.
        let twice = Verification::new(vec![])
            .with_not_checked(NotChecked::DerivedCopies)
            .with_not_checked(NotChecked::DerivedCopies);
        let report = ErasureReport::reconcile(vec![], vec![], twice);
        assert_eq!(report.not_checked().len(), 1);
    }
}
