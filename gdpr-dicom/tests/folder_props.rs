//! For all folders of generated DICOM files: erasing one subject removes
//! exactly that subject's files, is verified, and leaves every other patient
//! as it was; exporting first copies exactly the subject's files.

use std::collections::BTreeMap;

use gdpr_core::store::{DerivedPolicy, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{FolderStore, SyntheticInstance};
use proptest::prelude::*;

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.55";

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
                    m.insert(p, store.locate(&id).await.unwrap().len());
                }
                m
            };
            let out = tempfile::tempdir().unwrap();
            let export = store.export(&subject, &out.path().join("x")).await.unwrap();
            prop_assert_eq!(export.files, expected.get(&target).copied().unwrap_or(0));

            let report = store.erase_subject(&subject, DerivedPolicy::Erase).await.unwrap();
            prop_assert!(report.is_verified());
            prop_assert_eq!(report.erased().len(), before[&target]);
            prop_assert!(store.locate(&subject).await.unwrap().is_empty());
            for p in (0u8..4).filter(|p| *p != target) {
                let id = PatientId::new(format!("PROP-{p}")).unwrap();
                prop_assert_eq!(store.locate(&id).await.unwrap().len(), before[&p]);
            }
            Ok(())
        })?;
    }
}
