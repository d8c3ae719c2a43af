//! The directory record type of an instance, chosen by its SOP Class
//! (PS3.3 F.5, the Basic Directory IOD's record types; PS3.4 Annex B for
//! the SOP Class UIDs): an SR document is an `SR DOCUMENT` record, a key
//! object selection a `KEY OBJECT DOC`, a presentation state a
//! `PRESENTATION`, an encapsulated PDF or CDA an `ENCAP DOC`, RT objects
//! their own RT record, and so on. A SOP Class not listed (every image
//! storage class among them) is an `IMAGE` record.

use dicom_core::value::Value;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;

/// How a record requires a key (PS3.3 F.5, the record type's table).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Req {
    /// Type 1: present with a value.
    One,
    /// Type 1C: present with a value when the file has it (its condition
    /// is the file's: a verified SR's Verification DateTime, a CDA's HL7
    /// Instance Identifier, a presentation state's references).
    OneC,
    /// Type 2: present, empty when the file has no value.
    Two,
}

const CONTENT_DATE: (u16, u16, VR) = (0x0008, 0x0023, VR::DA);
const CONTENT_TIME: (u16, u16, VR) = (0x0008, 0x0033, VR::TM);
const CONCEPT_NAME: (u16, u16, VR) = (0x0040, 0xA043, VR::SQ);
const CONTENT_SEQUENCE: (u16, u16, VR) = (0x0040, 0xA730, VR::SQ);
const CONTENT_LABEL: (u16, u16, VR) = (0x0070, 0x0080, VR::CS);
const CONTENT_DESCRIPTION: (u16, u16, VR) = (0x0070, 0x0081, VR::LO);
const CONTENT_CREATOR: (u16, u16, VR) = (0x0070, 0x0084, VR::PN);

/// The keys a record type requires beyond the Instance Number and the
/// Referenced … in File keys every instance-level record carries (PS3.3
/// F.5, the table of each record type: SR Document, Key Object Document,
/// Presentation, Waveform, the RT records, Spectroscopy, Raw Data,
/// Registration, Fiducial, Value Map, Surface, Encapsulated Document;
/// Stereometric has none). Checked by dicom3tools' `dciodvfy`, which knows
/// the same tables (tests/dicomdir.rs).
fn required(kind: &str) -> &'static [((u16, u16, VR), Req)] {
    use Req::{One, OneC, Two};
    match kind {
        "SR DOCUMENT" => &[
            ((0x0040, 0xA491, VR::CS), One), // Completion Flag
            ((0x0040, 0xA493, VR::CS), One), // Verification Flag
            (CONTENT_DATE, One),
            (CONTENT_TIME, One),
            ((0x0040, 0xA030, VR::DT), OneC), // Verification DateTime
            (CONCEPT_NAME, One),
            (CONTENT_SEQUENCE, OneC),
        ],
        "KEY OBJECT DOC" => &[
            (CONTENT_DATE, One),
            (CONTENT_TIME, One),
            (CONCEPT_NAME, One),
            (CONTENT_SEQUENCE, OneC),
        ],
        "PRESENTATION" => &[
            ((0x0070, 0x0082, VR::DA), One), // Presentation Creation Date
            ((0x0070, 0x0083, VR::TM), One), // Presentation Creation Time
            (CONTENT_LABEL, One),
            (CONTENT_DESCRIPTION, Two),
            (CONTENT_CREATOR, Two),
            ((0x0008, 0x1115, VR::SQ), OneC), // Referenced Series Sequence
            ((0x0070, 0x0402, VR::SQ), OneC), // Blending Sequence
        ],
        "WAVEFORM" | "RAW DATA" => &[(CONTENT_DATE, One), (CONTENT_TIME, One)],
        "RT DOSE" => &[((0x3004, 0x000A, VR::CS), One)], // Dose Summation Type
        "RT STRUCTURE SET" => &[
            ((0x3006, 0x0002, VR::SH), One), // Structure Set Label
            ((0x3006, 0x0008, VR::DA), Two),
            ((0x3006, 0x0009, VR::TM), Two),
        ],
        "RT PLAN" => &[
            ((0x300A, 0x0002, VR::SH), One), // RT Plan Label
            ((0x300A, 0x0006, VR::DA), Two),
            ((0x300A, 0x0007, VR::TM), Two),
        ],
        "RT TREAT RECORD" => &[
            ((0x3008, 0x0250, VR::DA), Two), // Treatment Date
            ((0x3008, 0x0251, VR::TM), Two),
        ],
        "REGISTRATION" | "FIDUCIAL" | "VALUE MAP" | "SURFACE" => &[
            (CONTENT_DATE, One),
            (CONTENT_TIME, One),
            (CONTENT_LABEL, One),
            (CONTENT_DESCRIPTION, Two),
            (CONTENT_CREATOR, Two),
        ],
        "SPECTROSCOPY" => &[
            ((0x0008, 0x0008, VR::CS), One), // Image Type
            (CONTENT_DATE, One),
            (CONTENT_TIME, One),
            ((0x0008, 0x9092, VR::SQ), OneC), // Referenced Image Evidence
            ((0x0028, 0x0008, VR::IS), One),  // Number of Frames
            ((0x0028, 0x0010, VR::US), One),  // Rows
            ((0x0028, 0x0011, VR::US), One),  // Columns
            ((0x0028, 0x9001, VR::UL), One),  // Data Point Rows
            ((0x0028, 0x9002, VR::UL), One),  // Data Point Columns
        ],
        "ENCAP DOC" => &[
            (CONTENT_DATE, Two),
            (CONTENT_TIME, Two),
            ((0x0042, 0x0010, VR::ST), Two),  // Document Title
            ((0x0040, 0xE001, VR::ST), OneC), // HL7 Instance Identifier
            (CONCEPT_NAME, Two),
            ((0x0042, 0x0012, VR::LO), One), // MIME Type of Encapsulated Document
        ],
        _ => &[],
    }
}

