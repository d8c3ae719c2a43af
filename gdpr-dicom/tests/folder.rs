//! The folder store on a real directory tree of generated DICOM files.
#![cfg(feature = "adapters")]

mod support;

use gdpr_core::store::{DerivedPolicy, StoreError};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::store::{FolderStore, MANIFEST_FILE};
use gdpr_dicom::synthetic::SyntheticInstance;
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

    let handles = store.find_studies(&target).await.unwrap();
    assert_eq!(handles.len(), 2);
    assert!(handles.iter().all(|h| h.study_date().is_some()));

    let out = tempfile::tempdir().unwrap();
    let report = store
        .export_studies(&target, &out.path().join("x"))
        .await
        .unwrap();
    assert_eq!(report.files, 7);
    let manifest = std::fs::read_to_string(out.path().join("x").join(MANIFEST_FILE)).unwrap();
    assert!(!manifest.contains("CANARY"));
    for file in files_under(&out.path().join("x")) {
        assert!(!file.to_string_lossy().contains("CANARY"));
    }

    let erased = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(erased.is_verified(), "{erased:?}");
    assert_eq!(erased.erased().len(), 2);
    assert!(
        !tmp.path().join("CANARY-FOLDER-1").exists(),
        "empty folders are removed"
    );
    assert!(store.find_studies(&target).await.unwrap().is_empty());
    assert!(
        store
            .verify_studies_gone(&target, &handles)
            .await
            .unwrap()
            .is_confirmed()
    );
    assert_eq!(store.find_studies(&other).await.unwrap().len(), 1);
    assert!(tmp.path().join("README.txt").exists());
}

#[tokio::test]
async fn copies_of_an_erased_study_are_found_by_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let target = PatientId::new("CANARY-FOLDER-3").unwrap();
    let instances = study(&target, 1, 1, 1, "CT");
    write(&store, "a", &instances);
    let handles = store.find_studies(&target).await.unwrap();
    store.erase_study(&handles[0]).await.unwrap();
    // A "modified" copy with the patient ID blanked but the same study UID
    // reappears (e.g. restored from a backup): verification must see it.
    let mut copy = instances[0].clone();
    copy.patient_id = "ANON".into();
    write(&store, "restored", &[copy]);
    let verification = store.verify_studies_gone(&target, &handles).await.unwrap();
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
    assert_eq!(store.find_studies(&target).await.unwrap().len(), 1);
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
    assert_eq!(store.find_studies(&target).await.unwrap().len(), 1);
    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.is_verified());
    assert!(!tmp.path().join(".cache").exists());
}

/// The bytes of `inst` with `patch` applied (hand-made corruption).
fn patched(inst: &SyntheticInstance, patch: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = inst.to_bytes().unwrap();
    patch(&mut bytes);
    bytes
}

fn find(bytes: &[u8], what: &[u8]) -> usize {
    bytes.windows(what.len()).position(|w| w == what).unwrap()
}

/// `inst` with a deflated data set (transfer syntax 1.2.840.10008.1.2.1.99):
/// the data set written by dicom-rs, deflated with flate2; `corrupt` is
/// applied to the data set before deflating.
fn deflated(inst: &SyntheticInstance, corrupt: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    use std::io::Write;
    let plain = inst.to_bytes().unwrap();
    let meta_len = u32::from_le_bytes(plain[140..144].try_into().unwrap()) as usize;
    let mut data_set = plain[144 + meta_len..].to_vec();
    corrupt(&mut data_set);
    let meta = dicom_object::FileMetaTableBuilder::new()
        .transfer_syntax("1.2.840.10008.1.2.1.99")
        .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.7")
        .media_storage_sop_instance_uid(inst.sop_uid.as_str())
        .build()
        .unwrap();
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    meta.write(&mut out).unwrap();
    let mut z = flate2::write::DeflateEncoder::new(out, flate2::Compression::default());
    z.write_all(&data_set).unwrap();
    z.finish().unwrap()
}

fn set_name_length(bytes: &mut [u8], len: u16) {
    let at = find(bytes, b"\x10\x00\x10\x00PN");
    bytes[at + 6..at + 8].copy_from_slice(&len.to_le_bytes());
}

