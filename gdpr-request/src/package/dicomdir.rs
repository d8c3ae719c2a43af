//! The DICOMDIR of a file-set (PS3.10 §8, PS3.3 Annex F Basic Directory
//! IOD): PATIENT → STUDY → SERIES → IMAGE records in one Directory Record
//! Sequence, linked by byte offsets.
//!
//! dicom-rs 0.10 reads and writes data sets but has no DICOMDIR writer, so
//! the records are dicom-rs in-memory objects encoded by its writer, and
//! only the framing whose byte positions the offsets name is ours: the
//! sequence header (undefined length), one explicit-length item per
//! record, the sequence delimiter. Offsets are fixed-size (UL), so a
//! record's encoded length does not depend on them: every record is encoded
//! once to learn its length, the positions are summed, and the records are
//! encoded again with their offsets (the lengths are checked equal).
//! Offsets count from the first byte of the file (the preamble), as
//! PS3.3 F.3.2.1 and every reader (dcmtk, dicom3tools) take them.

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN;

use super::PackageError;

pub(crate) mod record_type;

/// The keys of one instance that its directory records carry, read from
/// its header. Holds patient values: never logged, no `Debug`.
#[derive(Clone, Default)]
pub(crate) struct InstanceKeys {
    pub charset: Option<String>,
    pub patient_id: String,
    pub patient_name: String,
    pub study_uid: String,
    pub study_date: String,
    pub study_time: String,
    pub study_description: String,
    pub study_id: String,
    pub accession: String,
    pub series_uid: String,
    pub modality: String,
    pub series_number: String,
    pub sop_class: String,
    pub sop_instance: String,
    pub transfer_syntax: String,
    pub instance_number: String,
    /// The record type (`IMAGE`, `SR DOCUMENT`, …) by the SOP Class.
    pub record_type: &'static str,
    /// The keys of a non-image record type (PS3.3 F.5), from the header.
    pub record_keys: Vec<DataElement<InMemDicomObject>>,
}

/// One IMAGE record: the file (components of its File ID) and its keys.
pub(crate) struct Image {
    pub file_id: Vec<String>,
    pub keys: InstanceKeys,
}

#[derive(Default)]
struct Series {
    images: Vec<Image>,
}

#[derive(Default)]
struct Study {
    series: Vec<(String, Series)>,
}

#[derive(Default)]
struct Patient {
    studies: Vec<(String, Study)>,
}

/// The hierarchy of a file-set, in the order instances were added.
#[derive(Default)]
pub(crate) struct Directory {
    patients: Vec<(String, Patient)>,
}

fn slot<'a, T: Default>(list: &'a mut Vec<(String, T)>, key: &str) -> &'a mut T {
    let at = match list.iter().position(|(k, _)| k == key) {
        Some(at) => at,
        None => {
            list.push((key.to_owned(), T::default()));
            list.len() - 1
        }
    };
    &mut list[at].1
}

impl Directory {
    /// Adds one instance under its patient, study and series.
    pub(crate) fn add(&mut self, image: Image) {
        let k = &image.keys;
        let (p, st, se) = (
            k.patient_id.clone(),
            k.study_uid.clone(),
            k.series_uid.clone(),
        );
        let series = slot(
            &mut slot(&mut slot(&mut self.patients, &p).studies, &st).series,
            &se,
        );
        series.images.push(image);
    }

    /// Number of IMAGE records.
    pub(crate) fn images(&self) -> usize {
        self.patients
            .iter()
            .flat_map(|(_, p)| &p.studies)
            .flat_map(|(_, s)| &s.series)
            .map(|(_, s)| s.images.len())
            .sum()
    }
}

fn text(tag: Tag, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
    if value.is_empty() {
        DataElement::empty(tag, vr)
    } else {
        DataElement::new(tag, vr, PrimitiveValue::from(value))
    }
}

