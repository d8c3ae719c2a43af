//! Two canary objects whose references must survive de-identification
//! consistently: a Basic Text SR and a Grayscale Softcopy Presentation
//! State.

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;

use super::canary_uid;

fn code(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    let mut c = InMemDicomObject::new_empty();
    c.put(DataElement::new(
        Tag(0x0008, 0x0100),
        VR::SH,
        PrimitiveValue::from(value),
    ));
    c.put(DataElement::new(
        Tag(0x0008, 0x0102),
        VR::SH,
        PrimitiveValue::from(scheme),
    ));
    c.put(DataElement::new(
        Tag(0x0008, 0x0104),
        VR::LO,
        PrimitiveValue::from(meaning),
    ));
    c
}

fn seq(items: Vec<InMemDicomObject>) -> DataSetSequence<InMemDicomObject> {
    DataSetSequence::new(items, Length::UNDEFINED)
}

/// Puts each `(group, element, VR, value)` into `o`.
fn put_all(o: &mut InMemDicomObject, elements: &[(u16, u16, VR, &str)]) {
    for &(g, e, vr, v) in elements {
        o.put(DataElement::new(Tag(g, e), vr, PrimitiveValue::from(v)));
    }
}

fn put_seq(o: &mut InMemDicomObject, g: u16, e: u16, items: Vec<InMemDicomObject>) {
    o.put(DataElement::new(Tag(g, e), VR::SQ, seq(items)));
}

/// A Basic Text SR with a verifying observer, a referenced performed
/// procedure step, a text item naming the patient and a nested date-time.
pub fn basic_text_sr() -> InMemDicomObject {
    let (sop, pps_uid, study, series) = (
        canary_uid(7001),
        canary_uid(7002),
        canary_uid(7003),
        canary_uid(7004),
    );
    let mut o = InMemDicomObject::new_empty();
    put_all(
        &mut o,
        &[
            (0x0008, 0x0016, VR::UI, "1.2.840.10008.5.1.4.1.1.88.11"),
            (0x0008, 0x0018, VR::UI, &sop),
            (0x0008, 0x0020, VR::DA, "20240611"),
            (0x0008, 0x0023, VR::DA, "20240612"),
            (0x0008, 0x0030, VR::TM, "101010"),
            (0x0008, 0x0033, VR::TM, "111111"),
            (0x0008, 0x0050, VR::SH, "ACC7781"),
            (0x0008, 0x0060, VR::CS, "SR"),
            (0x0008, 0x0070, VR::LO, "SYNTHETIC MEDICAL"),
            (0x0008, 0x0090, VR::PN, "HOUSE^GREGORY"),
            (0x0010, 0x0010, VR::PN, "DOE^JANE"),
            (0x0010, 0x0020, VR::LO, "SYN-000123"),
            (0x0010, 0x0030, VR::DA, "19610307"),
            (0x0010, 0x0040, VR::CS, "F"),
            (0x0020, 0x000D, VR::UI, &study),
            (0x0020, 0x000E, VR::UI, &series),
            (0x0020, 0x0010, VR::SH, "S77"),
            (0x0020, 0x0011, VR::IS, "1"),
            (0x0020, 0x0013, VR::IS, "1"),
            (0x0040, 0xA491, VR::CS, "COMPLETE"),
            (0x0040, 0xA493, VR::CS, "VERIFIED"),
            (0x0040, 0xA040, VR::CS, "CONTAINER"),
            (0x0040, 0xA050, VR::CS, "SEPARATE"),
        ],
    );
    let mut pps = InMemDicomObject::new_empty();
    put_all(
        &mut pps,
        &[
            (0x0008, 0x1150, VR::UI, "1.2.840.10008.3.1.2.3.3"),
            (0x0008, 0x1155, VR::UI, &pps_uid),
        ],
    );
    put_seq(&mut o, 0x0008, 0x1111, vec![pps]);
    put_seq(&mut o, 0x0040, 0xA073, vec![verifying_observer()]);
    put_seq(&mut o, 0x0040, 0xA372, vec![]);
    put_seq(
        &mut o,
        0x0040,
        0xA043,
        vec![code("11528-7", "LN", "Radiology Report")],
    );
    put_seq(&mut o, 0x0040, 0xA730, sr_content());
    o
}

/// The verifying observer: organisation, time, name and staff number.
fn verifying_observer() -> InMemDicomObject {
    let mut observer = InMemDicomObject::new_empty();
    put_all(
        &mut observer,
        &[
            (0x0040, 0xA027, VR::LO, "St. Example Hospital"),
            (0x0040, 0xA030, VR::DT, "20240612120000"),
            (0x0040, 0xA075, VR::PN, "HOUSE^GREGORY"),
        ],
    );
    let mut observer_id = code("4711", "99HOSP", "HOUSE^GREGORY staff number");
    put_all(&mut observer_id, &[(0x0008, 0x0103, VR::SH, "1")]);
    put_seq(&mut observer, 0x0040, 0xA088, vec![observer_id]);
    observer
}

