//! The purposes a retention duty keeps a record for.
//!
//! Once the care purpose of a record has ended, a record kept only because
//! a statute demands it (GDPR Art. 6(1)(c) with Art. 9(2)(h) and that
//! statute) may be used for what the duty serves and for nothing else. Each
//! [`Rule`](crate::retention::Rule) names those purposes (`keeps_for` in a
//! pack file) in the words of [`Purpose`]:
//!
//! | what the duty serves | [`Purpose`] |
//! |---|---|
//! | evidence: proof of what was done, for claims and complaints | `legal-claims` |
//! | care continuity: the patient returns under a new treatment | `treatment`, `diagnosis` |
//! | inspection by the supervising authority, compliance with the duty itself | `legal-obligation` |
//! | traceability, recall, look-back of products and exposures | `public-health` |
//!
//! The authorization side reads the set from
//! [`Decision::keeps_for`](crate::retention::Decision::keeps_for).

use crate::purpose::Purpose;

/// A set of purposes, stored as bits: copying it never allocates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PurposeSet(u32);

impl PurposeSet {
    /// No purpose.
    pub const EMPTY: PurposeSet = PurposeSet(0);

    /// What a rule keeps a record for when its pack file does not say:
    /// only compliance with the duty itself (Art. 6(1)(c)). Never wider.
    pub const DUTY_ONLY: PurposeSet = PurposeSet(Self::bit(Purpose::LegalObligation));

    const fn bit(purpose: Purpose) -> u32 {
        // Purpose is a field-less enum with fewer than 32 variants.
        1 << (purpose as u32)
    }

    /// Adds a purpose.
    pub fn insert(&mut self, purpose: Purpose) {
        self.0 |= Self::bit(purpose);
    }

    /// This set with `purpose` added.
    #[must_use]
    pub fn with(mut self, purpose: Purpose) -> Self {
        self.insert(purpose);
        self
    }

    /// Whether `purpose` is in the set.
    pub const fn contains(self, purpose: Purpose) -> bool {
        self.0 & Self::bit(purpose) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    #[must_use]
    pub const fn union(self, other: PurposeSet) -> PurposeSet {
        PurposeSet(self.0 | other.0)
    }

    /// The purposes in the set, in the order of [`Purpose::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Purpose> {
        Purpose::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Purpose> for PurposeSet {
    fn from_iter<I: IntoIterator<Item = Purpose>>(iter: I) -> Self {
        let mut set = PurposeSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_has_its_own_bit() {
        assert!(Purpose::ALL.len() <= 32);
        let mut all = PurposeSet::EMPTY;
        for p in Purpose::ALL {
            assert!(!all.contains(p), "{p:?}");
            all.insert(p);
        }
        assert_eq!(all.iter().count(), Purpose::ALL.len());
        assert_eq!(
            PurposeSet::DUTY_ONLY.iter().collect::<Vec<_>>(),
            vec![Purpose::LegalObligation]
        );
    }
}
