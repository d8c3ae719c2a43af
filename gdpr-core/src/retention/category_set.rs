//! A set of record categories, as bits: a record may belong to several.

use crate::category::RecordCategory;

/// A set of record categories, stored as bits. A record may belong to more
/// than one (a radiotherapy planning CT is both an imaging examination and
/// a radiotherapy record); every rule of every category applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CategorySet(u16);

impl CategorySet {
    /// No category.
    pub const EMPTY: CategorySet = CategorySet(0);

    /// The set holding only `category`.
    pub const fn of(category: RecordCategory) -> Self {
        Self(Self::bit(category))
    }

    const fn bit(category: RecordCategory) -> u16 {
        // RecordCategory is a field-less enum with fewer than 16 variants
        // (a unit test checks this).
        1 << (category as u16)
    }

    /// Adds a category.
    pub fn insert(&mut self, category: RecordCategory) {
        self.0 |= Self::bit(category);
    }

    /// Whether `category` is in the set.
    pub const fn contains(self, category: RecordCategory) -> bool {
        self.0 & Self::bit(category) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The categories in the set, in the order of [`RecordCategory::ALL`].
    pub fn iter(self) -> impl Iterator<Item = RecordCategory> {
        RecordCategory::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    pub(crate) const fn index(category: RecordCategory) -> usize {
        category as usize
    }

    pub(crate) const fn bits(self) -> u16 {
        self.0
    }
}
