//! The DICOM part of an access package is a PS3.10 file-set: File IDs of
//! at most eight characters from `A–Z 0–9 _`, a DICOMDIR whose offsets
//! lead from the root through PATIENT, STUDY and SERIES to one IMAGE
//! record per file, and (with the `dicom-tools` feature) `dciodvfy` finds
//! no error in it and `dcdirdmp` reads the same tree.

mod support;

use std::path::{Path, PathBuf};

use gdpr_core::request::{Event, RequestKind};
use gdpr_request::package::{DICOMDIR, verify_package};
use gdpr_request::{PACKAGE_DIR, RequestDir};
use support::*;

async fn package() -> (Fixture, PathBuf) {
    let fx = Fixture::new();
    RequestDir::create(&fx.path("requests"), &request("dsr-d", RequestKind::Access)).unwrap();
    let mut ex = open(&fx, "dsr-d", fx.log(), None).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    ex.step(Event::Assessed).await.unwrap();
    ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
    ex.run().await.unwrap();
    let package = ex.dir().path().join(PACKAGE_DIR);
    (fx, package)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The value of the element `(group,element)` in the explicit-VR-LE item
/// starting at `at` (item tag, length, then elements with short VRs only,
/// as our records have).
fn element(b: &[u8], at: usize, tag: (u16, u16)) -> Option<&[u8]> {
    assert_eq!(&b[at..at + 4], &[0xFE, 0xFF, 0x00, 0xE0], "no item at {at}");
    let end = at + 8 + u32_at(b, at + 4) as usize;
    let mut p = at + 8;
    while p < end {
        let (g, e) = (u16_at(b, p), u16_at(b, p + 2));
        let len = u16_at(b, p + 6) as usize;
        if (g, e) == tag {
            return Some(&b[p + 8..p + 8 + len]);
        }
        p += 8 + len;
    }
    None
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v)
        .trim_end_matches(['\0', ' '])
        .to_owned()
}

/// Follows the offsets from the root: (record type, depth, file ID) in
/// tree order.
fn walk(b: &[u8], first: u32, depth: usize, out: &mut Vec<(String, usize, String)>) {
    let mut at = first as usize;
    while at != 0 {
        let kind = text(element(b, at, (0x0004, 0x1430)).unwrap());
        let file = element(b, at, (0x0004, 0x1500))
            .map(text)
            .unwrap_or_default();
        out.push((kind, depth, file));
        let lower = u32_at(element(b, at, (0x0004, 0x1420)).unwrap(), 0);
        if lower != 0 {
            walk(b, lower, depth + 1, out);
        }
        at = u32_at(element(b, at, (0x0004, 0x1400)).unwrap(), 0) as usize;
    }
}

/// The root offset (0004,1200), found by its tag and VR in the data set.
fn root_offset(b: &[u8]) -> u32 {
    let needle = [0x04, 0x00, 0x00, 0x12, b'U', b'L', 4, 0];
    let at = b.windows(8).position(|w| w == needle).unwrap();
    u32_at(b, at + 8)
}

fn tree(dicomdir: &Path) -> Vec<(String, usize, String)> {
    let b = std::fs::read(dicomdir).unwrap();
    assert_eq!(&b[128..132], b"DICM");
    let mut out = Vec::new();
    walk(&b, root_offset(&b), 0, &mut out);
    out
}

#[tokio::test]
async fn the_dicom_part_is_a_file_set_with_a_dicomdir() {
    let (fx, package) = package().await;
    let manifest = verify_package(&package, &fx.signer().verifier()).unwrap();
    let dicomdir = package.join("pacs").join(DICOMDIR);
    let records = tree(&dicomdir);
    let kinds: Vec<(&str, usize)> = records.iter().map(|(k, d, _)| (k.as_str(), *d)).collect();
    let mut expected = vec![("PATIENT", 0)];
    for _study in 0..3 {
        expected.extend([("STUDY", 1), ("SERIES", 2), ("IMAGE", 3), ("IMAGE", 3)]);
    }
    assert_eq!(kinds, expected);

    // Every IMAGE names a file of the package that exists, by a File ID of
    // PS3.10 components; every DICOM file of the package is named once.
    let mut named: Vec<String> = Vec::new();
    for (kind, _, file) in &records {
        if kind == "IMAGE" {
            let parts: Vec<&str> = file.split('\\').collect();
            assert!(parts.len() <= 8, "{file}");
            for p in &parts {
                assert!(
                    !p.is_empty()
                        && p.len() <= 8
                        && p.bytes()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_'),
                    "component {p:?} of {file}"
                );
            }
            assert!(
                package.join("pacs").join(parts.join("/")).is_file(),
                "{file}"
            );
            named.push(format!("pacs/{}", parts.join("/")));
        }
    }
    let mut dicom: Vec<String> = manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with("pacs/DICOM/"))
        .map(|f| f.path.clone())
        .collect();
    named.sort();
    dicom.sort();
    assert_eq!(named, dicom);
    assert_eq!(dicom.len(), 6);
    assert!(manifest.files.iter().all(|f| !f.path.ends_with(".dcm")));
    assert!(manifest.files.iter().any(|f| f.path == "pacs/DICOMDIR"));

    // The system's own manifest names the moved files.
    let export: serde_json::Value =
        serde_json::from_slice(&std::fs::read(package.join("pacs/manifest.json")).unwrap())
            .unwrap();
    let paths: Vec<&str> = export["studies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["files"].as_array().unwrap())
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 6);
    for p in paths {
        assert!(package.join("pacs").join(p).is_file(), "{p}");
    }
    if cfg!(feature = "dicom-tools") {
        real_tools(&dicomdir, records.len());
    }
}

/// dicom3tools: `dciodvfy` validates the Basic Directory IOD, `dcdirdmp`
/// follows the offsets the way a viewer's import does.
fn real_tools(dicomdir: &Path, records: usize) {
    let out = std::process::Command::new("dciodvfy")
        .arg(dicomdir)
        .output()
        .expect("dciodvfy is not installed: apt-get install -y dicom3tools");
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("Error")).collect();
    assert!(errors.is_empty(), "dciodvfy: {errors:#?}\n{report}");
    assert!(report.contains("BasicDirectory"), "{report}");

    let out = std::process::Command::new("dcdirdmp")
        .arg(dicomdir)
        .output()
        .expect("dcdirdmp is not installed: apt-get install -y dicom3tools");
    let dump =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{dump}");
    let images = dump.matches(" -> DICOM\\ST").count();
    assert_eq!(images, 6, "dcdirdmp's IMAGE records of {records}:\n{dump}");
    assert_eq!(dump.matches("PATIENT").count(), 1, "{dump}");
    assert_eq!(dump.matches("\tSTUDY").count(), 3, "{dump}");
}
