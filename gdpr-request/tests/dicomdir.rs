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

// ---- non-image records -----------------------------------------------------

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;
use gdpr_dicom::synthetic::{Instance, sr};

fn put(o: &mut InMemDicomObject, tag: (u16, u16), vr: VR, v: &str) {
    o.put(DataElement::new(
        Tag(tag.0, tag.1),
        vr,
        PrimitiveValue::from(v),
    ));
}

fn code(value: &str, meaning: &str) -> InMemDicomObject {
    let mut c = InMemDicomObject::new_empty();
    put(&mut c, (0x0008, 0x0100), VR::SH, value);
    put(&mut c, (0x0008, 0x0102), VR::SH, "DCM");
    put(&mut c, (0x0008, 0x0104), VR::LO, meaning);
    c
}

/// A non-image object of the target's first study, series `series`.
fn object(class: &str, series: u32, modality: &str) -> InMemDicomObject {
    let study = study_uid(TARGET, 1);
    let mut o = InMemDicomObject::new_empty();
    put(&mut o, (0x0008, 0x0016), VR::UI, class);
    put(
        &mut o,
        (0x0008, 0x0018),
        VR::UI,
        &format!("{study}.{series}.1"),
    );
    put(&mut o, (0x0008, 0x0020), VR::DA, "19900105");
    put(&mut o, (0x0008, 0x0030), VR::TM, "101010");
    put(&mut o, (0x0008, 0x0060), VR::CS, modality);
    put(&mut o, (0x0010, 0x0010), VR::PN, "CANARY^NONIMAGE");
    put(&mut o, (0x0010, 0x0020), VR::LO, TARGET);
    put(&mut o, (0x0020, 0x000D), VR::UI, &study);
    put(
        &mut o,
        (0x0020, 0x000E),
        VR::UI,
        &format!("{study}.{series}"),
    );
    put(&mut o, (0x0020, 0x0011), VR::IS, &series.to_string());
    put(&mut o, (0x0020, 0x0013), VR::IS, "1");
    o
}

/// Writes an SR, a key object selection, a presentation state and an
/// encapsulated PDF of the target's first study into the folder store.
fn add_non_image_objects(fx: &Fixture) {
    let dir = fx.path("archive/due");
    let study = study_uid(TARGET, 1);
    let mut i = Instance::numbered("1.2.3", 1);
    i.patient_id = TARGET.into();
    i.study_uid = study.clone();
    i.series_uid = format!("{study}.10");
    i.sop_uid = format!("{study}.10.1");
    i.study_date = "19900105".into();
    let sr_set = sr::comprehensive_sr(&i, sr::content_items(&i));
    let mut ko = object("1.2.840.10008.5.1.4.1.1.88.59", 11, "KO");
    put(&mut ko, (0x0008, 0x0023), VR::DA, "19900105");
    put(&mut ko, (0x0008, 0x0033), VR::TM, "111111");
    ko.put(DataElement::new(
        Tag(0x0040, 0xA043),
        VR::SQ,
        DataSetSequence::from(vec![code("113000", "Of Interest")]),
    ));
    let mut pr = object("1.2.840.10008.5.1.4.1.1.11.1", 12, "PR");
    put(&mut pr, (0x0070, 0x0080), VR::CS, "GSPS");
    put(&mut pr, (0x0070, 0x0082), VR::DA, "19900105");
    put(&mut pr, (0x0070, 0x0083), VR::TM, "121212");
    let mut referenced = InMemDicomObject::new_empty();
    put(
        &mut referenced,
        (0x0020, 0x000E),
        VR::UI,
        &format!("{study}.1"),
    );
    let mut image = InMemDicomObject::new_empty();
    put(
        &mut image,
        (0x0008, 0x1150),
        VR::UI,
        "1.2.840.10008.5.1.4.1.1.2",
    );
    put(
        &mut image,
        (0x0008, 0x1155),
        VR::UI,
        &format!("{study}.1.1"),
    );
    referenced.put(DataElement::new(
        Tag(0x0008, 0x1140),
        VR::SQ,
        DataSetSequence::from(vec![image]),
    ));
    pr.put(DataElement::new(
        Tag(0x0008, 0x1115),
        VR::SQ,
        DataSetSequence::from(vec![referenced]),
    ));
    let mut pdf = object("1.2.840.10008.5.1.4.1.1.104.1", 13, "DOC");
    put(&mut pdf, (0x0042, 0x0010), VR::ST, "Discharge letter");
    put(&mut pdf, (0x0042, 0x0012), VR::LO, "application/pdf");
    pdf.put(DataElement::new(
        Tag(0x0042, 0x0011),
        VR::OB,
        PrimitiveValue::from(b"%PDF-1.4\n%%EOF\n".to_vec()),
    ));
    for (name, set) in [("sr", sr_set), ("ko", ko), ("pr", pr), ("pdf", pdf)] {
        let file = std::fs::File::create(dir.join(format!("{name}.dcm"))).unwrap();
        sr::write_sr(&set, file).unwrap();
    }
}

