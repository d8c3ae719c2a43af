//! Reading the identifying header of a DICOM file (up to, not including, the
//! pixel data: pixels are never decoded) with the crate's one hardened
//! reader ([`crate::reader`]): lengths, nesting and sizes are bounded before
//! dicom-rs decodes anything, and deflated data sets are inflated. Every
//! store that reads DICOM files or WADO-RS parts goes through here.

use std::io::BufRead;
use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::{InMemDicomObject, Tag};
use gdpr_core::store::{StudyUid, UnreadableCause};
use gdpr_core::subject::strip_lo_padding;

use crate::error::Error;
use crate::reader::read_file_header;

/// The header fields the stores index by.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DicomHeader {
    /// Patient ID (0010,0020) without its LO padding, as stored.
    pub patient_id: Option<String>,
    /// Issuer of Patient ID (0010,0021) without its LO padding.
    pub issuer: Option<String>,
    /// A valid UID (PS3.5 §9.1), like the two below.
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub study_date: Option<jiff::civil::Date>,
    pub modality: Option<String>,
    /// The instances this one was derived from: the Referenced SOP Instance
    /// UIDs (0008,1155) in its Source Image Sequence (0008,2112) and Source
    /// Instance Sequence (0042,0013), PS3.3 C.7.6.1.1.3 and C.12.1.1.
    pub sources: Vec<String>,
}

// Never print header values: they identify a person.
impl std::fmt::Debug for DicomHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DicomHeader(<redacted>)")
    }
}

/// Why a file could not be indexed (no value or path quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// No `DICM` code: not a DICOM Part 10 file, so not a record.
    NotDicom,
    /// The file claims to be DICOM (the `DICM` code) but cannot be read or
    /// indexed.
    Unreadable {
        /// Why.
        cause: UnreadableCause,
        /// What failed, free of patient values.
        detail: String,
    },
}

impl HeaderError {
    fn unreadable(cause: UnreadableCause, detail: impl Into<String>) -> Self {
        Self::Unreadable {
            cause,
            detail: detail.into(),
        }
    }
}

impl From<Error> for HeaderError {
    fn from(e: Error) -> Self {
        use UnreadableCause as C;
        match e {
            Error::NotDicom { .. } => Self::NotDicom,
            Error::Malformed { reason, offset } => {
                Self::unreadable(C::Malformed, format!("{reason}, near byte {offset}"))
            }
            // The UID is the file's text: not repeated.
            Error::UnsupportedTransferSyntax { reason, .. } => {
                Self::unreadable(C::UnsupportedEncoding, reason)
            }
            Error::Io { source, .. } => {
                Self::unreadable(C::Io, format!("cannot be read: {}", source.kind()))
            }
            _ => Self::unreadable(C::Malformed, "the header cannot be read"),
        }
    }
}

/// Reads the header of the DICOM file at `path`, stopping before the pixel
/// data.
pub(crate) fn read_header(path: &Path) -> Result<DicomHeader, HeaderError> {
    let file = std::fs::File::open(path).map_err(Error::io("opening the file"))?;
    read_header_from(&mut std::io::BufReader::with_capacity(64 * 1024, file))
}

/// Reads the header of a DICOM Part 10 file held in memory.
#[cfg(test)]
pub(crate) fn read_header_bytes(bytes: &[u8]) -> Result<DicomHeader, HeaderError> {
    read_header_from(&mut &*bytes)
}

fn read_header_from<R: BufRead>(r: &mut R) -> Result<DicomHeader, HeaderError> {
    header_of(&read_file_header(r)?)
}

/// The index fields of a parsed data set.
fn header_of(object: &InMemDicomObject) -> Result<DicomHeader, HeaderError> {
    let raw = |tag: Tag| -> Option<String> {
        let element = object.element_opt(tag).ok().flatten()?;
        Some(element.to_str().ok()?.into_owned())
    };
    let lo = |tag: Tag| raw(tag).map(|v| strip_lo_padding(&v).to_owned());
    let text = |tag: Tag| -> Option<String> {
        let value = raw(tag)?;
        let value = value.trim_matches(|c: char| c == ' ' || c == '\0');
        (!value.is_empty()).then(|| value.to_owned())
    };
    let uid = |tag: Tag, missing: &'static str, invalid: &'static str| {
        let value = text(tag).ok_or(HeaderError::unreadable(
            UnreadableCause::InvalidUid,
            missing,
        ))?;
        // Same rule for all three (PS3.5 §9.1): 1 to 64 digits and dots.
        StudyUid::new(value.as_str())
            .map_err(|_| HeaderError::unreadable(UnreadableCause::InvalidUid, invalid))?;
        Ok::<_, HeaderError>(value)
    };
    Ok(DicomHeader {
        patient_id: lo(tags::PATIENT_ID),
        issuer: lo(tags::ISSUER_OF_PATIENT_ID),
        study_uid: uid(
            tags::STUDY_INSTANCE_UID,
            "the Study Instance UID is missing or empty",
            "the Study Instance UID is not a valid UID (1 to 64 digits and dots)",
        )?,
        series_uid: uid(
            tags::SERIES_INSTANCE_UID,
            "the Series Instance UID is missing or empty",
            "the Series Instance UID is not a valid UID (1 to 64 digits and dots)",
        )?,
        sop_uid: uid(
            tags::SOP_INSTANCE_UID,
            "the SOP Instance UID is missing or empty",
            "the SOP Instance UID is not a valid UID (1 to 64 digits and dots)",
        )?,
        study_date: text(tags::STUDY_DATE).and_then(|d| parse_da(&d)),
        modality: text(tags::MODALITY),
        sources: sources_of(object),
    })
}