/// The content tree: a text naming the patient and a date-time.
fn sr_content() -> Vec<InMemDicomObject> {
    let mut text = InMemDicomObject::new_empty();
    put_all(
        &mut text,
        &[
            (0x0040, 0xA010, VR::CS, "CONTAINS"),
            (0x0040, 0xA040, VR::CS, "TEXT"),
            (
                0x0040,
                0xA160,
                VR::UT,
                "DOE JANE, born 1961, no acute findings",
            ),
        ],
    );
    put_seq(
        &mut text,
        0x0040,
        0xA043,
        vec![code("121071", "DCM", "Finding")],
    );
    let mut when = InMemDicomObject::new_empty();
    put_all(
        &mut when,
        &[
            (0x0040, 0xA010, VR::CS, "CONTAINS"),
            (0x0040, 0xA040, VR::CS, "DATETIME"),
            (0x0040, 0xA120, VR::DT, "20240611101010"),
        ],
    );
    put_seq(
        &mut when,
        0x0040,
        0xA043,
        vec![code("111526", "DCM", "DateTime Started")],
    );
    vec![text, when]
}

/// A Grayscale Softcopy Presentation State that references `images`
/// (SOP Instance UIDs) of one series of a CT study.
pub fn gsps(study_uid: &str, series_uid: &str, images: &[String]) -> InMemDicomObject {
    let s = |o: &mut InMemDicomObject, g: u16, e: u16, vr: VR, v: &str| {
        o.put(DataElement::new(Tag(g, e), vr, PrimitiveValue::from(v)));
    };
    let mut o = InMemDicomObject::new_empty();
    s(
        &mut o,
        0x0008,
        0x0016,
        VR::UI,
        "1.2.840.10008.5.1.4.1.1.11.1",
    );
    s(&mut o, 0x0008, 0x0018, VR::UI, &canary_uid(8001));
    s(&mut o, 0x0008, 0x0020, VR::DA, "20240611");
    s(&mut o, 0x0008, 0x0030, VR::TM, "101010");
    s(&mut o, 0x0008, 0x0050, VR::SH, "ACC7781");
    s(&mut o, 0x0008, 0x0060, VR::CS, "PR");
    s(&mut o, 0x0008, 0x0070, VR::LO, "SYNTHETIC MEDICAL");
    s(&mut o, 0x0008, 0x0090, VR::PN, "HOUSE^GREGORY");
    let refs: Vec<InMemDicomObject> = images
        .iter()
        .map(|uid| {
            let mut r = InMemDicomObject::new_empty();
            s(&mut r, 0x0008, 0x1150, VR::UI, "1.2.840.10008.5.1.4.1.1.2");
            s(&mut r, 0x0008, 0x1155, VR::UI, uid);
            r
        })
        .collect();
    let mut series = InMemDicomObject::new_empty();
    series.put(DataElement::new(Tag(0x0008, 0x1140), VR::SQ, seq(refs)));
    s(&mut series, 0x0020, 0x000E, VR::UI, series_uid);
    o.put(DataElement::new(
        Tag(0x0008, 0x1115),
        VR::SQ,
        seq(vec![series]),
    ));
    s(&mut o, 0x0010, 0x0010, VR::PN, "DOE^JANE");
    s(&mut o, 0x0010, 0x0020, VR::LO, "SYN-000123");
    s(&mut o, 0x0010, 0x0030, VR::DA, "19610307");
    s(&mut o, 0x0010, 0x0040, VR::CS, "F");
    s(&mut o, 0x0020, 0x000D, VR::UI, study_uid);
    s(&mut o, 0x0020, 0x000E, VR::UI, &canary_uid(8002));
    s(&mut o, 0x0020, 0x0010, VR::SH, "S77");
    s(&mut o, 0x0020, 0x0011, VR::IS, "99");
    s(&mut o, 0x0020, 0x0013, VR::IS, "1");
    s(&mut o, 0x0028, 0x1050, VR::DS, "40");
    s(&mut o, 0x0028, 0x1051, VR::DS, "400");
    let mut area = InMemDicomObject::new_empty();
    o.put(DataElement::new(Tag(0x0070, 0x0001), VR::SQ, seq(vec![])));
    area.put(DataElement::new(
        Tag(0x0070, 0x0052),
        VR::SL,
        PrimitiveValue::I32(vec![1i32, 1].into()),
    ));
    area.put(DataElement::new(
        Tag(0x0070, 0x0053),
        VR::SL,
        PrimitiveValue::I32(vec![16i32, 16].into()),
    ));
    s(&mut area, 0x0070, 0x0100, VR::CS, "SCALE TO FIT");
    s(&mut area, 0x0070, 0x0102, VR::IS, "1\\1");
    o.put(DataElement::new(
        Tag(0x0070, 0x005A),
        VR::SQ,
        seq(vec![area]),
    ));
    s(&mut o, 0x0070, 0x0080, VR::CS, "WINDOW");
    s(&mut o, 0x0070, 0x0081, VR::LO, "Window for DOE JANE");
    s(&mut o, 0x0070, 0x0082, VR::DA, "20240612");
    s(&mut o, 0x0070, 0x0083, VR::TM, "121212");
    s(&mut o, 0x0070, 0x0084, VR::PN, "HOUSE^GREGORY");
    s(&mut o, 0x2050, 0x0020, VR::CS, "IDENTITY");
    o
}
