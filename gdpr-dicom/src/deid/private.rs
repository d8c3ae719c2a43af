//! Private attributes: the rule of PS3.15 Table E.1-1 (remove, unless the
//! Retain Safe Private Option is selected and the attribute is on the safe
//! list) and the safe list itself.

/// One private attribute known to carry no identifying information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafePrivate {
    /// The Private Creator value that reserves the block.
    pub creator: &'static str,
    /// The (odd) group.
    pub group: u16,
    /// The element offset within the block (low byte of the element).
    pub offset: u8,
    /// What it holds.
    pub meaning: &'static str,
}

/// The documented safe list (a subset of PS3.15 Table E.3.10-1 "Safe Private
/// Attributes", limited to acquisition parameters that research pipelines
/// need: diffusion b-values and directions, mosaic layout, PET scaling).
pub const SAFE_PRIVATE: &[SafePrivate] = &[
    SafePrivate {
        creator: "SIEMENS MR HEADER",
        group: 0x0019,
        offset: 0x0A,
        meaning: "Number of Images in Mosaic",
    },
    SafePrivate {
        creator: "SIEMENS MR HEADER",
        group: 0x0019,
        offset: 0x0C,
        meaning: "B Value",
    },
    SafePrivate {
        creator: "SIEMENS MR HEADER",
        group: 0x0019,
        offset: 0x0D,
        meaning: "Diffusion Directionality",
    },
    SafePrivate {
        creator: "SIEMENS MR HEADER",
        group: 0x0019,
        offset: 0x0E,
        meaning: "Diffusion Gradient Direction",
    },
    SafePrivate {
        creator: "SIEMENS MR HEADER",
        group: 0x0019,
        offset: 0x27,
        meaning: "B Matrix",
    },
    SafePrivate {
        creator: "GEMS_PARM_01",
        group: 0x0043,
        offset: 0x39,
        meaning: "Slop Integer 6-9 (b-value)",
    },
    SafePrivate {
        creator: "Philips Imaging DD 001",
        group: 0x2001,
        offset: 0x03,
        meaning: "Diffusion B-Factor",
    },
    SafePrivate {
        creator: "Philips PET Private Group",
        group: 0x7053,
        offset: 0x00,
        meaning: "SUV Factor",
    },
    SafePrivate {
        creator: "Philips PET Private Group",
        group: 0x7053,
        offset: 0x09,
        meaning: "Activity Concentration Scale Factor",
    },
];

/// Whether the private data element at `group`/`offset` in a block reserved
/// by `creator` is on the safe list.
pub fn is_safe(creator: &str, group: u16, offset: u8) -> bool {
    let creator = creator.trim_end_matches(['\0', ' ']);
    SAFE_PRIVATE
        .iter()
        .any(|s| s.group == group && s.offset == offset && s.creator == creator)
}
