//! An erasure report item by item: for every resource, file or area the
//! erasure concerned, whether it is erased, left, unreadable or not checked.

use super::handle::RecordId;
use super::not_checked::NotChecked;
use super::outcome::{ErasureReport, ResourceKind};
use super::unreadable::UnreadableItem;

/// What became of one item of an erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ItemStatus {
    /// Confirmed gone by verification (or already gone before).
    Erased,
    /// Still there: verification found it, or the system refused to erase
    /// it, or the store does not erase it (see the reason).
    Left,
    /// A stored file that could not be read: the subject's data may remain
    /// in it.
    Unreadable,
    /// An area verification did not look at: the subject's data may remain
    /// there.
    NotChecked,
}

/// What an item of an erasure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item<'a> {
    /// A resource of the system (a study, a FHIR resource, a patient).
    Resource {
        /// The system's identifier.
        id: &'a RecordId,
        /// What it is.
        kind: ResourceKind,
    },
    /// A stored file that could not be read (its location stays out of
    /// `Debug`).
    File(&'a UnreadableItem),
    /// An area of the system verification could not check.
    Area(NotChecked),
}

/// One item of an erasure and what became of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItemOutcome<'a> {
    /// The item.
    pub item: Item<'a>,
    /// What became of it.
    pub status: ItemStatus,
    /// Why, for items left (the system's refusal, the store's reason) and
    /// unreadable files; free of patient values.
    pub reason: Option<&'a str>,
}

impl ErasureReport {
    /// Every item of the erasure with its status: the erased resources, then
    /// those left (found by verification, or refused by the system), the
    /// unreadable files and the areas not checked. The report is verified
    /// exactly when every item is [`ItemStatus::Erased`].
    pub fn items(&self) -> Vec<ItemOutcome<'_>> {
        let erased = self.erased().iter().map(|e| ItemOutcome {
            item: Item::Resource {
                id: &e.id,
                kind: e.kind,
            },
            status: ItemStatus::Erased,
            reason: None,
        });
        let left = self.left().iter().map(|l| ItemOutcome {
            item: Item::Resource {
                id: &l.id,
                kind: l.kind,
            },
            status: ItemStatus::Left,
            reason: l.reason.as_deref(),
        });
        let refused = self.refused().iter().map(|r| ItemOutcome {
            item: Item::Resource {
                id: &r.id,
                kind: r.kind,
            },
            status: ItemStatus::Left,
            reason: Some(r.reason.as_str()),
        });
        let unreadable = self.unreadable().iter().map(|u| ItemOutcome {
            item: Item::File(u),
            status: ItemStatus::Unreadable,
            reason: Some(u.detail.as_str()),
        });
        let unchecked = self.not_checked().iter().map(|n| ItemOutcome {
            item: Item::Area(*n),
            status: ItemStatus::NotChecked,
            reason: Some(n.describe()),
        });
        erased
            .chain(left)
            .chain(refused)
            .chain(unreadable)
            .chain(unchecked)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{
        ErasedItem, Refusal, Remnant, UnreadableCause, UnreadableStatus, Verification,
    };

    fn id(s: &str) -> RecordId {
        RecordId::new(s).unwrap()
    }

    #[test]
    fn every_item_has_one_status_and_verified_means_all_erased() {
        let erased = |s: &str| ErasedItem {
            id: id(s),
            kind: ResourceKind::Record,
            already_absent: false,
        };
        let shared = Remnant {
            id: id("Group:g1"),
            kind: ResourceKind::Record,
            derived_from: None,
            reason: Some("shared with other patients".into()),
        };
        let file = UnreadableItem::new(
            "CANARY/x.dcm",
            UnreadableCause::Malformed,
            UnreadableStatus::Unreadable,
            "truncated at byte 10",
        );
        let verification = Verification::new(vec![shared])
            .with_unreadable(vec![file])
            .with_not_checked(NotChecked::DerivedCopies);
        let refusal = Refusal {
            id: id("s9"),
            kind: ResourceKind::Study,
            reason: "Retention period not yet expired".into(),
        };
        let report = ErasureReport::reconcile(
            vec![erased("Observation:o1"), erased("Group:g1")],
            vec![refusal],
            verification,
        );
        let statuses: Vec<ItemStatus> = report.items().iter().map(|i| i.status).collect();
        assert_eq!(
            statuses,
            [
                ItemStatus::Erased,
                ItemStatus::Left,
                ItemStatus::Left,
                ItemStatus::Unreadable,
                ItemStatus::NotChecked
            ]
        );
        assert_eq!(report.items()[1].reason, Some("shared with other patients"));
        assert!(!format!("{:?}", report.items()).contains("CANARY"));
        assert!(!report.is_verified());

        let clean = ErasureReport::reconcile(
            vec![erased("Observation:o1")],
            vec![],
            Verification::default(),
        );
        assert!(clean.is_verified());
        assert!(clean.items().iter().all(|i| i.status == ItemStatus::Erased));
    }
}
