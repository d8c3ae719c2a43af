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
    let mut placed = table_rows(&mut o);
    placed.extend(repeating_groups(&mut o));
    private_attributes(&mut o);
    sop_and_image(&mut o);
    (o, placed)
}

fn put(o: &mut InMemDicomObject, tag: Tag, vr: VR, value: impl Into<PrimitiveValue>) {
    o.put(DataElement::new(tag, vr, value.into()));
}

/// Every exact row of Table E.1-1 and its supplements that can occur in a
/// data set, each with canary `i` (its row number).
fn table_rows(o: &mut InMemDicomObject) -> Vec<(Tag, usize)> {
    let mut placed = Vec::new();
    for (i, row) in rows().chain(supplement_rows()).enumerate() {
        let Some(tag) = row.tag() else { continue };
        if matches!(tag.group(), 0x0000 | 0x0002 | 0x0004) {
            continue;
        }
        let vr = vr_of(tag);
        match canary_value(vr, i) {
            Some(v) => put(o, tag, vr, v),
            None => {
                let items = DataSetSequence::new(vec![canary_item(i)], Length::UNDEFINED);
                o.put(DataElement::new(tag, VR::SQ, items));
            }
        }
        placed.push((tag, i));
    }
    placed
}

/// Repeating groups: overlays in two groups, a curve.
fn repeating_groups(o: &mut InMemDicomObject) -> Vec<(Tag, usize)> {
    let tags = [
        (Tag(0x6000, 0x3000), VR::OW),
        (Tag(0x6000, 0x4000), VR::LT),
        (Tag(0x6002, 0x3000), VR::OW),
        (Tag(0x5000, 0x3000), VR::OW),
        (Tag(0x5000, 0x2500), VR::LO),
    ];
    let mut placed = Vec::new();
    for (j, (tag, vr)) in tags.into_iter().enumerate() {
        let i = 1000 + j;
        let value = canary_value(vr, i).expect("these VRs have canary values");
        put(o, tag, vr, value);
        placed.push((tag, i));
    }
    placed
}

/// Private attributes: an identifying block and a safe-listed one.
fn private_attributes(o: &mut InMemDicomObject) {
    put(o, Tag(0x0009, 0x0010), VR::LO, "CNRY CREATOR");
    put(o, Tag(0x0009, 0x1001), VR::LO, format!("{CANARY}2001"));
    put(o, Tag(0x0009, 0x1002), VR::OB, b"CNRY2002".to_vec());
    put(o, Tag(0x0019, 0x0010), VR::LO, "SIEMENS MR HEADER");
    put(o, Tag(0x0019, 0x100C), VR::IS, "1000");
    put(o, Tag(0x0019, 0x1099), VR::LO, format!("{CANARY}2003"));
}

/// SOP identity and a 2×2 16-bit image.
fn sop_and_image(o: &mut InMemDicomObject) {
    put(o, Tag(0x0008, 0x0016), VR::UI, "1.2.840.10008.5.1.4.1.1.2");
    put(o, Tag(0x0008, 0x0060), VR::CS, "CT");
    put(o, Tag(0x0028, 0x0301), VR::CS, "NO");
    put(o, Tag(0x0028, 0x0004), VR::CS, "MONOCHROME2");
    for (element, value) in [
        (0x0002, 1u16),
        (0x0010, 2),
        (0x0011, 2),
        (0x0100, 16),
        (0x0101, 16),
        (0x0102, 15),
        (0x0103, 0),
    ] {
        put(o, Tag(0x0028, element), VR::US, value);
    }
    put(
        o,
        Tag(0x7FE0, 0x0010),
        VR::OW,
        vec![1u8, 2, 3, 4, 5, 6, 7, 8],
    );
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
