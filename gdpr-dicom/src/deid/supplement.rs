//! Attributes that identify a person but that PS3.15 Table E.1-1 (edition
//! 2024b) does not list — most were added to PS3.3 after the table was last
//! revised (e.g. Supplement 229 names, pronouns and gender identity; alternative
//! calendar dates). The pure profile would keep them; we treat them as the
//! table treats their closest listed relatives. Every row says why.
//!
//! These rows never relax the profile: each action is X (remove), optionally
//! K or C under Retain Patient Characteristics like (0010,2160) Ethnic Group.

use super::profile::{Basic, Row};

const fn row(group: u16, element: u16, name: &'static str, options: [u8; 10]) -> Row {
    Row {
        group,
        element,
        group_mask: 0xFFFF,
        element_mask: 0xFFFF,
        name,
        basic: Basic::X,
        options,
    }
}

const NONE: [u8; 10] = *b"..........";
/// Kept with Retain Patient Characteristics (column 5).
const PAT_K: [u8; 10] = *b"....K.....";
/// Cleaned with Retain Patient Characteristics and Clean Descriptors.
const PAT_C: [u8; 10] = *b"....C..C..";

/// The supplement, sorted by tag.
pub(crate) static SUPPLEMENT: &[Row] = &[
    row(0x0010, 0x0011, "Person Names to Use Sequence", NONE),
    row(0x0010, 0x0012, "Name to Use", NONE),
    row(0x0010, 0x0013, "Name to Use Comment", NONE),
    row(0x0010, 0x0014, "Third Person Pronouns Sequence", PAT_K),
    row(0x0010, 0x0015, "Pronoun Code Sequence", PAT_K),
    row(0x0010, 0x0016, "Pronoun Comment", PAT_C),
    row(
        0x0010,
        0x0026,
        "Source Patient Group Identification Sequence",
        NONE,
    ),
    row(
        0x0010,
        0x0027,
        "Group of Patients Identification Sequence",
        NONE,
    ),
    row(
        0x0010,
        0x0033,
        "Patient's Birth Date in Alternative Calendar",
        NONE,
    ),
    row(
        0x0010,
        0x0034,
        "Patient's Death Date in Alternative Calendar",
        NONE,
    ),
    row(0x0010, 0x0035, "Patient's Alternative Calendar", NONE),
    row(0x0010, 0x0041, "Gender Identity Sequence", PAT_K),
    row(
        0x0010,
        0x0042,
        "Sex Parameters for Clinical Use Category Comment",
        PAT_C,
    ),
    row(0x0010, 0x0045, "Gender Identity Comment", PAT_C),
    row(0x0010, 0x2162, "Ethnic Groups", PAT_K),
    row(0x0010, 0x2294, "Breed Registration Sequence", NONE),
    row(0x0010, 0x2295, "Breed Registration Number", NONE),
    row(0x0014, 0x0104, "Secondary Reviewer Name", NONE),
    row(0x0014, 0x2006, "Evaluator Name", NONE),
    row(0x0074, 0x100A, "Contact URI", NONE),
    row(0x0074, 0x100C, "Contact Display Name", NONE),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deid::profile::rows;

    #[test]
    fn supplement_is_sorted_and_disjoint_from_the_table() {
        assert!(
            SUPPLEMENT
                .windows(2)
                .all(|w| (w[0].group, w[0].element) < (w[1].group, w[1].element))
        );
        for s in SUPPLEMENT {
            assert!(
                rows().all(|r| r.tag() != s.tag()),
                "{} is in the table now",
                s.name
            );
        }
    }
}