/// A record with its keys and zero offsets (filled in by [`link`]).
fn record(kind: &str, keys: &InstanceKeys, level: Level) -> InMemDicomObject {
    let mut o = InMemDicomObject::from_element_iter([
        DataElement::new(
            tags::OFFSET_OF_THE_NEXT_DIRECTORY_RECORD,
            VR::UL,
            PrimitiveValue::from(0_u32),
        ),
        DataElement::new(
            tags::RECORD_IN_USE_FLAG,
            VR::US,
            PrimitiveValue::from(0xFFFF_u16),
        ),
        DataElement::new(
            tags::OFFSET_OF_REFERENCED_LOWER_LEVEL_DIRECTORY_ENTITY,
            VR::UL,
            PrimitiveValue::from(0_u32),
        ),
        DataElement::new(tags::DIRECTORY_RECORD_TYPE, VR::CS, kind),
    ]);
    if let Some(cs) = &keys.charset {
        o.put(text(tags::SPECIFIC_CHARACTER_SET, VR::CS, cs));
    }
    let k = keys;
    let elements: Vec<(Tag, VR, &str)> = match level {
        Level::Patient => vec![
            (tags::PATIENT_NAME, VR::PN, &k.patient_name),
            (tags::PATIENT_ID, VR::LO, &k.patient_id),
        ],
        Level::Study => vec![
            (tags::STUDY_DATE, VR::DA, &k.study_date),
            (tags::STUDY_TIME, VR::TM, &k.study_time),
            (tags::ACCESSION_NUMBER, VR::SH, &k.accession),
            (tags::STUDY_DESCRIPTION, VR::LO, &k.study_description),
            (tags::STUDY_INSTANCE_UID, VR::UI, &k.study_uid),
            (tags::STUDY_ID, VR::SH, &k.study_id),
        ],
        Level::Series => vec![
            (tags::MODALITY, VR::CS, &k.modality),
            (tags::SERIES_INSTANCE_UID, VR::UI, &k.series_uid),
            (tags::SERIES_NUMBER, VR::IS, &k.series_number),
        ],
        Level::Image => vec![
            (tags::INSTANCE_NUMBER, VR::IS, &k.instance_number),
            (tags::REFERENCED_SOP_CLASS_UID_IN_FILE, VR::UI, &k.sop_class),
            (
                tags::REFERENCED_SOP_INSTANCE_UID_IN_FILE,
                VR::UI,
                &k.sop_instance,
            ),
            (
                tags::REFERENCED_TRANSFER_SYNTAX_UID_IN_FILE,
                VR::UI,
                &k.transfer_syntax,
            ),
        ],
    };
    for (tag, vr, value) in elements {
        o.put(text(tag, vr, value));
    }
    o
}

#[derive(Clone, Copy)]
enum Level {
    Patient,
    Study,
    Series,
    Image,
}

/// A record in sequence order, with the indexes of its next sibling and of
/// its first child.
struct Node {
    object: InMemDicomObject,
    next: Option<usize>,
    child: Option<usize>,
}

/// Appends a sibling list; returns the index of its first node. Each
/// level's builder adds its children right after it (depth first).
fn siblings<T>(
    nodes: &mut Vec<Node>,
    items: &[T],
    mut add: impl FnMut(&mut Vec<Node>, &T) -> usize,
) -> Option<usize> {
    let mut first = None;
    let mut previous: Option<usize> = None;
    for item in items {
        let at = add(nodes, item);
        if let Some(p) = previous {
            nodes[p].next = Some(at);
        }
        first.get_or_insert(at);
        previous = Some(at);
    }
    first
}

fn push(nodes: &mut Vec<Node>, object: InMemDicomObject) -> usize {
    nodes.push(Node {
        object,
        next: None,
        child: None,
    });
    nodes.len() - 1
}

fn flatten(dir: &Directory) -> Vec<Node> {
    let mut nodes = Vec::new();
    siblings(&mut nodes, &dir.patients, |nodes, (_, patient)| {
        let keys = first_keys_of_patient(patient);
        let at = push(nodes, record("PATIENT", keys, Level::Patient));
        nodes[at].child = siblings(nodes, &patient.studies, |nodes, (_, study)| {
            let keys = &study.series[0].1.images[0].keys;
            let at = push(nodes, record("STUDY", keys, Level::Study));
            nodes[at].child = siblings(nodes, &study.series, |nodes, (_, series)| {
                let keys = &series.images[0].keys;
                let at = push(nodes, record("SERIES", keys, Level::Series));
                nodes[at].child = siblings(nodes, &series.images, |nodes, image| {
                    let mut o = record(image.keys.record_type, &image.keys, Level::Image);
                    for e in &image.keys.record_keys {
                        o.put(e.clone());
                    }
                    o.put(DataElement::new(
                        tags::REFERENCED_FILE_ID,
                        VR::CS,
                        PrimitiveValue::Strs(image.file_id.iter().cloned().collect()),
                    ));
                    push(nodes, o)
                });
                at
            });
            at
        });
        at
    });
    nodes
}

fn first_keys_of_patient(p: &Patient) -> &InstanceKeys {
    // Invariant: a patient, study or series exists only once an image was
    // added under it (`Directory::add`).
    &p.studies[0].1.series[0].1.images[0].keys
}

