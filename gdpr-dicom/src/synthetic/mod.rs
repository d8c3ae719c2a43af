//! Synthetic DICOM instances with invented identities, for tests, examples
//! and benchmarks: a CT image, an MR image and a multi-frame enhanced MR,
//! written as valid DICOM Part 10 files (explicit VR little endian). The
//! pixel data is written straight to the output, so even a 200 MB
//! multi-frame file needs no more memory than its header. [`sr`] adds a
//! Comprehensive SR that names the patient in its content tree, and
//! [`SyntheticInstance`] the small Secondary Capture files the store tests
//! lay out by patient, issuer, study and modality. [`canary`] gives the
//! de-identification tests a data set with a recognisable value in every
//! attribute PS3.15 names.
//!
//! The one generator of synthetic DICOM for the tests, examples and
//! benchmarks of every crate: behind the feature `testkit`, so no
//! production build carries it.

use std::io::Write;

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use crate::error::Error;

pub mod canary;
pub mod sr;
mod store;

pub use store::SyntheticInstance;

/// CT Image Storage.
pub const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
/// MR Image Storage.
pub const MR_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.4";
/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";

/// The kind and size of a synthetic image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A CT slice, 16-bit, `rows` × `cols`.
    Ct {
        /// Rows.
        rows: u16,
        /// Columns.
        cols: u16,
    },
    /// An MR slice, 16-bit, `rows` × `cols`, `frames` frames (more than one
    /// frame: the multi-frame layout used for memory tests).
    Mr {
        /// Rows.
        rows: u16,
        /// Columns.
        cols: u16,
        /// Number of frames.
        frames: u32,
    },
}

/// The identity of one synthetic instance (all invented).
#[derive(Clone, PartialEq, Eq)]
pub struct Instance {
    /// Patient's Name (PN).
    pub patient_name: String,
    /// Patient ID.
    pub patient_id: String,
    /// Patient's Birth Date (DA).
    pub birth_date: String,
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// SOP Instance UID.
    pub sop_uid: String,
    /// Frame of Reference UID.
    pub frame_of_reference_uid: String,
    /// Study Date (DA).
    pub study_date: String,
    /// Instance Number.
    pub instance_number: u32,
    /// SOP Instance UIDs this instance references (Referenced Image Sequence).
    pub references: Vec<String>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Instance(<synthetic identity>)")
    }
}

impl Instance {
    /// A synthetic instance `n` of a study under `root` (a UID prefix).
    pub fn numbered(root: &str, n: u32) -> Self {
        Self {
            patient_name: "DOE^JANE^SYNTHETIC".into(),
            patient_id: "SYN-000123".into(),
            birth_date: "19610307".into(),
            study_uid: format!("{root}.1"),
            series_uid: format!("{root}.1.1"),
            sop_uid: format!("{root}.1.1.{n}"),
            frame_of_reference_uid: format!("{root}.2"),
            study_date: "20240611".into(),
            instance_number: n,
            references: Vec::new(),
        }
    }
}

fn put(o: &mut InMemDicomObject, g: u16, e: u16, vr: VR, v: impl Into<PrimitiveValue>) {
    o.put(DataElement::new(Tag(g, e), vr, v.into()));
}

fn strs(values: &[&str]) -> PrimitiveValue {
    PrimitiveValue::Strs(values.iter().map(|s| (*s).to_owned()).collect())
}

/// The header (everything but Pixel Data) of a synthetic instance.
pub fn header(kind: Kind, i: &Instance) -> InMemDicomObject {
    let mut o = InMemDicomObject::new_empty();
    let (class, modality, rows, cols, frames) = match kind {
        Kind::Ct { rows, cols } => (CT_IMAGE_STORAGE, "CT", rows, cols, 1),
        Kind::Mr { rows, cols, frames } => (MR_IMAGE_STORAGE, "MR", rows, cols, frames),
    };
    general_study_and_series(&mut o, class, modality, i);
    references(&mut o, class, &i.references);
    patient(&mut o, i);
    acquisition(&mut o, modality);
    position(&mut o, i);
    image_pixel(&mut o, (rows, cols, frames), modality);
    put(&mut o, 0x0032, 0x1060, VR::LO, "CT CHEST");
    // A private block with an identifying value.
    put(&mut o, 0x0029, 0x0010, VR::LO, "SYNTHETIC PRIVATE");
    put(&mut o, 0x0029, 0x1001, VR::LO, "DOE^JANE private copy");
    o
}