fn has_value(e: &DataElement<InMemDicomObject>) -> bool {
    match e.value() {
        Value::Sequence(s) => !s.items().is_empty(),
        Value::Primitive(p) => !p.to_str().trim_matches(['\0', ' ']).is_empty(),
        Value::PixelSequence(_) => false,
    }
}

/// Of an SR's or a key object's Content Sequence, the record keeps the
/// top-level items that modify the document's concept name (`HAS CONCEPT
/// MOD`, PS3.3 F.5: the Content Sequence key holds only those).
fn concept_modifiers(e: &DataElement<InMemDicomObject>) -> Option<DataElement<InMemDicomObject>> {
    let Value::Sequence(s) = e.value() else {
        return None;
    };
    let items: Vec<InMemDicomObject> = s
        .items()
        .iter()
        .filter(|i| {
            i.element(Tag(0x0040, 0xA010))
                .ok()
                .and_then(|r| r.to_str().ok())
                .is_some_and(|r| r.trim_end() == "HAS CONCEPT MOD")
        })
        .cloned()
        .collect();
    (!items.is_empty()).then(|| {
        DataElement::new(
            Tag(CONTENT_SEQUENCE.0, CONTENT_SEQUENCE.1),
            VR::SQ,
            dicom_core::value::DataSetSequence::from(items),
        )
    })
}

/// The keys of a `kind` record beyond the Instance Number and Referenced
/// … in File keys, taken from the instance's header `o`: each Type 1 and
/// Type 2 key, and each Type 1C key the file has. A Type 1 date or time
/// the file lacks is filled in the DICOMDIR only (`19000101`, `000000`,
/// as `dcmmkdir --invent` does); any other Type 1 key the file lacks
/// stays absent (the file itself is then not conformant; we never invent
/// a clinical value such as a completion flag).
pub(crate) fn record_keys(kind: &str, o: &InMemDicomObject) -> Vec<DataElement<InMemDicomObject>> {
    let mut out = Vec::new();
    for &((group, element, vr), req) in required(kind) {
        let tag = Tag(group, element);
        let found = o.element(tag).ok().filter(|e| has_value(e)).cloned();
        let found = if tag == Tag(CONTENT_SEQUENCE.0, CONTENT_SEQUENCE.1) {
            found.as_ref().and_then(concept_modifiers)
        } else {
            found
        };
        match (found, req) {
            (Some(e), _) => out.push(e),
            (None, Req::Two) => out.push(DataElement::empty(tag, vr)),
            (None, Req::One) if vr == VR::DA => {
                out.push(DataElement::new(tag, vr, PrimitiveValue::from("19000101")));
            }
            (None, Req::One) if vr == VR::TM => {
                out.push(DataElement::new(tag, vr, PrimitiveValue::from("000000")));
            }
            (None, _) => {}
        }
    }
    out
}

