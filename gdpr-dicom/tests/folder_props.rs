//! For all folders of generated DICOM files: erasing one subject removes
//! exactly that subject's files, is verified, and leaves every other patient
//! as it was; exporting first copies exactly the subject's files.
#![cfg(feature = "adapters")]

use std::collections::BTreeMap;

use gdpr_core::store::{DerivedPolicy, UnreadableStatus};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::FolderStore;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::synthetic::SyntheticInstance;
use proptest::prelude::*;

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.55";
/// Far from `ROOT`, so that corrupting a byte of a UID cannot make one
/// patient's study UID another's (a shared Study UID is erased as a copy).
const OTHER_ROOT: &str = "1.2.826.0.1.3680043.10.1234.77.88";

/// (patient index, study number, instances) triples.
fn layout() -> impl Strategy<Value = Vec<(u8, u32, u32)>> {
    proptest::collection::vec((0u8..4, 1u32..4, 1u32..3), 1..10)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn erasing_one_subject_touches_no_one_else(layout in layout(), target in 0u8..4) {
        let dir = tempfile::tempdir().unwrap();
        let mut expected: BTreeMap<u8, usize> = BTreeMap::new();
        let mut file = 0;
        for (patient, study, instances) in &layout {
            for i in 1..=*instances {
                let pid = format!("PROP-{patient}");
                let inst = SyntheticInstance::new(ROOT, &pid, *study, 1, i);
                // Same (patient, study, instance) twice is the same file
                // content under another name: a duplicate copy.
                inst.write_to(&dir.path().join(format!("f{file}.dcm"))).unwrap();
                file += 1;
                *expected.entry(*patient).or_default() += 1;
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = FolderStore::open("props", dir.path()).unwrap();
            let subject = PatientId::new(format!("PROP-{target}")).unwrap();
            let before: BTreeMap<u8, usize> = {
                let mut m = BTreeMap::new();
                for p in 0u8..4 {
                    let id = PatientId::new(format!("PROP-{p}")).unwrap();
                    m.insert(p, store.find_studies(&id).await.unwrap().len());
                }
                m
            };
            let out = tempfile::tempdir().unwrap();
            let export = store.export_studies(&subject, &out.path().join("x")).await.unwrap();
            prop_assert_eq!(export.files, expected.get(&target).copied().unwrap_or(0));

            let report = store.erase_patient(&subject, DerivedPolicy::Erase).await.unwrap();
            prop_assert!(report.is_verified());
            prop_assert_eq!(report.erased().len(), before[&target]);
            prop_assert!(store.find_studies(&subject).await.unwrap().is_empty());
            for p in (0u8..4).filter(|p| *p != target) {
                let id = PatientId::new(format!("PROP-{p}")).unwrap();
                prop_assert_eq!(store.find_studies(&id).await.unwrap().len(), before[&p]);
            }
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// For all folders where some files of the subject are truncated or
    /// have bytes overwritten: locate and erasure never fail as a whole (nor
    /// panic), the other patient's files stay byte-identical, and the
    /// erasure is verified only when no file could not be read and no
    /// unreadable file holds the subject's ID.
    #[test]
    fn corrupt_files_never_fail_the_store_or_fake_a_verification(
        damage in proptest::collection::vec(
            (0usize..4, 0usize..900, proptest::option::of(any::<u8>())),
            1..6,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for i in 1..=4 {
            let path = dir.path().join(format!("t{i}.dcm"));
            SyntheticInstance::new(ROOT, "PROP-T", 1, 1, i).write_to(&path).unwrap();
            files.push(path);
        }
        let others: Vec<_> = (1..=2)
            .map(|i| {
                let path = dir.path().join(format!("o{i}.dcm"));
                SyntheticInstance::new(OTHER_ROOT, "PROP-O", 2, 1, i).write_to(&path).unwrap();
                (path.clone(), std::fs::read(&path).unwrap())
            })
            .collect();
        for (file, at, byte) in damage {
            let mut bytes = std::fs::read(&files[file]).unwrap();
            match byte {
                // An earlier truncation may have emptied the file.
                Some(b) if !bytes.is_empty() => { let n = bytes.len(); bytes[at % n] = b; }
                Some(_) => {}
                None => bytes.truncate(at),
            }
            std::fs::write(&files[file], bytes).unwrap();
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = FolderStore::open("props", dir.path()).unwrap();
            let subject = PatientId::new("PROP-T").unwrap();
            store.find_studies(&subject).await.unwrap();
            let report = store.erase_patient(&subject, DerivedPolicy::Erase).await.unwrap();
            prop_assert_eq!(report.is_verified(), report.unreadable().is_empty());
            for u in report.unreadable() {
                let bytes = std::fs::read(dir.path().join(&u.location)).unwrap();
                let holds = bytes.windows(6).any(|w| w == b"PROP-T");
                prop_assert!(!holds || u.status == UnreadableStatus::Left);
            }
            for (path, before) in &others {
                prop_assert_eq!(&std::fs::read(path).unwrap(), before);
            }
            Ok(())
        })?;
    }
}
