//! Whether an instance's pixels may show burned-in text, decided by the
//! batch de-identifier's own rule (`burned_in_reason`) on the attributes
//! the rule reads, taken from the instance's DICOM JSON metadata.

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;
use serde_json::Value;

use crate::upstream::first_string;

/// Why the instance described by `metadata` is withheld, or `None`.
pub(crate) fn withheld_reason(metadata: &Value) -> Option<&'static str> {
    let mut obj = InMemDicomObject::new_empty();
    for (tag, key, vr) in [
        (Tag(0x0028, 0x0301), "00280301", VR::CS),
        (Tag(0x0008, 0x0060), "00080060", VR::CS),
    ] {
        if let Some(text) = first_string(metadata, key) {
            obj.put(DataElement::new(tag, vr, PrimitiveValue::from(text)));
        }
    }
    if metadata.get("00280010").is_some() {
        obj.put(DataElement::new(
            Tag(0x0028, 0x0010),
            VR::US,
            PrimitiveValue::from(1u16),
        ));
    }
    let sop_class = first_string(metadata, "00080016").unwrap_or("");
    gdpr_dicom::deid::burned_in::burned_in_reason(&obj, sop_class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_rule_on_json() {
        let m = |json: &str| serde_json::from_str::<Value>(json).unwrap();
        let sc = r#""00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]},"00280010":{"vr":"US","Value":[8]}"#;
        assert!(withheld_reason(&m(&format!("{{{sc}}}"))).is_some());
        let no = format!(r#"{{{sc},"00280301":{{"vr":"CS","Value":["NO"]}}}}"#);
        assert!(withheld_reason(&m(&no)).is_none());
        let ct_yes = r#"{"00080060":{"vr":"CS","Value":["CT"]},"00280010":{"vr":"US","Value":[8]},"00280301":{"vr":"CS","Value":["YES"]}}"#;
        assert!(withheld_reason(&m(ct_yes)).is_some());
        let ct = r#"{"00080060":{"vr":"CS","Value":["CT"]},"00280010":{"vr":"US","Value":[8]}}"#;
        assert!(withheld_reason(&m(ct)).is_none());
    }
}
