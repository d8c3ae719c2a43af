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

/// A Basic Text SR with a verifying observer, a referenced performed
/// procedure step, a text item naming the patient and a nested date-time.
pub fn basic_text_sr() -> InMemDicomObject {
    let s = |o: &mut InMemDicomObject, g: u16, e: u16, vr: VR, v: &str| {
        o.put(DataElement::new(Tag(g, e), vr, PrimitiveValue::from(v)));
    };
    let mut o = InMemDicomObject::new_empty();
    s(
        &mut o,
        0x0008,
        0x0016,
        VR::UI,
        "1.2.840.10008.5.1.4.1.1.88.11",
    );
    s(&mut o, 0x0008, 0x0018, VR::UI, &canary_uid(7001));
    s(&mut o, 0x0008, 0x0020, VR::DA, "20240611");
    s(&mut o, 0x0008, 0x0023, VR::DA, "20240612");
    s(&mut o, 0x0008, 0x0030, VR::TM, "101010");
    s(&mut o, 0x0008, 0x0033, VR::TM, "111111");
    s(&mut o, 0x0008, 0x0050, VR::SH, "ACC7781");
    s(&mut o, 0x0008, 0x0060, VR::CS, "SR");
    s(&mut o, 0x0008, 0x0070, VR::LO, "SYNTHETIC MEDICAL");
    s(&mut o, 0x0008, 0x0090, VR::PN, "HOUSE^GREGORY");
    let mut pps = InMemDicomObject::new_empty();
    s(&mut pps, 0x0008, 0x1150, VR::UI, "1.2.840.10008.3.1.2.3.3");
    s(&mut pps, 0x0008, 0x1155, VR::UI, &canary_uid(7002));
    o.put(DataElement::new(
        Tag(0x0008, 0x1111),
        VR::SQ,
        seq(vec![pps]),
    ));
    s(&mut o, 0x0010, 0x0010, VR::PN, "DOE^JANE");
    s(&mut o, 0x0010, 0x0020, VR::LO, "SYN-000123");
    s(&mut o, 0x0010, 0x0030, VR::DA, "19610307");
    s(&mut o, 0x0010, 0x0040, VR::CS, "F");
    s(&mut o, 0x0020, 0x000D, VR::UI, &canary_uid(7003));
    s(&mut o, 0x0020, 0x000E, VR::UI, &canary_uid(7004));
    s(&mut o, 0x0020, 0x0010, VR::SH, "S77");
    s(&mut o, 0x0020, 0x0011, VR::IS, "1");
    s(&mut o, 0x0020, 0x0013, VR::IS, "1");
    s(&mut o, 0x0040, 0xA491, VR::CS, "COMPLETE");
    s(&mut o, 0x0040, 0xA493, VR::CS, "VERIFIED");
    let mut observer = InMemDicomObject::new_empty();
    s(
        &mut observer,
        0x0040,
        0xA027,
        VR::LO,
        "St. Example Hospital",
    );
    s(&mut observer, 0x0040, 0xA030, VR::DT, "20240612120000");
    s(&mut observer, 0x0040, 0xA075, VR::PN, "HOUSE^GREGORY");
    let mut observer_id = code("4711", "99HOSP", "HOUSE^GREGORY staff number");
    s(&mut observer_id, 0x0008, 0x0103, VR::SH, "1");
    observer.put(DataElement::new(
        Tag(0x0040, 0xA088),
        VR::SQ,
        seq(vec![observer_id]),
    ));
    o.put(DataElement::new(
        Tag(0x0040, 0xA073),
        VR::SQ,
        seq(vec![observer]),
    ));
    o.put(DataElement::new(Tag(0x0040, 0xA372), VR::SQ, seq(vec![])));
    s(&mut o, 0x0040, 0xA040, VR::CS, "CONTAINER");
    o.put(DataElement::new(
        Tag(0x0040, 0xA043),
        VR::SQ,
        seq(vec![code("11528-7", "LN", "Radiology Report")]),
    ));
    s(&mut o, 0x0040, 0xA050, VR::CS, "SEPARATE");
    let mut text = InMemDicomObject::new_empty();
    s(&mut text, 0x0040, 0xA010, VR::CS, "CONTAINS");
    s(&mut text, 0x0040, 0xA040, VR::CS, "TEXT");
    text.put(DataElement::new(
        Tag(0x0040, 0xA043),
        VR::SQ,
        seq(vec![code("121071", "DCM", "Finding")]),
    ));
    s(
        &mut text,
        0x0040,
        0xA160,
        VR::UT,
        "DOE JANE, born 1961, no acute findings",
    );
    let mut when = InMemDicomObject::new_empty();
    s(&mut when, 0x0040, 0xA010, VR::CS, "CONTAINS");
    s(&mut when, 0x0040, 0xA040, VR::CS, "DATETIME");
    when.put(DataElement::new(
        Tag(0x0040, 0xA043),
        VR::SQ,
        seq(vec![code("111526", "DCM", "DateTime Started")]),
    ));
    s(&mut when, 0x0040, 0xA120, VR::DT, "20240611101010");
    o.put(DataElement::new(
        Tag(0x0040, 0xA730),
        VR::SQ,
        seq(vec![text, when]),
    ));
    o
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
