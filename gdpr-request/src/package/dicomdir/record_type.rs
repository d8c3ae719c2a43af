//! The directory record type of an instance, chosen by its SOP Class
//! (PS3.3 F.5, the Basic Directory IOD's record types; PS3.4 Annex B for
//! the SOP Class UIDs): an SR document is an `SR DOCUMENT` record, a key
//! object selection a `KEY OBJECT DOC`, a presentation state a
//! `PRESENTATION`, an encapsulated PDF or CDA an `ENCAP DOC`, RT objects
//! their own RT record, and so on. A SOP Class not listed (every image
//! storage class among them) is an `IMAGE` record.

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
