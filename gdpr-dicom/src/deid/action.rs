//! The resolved action for one attribute: the basic code of Table E.1-1,
//! overridden by the selected options, with combined codes decided by the
//! attribute's type.

use dicom_core::Tag;
use dicom_core::dictionary::DataDictionary;
use dicom_dictionary_std::StandardDataDictionary;

use super::attr_type::{AttrType, IodFamily, attr_type};
use super::options::DeidOptions;
use super::profile::{Basic, OptionEffect, Row, row_for};

/// What happens to one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Remove the attribute (X).
    Remove,
    /// Zero-length value (Z); Patient's Name gets the patient pseudonym,
    /// which Z allows. Sequences become empty.
    Empty,
    /// A dummy value valid for the VR (D); sequences keep their items,
    /// de-identified recursively.
    Dummy,
    /// Keep the value (K, and unlisted standard attributes); sequences are
    /// de-identified recursively.
    Keep,
    /// Clean (C): dates shifted, free text scrubbed of the file's
    /// identifiers, AE titles replaced by keyed tokens, UIDs replaced,
    /// sequences de-identified recursively, bitmaps (overlays, curves)
    /// removed because they cannot be cleaned without decoding.
    Clean,
    /// Replace the UID(s) by keyed UIDs (U).
    ReplaceUid,
    /// Keep the sequence, replacing the UIDs inside (U* of X/Z/U*), so that
    /// references still resolve.
    KeepReplacingUids,
}

/// The action for `tag` under `options`, with the governing row of Table
/// E.1-1 (`None` for unlisted attributes). Unlisted standard attributes are
/// kept; even-group tags that the standard's data dictionary does not define
/// (a corrupted tag, a non-conformant writer) are removed, because nobody has
/// judged them safe.
pub fn resolve(tag: Tag, options: &DeidOptions) -> (Action, Option<&'static Row>) {
    resolve_in(tag, options, IodFamily::Other)
}

/// As [`resolve`], for a file of the given IOD family (the type of some
/// attributes differs between families).
pub fn resolve_in(
    tag: Tag,
    options: &DeidOptions,
    family: IodFamily,
) -> (Action, Option<&'static Row>) {
    match row_for(tag) {
        None if is_standard(tag) => (Action::Keep, None),
        None => (Action::Remove, None),
        Some(row) => (resolve_row(row, tag, options, family), Some(row)),
    }
}

fn is_standard(tag: Tag) -> bool {
    // Item and delimiter tags never reach here; group lengths are dropped
    // before. Specific Character Set and the like are in the dictionary.
    StandardDataDictionary.by_tag(tag).is_some()
}

fn resolve_row(row: &Row, tag: Tag, options: &DeidOptions, family: IodFamily) -> Action {
    // A selected option that keeps wins over one that cleans (they only
    // meet on Device UID-like rows where both keep, or both clean).
    let mut clean = false;
    for o in options.iter() {
        match row.option_effect(o) {
            Some(OptionEffect::Keep) => return Action::Keep,
            Some(OptionEffect::Clean) => clean = true,
            None => {}
        }
    }
    if clean {
        return Action::Clean;
    }
    let t = attr_type(tag, family);
    match row.basic {
        // X on an attribute the IOD requires: a dummy (Type 1) or an empty
        // value (Type 2) carries no more information than removal and keeps
        // the instance valid.
        Basic::X => match t {
            AttrType::Type1 => Action::Dummy,
            AttrType::Type2 => Action::Empty,
            AttrType::Type3 => Action::Remove,
        },
        Basic::Z => Action::Empty,
        Basic::D => Action::Dummy,
        Basic::K => Action::Keep,
        Basic::C => Action::Clean,
        Basic::U => Action::ReplaceUid,
        Basic::ZD => match t {
            AttrType::Type1 => Action::Dummy,
            _ => Action::Empty,
        },
        Basic::XZ => match t {
            AttrType::Type3 => Action::Remove,
            _ => Action::Empty,
        },
        Basic::XD => match t {
            AttrType::Type3 => Action::Remove,
            _ => Action::Dummy,
        },
        Basic::XZD => match t {
            AttrType::Type1 => Action::Dummy,
            AttrType::Type2 => Action::Empty,
            AttrType::Type3 => Action::Remove,
        },
        Basic::XZU => Action::KeepReplacingUids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deid::options::DeidOption;

    #[test]
    fn combined_codes_follow_the_type() {
        let basic = DeidOptions::basic();
        assert_eq!(resolve(Tag(0x0010, 0x0020), &basic).0, Action::Dummy); // Z/D, pseudonym
        assert_eq!(resolve(Tag(0x0008, 0x0023), &basic).0, Action::Dummy); // Z/D, Type 1
        assert_eq!(resolve(Tag(0x0018, 0x0010), &basic).0, Action::Empty); // Z/D, Type 2
        assert_eq!(resolve(Tag(0x0008, 0x0080), &basic).0, Action::Remove); // X/Z/D, Type 3
        assert_eq!(resolve(Tag(0x0018, 0x1000), &basic).0, Action::Dummy); // X/Z/D, Type 1
        assert_eq!(resolve(Tag(0x0040, 0x0555), &basic).0, Action::Empty); // X/Z, Type 2
        assert_eq!(
            resolve(Tag(0x0008, 0x1140), &basic).0,
            Action::KeepReplacingUids
        );
        assert_eq!(resolve(Tag(0x0008, 0x0018), &basic).0, Action::ReplaceUid);
        assert_eq!(resolve(Tag(0x0028, 0x0010), &basic), (Action::Keep, None));
        assert_eq!(resolve(Tag(0x6000, 0x0010), &basic), (Action::Keep, None)); // Overlay Rows
        assert_eq!(resolve(Tag(0x0011, 0x0011), &basic).0, Action::Remove); // private
        assert_eq!(resolve(Tag(0x0010, 0x0099), &basic), (Action::Remove, None)); // not standard
    }

    #[test]
    fn the_iod_family_decides_where_types_differ() {
        let basic = DeidOptions::basic();
        let pps = Tag(0x0008, 0x1111); // X/Z/D: Type 3 in images, Type 2 in SR
        assert_eq!(resolve(pps, &basic).0, Action::Remove);
        let sr = IodFamily::of_sop_class("1.2.840.10008.5.1.4.1.1.88.11");
        assert_eq!(resolve_in(pps, &basic, sr).0, Action::Empty);
        let created = Tag(0x0070, 0x0082); // X, but Type 1 in presentation states
        assert_eq!(resolve(created, &basic).0, Action::Remove);
        let pr = IodFamily::of_sop_class("1.2.840.10008.5.1.4.1.1.11.1");
        assert_eq!(resolve_in(created, &basic, pr).0, Action::Dummy);
    }

    #[test]
    fn options_override_the_basic_action() {
        let o = DeidOptions::new([
            DeidOption::RetainUids,
            DeidOption::RetainLongitudinalModifiedDates,
        ])
        .unwrap();
        assert_eq!(resolve(Tag(0x0008, 0x0018), &o).0, Action::Keep);
        assert_eq!(resolve(Tag(0x0008, 0x0020), &o).0, Action::Clean);
        let d = DeidOptions::new([DeidOption::RetainDeviceIdentity]).unwrap();
        assert_eq!(resolve(Tag(0x0008, 0x0055), &d).0, Action::Clean);
        assert_eq!(resolve(Tag(0x0018, 0x1000), &d).0, Action::Keep);
    }
}
