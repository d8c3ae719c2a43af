//! Burned-in text. There is no pixel cleaning, so files whose pixels may
//! show identifying text are refused (or quarantined), never passed on.

use dicom_core::Tag;
use dicom_object::InMemDicomObject;

/// Modalities whose images commonly carry burned-in text (PS3.3 C.7.3.1.1.1
/// defined terms): ultrasound, secondary capture, other, endoscopy, external
/// camera, general microscopy, documents, XA/RF screenshots are SC.
const SUSPECT_MODALITIES: &[&str] = &["US", "SC", "OT", "ES", "XC", "GM", "DOC"];

/// SOP class UID prefixes that commonly carry burned-in text: Secondary
/// Capture (1.2.840.10008.5.1.4.1.1.7[.x]), Ultrasound (…1.6.1, …1.6.2,
/// …1.3.1, retired …1.6, …1.3) and VL Photographic/endoscopic (…1.77.1.x).
const SUSPECT_SOP_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.7",
    "1.2.840.10008.5.1.4.1.1.6",
    "1.2.840.10008.5.1.4.1.1.3",
    "1.2.840.10008.5.1.4.1.1.77.1",
];

/// Why a file may show identifying text in its pixels, or `None` when it is
/// clear: Burned In Annotation (0028,0301) is YES, or the modality or SOP
/// class commonly carries burned-in text and the attribute is not NO.
pub fn burned_in_reason(obj: &InMemDicomObject, sop_class: &str) -> Option<&'static str> {
    let text = |tag: Tag| {
        obj.get(tag)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches(['\0', ' ']).trim().to_ascii_uppercase())
    };
    let annotation = text(Tag(0x0028, 0x0301));
    match annotation.as_deref() {
        Some("YES") => return Some("Burned In Annotation (0028,0301) is YES"),
        Some("NO") => return None,
        _ => {}
    }
    let has_pixels = obj.get(Tag(0x0028, 0x0010)).is_some();
    if !has_pixels {
        return None;
    }
    if text(Tag(0x0008, 0x0060)).is_some_and(|m| SUSPECT_MODALITIES.contains(&m.as_str())) {
        return Some(
            "the modality commonly carries burned-in text and Burned In Annotation (0028,0301) is not NO",
        );
    }
    let sop_class = sop_class.trim_end_matches(['\0', ' ']);
    if SUSPECT_SOP_CLASSES
        .iter()
        .any(|p| sop_class == *p || sop_class.starts_with(&format!("{p}.")))
    {
        return Some(
            "the SOP class (secondary capture, ultrasound or photographic) commonly carries \
             burned-in text and Burned In Annotation (0028,0301) is not NO",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::{DataElement, VR};

    fn obj(pairs: &[(Tag, VR, &str)]) -> InMemDicomObject {
        let mut o = InMemDicomObject::new_empty();
        o.put(DataElement::new(
            Tag(0x0028, 0x0010),
            VR::US,
            dicom_core::PrimitiveValue::from(2u16),
        ));
        for (t, vr, v) in pairs {
            o.put(DataElement::new(
                *t,
                *vr,
                dicom_core::PrimitiveValue::from(*v),
            ));
        }
        o
    }

    #[test]
    fn suspects_are_refused_unless_clearly_no() {
        let sc = "1.2.840.10008.5.1.4.1.1.7";
        let ct = "1.2.840.10008.5.1.4.1.1.2";
        assert!(burned_in_reason(&obj(&[]), sc).is_some());
        assert!(burned_in_reason(&obj(&[(Tag(0x0028, 0x0301), VR::CS, "NO")]), sc).is_none());
        assert!(burned_in_reason(&obj(&[(Tag(0x0028, 0x0301), VR::CS, "YES")]), ct).is_some());
        assert!(burned_in_reason(&obj(&[(Tag(0x0008, 0x0060), VR::CS, "US")]), ct).is_some());
        assert!(burned_in_reason(&obj(&[(Tag(0x0008, 0x0060), VR::CS, "CT")]), ct).is_none());
        assert!(burned_in_reason(&obj(&[]), "1.2.840.10008.5.1.4.1.1.77.1.4").is_some());
    }
}