/// SOP Class UID prefixes (a whole UID, or a UID root followed by `.`) and
/// the record type of their instances, most specific first.
const BY_SOP_CLASS: &[(&str, &str)] = &[
    // Key Object Selection Document (an SR class with a record of its own).
    ("1.2.840.10008.5.1.4.1.1.88.59", "KEY OBJECT DOC"),
    // Structured reports: 1.2.840.10008.5.1.4.1.1.88.x.
    ("1.2.840.10008.5.1.4.1.1.88.", "SR DOCUMENT"),
    // Presentation states: 1.2.840.10008.5.1.4.1.1.11.x.
    ("1.2.840.10008.5.1.4.1.1.11.", "PRESENTATION"),
    // Encapsulated PDF, CDA, STL, OBJ, MTL: 1.2.840.10008.5.1.4.1.1.104.x.
    ("1.2.840.10008.5.1.4.1.1.104.", "ENCAP DOC"),
    // Waveforms (ECG, audio, haemodynamic, ...): 1.2.840.10008.5.1.4.1.1.9.x.
    ("1.2.840.10008.5.1.4.1.1.9.", "WAVEFORM"),
    // Radiotherapy (RT Image, .481.1, is an image).
    ("1.2.840.10008.5.1.4.1.1.481.2", "RT DOSE"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "RT STRUCTURE SET"),
    ("1.2.840.10008.5.1.4.1.1.481.4", "RT TREAT RECORD"),
    ("1.2.840.10008.5.1.4.1.1.481.5", "RT PLAN"),
    ("1.2.840.10008.5.1.4.1.1.481.6", "RT TREAT RECORD"),
    ("1.2.840.10008.5.1.4.1.1.481.7", "RT TREAT RECORD"),
    ("1.2.840.10008.5.1.4.1.1.481.8", "RT PLAN"),
    ("1.2.840.10008.5.1.4.1.1.481.9", "RT TREAT RECORD"),
    // Raw data, registrations, fiducials, surfaces.
    ("1.2.840.10008.5.1.4.1.1.66.1", "REGISTRATION"),
    ("1.2.840.10008.5.1.4.1.1.66.2", "FIDUCIAL"),
    ("1.2.840.10008.5.1.4.1.1.66.3", "REGISTRATION"),
    ("1.2.840.10008.5.1.4.1.1.66.5", "SURFACE"),
    ("1.2.840.10008.5.1.4.1.1.66", "RAW DATA"),
    // MR Spectroscopy.
    ("1.2.840.10008.5.1.4.1.1.4.2", "SPECTROSCOPY"),
    // Real World Value Mapping.
    ("1.2.840.10008.5.1.4.1.1.67", "VALUE MAP"),
    // Stereometric Relationship.
    ("1.2.840.10008.5.1.4.1.1.77.1.5.3", "STEREOMETRIC"),
];

/// The directory record type for an instance of SOP Class `sop_class`.
pub(crate) fn record_type(sop_class: &str) -> &'static str {
    let uid = sop_class.trim_end_matches(['\0', ' ']);
    BY_SOP_CLASS
        .iter()
        .find(|(prefix, _)| match prefix.strip_suffix('.') {
            Some(_) => uid.starts_with(prefix),
            None => uid == *prefix,
        })
        .map_or("IMAGE", |(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::record_type;

    #[test]
    fn each_kind_of_instance_gets_its_record_type() {
        for (uid, kind) in [
            ("1.2.840.10008.5.1.4.1.1.2", "IMAGE"),           // CT
            ("1.2.840.10008.5.1.4.1.1.481.1", "IMAGE"),       // RT Image
            ("1.2.840.10008.5.1.4.1.1.88.22", "SR DOCUMENT"), // Enhanced SR
            ("1.2.840.10008.5.1.4.1.1.88.33", "SR DOCUMENT"), // Comprehensive SR
            ("1.2.840.10008.5.1.4.1.1.88.59", "KEY OBJECT DOC"),
            ("1.2.840.10008.5.1.4.1.1.11.1", "PRESENTATION"), // Grayscale GSPS
            ("1.2.840.10008.5.1.4.1.1.104.1", "ENCAP DOC"),   // PDF
            ("1.2.840.10008.5.1.4.1.1.104.2", "ENCAP DOC"),   // CDA
            ("1.2.840.10008.5.1.4.1.1.9.1.1", "WAVEFORM"),    // 12-lead ECG
            ("1.2.840.10008.5.1.4.1.1.481.2", "RT DOSE"),
            ("1.2.840.10008.5.1.4.1.1.481.3", "RT STRUCTURE SET"),
            ("1.2.840.10008.5.1.4.1.1.481.5", "RT PLAN"),
            ("1.2.840.10008.5.1.4.1.1.481.4", "RT TREAT RECORD"),
            ("1.2.840.10008.5.1.4.1.1.66", "RAW DATA"),
            ("1.2.840.10008.5.1.4.1.1.66.1", "REGISTRATION"),
            ("1.2.840.10008.5.1.4.1.1.66.2", "FIDUCIAL"),
            ("1.2.840.10008.5.1.4.1.1.4.2", "SPECTROSCOPY"),
            ("1.2.840.10008.5.1.4.1.1.4", "IMAGE"), // MR
            ("1.2.840.10008.5.1.4.1.1.88.59\0", "KEY OBJECT DOC"), // padded
        ] {
            assert_eq!(record_type(uid), kind, "{uid}");
        }
    }

    #[test]
    fn a_uid_that_only_shares_digits_with_a_class_is_no_match() {
        // 1.2.840.10008.5.1.4.1.1.481.20 is not RT Dose (481.2), 66.10 not
        // Registration (66.1), 1.1.880 not an SR.
        assert_eq!(record_type("1.2.840.10008.5.1.4.1.1.481.20"), "IMAGE");
        assert_eq!(record_type("1.2.840.10008.5.1.4.1.1.66.10"), "IMAGE");
        assert_eq!(record_type("1.2.840.10008.5.1.4.1.1.880"), "IMAGE");
    }
}
