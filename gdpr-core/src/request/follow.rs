//! Master data that follow the subject's other records on the same system
//! (a pack's `[[follows]]` rule, [`crate::retention::follows`]): what the
//! others came to, and what that means for the record that follows them.

use crate::request::assess::Collected;
use crate::request::assessment::{ReasonCode, RecordAssessment, RecordOutcome};
use crate::retention::{Follower, PurposeSet};

/// What the subject's other records on the same system came to, for a
/// record that follows them ([`Follower`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Follow {
    /// Some are kept, for these purposes.
    Kept(PurposeSet),
    /// None is kept; some are restricted instead of erased.
    Restricted,
    /// None is kept or restricted; some wait for a person.
    Waiting,
    /// Every other record is erased (or there is none).
    Free,
}

impl Follow {
    pub(super) fn of<'a>(others: impl Iterator<Item = &'a RecordAssessment>) -> Self {
        let (mut kept, mut restricted, mut waiting) = (PurposeSet::default(), false, false);
        let mut any_kept = false;
        for r in others {
            match &r.outcome {
                RecordOutcome::Keep { purposes } => {
                    any_kept = true;
                    purposes.iter().for_each(|p| kept.insert(*p));
                }
                RecordOutcome::RestrictInstead => restricted = true,
                RecordOutcome::DecideManually => waiting = true,
                _ => {}
            }
        }
        if any_kept {
            Self::Kept(kept)
        } else if restricted {
            Self::Restricted
        } else if waiting {
            Self::Waiting
        } else {
            Self::Free
        }
    }

    /// Adds what it means for the record to `c`.
    pub(super) fn apply(self, c: &mut Collected, rule: &Follower) {
        let cite = rule.source().clone();
        let id = rule.id();
        let (applied, message) = match self {
            Self::Kept(purposes) => {
                c.keep = c.keep.union(purposes);
                (
                    true,
                    format!(
                        "rule {id}: kept while other records of the subject on this system are \
                         kept, so that they stay attributable (a reading of {cite})"
                    ),
                )
            }
            Self::Restricted => {
                c.restrict = true;
                (
                    true,
                    format!(
                        "rule {id}: other records of the subject on this system are restricted \
                         instead of erased; restricted with them (a reading of {cite})"
                    ),
                )
            }
            Self::Waiting => {
                c.manual = true;
                (
                    true,
                    format!(
                        "rule {id}: other records of the subject on this system wait for a \
                         person's decision; decide this one with them"
                    ),
                )
            }
            Self::Free => (
                false,
                format!(
                    "rule {id}: no other record of the subject on this system is kept, so it \
                     does not keep this one"
                ),
            ),
        };
        c.reason(ReasonCode::FollowsRecords, cite, applied, message);
    }
}
