//! Canary DICOM for the de-identification tests: a data set carrying a
//! distinct, recognisable value ([`CANARY`], [`CANARY_UID_ROOT`],
//! [`CANARY_TIME`]) in every attribute of PS3.15 Table E.1-1 and its
//! supplements, so a test can find any value that survives
//! de-identification; and two objects whose references must stay
//! consistent (a Basic Text SR, a Grayscale Softcopy Presentation State).
//! Test code: it panics on encoding failures instead of returning errors.

mod objects;

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

pub use objects::{basic_text_sr, gsps};

use crate::deid::profile::{rows, supplement_rows};

/// Root of every canary UID.
pub const CANARY_UID_ROOT: &str = "1.2.826.0.1.3680043.10.9999";
/// Marker inside every canary text and binary value.
pub const CANARY: &str = "CNRY";
/// Marker inside every canary time.
pub const CANARY_TIME: &str = ".777777";

/// The VR of a standard tag (relaxed), LO when unknown.
pub fn vr_of(tag: Tag) -> VR {
    StandardDataDictionary
        .by_tag(tag)
        .map(|e| e.vr().relaxed())
        .unwrap_or(VR::LO)
}

/// A canary date, distinct per index (1950-01-01 + 17·i days).
pub fn canary_date(i: usize) -> String {
    let d = jiff::civil::date(1950, 1, 1)
        .checked_add(jiff::Span::new().days(17 * i as i64))
        .unwrap();
    d.strftime("%Y%m%d").to_string()
}

/// The canary UID for index `i`.
pub fn canary_uid(i: usize) -> String {
    format!("{CANARY_UID_ROOT}.{i}")
}

/// The canary value for attribute `i` with `vr`, or `None` for SQ.
pub fn canary_value(vr: VR, i: usize) -> Option<PrimitiveValue> {
    let s = |v: String| Some(PrimitiveValue::from(v));
    match vr {
        VR::SQ => None,
        VR::AE | VR::CS | VR::SH | VR::LO | VR::LT | VR::ST | VR::UT | VR::UC => {
            s(format!("{CANARY}{i:04}"))
        }
        VR::PN => s(format!("{CANARY}{i:04}^CANARY")),
        VR::DA => s(canary_date(i)),
        VR::TM => s(format!(
            "{:02}{:02}{:02}{CANARY_TIME}",
            10 + (i / 60) % 14,
            i % 60,
            (i * 7) % 60
        )),
        VR::DT => s(format!("{}121314{CANARY_TIME}", canary_date(i))),
        VR::UI => s(canary_uid(i)),
        VR::AS => s(format!("0{:02}Y", i % 100)),
        VR::DS => s(format!("9{i:04}.5")),
        VR::IS => s(format!("9{i:04}")),
        VR::UR => s(format!("http://cnry{i:04}.example/")),
        VR::AT => Some(PrimitiveValue::Tags(vec![Tag(0x0010, 0x0010)].into())),
        VR::US => Some(PrimitiveValue::from(0x7A7Au16)),
        VR::SS => Some(PrimitiveValue::from(0x7A7Ai16)),
        VR::UL => Some(PrimitiveValue::from(0x7A7A_7A7Au32)),
        VR::SL => Some(PrimitiveValue::from(0x7A7A_7A7Ai32)),
        VR::UV => Some(PrimitiveValue::from(0x7A7A_7A7Au64)),
        VR::SV => Some(PrimitiveValue::from(0x7A7A_7A7Ai64)),
        VR::FL => Some(PrimitiveValue::from(31337.0f32)),
        VR::FD => Some(PrimitiveValue::from(31337.0f64)),
        _ => Some(PrimitiveValue::from(format!("{CANARY}{i:04}").into_bytes())),
    }
}

/// An item placed in every canary sequence: identifying values, a UID, a
/// private block and a nested (unlisted) sequence with more canaries.
pub fn canary_item(i: usize) -> InMemDicomObject {
    let mut inner = InMemDicomObject::new_empty();
    inner.put(DataElement::new(
        Tag(0x0040, 0xA123),
        VR::PN,
        PrimitiveValue::from(format!("{CANARY}N{i:04}^DEEP")),
    ));
    inner.put(DataElement::new(
        Tag(0x0008, 0x0080),
        VR::LO,
        PrimitiveValue::from(format!("{CANARY}I{i:04}")),
    ));
    inner.put(DataElement::new(
        Tag(0x0008, 0x1155),
        VR::UI,
        PrimitiveValue::from(canary_uid(90000 + i)),
    ));
    let mut item = InMemDicomObject::new_empty();
    item.put(DataElement::new(
        Tag(0x0008, 0x1150),
        VR::UI,
        PrimitiveValue::from("1.2.840.10008.5.1.4.1.1.2"),
    ));
    item.put(DataElement::new(
        Tag(0x0008, 0x1155),
        VR::UI,
        PrimitiveValue::from(canary_uid(50000 + i)),
    ));
    item.put(DataElement::new(
        Tag(0x0010, 0x0010),
        VR::PN,
        PrimitiveValue::from(format!("{CANARY}S{i:04}^NESTED")),
    ));
    item.put(DataElement::new(
        Tag(0x0009, 0x0010),
        VR::LO,
        PrimitiveValue::from("CNRY CREATOR"),
    ));
    item.put(DataElement::new(
        Tag(0x0009, 0x1001),
        VR::LO,
        PrimitiveValue::from(format!("{CANARY}P{i:04}")),
    ));
    item.put(DataElement::new(
        Tag(0x0008, 0x9215),
        VR::SQ,
        DataSetSequence::new(vec![inner], Length::UNDEFINED),
    ));
    item
}

