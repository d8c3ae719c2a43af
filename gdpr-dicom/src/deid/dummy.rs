//! Dummy values valid for each VR (PS3.5 §6.2): a DA is a real date, a TM a
//! real time, a UI a valid UID, an AS a valid age string, and so on.

use dicom_core::{PrimitiveValue, VR};

/// The dummy date (a real date, 1 January 2000).
pub const DUMMY_DATE: &str = "20000101";
/// The dummy time (midnight).
pub const DUMMY_TIME: &str = "000000";
/// The dummy date-time.
pub const DUMMY_DATETIME: &str = "20000101000000";
/// The dummy text for string VRs (fits SH, CS, AE: at most 16 characters).
pub const DUMMY_TEXT: &str = "ANONYMIZED";

/// A dummy value for `vr`, or `None` for VRs whose dummy depends on the
/// original (UI: a keyed UID; SQ: the de-identified items; AT: kept).
pub fn dummy_value(vr: VR) -> Option<PrimitiveValue> {
    let text = |s: &str| Some(PrimitiveValue::from(s));
    match vr {
        VR::AE | VR::CS | VR::LO | VR::LT | VR::SH | VR::ST | VR::UC | VR::UT => text(DUMMY_TEXT),
        // A family name component followed by `^`: the current PN form.
        VR::PN => text("ANONYMIZED^"),
        VR::AS => text("000D"),
        VR::DA => text(DUMMY_DATE),
        VR::TM => text(DUMMY_TIME),
        VR::DT => text(DUMMY_DATETIME),
        VR::DS | VR::IS => text("0"),
        VR::UR => text("https://anonymized.invalid/"),
        VR::US => Some(PrimitiveValue::from(0u16)),
        VR::SS => Some(PrimitiveValue::from(0i16)),
        VR::UL => Some(PrimitiveValue::from(0u32)),
        VR::SL => Some(PrimitiveValue::from(0i32)),
        VR::UV => Some(PrimitiveValue::from(0u64)),
        VR::SV => Some(PrimitiveValue::from(0i64)),
        VR::FL => Some(PrimitiveValue::from(0f32)),
        VR::FD => Some(PrimitiveValue::from(0f64)),
        // Eight zero bytes are a whole number of words for OB, OW, OF, OL,
        // OD and OV alike.
        VR::OB | VR::OW | VR::OF | VR::OL | VR::OD | VR::OV | VR::UN => {
            Some(PrimitiveValue::from(vec![0u8; 8]))
        }
        _ => None,
    }
}

/// Whether `vr` holds free text that cleaning scrubs.
pub fn is_free_text(vr: VR) -> bool {
    matches!(
        vr,
        VR::LO | VR::LT | VR::SH | VR::ST | VR::UC | VR::UT | VR::PN
    )
}

/// Whether `vr` is binary data that cannot be cleaned without decoding it.
pub fn is_bulk(vr: VR) -> bool {
    matches!(
        vr,
        VR::OB | VR::OW | VR::OF | VR::OL | VR::OD | VR::OV | VR::UN
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummies_are_valid_for_their_vr() {
        for vr in [VR::AE, VR::CS, VR::SH] {
            let v = dummy_value(vr).unwrap().to_str().into_owned();
            assert!(v.len() <= 16 && v.chars().all(|c| c.is_ascii_uppercase()));
        }
        assert!(jiff::civil::Date::strptime("%Y%m%d", DUMMY_DATE).is_ok());
        assert_eq!(dummy_value(VR::OD).unwrap().calculate_byte_len() % 8, 0);
        assert!(dummy_value(VR::UI).is_none() && dummy_value(VR::SQ).is_none());
    }
}
