//! The record of what was done, written into every output (PS3.15 E.1.1,
//! PS3.3 C.7.1.1): Patient Identity Removed, De-identification Method, its
//! Code Sequence with the CID 7050 codes of the profile and options, and
//! Longitudinal Temporal Information Modified.

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;

use super::options::{BASIC_PROFILE_CODE, DeidOption, DeidOptions};
use super::table_2024b::EDITION;

/// Records the de-identification in the data set (PS3.15 E.1.1 and
/// PS3.3 C.7.1.1): Patient Identity Removed, De-identification Method
/// and its Code Sequence (CID 7050), and Longitudinal Temporal
/// Information Modified.
pub(crate) fn record_method(out: &mut InMemDicomObject, options: &DeidOptions, shifted: bool) {
    let mut codes = vec![BASIC_PROFILE_CODE];
    codes.extend(options.iter().map(DeidOption::cid7050));
    let methods: Vec<String> = std::iter::once(format!("PS3.15 E.1-1 {EDITION} Basic Profile"))
        .chain(options.iter().map(|o| o.cid7050().1.to_owned()))
        .collect();
    out.put(DataElement::new(
        Tag(0x0012, 0x0062),
        VR::CS,
        PrimitiveValue::from("YES"),
    ));
    out.put(DataElement::new(
        Tag(0x0012, 0x0063),
        VR::LO,
        PrimitiveValue::Strs(methods.into()),
    ));
    let items: Vec<InMemDicomObject> = codes
        .into_iter()
        .map(|(value, meaning)| {
            InMemDicomObject::from_element_iter([
                DataElement::new(Tag(0x0008, 0x0100), VR::SH, PrimitiveValue::from(value)),
                DataElement::new(Tag(0x0008, 0x0102), VR::SH, PrimitiveValue::from("DCM")),
                DataElement::new(Tag(0x0008, 0x0104), VR::LO, PrimitiveValue::from(meaning)),
            ])
        })
        .collect();
    out.put(DataElement::new(
        Tag(0x0012, 0x0064),
        VR::SQ,
        DataSetSequence::new(items, Length::UNDEFINED),
    ));
    if shifted {
        out.put(DataElement::new(
            Tag(0x0028, 0x0303),
            VR::CS,
            PrimitiveValue::from("MODIFIED"),
        ));
    } else if options.contains(DeidOption::RetainLongitudinalFullDates) {
        out.put(DataElement::new(
            Tag(0x0028, 0x0303),
            VR::CS,
            PrimitiveValue::from("UNMODIFIED"),
        ));
    }
}