/// PS3.3 F.5, written down here independently of the writer: per record
/// type, the keys that must have a value (Type 1) and those that must be
/// present (Type 2).
type Keys = &'static [(u16, u16)];

/// (record type, Type 1 keys, Type 2 keys).
const REQUIRED: &[(&str, Keys, Keys)] = &[
    (
        "SR DOCUMENT",
        &[
            (0x0020, 0x0013),
            (0x0040, 0xA491),
            (0x0040, 0xA493),
            (0x0008, 0x0023),
            (0x0008, 0x0033),
            (0x0040, 0xA043),
        ],
        &[],
    ),
    (
        "KEY OBJECT DOC",
        &[
            (0x0020, 0x0013),
            (0x0008, 0x0023),
            (0x0008, 0x0033),
            (0x0040, 0xA043),
        ],
        &[],
    ),
    (
        "PRESENTATION",
        // Referenced Series Sequence: 1C, the state references a series.
        &[
            (0x0070, 0x0082),
            (0x0070, 0x0083),
            (0x0070, 0x0080),
            (0x0008, 0x1115),
        ],
        &[(0x0070, 0x0081), (0x0070, 0x0084)],
    ),
    (
        "ENCAP DOC",
        &[(0x0042, 0x0012)],
        &[
            (0x0020, 0x0013),
            (0x0008, 0x0023),
            (0x0008, 0x0033),
            (0x0042, 0x0010),
            (0x0040, 0xA043),
        ],
    ),
];

fn has_value(record: &InMemDicomObject, tag: (u16, u16)) -> bool {
    record
        .element(Tag(tag.0, tag.1))
        .is_ok_and(|e| match e.value() {
            dicom_core::value::Value::Sequence(s) => !s.items().is_empty(),
            v => v
                .to_str()
                .is_ok_and(|s| !s.trim_matches(['\0', ' ']).is_empty()),
        })
}

#[tokio::test]
async fn non_image_records_carry_the_keys_of_their_record_type() {
    let fx = Fixture::new();
    add_non_image_objects(&fx);
    RequestDir::create(&fx.path("requests"), &request("dsr-n", RequestKind::Access)).unwrap();
    let mut ex = open(&fx, "dsr-n", fx.log(), None).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    ex.step(Event::Assessed).await.unwrap();
    ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
    ex.run().await.unwrap();
    let dicomdir = ex
        .dir()
        .path()
        .join(PACKAGE_DIR)
        .join("pacs")
        .join(DICOMDIR);
    let file = dicom_object::open_file(&dicomdir).unwrap();
    let records = file
        .element(Tag(0x0004, 0x1220))
        .unwrap()
        .items()
        .unwrap()
        .to_vec();
    let kind_of = |r: &InMemDicomObject| {
        r.element(Tag(0x0004, 0x1430))
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end()
            .to_owned()
    };
    for (kind, type1, type2) in REQUIRED {
        let of_kind: Vec<&InMemDicomObject> =
            records.iter().filter(|r| kind_of(r) == *kind).collect();
        assert_eq!(of_kind.len(), 1, "one {kind} record");
        let r = of_kind[0];
        for tag in *type1 {
            assert!(has_value(r, *tag), "{kind}: Type 1 key {tag:04X?} missing");
        }
        for tag in *type2 {
            assert!(
                r.element(Tag(tag.0, tag.1)).is_ok(),
                "{kind}: Type 2 key {tag:04X?} missing"
            );
        }
    }
    let images = records.iter().filter(|r| kind_of(r) == "IMAGE").count();
    assert_eq!(images, 6, "the images are still IMAGE records");
    if cfg!(feature = "dicom-tools") {
        let out = std::process::Command::new("dciodvfy")
            .arg(&dicomdir)
            .output()
            .expect("dciodvfy is not installed: apt-get install -y dicom3tools");
        let report = String::from_utf8_lossy(&out.stderr).into_owned();
        let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("Error")).collect();
        assert!(errors.is_empty(), "dciodvfy: {errors:#?}\n{report}");
    }
}