/// SOP Common, General Study, General Series and General Equipment
/// attributes (group 0008, and the study and series UIDs of group 0020).
fn general_study_and_series(o: &mut InMemDicomObject, class: &str, modality: &str, i: &Instance) {
    put(o, 0x0008, 0x0005, VR::CS, "ISO_IR 100");
    put(
        o,
        0x0008,
        0x0008,
        VR::CS,
        strs(&["ORIGINAL", "PRIMARY", "AXIAL"]),
    );
    let date = i.study_date.as_str();
    put(o, 0x0008, 0x0012, VR::DA, date);
    put(o, 0x0008, 0x0013, VR::TM, "101500");
    put(o, 0x0008, 0x0016, VR::UI, class);
    put(o, 0x0008, 0x0018, VR::UI, i.sop_uid.as_str());
    for (e, tm) in [
        (0x20, "101010"),
        (0x21, "101100"),
        (0x22, "101200"),
        (0x23, "101300"),
    ] {
        // Study, Series, Acquisition and Content Date, then their times.
        put(o, 0x0008, e, VR::DA, date);
        put(o, 0x0008, e + 0x10, VR::TM, tm);
    }
    put(o, 0x0008, 0x0050, VR::SH, "ACC7781");
    put(o, 0x0008, 0x0060, VR::CS, modality);
    put(o, 0x0008, 0x0070, VR::LO, "SYNTHETIC MEDICAL");
    put(o, 0x0008, 0x0080, VR::LO, "St. Example Hospital");
    put(o, 0x0008, 0x0090, VR::PN, "HOUSE^GREGORY");
    put(o, 0x0008, 0x1010, VR::SH, "CTROOM3");
    put(o, 0x0008, 0x1030, VR::LO, "Chest of DOE JANE");
    put(o, 0x0008, 0x103E, VR::LO, "Axial 5mm");
    put(o, 0x0008, 0x1070, VR::PN, "TECH^TERRY");
    put(o, 0x0020, 0x000D, VR::UI, i.study_uid.as_str());
    put(o, 0x0020, 0x000E, VR::UI, i.series_uid.as_str());
    put(o, 0x0020, 0x0010, VR::SH, "S77");
    put(o, 0x0020, 0x0011, VR::IS, "1");
    put(o, 0x0020, 0x0012, VR::IS, "1");
}

/// The Referenced Image Sequence, when the instance references others.
fn references(o: &mut InMemDicomObject, class: &str, references: &[String]) {
    if references.is_empty() {
        return;
    }
    let items: Vec<InMemDicomObject> = references
        .iter()
        .map(|r| {
            let mut item = InMemDicomObject::new_empty();
            put(&mut item, 0x0008, 0x1150, VR::UI, class);
            put(&mut item, 0x0008, 0x1155, VR::UI, r.as_str());
            item
        })
        .collect();
    o.put(DataElement::new(
        Tag(0x0008, 0x1140),
        VR::SQ,
        DataSetSequence::new(items, Length::UNDEFINED),
    ));
}

/// The Patient module.
fn patient(o: &mut InMemDicomObject, i: &Instance) {
    put(o, 0x0010, 0x0010, VR::PN, i.patient_name.as_str());
    put(o, 0x0010, 0x0020, VR::LO, i.patient_id.as_str());
    put(o, 0x0010, 0x0030, VR::DA, i.birth_date.as_str());
    put(o, 0x0010, 0x0040, VR::CS, "F");
    put(o, 0x0010, 0x1010, VR::AS, "063Y");
}

/// Acquisition attributes (group 0018), CT or MR.
fn acquisition(o: &mut InMemDicomObject, modality: &str) {
    put(o, 0x0018, 0x0050, VR::DS, "5");
    put(o, 0x0018, 0x1000, VR::LO, "SN-4711");
    put(o, 0x0018, 0x1020, VR::LO, "1.0");
    put(o, 0x0018, 0x5100, VR::CS, "HFS");
    if modality == "CT" {
        put(o, 0x0018, 0x0060, VR::DS, "120");
        return;
    }
    put(o, 0x0018, 0x0020, VR::CS, "SE");
    put(o, 0x0018, 0x0021, VR::CS, "NONE");
    put(o, 0x0018, 0x0022, VR::CS, "");
    put(o, 0x0018, 0x0023, VR::CS, "2D");
    put(o, 0x0018, 0x0080, VR::DS, "500");
    put(o, 0x0018, 0x0081, VR::DS, "20");
    put(o, 0x0018, 0x0091, VR::IS, "1");
}