fn encode(object: &InMemDicomObject) -> Result<Vec<u8>, PackageError> {
    let mut out = Vec::new();
    object
        .write_dataset_with_ts(&mut out, &EXPLICIT_VR_LITTLE_ENDIAN.erased())
        .map_err(|_| PackageError::Encode {
            what: "a DICOMDIR record",
        })?;
    Ok(out)
}

fn put_ul(o: &mut InMemDicomObject, tag: Tag, value: u32) {
    o.put(DataElement::new(tag, VR::UL, PrimitiveValue::from(value)));
}

/// The `(0004,1220)` header (undefined length), an item header, the
/// sequence delimiter: explicit VR little endian.
const SEQUENCE_HEADER: [u8; 12] = [
    0x04, 0x00, 0x20, 0x12, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
];
const ITEM_TAG: [u8; 4] = [0xFE, 0xFF, 0x00, 0xE0];
const SEQUENCE_DELIMITER: [u8; 8] = [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0];

fn top(first: u32, last: u32) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        DataElement::empty(tags::FILE_SET_ID, VR::CS),
        DataElement::new(
            tags::OFFSET_OF_THE_FIRST_DIRECTORY_RECORD_OF_THE_ROOT_DIRECTORY_ENTITY,
            VR::UL,
            PrimitiveValue::from(first),
        ),
        DataElement::new(
            tags::OFFSET_OF_THE_LAST_DIRECTORY_RECORD_OF_THE_ROOT_DIRECTORY_ENTITY,
            VR::UL,
            PrimitiveValue::from(last),
        ),
        DataElement::new(
            tags::FILE_SET_CONSISTENCY_FLAG,
            VR::US,
            PrimitiveValue::from(0_u16),
        ),
    ])
}

fn too_large() -> PackageError {
    PackageError::Encode {
        what: "a DICOMDIR over 4 GiB",
    }
}

/// The DICOMDIR file of `dir`, whose Media Storage SOP Instance UID is
/// `instance_uid`.
///
/// # Errors
/// [`PackageError::Encode`] when a key cannot be encoded.
pub(crate) fn encode_dicomdir(
    dir: &Directory,
    instance_uid: &str,
) -> Result<Vec<u8>, PackageError> {
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        .media_storage_sop_class_uid(uids::MEDIA_STORAGE_DIRECTORY_STORAGE)
        .media_storage_sop_instance_uid(instance_uid)
        .build()
        .map_err(|_| PackageError::Encode {
            what: "the DICOMDIR meta group",
        })?;
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    meta.write(&mut file).map_err(|_| PackageError::Encode {
        what: "the DICOMDIR meta group",
    })?;
    let mut nodes = flatten(dir);
    let header_len = encode(&top(0, 0))?.len();
    let mut at = file.len() + header_len + SEQUENCE_HEADER.len();
    let mut positions = Vec::with_capacity(nodes.len());
    let mut lengths = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let len = encode(&node.object)?.len();
        positions.push(u32::try_from(at).map_err(|_| too_large())?);
        lengths.push(len);
        at += ITEM_TAG.len() + 4 + len;
    }
    let offset = |i: Option<usize>| i.map_or(0, |i| positions[i]);
    let last_root = roots(&nodes).last().copied();
    file.extend(encode(&top(
        offset((!nodes.is_empty()).then_some(0)),
        offset(last_root),
    ))?);
    file.extend_from_slice(&SEQUENCE_HEADER);
    for i in 0..nodes.len() {
        let (next, child) = (offset(nodes[i].next), offset(nodes[i].child));
        let o = &mut nodes[i].object;
        put_ul(o, tags::OFFSET_OF_THE_NEXT_DIRECTORY_RECORD, next);
        put_ul(
            o,
            tags::OFFSET_OF_REFERENCED_LOWER_LEVEL_DIRECTORY_ENTITY,
            child,
        );
        let bytes = encode(o)?;
        if bytes.len() != lengths[i] || file.len() != positions[i] as usize {
            return Err(PackageError::Encode {
                what: "a DICOMDIR record (its length changed with its offsets)",
            });
        }
        file.extend_from_slice(&ITEM_TAG);
        file.extend_from_slice(
            &u32::try_from(bytes.len())
                .map_err(|_| too_large())?
                .to_le_bytes(),
        );
        file.extend_from_slice(&bytes);
    }
    file.extend_from_slice(&SEQUENCE_DELIMITER);
    Ok(file)
}

/// The root records (patients): the chain of `next` from the first node.
fn roots(nodes: &[Node]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = (!nodes.is_empty()).then_some(0);
    while let Some(i) = at {
        out.push(i);
        at = nodes[i].next;
    }
    out
}
