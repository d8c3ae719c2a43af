//! Reading the identifying header of a DICOM file (up to, not including, the
//! pixel data: pixels are never decoded).

use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions, Tag};

/// The header fields the stores index by.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DicomHeader {
    pub patient_id: Option<String>,
    pub issuer: Option<String>,
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub study_date: Option<jiff::civil::Date>,
    pub modality: Option<String>,
}

// Never print header values: they identify a person.
impl std::fmt::Debug for DicomHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DicomHeader(<redacted>)")
    }
}

/// Why a file could not be indexed (no value or path quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Not a DICOM Part 10 file, or truncated before the pixel data.
    NotDicom,
    /// A DICOM file without Study, Series or SOP Instance UID.
    MissingUid,
}

/// Reads the header of the DICOM file at `path`, stopping before the pixel
/// data.
pub(crate) fn read_header(path: &Path) -> Result<DicomHeader, HeaderError> {
    let object = OpenFileOptions::new()
        .read_until(tags::PIXEL_DATA)
        .open_file(path)
        .map_err(|_| HeaderError::NotDicom)?;
    header_of(&object)
}

/// Reads the header of an already parsed object.
pub(crate) fn header_of(object: &DefaultDicomObject) -> Result<DicomHeader, HeaderError> {
    let text = |tag: Tag| -> Option<String> {
        let element = object.element_opt(tag).ok().flatten()?;
        let value = element.to_str().ok()?;
        let value = value.trim_matches(|c: char| c == ' ' || c == '\0');
        (!value.is_empty()).then(|| value.to_owned())
    };
    let uid = |tag: Tag| text(tag).ok_or(HeaderError::MissingUid);
    Ok(DicomHeader {
        patient_id: text(tags::PATIENT_ID),
        issuer: text(tags::ISSUER_OF_PATIENT_ID),
        study_uid: uid(tags::STUDY_INSTANCE_UID)?,
        series_uid: uid(tags::SERIES_INSTANCE_UID)?,
        sop_uid: uid(tags::SOP_INSTANCE_UID)?,
        study_date: text(tags::STUDY_DATE).and_then(|d| parse_da(&d)),
        modality: text(tags::MODALITY),
    })
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
}