/// Files that claim to be DICOM but cannot be read are reported by path —
/// `left` when the subject's ID is in their bytes — and keep the erasure
/// unverified; deflated files are read; README and thumbnail are counted
/// and left alone; another patient's files are untouched.
#[tokio::test]
async fn unreadable_dicom_files_are_reported_and_deflated_files_are_read() {
    use gdpr_core::store::{UnreadableCause as C, UnreadableStatus as S};
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let target = PatientId::new("CANARY-HOSTILE-1").unwrap();
    let other = PatientId::new("OTHER-HOSTILE-2").unwrap();
    write(&store, "good", &study(&target, 1, 1, 2, "CT"));
    write(&store, "other", &study(&other, 1, 1, 1, "CT"));
    let base = study(&target, 2, 1, 1, "MR").remove(0);
    let theirs = study(&other, 2, 1, 1, "MR").remove(0);
    let mut empty_uid = base.clone();
    empty_uid.study_uid = String::new();
    let ts = b"1.2.840.10008.1.2.1\0";
    let hostile: Vec<(&str, Vec<u8>, C, S)> = vec![
        (
            "bad/empty-study-uid.dcm",
            empty_uid.to_bytes().unwrap(),
            C::InvalidUid,
            S::Left,
        ),
        (
            "bad/name-past-end.dcm",
            patched(&base, |b| set_name_length(b, 0xFFFE)),
            C::Malformed,
            S::Left,
        ),
        (
            "bad/meta-0.dcm",
            patched(&base, |b| b[140..144].fill(0)),
            C::Malformed,
            S::Left,
        ),
        (
            "bad/meta-huge.dcm",
            patched(&base, |b| {
                b[140..144].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes())
            }),
            C::Malformed,
            S::Left,
        ),
        (
            "bad/meta-uid.dcm",
            patched(&base, |b| {
                let at = find(b, ts);
                b[at..at + ts.len()].copy_from_slice(b"1.2.840.10008.9.9.9\0");
            }),
            C::UnsupportedEncoding,
            S::Left,
        ),
        // The ID is only in the inflated payload.
        (
            "CANARY-HOSTILE-1/deflated-corrupt.dcm",
            deflated(&base, |b| set_name_length(b, 0xFFFE)),
            C::Malformed,
            S::Left,
        ),
        (
            "bad/theirs.dcm",
            patched(&theirs, |b| b[140..144].fill(0)),
            C::Malformed,
            S::Unreadable,
        ),
    ];
    for (path, bytes, ..) in &hostile {
        let path = tmp.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let corrupt = &hostile[5].1;
    assert!(!corrupt.windows(16).any(|w| w == b"CANARY-HOSTILE-1"));
    let mut good_deflated = study(&target, 3, 1, 1, "CT").remove(0);
    good_deflated.study_uid = format!("{}.9", good_deflated.study_uid);
    std::fs::write(
        tmp.path().join("deflated.dcm"),
        deflated(&good_deflated, |_| {}),
    )
    .unwrap();
    std::fs::write(tmp.path().join("README"), "DICOM archive of ward 3").unwrap();
    std::fs::write(
        tmp.path().join("good/thumb.jpg"),
        b"\xFF\xD8\xFF\xE0 not dicom",
    )
    .unwrap();
    let other_before: Vec<_> = files_under(&tmp.path().join("other"))
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();

    let located = store.find_studies(&target).await.unwrap();
    assert_eq!(located.len(), 2, "the good study and the deflated one");
    let out = tempfile::tempdir().unwrap();
    let export = store
        .export_studies(&target, &out.path().join("x"))
        .await
        .unwrap();
    assert_eq!(export.files, 3, "two good files and the deflated one");
    let not_exported: Vec<_> = export.unreadable.iter().map(|u| u.status).collect();
    assert_eq!(not_exported.len(), hostile.len());
    assert_eq!(not_exported.iter().filter(|s| **s == S::Left).count(), 6);
    let report = store
        .erase_patient(&target, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(!report.is_verified());
    assert_eq!(report.erased().len(), 2);
    assert!(report.left().is_empty());
    assert_eq!(report.ignored(), 2, "README and thumbnail");
    let found: Vec<_> = report
        .unreadable()
        .iter()
        .map(|u| (u.location.as_str(), u.cause, u.status))
        .collect();
    let expected: Vec<_> = {
        let mut e: Vec<_> = hostile.iter().map(|(p, _, c, s)| (*p, *c, *s)).collect();
        e.sort_by_key(|(p, ..)| *p);
        e
    };
    assert_eq!(found, expected);
    let shown = format!("{report:?}");
    assert!(!shown.contains("CANARY"), "{shown}");
    assert!(!tmp.path().join("good").join("0.dcm").exists());
    assert!(!tmp.path().join("deflated.dcm").exists());
    for (path, bytes, ..) in &hostile {
        assert_eq!(
            &std::fs::read(tmp.path().join(path)).unwrap(),
            bytes,
            "{path}"
        );
    }
    assert!(tmp.path().join("README").exists() && tmp.path().join("good/thumb.jpg").exists());
    let other_after: Vec<_> = files_under(&tmp.path().join("other"))
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(other_after, other_before);
    assert_eq!(store.find_studies(&other).await.unwrap().len(), 1);

    let verification = store.verify_studies_gone(&target, &located).await.unwrap();
    assert!(!verification.is_confirmed());
    assert_eq!(verification.unreadable(), report.unreadable());
    // Once someone removes the unreadable files, the erasure verifies.
    std::fs::remove_dir_all(tmp.path().join("bad")).unwrap();
    std::fs::remove_dir_all(tmp.path().join("CANARY-HOSTILE-1")).unwrap();
    let again = store.verify_studies_gone(&target, &located).await.unwrap();
    assert!(again.is_confirmed(), "{again:?}");
}

/// The folder store matches patients by the core rule
/// (`PatientId::matches_stored`): exact and case-sensitive, LO padding
/// removed, issuers compared whenever either side has one.
#[tokio::test]
async fn patients_match_by_the_core_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderStore::open("archive", tmp.path()).unwrap();
    let scoped = PatientId::new("MRN-9")
        .unwrap()
        .with_issuer("HOSP-A")
        .unwrap();
    write(&store, "a", &study(&scoped, 1, 1, 1, "CT"));
    let bare = PatientId::new("MRN-9").unwrap();
    let other_issuer = bare.clone().with_issuer("HOSP-B").unwrap();
    for (subject, expected) in [
        (&scoped, 1),
        (&bare, 0),
        (&other_issuer, 0),
        (&PatientId::new("mrn-9").unwrap(), 0),
    ] {
        assert_eq!(store.find_studies(subject).await.unwrap().len(), expected);
    }
    let report = store
        .erase_patient(&bare, DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(report.erased().is_empty());
    assert_eq!(store.find_studies(&scoped).await.unwrap().len(), 1);
}