/// Instance number, Image Plane and Frame of Reference, and the image
/// comments (with an identifying value).
fn position(o: &mut InMemDicomObject, i: &Instance) {
    let n = i.instance_number;
    put(o, 0x0020, 0x0013, VR::IS, n.to_string());
    put(o, 0x0020, 0x0020, VR::CS, strs(&["L", "P"]));
    put(
        o,
        0x0020,
        0x0032,
        VR::DS,
        strs(&["-125", "-125", &format!("{}", n * 5)]),
    );
    put(
        o,
        0x0020,
        0x0037,
        VR::DS,
        strs(&["1", "0", "0", "0", "1", "0"]),
    );
    put(o, 0x0020, 0x0052, VR::UI, i.frame_of_reference_uid.as_str());
    put(o, 0x0020, 0x1040, VR::LO, "");
    let comment = "Patient DOE JANE, ID SYN-000123, no findings";
    put(o, 0x0020, 0x4000, VR::LT, comment);
}

/// The Image Pixel module (without Pixel Data) for `rows × cols × frames`
/// 16-bit pixels, and the CT rescale.
fn image_pixel(o: &mut InMemDicomObject, (rows, cols, frames): (u16, u16, u32), modality: &str) {
    put(o, 0x0028, 0x0002, VR::US, 1u16);
    put(o, 0x0028, 0x0004, VR::CS, "MONOCHROME2");
    if frames > 1 {
        put(o, 0x0028, 0x0008, VR::IS, frames.to_string());
        o.put(DataElement::new(
            Tag(0x0028, 0x0009),
            VR::AT,
            PrimitiveValue::Tags(vec![Tag(0x0018, 0x2001)].into()),
        ));
    }
    put(o, 0x0028, 0x0010, VR::US, rows);
    put(o, 0x0028, 0x0011, VR::US, cols);
    put(o, 0x0028, 0x0030, VR::DS, strs(&["0.5", "0.5"]));
    put(o, 0x0028, 0x0100, VR::US, 16u16);
    put(o, 0x0028, 0x0101, VR::US, 12u16);
    put(o, 0x0028, 0x0102, VR::US, 11u16);
    put(o, 0x0028, 0x0103, VR::US, 0u16);
    put(o, 0x0028, 0x0301, VR::CS, "NO");
    if modality == "CT" {
        put(o, 0x0028, 0x1052, VR::DS, "-1024");
        put(o, 0x0028, 0x1053, VR::DS, "1");
    }
}

/// Writes a complete synthetic instance: meta, header and `rows × cols ×
/// frames` 16-bit pixels (a gradient), streamed.
///
/// # Errors
/// [`Error::Encode`] or [`Error::Io`] when writing fails.
pub fn write<W: Write>(kind: Kind, i: &Instance, mut w: W) -> Result<(), Error> {
    let (rows, cols, frames) = match kind {
        Kind::Ct { rows, cols } => (rows, cols, 1),
        Kind::Mr { rows, cols, frames } => (rows, cols, frames),
    };
    let o = header(kind, i);
    let class = match kind {
        Kind::Ct { .. } => CT_IMAGE_STORAGE,
        Kind::Mr { .. } => MR_IMAGE_STORAGE,
    };
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(class)
        .media_storage_sop_instance_uid(i.sop_uid.as_str())
        .transfer_syntax(EXPLICIT_VR_LE)
        .implementation_class_uid("2.25.173133884307045929111064805455215858791")
        .source_application_entity_title("SYNTH_SCANNER")
        .build()
        .map_err(|_| Error::Encode {
            reason: "synthetic file meta",
        })?;
    let ts = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
    crate::deid::write_synthetic_head(&mut w, &meta, &o, &ts)?;
    let frame_len = u64::from(rows) * u64::from(cols) * 2;
    let total = frame_len * u64::from(frames);
    let len = u32::try_from(total).map_err(|_| Error::Encode {
        reason: "synthetic pixel data over 4 GiB",
    })?;
    let io = Error::io("writing a synthetic file");
    let mut head = Vec::with_capacity(12);
    head.extend_from_slice(&0x7FE0u16.to_le_bytes());
    head.extend_from_slice(&0x0010u16.to_le_bytes());
    head.extend_from_slice(b"OW\0\0");
    head.extend_from_slice(&len.to_le_bytes());
    let row: Vec<u8> = (0..cols).flat_map(|c| (c % 4096).to_le_bytes()).collect();
    let result = (|| {
        w.write_all(&head)?;
        for _ in 0..u64::from(rows) * u64::from(frames) {
            w.write_all(&row)?;
        }
        w.flush()
    })();
    result.map_err(io)
}
