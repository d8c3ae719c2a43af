//! The folder store on a real directory tree of generated DICOM files.

mod support;

use gdpr_core::store::{DerivedPolicy, StoreError, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{FolderStore, MANIFEST_FILE, SyntheticInstance};
use support::{UID_ROOT, study};

fn write(store: &FolderStore, dir: &str, instances: &[SyntheticInstance]) {
    let folder = store.root().join(dir);
    std::fs::create_dir_all(&folder).unwrap();
    for (n, inst) in instances.iter().enumerate() {
        inst.write_to(&folder.join(format!("{n}.dcm"))).unwrap();
    }
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn locate_export_erase_verify_in_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let target = PatientId::new("CANARY-FOLDER-1").unwrap();
    let other = PatientId::new("OTHER-FOLDER-2").unwrap();
    // Files named by patient (as some modalities write them) and a stray
    // non-DICOM file: both must be handled.
    write(&store, "CANARY-FOLDER-1/ct", &study(&target, 1, 2, 2, "CT"));
    write(&store, "CANARY-FOLDER-1/mr", &study(&target, 2, 1, 3, "MR"));
    write(&store, "other", &study(&other, 1, 1, 2, "CT"));
    std::fs::write(tmp.path().join("README.txt"), "not dicom").unwrap();

    let handles = store.locate(&target).await.unwrap();
    assert_eq!(handles.len(), 2);
    assert!(handles.iter().all(|h| h.study_date().is_some()));

    let out = tempfile::tempdir().unwrap();
    let report = store.export(&target, &out.path().join("x")).await.unwrap();
    assert_eq!(report.files, 7);
    let manifest = std::fs::read_to_string(out.path().join("x").join(MANIFEST_FILE)).unwrap();
    assert!(!manifest.contains("CANARY"));
    for file in files_under(&out.path().join("x")) {
        assert!(!file.to_string_lossy().contains("CANARY"));
    }

    let erased = store
        .erase_subject(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(erased.is_verified(), "{erased:?}");
    assert_eq!(erased.erased().len(), 2);
    assert!(
        !tmp.path().join("CANARY-FOLDER-1").exists(),
        "empty folders are removed"
    );
    assert!(store.locate(&target).await.unwrap().is_empty());
    assert!(
        store
            .verify_erasure(&target, &handles)
            .await
            .unwrap()
            .is_confirmed()
    );
    assert_eq!(store.locate(&other).await.unwrap().len(), 1);
    assert!(tmp.path().join("README.txt").exists());
}

#[tokio::test]
async fn copies_of_an_erased_study_are_found_by_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let target = PatientId::new("CANARY-FOLDER-3").unwrap();
    let instances = study(&target, 1, 1, 1, "CT");
    write(&store, "a", &instances);
    let handles = store.locate(&target).await.unwrap();
    store.erase_study(&handles[0]).await.unwrap();
    // A "modified" copy with the patient ID blanked but the same study UID
    // reappears (e.g. restored from a backup): verification must see it.
    let mut copy = instances[0].clone();
    copy.patient_id = "ANON".into();
    write(&store, "restored", &[copy]);
    let verification = store.verify_erasure(&target, &handles).await.unwrap();
    assert!(!verification.is_confirmed());
    let report = store.erase_study(&handles[0]).await.unwrap();
    assert!(report.is_verified());
}

#[tokio::test]
async fn import_names_files_by_hashes_only() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path().join("store").as_path());
    assert!(matches!(store, Err(StoreError::Configuration { .. })));
    std::fs::create_dir(tmp.path().join("store")).unwrap();
    let store = FolderStore::open("archive", tmp.path().join("store")).unwrap();
    let target = PatientId::new("CANARY-FOLDER-4").unwrap();
    let inst = SyntheticInstance::new(UID_ROOT, target.expose(), 1, 1, 1);
    let src = tmp.path().join("CANARY-FOLDER-4.dcm");
    inst.write_to(&src).unwrap();
    let placed = store.import(&src).await.unwrap();
    assert!(!placed.to_string_lossy().contains("CANARY"));
    assert!(!placed.to_string_lossy().contains(UID_ROOT));
    assert_eq!(store.locate(&target).await.unwrap().len(), 1);
    let err = store.import(&tmp.path().join("store")).await.unwrap_err();
    assert!(matches!(err, StoreError::Protocol { .. }));
}

#[tokio::test]
async fn hidden_files_are_found_and_erased_too() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let target = PatientId::new("CANARY-FOLDER-5").unwrap();
    let instances = study(&target, 1, 1, 1, "CT");
    std::fs::create_dir(tmp.path().join(".cache")).unwrap();
    instances[0]
        .write_to(&tmp.path().join(".cache").join(".copy.dcm"))
        .unwrap();
    assert_eq!(store.locate(&target).await.unwrap().len(), 1);
    let report = store
        .erase_subject(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified());
    assert!(!tmp.path().join(".cache").exists());
}
