//! Derived copies in the folder store: a file whose Source Image Sequence
//! names one of the subject's instances (an anonymised or reformatted copy
//! filed under another patient) is erased under `DerivedPolicy::Erase`, and
//! left and reported (never verified) under `DerivedPolicy::Report`.
#![cfg(feature = "adapters")]

mod support;

use dicom_core::{DataElement, PrimitiveValue, VR, value::DataSetSequence};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use gdpr_core::store::{DerivedPolicy, ResourceKind};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::store::{FolderStore, folder_study_id};
use gdpr_dicom::synthetic::SyntheticInstance;
use support::UID_ROOT;

/// Writes `instance` to `path` naming `sources` in its Source Image
/// Sequence.
fn write_derived(instance: &SyntheticInstance, sources: &[&str], path: &std::path::Path) {
    let bytes = instance.to_bytes().unwrap();
    let mut file = dicom_object::from_reader(&bytes[128..]).unwrap();
    let items: Vec<InMemDicomObject> = sources
        .iter()
        .map(|uid| {
            InMemDicomObject::from_element_iter([DataElement::new(
                tags::REFERENCED_SOP_INSTANCE_UID,
                VR::UI,
                PrimitiveValue::from(*uid),
            )])
        })
        .collect();
    file.put(DataElement::new(
        tags::SOURCE_IMAGE_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(items),
    ));
    file.write_to_file(path).unwrap();
}

/// A folder with the subject's CT, a copy derived from it under another
/// patient, a copy derived from that copy, and an unrelated patient.
fn folder(tmp: &std::path::Path, n: u32) -> (FolderStore, PatientId, [SyntheticInstance; 4]) {
    let store = FolderStore::open("archive", tmp).unwrap();
    let subject = PatientId::new(format!("MRN-DERIVED-{n}")).unwrap();
    let original = SyntheticInstance::new(UID_ROOT, subject.expose(), 1, 1, 1);
    let copy = SyntheticInstance::new(UID_ROOT, "ANON-0001", 2, 1, 1);
    let copy_of_copy = SyntheticInstance::new(UID_ROOT, "ANON-0002", 3, 1, 1);
    let unrelated = SyntheticInstance::new(UID_ROOT, "OTHER-0003", 4, 1, 1);
    original.write_to(&tmp.join("original.dcm")).unwrap();
    write_derived(&copy, &[&original.sop_uid], &tmp.join("copy.dcm"));
    write_derived(&copy_of_copy, &[&copy.sop_uid], &tmp.join("copy2.dcm"));
    write_derived(&unrelated, &["1.2.3.999"], &tmp.join("unrelated.dcm"));
    (store, subject, [original, copy, copy_of_copy, unrelated])
}

#[tokio::test]
async fn derived_copies_are_erased_under_erase() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, subject, [_, copy, copy_of_copy, _]) = folder(tmp.path(), 1);
    let report = store
        .erase_patient(&subject, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified(), "{report:?}");
    assert!(report.not_checked().is_empty());
    let derived: Vec<_> = report
        .erased()
        .iter()
        .filter(|i| i.kind == ResourceKind::DerivedStudy)
        .map(|i| i.id.clone())
        .collect();
    let uid = |i: &SyntheticInstance| gdpr_core::store::StudyUid::new(&i.study_uid).unwrap();
    assert_eq!(
        derived,
        [
            folder_study_id(&uid(&copy)),
            folder_study_id(&uid(&copy_of_copy))
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["unrelated.dcm"]);
}

#[tokio::test]
async fn derived_copies_are_left_and_reported_under_report() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, subject, [original, copy, copy_of_copy, _]) = folder(tmp.path(), 2);
    let report = store
        .erase_patient(&subject, DerivedPolicy::Report)
        .await
        .unwrap();
    assert!(!report.is_verified(), "{report:?}");
    let original_id =
        folder_study_id(&gdpr_core::store::StudyUid::new(&original.study_uid).unwrap());
    assert_eq!(report.erased().len(), 1);
    assert_eq!(report.erased()[0].id, original_id);
    assert_eq!(report.left().len(), 2, "{report:?}");
    for remnant in report.left() {
        assert_eq!(remnant.kind, ResourceKind::DerivedStudy);
        assert_eq!(remnant.derived_from.as_ref(), Some(&original_id));
    }
    for name in ["copy.dcm", "copy2.dcm", "unrelated.dcm"] {
        assert!(tmp.path().join(name).exists(), "{name}");
    }
    assert!(!tmp.path().join("original.dcm").exists());
    let _ = (copy, copy_of_copy);
}
