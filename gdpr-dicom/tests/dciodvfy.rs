//! Every output passes `dciodvfy` (dicom3tools) with no error that its input
//! did not already have.
//!
//! Runs when `GDPR_DICOM_TOOLS=1` (set by scripts/test.sh, which installs
//! dicom3tools) and then FAILS if `dciodvfy` is missing.

mod support;

use std::collections::BTreeSet;
use std::process::Command;

use gdpr_dicom::deid::{DeidOption, DeidOptions, Deidentifier, ProjectKey};
use gdpr_dicom::synthetic::canary::*;
use gdpr_dicom::synthetic::{Instance, Kind, write};

fn enabled() -> bool {
    std::env::var("GDPR_DICOM_TOOLS").is_ok_and(|v| v == "1")
}

/// The set of error messages of `dciodvfy` for `bytes`, with values (after
/// " = <" or in "<...>" value lists) removed so that input and output compare.
fn errors(bytes: &[u8]) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.dcm");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("dciodvfy")
        .arg(&path)
        .output()
        .expect("dciodvfy is not installed: apt-get install -y dicom3tools");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.starts_with("Error"))
        .map(|l| l.split(" = <").next().unwrap_or(l).trim().to_owned())
        .collect()
}

fn check(name: &str, input: &[u8], deid: &Deidentifier) {
    let mut out = Vec::new();
    match deid.deidentify_stream(&mut &input[..], &mut out) {
        Err(e) if !deid.options().contains(DeidOption::CleanStructuredContent) => {
            // Report text is refused without the cleaning option.
            assert_eq!(e.refusal(), Some("structured-content"), "{name}: {e}");
            return;
        }
        r => {
            r.unwrap();
        }
    }
    let (before, after) = (errors(input), errors(&out));
    if let Ok(dir) = std::env::var("GDPR_DICOM_KEEP") {
        let stem = name.replace(' ', "_");
        std::fs::write(format!("{dir}/{stem}_in.dcm"), input).unwrap();
        std::fs::write(format!("{dir}/{stem}_out.dcm"), &out).unwrap();
    }
    let new: Vec<_> = after.difference(&before).collect();
    assert!(new.is_empty(), "{name}: new dciodvfy errors {new:#?}");
}

/// A CT with an overlay plane in group 6000 (its data removed by the
/// profile, so the whole plane must go).
fn ct_with_overlay() -> Vec<u8> {
    use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
    let i = Instance::numbered("1.2.826.0.1.3680043.10.9999.8", 3);
    let mut o = gdpr_dicom::synthetic::header(Kind::Ct { rows: 8, cols: 8 }, &i);
    let us = |v: u16| PrimitiveValue::from(v);
    o.put(DataElement::new(Tag(0x6000, 0x0010), VR::US, us(8)));
    o.put(DataElement::new(Tag(0x6000, 0x0011), VR::US, us(8)));
    o.put(DataElement::new(
        Tag(0x6000, 0x0040),
        VR::CS,
        PrimitiveValue::from("G"),
    ));
    o.put(DataElement::new(
        Tag(0x6000, 0x0050),
        VR::SS,
        PrimitiveValue::I16(vec![1, 1].into()),
    ));
    o.put(DataElement::new(Tag(0x6000, 0x0100), VR::US, us(1)));
    o.put(DataElement::new(Tag(0x6000, 0x0102), VR::US, us(0)));
    o.put(DataElement::new(
        Tag(0x6000, 0x3000),
        VR::OW,
        PrimitiveValue::from(vec![0xFFu8; 8]),
    ));
    o.put(DataElement::new(
        Tag(0x7FE0, 0x0010),
        VR::OW,
        PrimitiveValue::from(vec![0u8; 128]),
    ));
    to_file_bytes(o, "1.2.840.10008.1.2.1")
}

/// A Comprehensive SR whose report text names the patient.
fn comprehensive_sr() -> Vec<u8> {
    use gdpr_dicom::synthetic::sr::{comprehensive_sr, content_items, write_sr};
    let i = Instance::numbered("1.2.826.0.1.3680043.10.9999.8", 4);
    let mut v = Vec::new();
    write_sr(&comprehensive_sr(&i, content_items(&i)), &mut v).unwrap();
    v
}

fn synthetic(kind: Kind) -> Vec<u8> {
    let mut i = Instance::numbered("1.2.826.0.1.3680043.10.9999.8", 2);
    i.references = vec!["1.2.826.0.1.3680043.10.9999.8.1.1.1".into()];
    let mut v = Vec::new();
    write(kind, &i, &mut v).unwrap();
    v
}

#[test]
fn outputs_are_as_valid_as_inputs() {
    if !enabled() {
        eprintln!("GDPR_DICOM_TOOLS is not 1: run scripts/test.sh to validate with dciodvfy");
        return;
    }
    let key = ProjectKey::from_bytes([9; 32]);
    let option_sets = [
        DeidOptions::basic(),
        DeidOptions::new([DeidOption::CleanStructuredContent]).unwrap(),
        DeidOptions::new([
            DeidOption::RetainLongitudinalModifiedDates,
            DeidOption::CleanDescriptors,
        ])
        .unwrap(),
        DeidOptions::new(
            DeidOption::ALL
                .into_iter()
                .filter(|o| *o != DeidOption::RetainLongitudinalFullDates),
        )
        .unwrap(),
    ];
    let inputs = [
        ("CT", synthetic(Kind::Ct { rows: 8, cols: 8 })),
        (
            "MR",
            synthetic(Kind::Mr {
                rows: 8,
                cols: 8,
                frames: 1,
            }),
        ),
        (
            "canary",
            to_file_bytes(canary_dataset().0, "1.2.840.10008.1.2.1"),
        ),
        (
            "canary implicit",
            to_file_bytes(canary_dataset().0, "1.2.840.10008.1.2"),
        ),
        (
            "canary big endian",
            to_file_bytes(canary_dataset().0, "1.2.840.10008.1.2.2"),
        ),
        (
            "basic text SR",
            to_file_bytes(basic_text_sr(), "1.2.840.10008.1.2.1"),
        ),
        ("CT with overlay", ct_with_overlay()),
        ("comprehensive SR", comprehensive_sr()),
        (
            "presentation state",
            to_file_bytes(
                gsps(&canary_uid(1), &canary_uid(2), &[canary_uid(3)]),
                "1.2.840.10008.1.2.1",
            ),
        ),
    ];
    // dciodvfy really runs: the canary file breaks many rules.
    assert!(
        errors(&inputs[2].1).len() > 10,
        "dciodvfy reported nothing: is it working?"
    );
    let sr_errors = errors(&inputs[5].1);
    assert!(
        sr_errors.len() < 5,
        "the SR sample should be nearly valid: {sr_errors:?}"
    );
    let pr_errors = errors(&inputs[7].1);
    assert!(
        pr_errors.len() < 5,
        "the GSPS sample should be nearly valid: {pr_errors:?}"
    );
    let csr_errors = errors(&inputs[8].1);
    assert!(
        csr_errors.len() < 5,
        "the comprehensive SR sample should be nearly valid: {csr_errors:?}"
    );
    for options in option_sets {
        let deid = Deidentifier::new(&key, options);
        for (name, bytes) in &inputs {
            check(name, bytes, &deid);
        }
    }
}
