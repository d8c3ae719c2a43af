//! A synthetic Comprehensive SR with invented identities: a report whose
//! content tree names the patient in free text (name, ID, dates), holds a
//! person name, a date and a coded finding, as real reports do. For tests
//! of structured-content refusal and cleaning.

use std::io::Write;

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use crate::error::Error;
use crate::synthetic::{EXPLICIT_VR_LE, Instance};

/// Comprehensive SR Storage.
pub const COMPREHENSIVE_SR_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.88.33";

/// The free text of the report's second TEXT item: a number that is none of
/// the file's own identifiers (cleaning cannot know it; it is reported).
pub const UNKNOWN_NUMBER_TEXT: &str = "Compared with prior exam 4711815.";

fn put(o: &mut InMemDicomObject, g: u16, e: u16, vr: VR, v: &str) {
    o.put(DataElement::new(Tag(g, e), vr, PrimitiveValue::from(v)));
}

fn seq(o: &mut InMemDicomObject, g: u16, e: u16, items: Vec<InMemDicomObject>) {
    o.put(DataElement::new(
        Tag(g, e),
        VR::SQ,
        DataSetSequence::new(items, Length::UNDEFINED),
    ));
}

fn code(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    let mut c = InMemDicomObject::new_empty();
    put(&mut c, 0x0008, 0x0100, VR::SH, value);
    put(&mut c, 0x0008, 0x0102, VR::SH, scheme);
    put(&mut c, 0x0008, 0x0104, VR::LO, meaning);
    c
}

/// A content item `CONTAINS` of `value_type` named by a DCM code.
fn item(value_type: &str, concept: (&str, &str)) -> InMemDicomObject {
    let mut o = InMemDicomObject::new_empty();
    put(&mut o, 0x0040, 0xA010, VR::CS, "CONTAINS");
    put(&mut o, 0x0040, 0xA040, VR::CS, value_type);
    seq(
        &mut o,
        0x0040,
        0xA043,
        vec![code(concept.0, "DCM", concept.1)],
    );
    o
}

/// The report's content items: TEXT naming the patient ("Report for
/// Doe^Jane, ID …, examined 2024-06-11, born 07.03.1961"), TEXT with an
/// unknown number, PNAME, DATE and a CODE from SNOMED CT.
pub fn content_items(i: &Instance) -> Vec<InMemDicomObject> {
    let b = &i.birth_date;
    let birth = format!(
        "{}.{}.{}",
        b.get(6..8).unwrap_or("01"),
        b.get(4..6).unwrap_or("01"),
        b.get(..4).unwrap_or("1900")
    );
    let mut text = item("TEXT", ("121071", "Finding"));
    let report = format!(
        "Report for {}, ID {}, examined 2024-06-11, born {birth}. No acute findings.",
        i.patient_name, i.patient_id
    );
    put(&mut text, 0x0040, 0xA160, VR::UT, &report);
    let mut other = item("TEXT", ("121073", "Impression"));
    put(&mut other, 0x0040, 0xA160, VR::UT, UNKNOWN_NUMBER_TEXT);
    let mut name = item("PNAME", ("121008", "Person Observer Name"));
    put(&mut name, 0x0040, 0xA123, VR::PN, "HOUSE^GREGORY");
    let mut date = item("DATE", ("111060", "Study Date"));
    put(&mut date, 0x0040, 0xA121, VR::DA, &i.study_date);
    let mut finding = item("CODE", ("121071", "Finding"));
    seq(
        &mut finding,
        0x0040,
        0xA168,
        vec![code("17621005", "SCT", "Normal")],
    );
    vec![text, other, name, date, finding]
}

/// The data set of a Comprehensive SR for `i` whose content tree holds
/// `items` (see [`content_items`]).
pub fn comprehensive_sr(i: &Instance, items: Vec<InMemDicomObject>) -> InMemDicomObject {
    let mut o = InMemDicomObject::new_empty();
    put(&mut o, 0x0008, 0x0005, VR::CS, "ISO_IR 100");
    put(&mut o, 0x0008, 0x0016, VR::UI, COMPREHENSIVE_SR_STORAGE);
    put(&mut o, 0x0008, 0x0018, VR::UI, &i.sop_uid);
    put(&mut o, 0x0008, 0x0020, VR::DA, &i.study_date);
    put(&mut o, 0x0008, 0x0023, VR::DA, &i.study_date);
    put(&mut o, 0x0008, 0x0030, VR::TM, "101010");
    put(&mut o, 0x0008, 0x0033, VR::TM, "111111");
    put(&mut o, 0x0008, 0x0050, VR::SH, "ACC7781");
    put(&mut o, 0x0008, 0x0060, VR::CS, "SR");
    put(&mut o, 0x0008, 0x0070, VR::LO, "SYNTHETIC MEDICAL");
    put(&mut o, 0x0008, 0x0090, VR::PN, "HOUSE^GREGORY");
    seq(&mut o, 0x0008, 0x1111, Vec::new());
    put(&mut o, 0x0010, 0x0010, VR::PN, &i.patient_name);
    put(&mut o, 0x0010, 0x0020, VR::LO, &i.patient_id);
    put(&mut o, 0x0010, 0x0030, VR::DA, &i.birth_date);
    put(&mut o, 0x0010, 0x0040, VR::CS, "F");
    put(&mut o, 0x0020, 0x000D, VR::UI, &i.study_uid);
    put(&mut o, 0x0020, 0x000E, VR::UI, &i.series_uid);
    put(&mut o, 0x0020, 0x0010, VR::SH, "S77");
    put(&mut o, 0x0020, 0x0011, VR::IS, "1");
    put(
        &mut o,
        0x0020,
        0x0013,
        VR::IS,
        &i.instance_number.to_string(),
    );
    put(&mut o, 0x0040, 0xA491, VR::CS, "COMPLETE");
    put(&mut o, 0x0040, 0xA493, VR::CS, "UNVERIFIED");
    seq(&mut o, 0x0040, 0xA372, Vec::new());
    put(&mut o, 0x0040, 0xA040, VR::CS, "CONTAINER");
    seq(
        &mut o,
        0x0040,
        0xA043,
        vec![code("11528-7", "LN", "Radiology Report")],
    );
    put(&mut o, 0x0040, 0xA050, VR::CS, "SEPARATE");
    seq(&mut o, 0x0040, 0xA730, items);
    o
}

/// Writes `dataset` (an SR without pixel data) as a Part 10 file in
/// explicit VR little endian.
///
/// # Errors
/// [`Error::Encode`] or [`Error::Io`] when writing fails.
pub fn write_sr<W: Write>(dataset: &InMemDicomObject, mut w: W) -> Result<(), Error> {
    let text = |t: Tag| {
        dataset
            .get(t)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
            .unwrap_or_default()
    };
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(text(Tag(0x0008, 0x0016)))
        .media_storage_sop_instance_uid(text(Tag(0x0008, 0x0018)))
        .transfer_syntax(EXPLICIT_VR_LE)
        .implementation_class_uid("2.25.173133884307045929111064805455215858791")
        .build()
        .map_err(|_| Error::Encode {
            reason: "synthetic file meta",
        })?;
    let ts = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
    crate::deid::write_synthetic_head(&mut w, &meta, dataset, &ts)?;
    w.flush().map_err(Error::io("writing a synthetic file"))
}