/// The Referenced SOP Instance UIDs of the items of the data set's Source
/// Image and Source Instance Sequences.
fn sources_of(object: &InMemDicomObject) -> Vec<String> {
    [tags::SOURCE_IMAGE_SEQUENCE, tags::SOURCE_INSTANCE_SEQUENCE]
        .into_iter()
        .filter_map(|tag| object.element_opt(tag).ok().flatten())
        .filter_map(|sequence| sequence.items())
        .flatten()
        .filter_map(|item| {
            let uid = item
                .element_opt(tags::REFERENCED_SOP_INSTANCE_UID)
                .ok()??
                .to_str()
                .ok()?;
            let uid = uid.trim_matches(|c: char| c == ' ' || c == '\0');
            (!uid.is_empty()).then(|| uid.to_owned())
        })
        .collect()
}

/// Parses a DICOM DA value (`YYYYMMDD`); `None` when malformed.
pub(crate) fn parse_da(value: &str) -> Option<jiff::civil::Date> {
    let value = value.trim();
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = value[0..4].parse().ok()?;
    let month = value[4..6].parse().ok()?;
    let day = value[6..8].parse().ok()?;
    jiff::civil::Date::new(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn da_values_parse_or_are_dropped() {
        assert_eq!(parse_da("20240229"), Some(jiff::civil::date(2024, 2, 29)));
        assert_eq!(parse_da("20230229"), None);
        assert_eq!(parse_da("2024-02-01"), None);
        assert_eq!(parse_da(""), None);
    }

    #[test]
    fn non_dicom_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, b"not a dicom file").unwrap();
        assert_eq!(read_header(&path), Err(HeaderError::NotDicom));
    }

    fn synthetic() -> crate::synthetic::SyntheticInstance {
        crate::synthetic::SyntheticInstance::new(
            "1.2.826.0.1.3680043.10.77",
            "CANARY-DF-1",
            1,
            1,
            1,
        )
    }

    /// WADO-RS parts go through the same hardened reader as files: 1000
    /// nested sequences fail alone (no stack overflow), without a value.
    #[test]
    fn wado_parts_are_read_with_the_hardened_reader() {
        let mut bytes = synthetic().to_bytes().unwrap();
        let at = bytes
            .windows(6)
            .position(|w| w == b"\xE0\x7F\x10\x00OB")
            .unwrap();
        let mut deep = Vec::new();
        for _ in 0..1000 {
            deep.extend_from_slice(b"\x40\x00\x30\xA7SQ\x00\x00\xFF\xFF\xFF\xFF");
            deep.extend_from_slice(b"\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF");
        }
        bytes.splice(at..at, deep);
        let err = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || read_header_bytes(&bytes))
            .unwrap()
            .join()
            .unwrap()
            .unwrap_err();
        let HeaderError::Unreadable { cause, detail } = err else {
            panic!("a DICM file is not `NotDicom`");
        };
        assert_eq!(cause, UnreadableCause::Malformed);
        assert!(detail.contains("nested too deeply"), "{detail}");
        let good = read_header_bytes(&synthetic().to_bytes().unwrap()).unwrap();
        assert_eq!(good.patient_id.as_deref(), Some("CANARY-DF-1"));
    }

    #[test]
    fn invalid_uids_make_a_file_unreadable_without_quoting_them() {
        let mut long = synthetic();
        long.study_uid = format!("1.{}", "2".repeat(204));
        let mut letters = synthetic();
        letters.series_uid = "1.2.CANARY".into();
        for inst in [long, letters] {
            match read_header_bytes(&inst.to_bytes().unwrap()) {
                Err(HeaderError::Unreadable { cause, detail }) => {
                    assert_eq!(cause, UnreadableCause::InvalidUid, "{detail}");
                    assert!(!detail.contains("CANARY") && !detail.contains("222"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// The stores' synthetic instances read back as written.
    #[test]
    fn synthetic_instances_parse_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.dcm");
        let mut instance = crate::synthetic::SyntheticInstance::new(
            "1.2.826.0.1.3680043.10.543",
            "PID-7",
            3,
            2,
            1,
        );
        instance.issuer = Some("HOSP".into());
        instance.write_to(&path).unwrap();
        let header = read_header(&path).unwrap();
        assert_eq!(header.patient_id.as_deref(), Some("PID-7"));
        assert_eq!(header.issuer.as_deref(), Some("HOSP"));
        assert_eq!(header.study_uid, instance.study_uid);
        assert_eq!(header.sop_uid, instance.sop_uid);
        assert_eq!(header.modality.as_deref(), Some("CT"));
        assert_eq!(header.study_date, Some(jiff::civil::date(2024, 4, 4)));
        assert!(!format!("{header:?}{instance:?}").contains("PID-7"));
    }
}
