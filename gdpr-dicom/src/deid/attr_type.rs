//! The attribute type (PS3.3 Type 1, 2 or 3) used to choose between the
//! alternatives of a combined action code (X/Z, X/D, X/Z/D, Z/D).
//!
//! The type of an attribute depends on the IOD; the profile asks for the
//! choice that keeps the output a valid instance. This table lists, for the
//! attributes that carry a combined code, the **strictest** type they have in
//! the common IODs (CT, MR, PET, enhanced images, SR, presentation states,
//! segmentation, RT). Everything not listed is treated as Type 3 and removed,
//! which is the conservative choice for privacy; a Type 1 attribute always
//! gets a dummy and a Type 2 one an empty value, which is valid in every IOD.

use dicom_core::Tag;

/// The requirement type of an attribute in an IOD (PS3.3 §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttrType {
    /// Required, non-empty.
    Type1,
    /// Required, may be empty.
    Type2,
    /// Optional.
    Type3,
}

/// The family of IODs a file belongs to, where an attribute's type differs
/// between families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IodFamily {
    /// Structured reports and key object selections (SR Document Series).
    StructuredDocument,
    /// Softcopy presentation states (Presentation State Identification).
    PresentationState,
    /// Images and everything else.
    Other,
}

impl IodFamily {
    /// The family of a SOP Class UID.
    pub fn of_sop_class(uid: &str) -> Self {
        let uid = uid.trim_end_matches(['\0', ' ']);
        if uid.starts_with("1.2.840.10008.5.1.4.1.1.88.") {
            IodFamily::StructuredDocument
        } else if uid.starts_with("1.2.840.10008.5.1.4.1.1.11.") {
            IodFamily::PresentationState
        } else {
            IodFamily::Other
        }
    }
}

/// Types that hold only in one family (checked before [`KNOWN`]).
const KNOWN_IN: &[(IodFamily, u16, u16, AttrType)] = &[
    // Referenced Performed Procedure Step Sequence: Type 2 in SR Document
    // Series; Type 3 with one item in General Series (so removed there).
    (
        IodFamily::StructuredDocument,
        0x0008,
        0x1111,
        AttrType::Type2,
    ),
    // Presentation Creation Date/Time: X in the table, but Type 1 in
    // Presentation State Identification; a dummy keeps the state valid and
    // carries no information.
    (
        IodFamily::PresentationState,
        0x0070,
        0x0082,
        AttrType::Type1,
    ),
    (
        IodFamily::PresentationState,
        0x0070,
        0x0083,
        AttrType::Type1,
    ),
];

/// Known types (strictest over the common IODs) of attributes whose action
/// code leaves a choice. Source: PS3.3 2024b module tables named in comments.
const KNOWN: &[(u16, u16, AttrType)] = &[
    // Content Date/Time: Type 1 in SR Document General and the enhanced
    // multi-frame image modules; 2C in General Image.
    (0x0008, 0x0023, AttrType::Type1),
    (0x0008, 0x0033, AttrType::Type1),
    // Acquisition DateTime: Type 1C in the enhanced multi-frame images.
    (0x0008, 0x002A, AttrType::Type1),
    // Patient ID: Type 2 in the Patient module; we always give a pseudonym.
    (0x0010, 0x0020, AttrType::Type1),
    // Device Serial Number: Type 1 in Enhanced General Equipment.
    (0x0018, 0x1000, AttrType::Type1),
    // Contrast/Bolus Agent: Type 2 in Contrast/Bolus.
    (0x0018, 0x0010, AttrType::Type2),
    // Acquisition Context Sequence: Type 2 in Acquisition Context.
    (0x0040, 0x0555, AttrType::Type2),
    // Content Creator's Name: Type 2 in Presentation State Identification.
    (0x0070, 0x0084, AttrType::Type2),
    // Treatment Date/Time: Type 2 in RT General Treatment Record.
    (0x3008, 0x0250, AttrType::Type2),
    (0x3008, 0x0251, AttrType::Type2),
    // RT Plan Date/Time: Type 2 in RT General Plan.
    (0x300A, 0x0006, AttrType::Type2),
    (0x300A, 0x0007, AttrType::Type2),
    // Treatment Machine Name: Type 2 in RT Beams.
    (0x300A, 0x00B2, AttrType::Type2),
    // Reviewer Name: Type 2C in Approval.
    (0x300E, 0x0008, AttrType::Type2),
];

/// The type used for the choice of a combined action in a file of `family`
/// (Type 3 when unknown).
pub fn attr_type(tag: Tag, family: IodFamily) -> AttrType {
    let (g, e) = (tag.group(), tag.element());
    if let Some((.., t)) = KNOWN_IN
        .iter()
        .find(|(f, kg, ke, _)| *f == family && *kg == g && *ke == e)
    {
        return *t;
    }
    KNOWN
        .iter()
        .find(|(kg, ke, _)| *kg == g && *ke == e)
        .map_or(AttrType::Type3, |(_, _, t)| *t)
}

/// Type 1C attributes that may only be present when another attribute is
/// (dependent, condition). When the profile removes the condition but asks
/// for a dummy in the dependent, the dependent is removed too so that the
/// IOD stays valid.
pub const PRESENT_ONLY_WITH: &[(Tag, Tag)] = &[
    // PS3.3 C.7.1.3 Clinical Trial Subject: the Ethics Committee Name is
    // required if, and only present when, the Approval Number is present.
    (Tag(0x0012, 0x0081), Tag(0x0012, 0x0082)),
];