/// A canary data set: every exact row of Table E.1-1 (except the command,
/// meta and directory groups, which cannot occur in a data set), the
/// repeating groups, private attributes, a 2×2 image and SOP identity.
/// Returns the object and the list of (tag, index) canaries placed.
pub fn canary_dataset() -> (InMemDicomObject, Vec<(Tag, usize)>) {
    let mut o = InMemDicomObject::new_empty();
    let mut placed = Vec::new();
    for (i, row) in rows().chain(supplement_rows()).enumerate() {
        let Some(tag) = row.tag() else { continue };
        if matches!(tag.group(), 0x0000 | 0x0002 | 0x0004) {
            continue;
        }
        let vr = vr_of(tag);
        match canary_value(vr, i) {
            Some(v) => o.put(DataElement::new(tag, vr, v)),
            None => o.put(DataElement::new(
                tag,
                VR::SQ,
                DataSetSequence::new(vec![canary_item(i)], Length::UNDEFINED),
            )),
        };
        placed.push((tag, i));
    }
    // Repeating groups: overlays in two groups, a curve.
    for (j, (tag, vr)) in [
        (Tag(0x6000, 0x3000), VR::OW),
        (Tag(0x6000, 0x4000), VR::LT),
        (Tag(0x6002, 0x3000), VR::OW),
        (Tag(0x5000, 0x3000), VR::OW),
        (Tag(0x5000, 0x2500), VR::LO),
    ]
    .into_iter()
    .enumerate()
    {
        let i = 1000 + j;
        o.put(DataElement::new(tag, vr, canary_value(vr, i).unwrap()));
        placed.push((tag, i));
    }
    // Private attributes: an identifying block and a safe-listed one.
    o.put(DataElement::new(
        Tag(0x0009, 0x0010),
        VR::LO,
        PrimitiveValue::from("CNRY CREATOR"),
    ));
    o.put(DataElement::new(
        Tag(0x0009, 0x1001),
        VR::LO,
        PrimitiveValue::from(format!("{CANARY}2001")),
    ));
    o.put(DataElement::new(
        Tag(0x0009, 0x1002),
        VR::OB,
        PrimitiveValue::from(b"CNRY2002".to_vec()),
    ));
    o.put(DataElement::new(
        Tag(0x0019, 0x0010),
        VR::LO,
        PrimitiveValue::from("SIEMENS MR HEADER"),
    ));
    o.put(DataElement::new(
        Tag(0x0019, 0x100C),
        VR::IS,
        PrimitiveValue::from("1000"),
    ));
    o.put(DataElement::new(
        Tag(0x0019, 0x1099),
        VR::LO,
        PrimitiveValue::from(format!("{CANARY}2003")),
    ));
    // SOP identity and a small image.
    o.put(DataElement::new(
        Tag(0x0008, 0x0016),
        VR::UI,
        PrimitiveValue::from("1.2.840.10008.5.1.4.1.1.2"),
    ));
    o.put(DataElement::new(
        Tag(0x0008, 0x0060),
        VR::CS,
        PrimitiveValue::from("CT"),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0301),
        VR::CS,
        PrimitiveValue::from("NO"),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0002),
        VR::US,
        PrimitiveValue::from(1u16),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0004),
        VR::CS,
        PrimitiveValue::from("MONOCHROME2"),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0010),
        VR::US,
        PrimitiveValue::from(2u16),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0011),
        VR::US,
        PrimitiveValue::from(2u16),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0100),
        VR::US,
        PrimitiveValue::from(16u16),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0101),
        VR::US,
        PrimitiveValue::from(16u16),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0102),
        VR::US,
        PrimitiveValue::from(15u16),
    ));
    o.put(DataElement::new(
        Tag(0x0028, 0x0103),
        VR::US,
        PrimitiveValue::from(0u16),
    ));
    o.put(DataElement::new(
        Tag(0x7FE0, 0x0010),
        VR::OW,
        PrimitiveValue::from(vec![1u8, 2, 3, 4, 5, 6, 7, 8]),
    ));
    (o, placed)
}

/// Encodes a data set as a Part 10 file with `ts` (meta carries a canary
/// source AE title).
pub fn to_file_bytes(o: InMemDicomObject, ts: &str) -> Vec<u8> {
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(ts)
        .source_application_entity_title(format!("{CANARY}AE"))
        .implementation_class_uid("1.2.826.0.1.3680043.10.1");
    let file = o.with_meta(meta).unwrap();
    let mut out = Vec::new();
    file.write_all(&mut out).unwrap();
    out
}
