//! Exports of a large multi-frame instance from the real Orthanc, through
//! its REST archive and through WADO-RS: every byte arrives (the files are
//! streamed through bounded buffers, so they cross many buffer refills and
//! part boundaries), under our names, with the digest of what was stored.
#![cfg(feature = "orthanc-tests")]

mod support;

use gdpr_dicom::store::{DicomWebConfig, DicomWebStore, StudyStore};
use gdpr_dicom::synthetic::{Instance, Kind, write};
use sha2::{Digest, Sha256};
use support::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_large_instance_exports_whole_through_orthanc_and_wado_rs() {
    let store = orthanc().await;
    let target = patient("GDPR-CANARY-BIG");
    let root = format!("{UID_ROOT}.{}", unique());
    let mut stored = Vec::new();
    for n in 1..=2 {
        let mut i = Instance::numbered(&root, n);
        i.patient_id = target.expose().to_owned();
        let mut bytes = Vec::new();
        // 512 × 512 × 2 bytes × 24 frames: 12 MiB each.
        let kind = Kind::Mr {
            rows: 512,
            cols: 512,
            frames: 24,
        };
        write(kind, &i, &mut bytes).unwrap();
        store.store_instance(bytes.clone()).await.unwrap();
        stored.push(hex(&Sha256::digest(&bytes)));
    }
    stored.sort();

    let mut config = DicomWebConfig::new(
        "test-dicomweb",
        format!(
            "{}/dicom-web/",
            orthanc_config().endpoint.url.trim_end_matches('/')
        ),
    );
    config.endpoint.credentials = orthanc_config().endpoint.credentials;
    let web = DicomWebStore::connect(&config).unwrap();

    let out = tempfile::tempdir().unwrap();
    for (name, report) in [
        (
            "orthanc",
            store
                .export_studies(&target, &out.path().join("rest"))
                .await,
        ),
        (
            "dicomweb",
            web.export_studies(&target, &out.path().join("wado")).await,
        ),
    ] {
        let report = report.unwrap();
        let dir = out
            .path()
            .join(if name == "orthanc" { "rest" } else { "wado" });
        let mut got: Vec<String> = Vec::new();
        for f in report.manifest.studies.iter().flat_map(|s| &s.files) {
            assert!(
                !f.path.contains("GDPR-CANARY"),
                "{name}: a file name shows the patient"
            );
            let bytes = std::fs::read(dir.join(&f.path)).unwrap();
            assert_eq!(bytes.len() as u64, f.bytes, "{name}");
            assert_eq!(
                hex(&Sha256::digest(&bytes)),
                f.sha256,
                "{name}: manifest digest"
            );
            got.push(f.sha256.clone());
        }
        got.sort();
        assert_eq!(
            got, stored,
            "{name}: the exported files are the stored ones"
        );
        // No staging or archive file is left beside the export.
        let stray: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(stray.is_empty(), "{name}: {stray:?}");
    }
}
