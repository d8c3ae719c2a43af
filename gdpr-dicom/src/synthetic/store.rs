//! Synthetic DICOM instances for the stores' tests, examples and benchmarks:
//! small but real Part 10 files (Secondary Capture, 8×8 pixels) written with
//! dicom-rs, with the patient, issuer, study layout and modality a store
//! test needs to choose. No real person's data is ever needed to exercise
//! the stores. (For realistic CT/MR images of any size, as the
//! de-identification tests use, see [`super::write`].)

use std::path::Path;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use gdpr_core::store::StoreError;

/// One synthetic instance. All values are invented by the caller.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyntheticInstance {
    /// Patient ID (0010,0020).
    pub patient_id: String,
    /// Issuer of Patient ID (0010,0021), if any.
    pub issuer: Option<String>,
    /// Patient's Name (0010,0010).
    pub patient_name: String,
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// SOP Instance UID.
    pub sop_uid: String,
    /// Study Date as DICOM DA (`YYYYMMDD`).
    pub study_date: String,
    /// Modality (`CT`, `MR`, `RTPLAN`, …).
    pub modality: String,
}

// Synthetic or not, these fields have the shape of identifying data.
impl std::fmt::Debug for SyntheticInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyntheticInstance(<redacted>)")
    }
}

impl SyntheticInstance {
    /// An instance of study `study` / series `series` / instance `instance`
    /// of `patient_id`, with UIDs derived from `uid_root` (digits and dots)
    /// and the numbers.
    pub fn new(uid_root: &str, patient_id: &str, study: u32, series: u32, instance: u32) -> Self {
        let pid_digits: String = patient_id
            .bytes()
            .map(|b| u32::from(b) % 10)
            .map(|d| char::from_digit(d, 10).unwrap_or('0'))
            .take(12)
            .collect();
        let study_uid = format!("{uid_root}.1{pid_digits}.{study}");
        Self {
            patient_id: patient_id.to_owned(),
            issuer: None,
            patient_name: format!("Synthetic^Patient{}", pid_digits),
            series_uid: format!("{study_uid}.{series}"),
            sop_uid: format!("{study_uid}.{series}.{instance}"),
            study_uid,
            study_date: format!("2024{:02}{:02}", 1 + study % 12, 1 + study % 28),
            modality: "CT".to_owned(),
        }
    }

    /// The instance as a DICOM Part 10 byte stream (with preamble).
    ///
    /// # Errors
    /// [`StoreError::Local`] when a value cannot be encoded (for instance a
    /// UID with letters).
    pub fn to_bytes(&self) -> Result<Vec<u8>, StoreError> {
        let sop_class = uids::SECONDARY_CAPTURE_IMAGE_STORAGE;
        let mut elements = vec![
            DataElement::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
            DataElement::new(tags::SOP_CLASS_UID, VR::UI, sop_class),
            DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, self.sop_uid.as_str()),
            DataElement::new(tags::STUDY_DATE, VR::DA, self.study_date.as_str()),
            DataElement::new(tags::MODALITY, VR::CS, self.modality.as_str()),
            DataElement::new(tags::PATIENT_NAME, VR::PN, self.patient_name.as_str()),
            DataElement::new(tags::PATIENT_ID, VR::LO, self.patient_id.as_str()),
            DataElement::new(tags::STUDY_INSTANCE_UID, VR::UI, self.study_uid.as_str()),
            DataElement::new(tags::SERIES_INSTANCE_UID, VR::UI, self.series_uid.as_str()),
            DataElement::new(tags::STUDY_ID, VR::SH, "1"),
            DataElement::new(tags::SERIES_NUMBER, VR::IS, "1"),
            DataElement::new(tags::INSTANCE_NUMBER, VR::IS, "1"),
            DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1_u16)),
            DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
            // Generated pixels carry no text: say so, as a real modality
            // would, so de-identification need not refuse the file.
            DataElement::new(tags::BURNED_IN_ANNOTATION, VR::CS, "NO"),
            DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(8_u16)),
            DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(8_u16)),
            DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(8_u16)),
            DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(8_u16)),
            DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(7_u16)),
            DataElement::new(
                tags::PIXEL_REPRESENTATION,
                VR::US,
                PrimitiveValue::from(0_u16),
            ),
            DataElement::new(
                tags::PIXEL_DATA,
                VR::OB,
                PrimitiveValue::from((0..64u8).collect::<Vec<u8>>()),
            ),
        ];
        if let Some(issuer) = &self.issuer {
            elements.push(DataElement::new(
                tags::ISSUER_OF_PATIENT_ID,
                VR::LO,
                issuer.as_str(),
            ));
        }
        let object = InMemDicomObject::from_element_iter(elements)
            .with_meta(
                FileMetaTableBuilder::new()
                    .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
                    .media_storage_sop_class_uid(sop_class),
            )
            .map_err(|_| encode_error())?;
        let mut bytes = Vec::with_capacity(1024);
        object.write_all(&mut bytes).map_err(|_| encode_error())?;
        Ok(bytes)
    }

    /// Writes the instance to `path`.
    ///
    /// # Errors
    /// As [`SyntheticInstance::to_bytes`], plus [`StoreError::Local`] when the
    /// file cannot be written.
    pub fn write_to(&self, path: &Path) -> Result<(), StoreError> {
        let bytes = self.to_bytes()?;
        std::fs::write(path, bytes).map_err(|e| StoreError::Local {
            operation: "write synthetic instance",
            detail: e.kind().to_string(),
        })
    }
}

fn encode_error() -> StoreError {
    StoreError::Local {
        operation: "encode synthetic instance",
        detail: "a value could not be encoded as DICOM".into(),
    }
}
