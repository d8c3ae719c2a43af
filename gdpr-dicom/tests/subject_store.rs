//! The DICOM adapters seen through the family's `SubjectStore`: the same
//! studies as their `StudyStore` view, FHIR subjects and EHR handles refused
//! with typed errors before anything is touched, restriction answered as
//! unsupported, and the report readable item by item.

mod support;

use gdpr_core::category::RecordCategory;
use gdpr_core::restriction::{Restriction, RestrictionGround};
use gdpr_core::store::{
    DerivedPolicy, FhirId, FhirIdentifier, FhirSubject, ItemStatus, RecordHandle, ResourceHandle,
    ResourceType, RestrictionOutcome, StoreError, SubjectRef, SubjectStore,
};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{FolderStore, StudyStore};
use gdpr_dicom::synthetic::SyntheticInstance;
use support::study;

fn write(dir: &std::path::Path, name: &str, instances: &[SyntheticInstance]) {
    for (n, inst) in instances.iter().enumerate() {
        inst.write_to(&dir.join(format!("{name}-{n}.dcm"))).unwrap();
    }
}

fn fhir_subjects() -> [SubjectRef; 2] {
    [
        FhirSubject::Identifier(FhirIdentifier::parse("urn:oid:1.2.3|MRN-1").unwrap()).into(),
        FhirSubject::LogicalId(FhirId::new("MRN-1").unwrap()).into(),
    ]
}

fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[tokio::test]
async fn the_trait_gives_the_same_studies_and_erases_them_item_by_item() {
    let tmp = tempfile::tempdir().unwrap();
    let target = PatientId::new("MRN-1").unwrap();
    let other = PatientId::new("MRN-2").unwrap();
    write(tmp.path(), "a", &study(&target, 1, 1, 2, "CT"));
    write(tmp.path(), "b", &study(&target, 2, 1, 1, "RTPLAN"));
    write(tmp.path(), "c", &study(&other, 1, 1, 1, "CT"));
    let folder = FolderStore::open("archive", tmp.path()).unwrap();
    let studies = folder.find_studies(&target).await.unwrap();
    let store: Box<dyn SubjectStore> = Box::new(folder);
    let subject = SubjectRef::from(target.clone());

    let records = store.locate(&subject).await.unwrap();
    let via_trait: Vec<_> = records.iter().filter_map(RecordHandle::as_study).collect();
    assert_eq!(via_trait, studies.iter().collect::<Vec<_>>());
    assert!(
        records
            .iter()
            .any(|r| r.category() == RecordCategory::Radiotherapy)
    );

    // One record, then the rest: the other patient's file stays.
    let one = store.erase_record(&records[0]).await.unwrap();
    assert!(one.is_verified());
    assert_eq!(one.erased()[0].id, *records[0].id());
    let rest = store
        .erase_subject(&subject, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(rest.is_verified());
    assert!(rest.items().iter().all(|i| i.status == ItemStatus::Erased));
    let verification = store.verify_erasure(&subject, &records).await.unwrap();
    assert!(verification.is_confirmed());
    assert_eq!(count_files(tmp.path()), 1);
    assert_eq!(store.locate(&other.into()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn fhir_subjects_and_ehr_handles_are_refused_and_nothing_is_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let target = PatientId::new("MRN-1").unwrap();
    write(tmp.path(), "a", &study(&target, 1, 1, 2, "CT"));
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let refused = |e: StoreError| matches!(e, StoreError::UnsupportedSubject { .. });
    for subject in fhir_subjects() {
        assert!(refused(store.locate(&subject).await.unwrap_err()));
        assert!(refused(
            store
                .export(&subject, &out.path().join("x"))
                .await
                .unwrap_err()
        ));
        assert!(refused(
            store
                .erase_subject(&subject, DerivedPolicy::Erase)
                .await
                .unwrap_err()
        ));
        assert!(refused(
            store.verify_erasure(&subject, &[]).await.unwrap_err()
        ));
        assert!(refused(store.lift_restriction(&subject).await.unwrap_err()));
    }
    let resource = RecordHandle::from(ResourceHandle::new(
        ResourceType::new("Observation").unwrap(),
        FhirId::new("o1").unwrap(),
        RecordCategory::LabResult,
    ));
    let err = store.erase_record(&resource).await.unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedRecord { .. }), "{err}");
    let err = store
        .verify_erasure(&target.clone().into(), &[resource])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedRecord { .. }), "{err}");
    assert_eq!(count_files(tmp.path()), 2);
    assert!(!out.path().join("x").exists());
}

#[tokio::test]
async fn a_folder_cannot_mark_a_restriction_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let subject = SubjectRef::from(PatientId::new("MRN-1").unwrap());
    let restriction = Restriction::new(
        RestrictionGround::NeededForLegalClaims,
        jiff::Timestamp::now(),
    );
    for outcome in [
        store.restrict(&subject, &restriction).await.unwrap(),
        store.lift_restriction(&subject).await.unwrap(),
    ] {
        match outcome {
            RestrictionOutcome::Unsupported { reason } => {
                assert!(reason.contains("register"), "{reason}");
            }
            other => panic!("a folder claimed a mark: {other:?}"),
        }
    }
}
