//! PS3.15 Table E.1-1 as data: the row type, the basic action codes and the
//! lookup of the row that governs a tag (exact tags, the repeating groups
//! (50xx,xxxx), (60xx,3000), (60xx,4000), and the rule for private attributes).

use dicom_core::Tag;

use super::options::DeidOption;
use super::supplement::SUPPLEMENT;
use super::table_2024b::{EXACT, PRIVATE, REPEATING};

/// A basic-profile action code of Table E.1-1, including the combinations
/// that leave the choice to the attribute's type in the IOD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Basic {
    /// Remove the attribute.
    X,
    /// Replace with a zero-length value (or a dummy consistent with the VR).
    Z,
    /// Replace with a non-zero-length dummy value consistent with the VR.
    D,
    /// Keep the value (sequences: de-identify their items).
    K,
    /// Clean: replace with values of similar meaning known not to identify.
    C,
    /// Replace a UID with a consistent keyed UID.
    U,
    /// Z unless D is required (Type 2 versus Type 1).
    ZD,
    /// X unless Z is required (Type 3 versus Type 2).
    XZ,
    /// X unless D is required (Type 3 versus Type 1).
    XD,
    /// X unless Z or D is required (Type 3 versus 2 versus 1).
    XZD,
    /// X unless Z or replacement of contained UIDs is required (sequences).
    XZU,
}

impl Basic {
    /// The code as printed in PS3.15 ("X/Z/D", …).
    pub fn code(self) -> &'static str {
        match self {
            Basic::X => "X",
            Basic::Z => "Z",
            Basic::D => "D",
            Basic::K => "K",
            Basic::C => "C",
            Basic::U => "U",
            Basic::ZD => "Z/D",
            Basic::XZ => "X/Z",
            Basic::XD => "X/D",
            Basic::XZD => "X/Z/D",
            Basic::XZU => "X/Z/U*",
        }
    }
}

/// One row of Table E.1-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub(crate) group: u16,
    pub(crate) element: u16,
    pub(crate) group_mask: u16,
    pub(crate) element_mask: u16,
    pub(crate) name: &'static str,
    pub(crate) basic: Basic,
    /// One byte per option column (`.`, `K` or `C`), in [`DeidOption::ALL`] order.
    pub(crate) options: [u8; 10],
}

/// What a selected option does to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionEffect {
    Keep,
    Clean,
}

impl Row {
    /// The attribute's name as printed in the standard.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The exact tag of this row (`None` for repeating groups and the
    /// private rule).
    pub fn tag(&self) -> Option<Tag> {
        (self.group_mask == 0xFFFF && self.element_mask == 0xFFFF)
            .then_some(Tag(self.group, self.element))
    }

    /// The basic-profile action.
    pub fn basic(&self) -> Basic {
        self.basic
    }

    /// The tag pattern as printed in the standard, e.g. "(60xx,3000)".
    pub fn pattern(&self) -> String {
        let hex = |v: u16, mask: u16| -> String {
            (0..4)
                .map(|i| {
                    let shift = 12 - 4 * i;
                    if (mask >> shift) & 0xF == 0 {
                        'x'
                    } else {
                        char::from_digit(u32::from((v >> shift) & 0xF), 16)
                            .map_or('?', |c| c.to_ascii_uppercase())
                    }
                })
                .collect()
        };
        if self.group_mask == 0x0001 {
            return "(gggg,eeee) odd group".to_owned();
        }
        format!(
            "({},{})",
            hex(self.group, self.group_mask),
            hex(self.element, self.element_mask)
        )
    }

    /// The effect of one option on this row, if it changes the basic action.
    pub(crate) fn option_effect(&self, option: DeidOption) -> Option<OptionEffect> {
        match self.options[option.column()] {
            b'K' => Some(OptionEffect::Keep),
            b'C' => Some(OptionEffect::Clean),
            _ => None,
        }
    }

    fn matches(&self, tag: Tag) -> bool {
        tag.group() & self.group_mask == self.group
            && tag.element() & self.element_mask == self.element
    }
}

/// The row of Table E.1-1 (or of the documented
/// [supplement](crate::deid::supplement)) that governs `tag`, if any.
/// Private attributes (odd groups) all share one row; unlisted standard
/// attributes have none (they are kept, and their sequences de-identified).
pub fn row_for(tag: Tag) -> Option<&'static Row> {
    if tag.group() % 2 == 1 {
        return Some(&PRIVATE);
    }
    let key = (tag.group(), tag.element());
    if let Ok(i) = EXACT.binary_search_by(|r| (r.group, r.element).cmp(&key)) {
        return EXACT.get(i);
    }
    if let Ok(i) = SUPPLEMENT.binary_search_by(|r| (r.group, r.element).cmp(&key)) {
        return SUPPLEMENT.get(i);
    }
    REPEATING.iter().find(|r| r.matches(tag))
}

/// The rows of the documented supplement (attributes the table misses).
pub fn supplement_rows() -> impl Iterator<Item = &'static Row> {
    SUPPLEMENT.iter()
}

/// Every row of the table (exact, repeating groups, the private rule).
pub fn rows() -> impl Iterator<Item = &'static Row> {
    EXACT
        .iter()
        .chain(REPEATING.iter())
        .chain(std::iter::once(&PRIVATE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_2024b_counts() {
        let mut counts = std::collections::HashMap::new();
        for r in rows() {
            *counts.entry(r.basic.code()).or_insert(0) += 1;
        }
        // Counts from the table's README (edition 2024b, 621 rows).
        assert_eq!(rows().count(), 621);
        assert_eq!(counts["X"], 384);
        assert_eq!(counts["D"], 92);
        assert_eq!(counts["U"], 54);
        assert_eq!(counts["Z"], 42);
        assert_eq!(counts["X/D"], 22);
        assert_eq!(counts["X/Z"], 11);
        assert_eq!(counts["X/Z/D"], 8);
        assert_eq!(counts["Z/D"], 6);
        assert_eq!(counts["X/Z/U*"], 2);
    }

    #[test]
    fn lookup_finds_exact_repeating_and_private_rows() {
        assert_eq!(
            row_for(Tag(0x0010, 0x0020)).map(|r| r.basic),
            Some(Basic::ZD)
        );
        assert_eq!(
            row_for(Tag(0x6002, 0x3000)).map(|r| r.name),
            Some("Overlay Data")
        );
        assert_eq!(
            row_for(Tag(0x601E, 0x4000)).map(|r| r.name),
            Some("Overlay Comments")
        );
        assert_eq!(
            row_for(Tag(0x5004, 0x1234)).map(|r| r.name),
            Some("Curve Data")
        );
        assert_eq!(
            row_for(Tag(0x0029, 0x1010)).map(|r| r.name),
            Some("Private Attributes")
        );
        assert_eq!(row_for(Tag(0x6000, 0x0010)), None);
        assert_eq!(
            row_for(Tag(0x0010, 0x0033)).map(|r| r.basic),
            Some(Basic::X)
        );
        assert_eq!(row_for(Tag(0x0028, 0x0010)), None);
        assert_eq!(
            row_for(Tag(0x6000, 0x3000)).map(Row::pattern).as_deref(),
            Some("(60xx,3000)")
        );
    }
}
