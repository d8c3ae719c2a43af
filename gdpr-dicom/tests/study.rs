//! A multi-file study through the batch API: consistent, injective UID
//! mapping, references that resolve, robustness against bad input, burned-in
//! refusal and quarantine.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dicom_core::Tag;
use dicom_object::InMemDicomObject;
use gdpr_dicom::Error;
use gdpr_dicom::deid::{
    BurnedInPolicy, DeidOptions, Deidentifier, ProjectKey, collect_inputs, deidentify_all,
};
use gdpr_dicom::synthetic::canary::*;
use gdpr_dicom::synthetic::{Instance, Kind, write};
use support::{contains, read};

const ROOT: &str = "1.2.826.0.1.3680043.10.9999.7";

fn text(o: &InMemDicomObject, tag: Tag) -> String {
    o.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
        .unwrap_or_default()
}

/// Two series of one study; every slice after the first references the
/// previous one.
fn write_study(dir: &Path) -> Vec<Instance> {
    let mut all = Vec::new();
    for series in 1..=2u32 {
        for n in 1..=3u32 {
            let mut i = Instance::numbered(ROOT, n);
            i.series_uid = format!("{ROOT}.1.{series}");
            i.sop_uid = format!("{ROOT}.1.{series}.{n}");
            if n > 1 {
                i.references = vec![format!("{ROOT}.1.{series}.{}", n - 1)];
            }
            let f = std::fs::File::create(dir.join(format!("DOE_JANE_{series}_{n}.dcm"))).unwrap();
            write(Kind::Ct { rows: 16, cols: 16 }, &i, f).unwrap();
            all.push(i);
        }
    }
    all
}

fn outputs(dir: &Path) -> Vec<PathBuf> {
    collect_inputs(&[dir.to_owned()]).unwrap()
}

#[test]
fn uid_mapping_is_consistent_injective_and_references_resolve() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    std::fs::create_dir_all(&input).unwrap();
    let instances = write_study(&input);
    let deid = Deidentifier::new(&ProjectKey::from_bytes([3; 32]), DeidOptions::basic());
    let files = collect_inputs(std::slice::from_ref(&input)).unwrap();
    let results = deidentify_all(&deid, &files, &out, 2, &|_| {}).unwrap();
    assert!(results.iter().all(|r| r.result.is_ok()));

    // Original → new, collected over every UID-valued attribute.
    let mut mapping: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sops = BTreeSet::new();
    let mut referenced = BTreeSet::new();
    for (r, i) in results.iter().zip(&instances) {
        let o = r.result.as_ref().unwrap();
        let path = out.join(o.relative_path());
        let file = read(&std::fs::read(&path).unwrap());
        for (orig, tag) in [
            (&i.study_uid, Tag(0x0020, 0x000D)),
            (&i.series_uid, Tag(0x0020, 0x000E)),
            (&i.sop_uid, Tag(0x0008, 0x0018)),
            (&i.frame_of_reference_uid, Tag(0x0020, 0x0052)),
        ] {
            mapping
                .entry(orig.clone())
                .or_default()
                .insert(text(&file, tag));
        }
        assert_eq!(o.sop_uid(), text(&file, Tag(0x0008, 0x0018)));
        assert_eq!(file.meta().media_storage_sop_instance_uid(), o.sop_uid());
        assert!(path.ends_with(format!(
            "{}/{}/{}.dcm",
            o.study_uid(),
            o.series_uid(),
            o.sop_uid()
        )));
        sops.insert(o.sop_uid().to_owned());
        if let Some(items) = file.get(Tag(0x0008, 0x1140)).and_then(|e| e.items()) {
            for item in items {
                let new = text(item, Tag(0x0008, 0x1155));
                mapping
                    .entry(i.references[0].clone())
                    .or_default()
                    .insert(new.clone());
                referenced.insert(new);
            }
        }
    }
    // A function: every original maps to exactly one new UID.
    assert!(mapping.values().all(|news| news.len() == 1), "{mapping:?}");
    // Injective: distinct originals map to distinct new UIDs.
    let news: BTreeSet<_> = mapping.values().flatten().collect();
    assert_eq!(news.len(), mapping.len());
    // Every reference points at an output instance.
    assert_eq!(referenced.len(), 4);
    assert!(referenced.is_subset(&sops));
    // Output paths hold nothing of the input names.
    for p in outputs(&out) {
        let s = p.to_string_lossy();
        assert!(
            !s.contains("DOE") && !s.contains(ROOT) && !s.contains(".partial"),
            "{s}"
        );
    }
}

#[test]
fn file_by_file_gives_the_same_result_as_a_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    write_study(&input);
    let deid = Deidentifier::new(&ProjectKey::from_bytes([4; 32]), DeidOptions::basic());
    let files = collect_inputs(std::slice::from_ref(&input)).unwrap();
    deidentify_all(&deid, &files, &tmp.path().join("a"), 3, &|_| {}).unwrap();
    for f in &files {
        deid.deidentify_file(f, &tmp.path().join("b")).unwrap();
    }
    let a = outputs(&tmp.path().join("a"));
    let b = outputs(&tmp.path().join("b"));
    assert_eq!(a.len(), 6);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
    }
}

#[test]
fn bad_inputs_fail_alone_with_a_reason_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    std::fs::create_dir_all(&input).unwrap();
    write_study(&input);
    let good = std::fs::read(input.join("DOE_JANE_1_1.dcm")).unwrap();
    // Truncated inside the header (just after the patient's name) and
    // inside the pixel data.
    let name_at = good.windows(8).position(|w| w == b"DOE^JANE").unwrap();
    std::fs::write(input.join("trunc_header.dcm"), &good[..name_at + 12]).unwrap();
    std::fs::write(input.join("trunc_pixels.dcm"), &good[..good.len() - 100]).unwrap();
    std::fs::write(input.join("notes.txt"), "DOE^JANE was here").unwrap();
    // A meta element claiming 4 GB (File Meta Information Version, OB).
    let mut huge = good.clone();
    let at = huge
        .windows(6)
        .position(|w| w == b"\x02\x00\x01\x00OB")
        .unwrap();
    huge[at + 8..at + 12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    std::fs::write(input.join("huge_meta_length.dcm"), &huge).unwrap();
    // A deflated file: its meta says so, the rest is a zlib stream.
    let meta = dicom_object::FileMetaTableBuilder::new()
        .transfer_syntax("1.2.840.10008.1.2.1.99")
        .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.2")
        .media_storage_sop_instance_uid(format!("{ROOT}.5"))
        .implementation_class_uid("1.2.826.0.1.3680043.10.1")
        .build()
        .unwrap();
    let mut deflated = vec![0u8; 128];
    deflated.extend_from_slice(b"DICM");
    meta.write(&mut deflated).unwrap();
    deflated.extend_from_slice(&[0x78, 0x9C, 1, 2, 3, 4]);
    std::fs::write(input.join("deflated.dcm"), &deflated).unwrap();

    let deid = Deidentifier::new(&ProjectKey::from_bytes([5; 32]), DeidOptions::basic());
    let files = collect_inputs(std::slice::from_ref(&input)).unwrap();
    let results = deidentify_all(&deid, &files, &out, 2, &|_| {}).unwrap();
    let by_name: BTreeMap<String, &Result<_, Error>> = results
        .iter()
        .map(|r| {
            (
                r.input.file_name().unwrap().to_string_lossy().into_owned(),
                &r.result,
            )
        })
        .collect();
    assert!(matches!(by_name["notes.txt"], Err(Error::NotDicom { .. })));
    assert!(matches!(
        by_name["huge_meta_length.dcm"],
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        by_name["trunc_header.dcm"],
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        by_name["trunc_pixels.dcm"],
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        by_name["deflated.dcm"],
        Err(Error::UnsupportedTransferSyntax { .. })
    ));
    assert_eq!(results.iter().filter(|r| r.result.is_ok()).count(), 6);
    for r in &results {
        if let Err(e) = &r.result {
            let msg = format!("{e} {e:?}");
            assert!(
                !msg.contains("DOE") && !msg.contains(ROOT) && !msg.contains("SYN-000123"),
                "{msg}"
            );
        }
    }
    // Nothing half-written: only the six good outputs, no temporary files.
    let written = outputs(&out);
    assert_eq!(written.len(), 6, "{written:?}");
    assert!(
        written
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "dcm"))
    );
}

#[test]
fn burned_in_suspects_are_refused_or_quarantined() {
    let (mut o, _) = canary_dataset();
    o.put(dicom_core::DataElement::new(
        Tag(0x0028, 0x0301),
        dicom_core::VR::CS,
        "YES",
    ));
    let yes = to_file_bytes(o, "1.2.840.10008.1.2.1");
    let mut us = Instance::numbered(ROOT, 1);
    us.patient_id = "US-1".into();
    let mut us_bytes = Vec::new();
    write(Kind::Ct { rows: 4, cols: 4 }, &us, &mut us_bytes).unwrap();
    // Turn the CT into an ultrasound with no Burned In Annotation.
    let at = us_bytes
        .windows(6)
        .position(|w| w == b"\x08\x00\x60\x00CS")
        .unwrap();
    us_bytes[at + 8..at + 10].copy_from_slice(b"US");
    let ba = us_bytes
        .windows(6)
        .position(|w| w == b"\x28\x00\x01\x03CS")
        .unwrap();
    us_bytes[ba + 8..ba + 10].copy_from_slice(b"  ");

    let key = ProjectKey::from_bytes([6; 32]);
    let refuse = Deidentifier::new(&key, DeidOptions::basic());
    for bytes in [&yes, &us_bytes] {
        let mut out = Vec::new();
        let err = refuse
            .deidentify_stream(&mut bytes.as_slice(), &mut out)
            .unwrap_err();
        assert!(matches!(err, Error::BurnedIn { .. }), "{err}");
        assert!(out.is_empty(), "nothing written for a refused file");
    }
    let quarantine = Deidentifier::new(&key, DeidOptions::basic())
        .with_burned_in_policy(BurnedInPolicy::Quarantine);
    let mut out = Vec::new();
    let o = quarantine
        .deidentify_stream(&mut us_bytes.as_slice(), &mut out)
        .unwrap();
    assert!(o.quarantine_reason().is_some());
    assert!(o.relative_path().starts_with("quarantine"));
    assert!(!contains(&out, "DOE^JANE"));
}

#[test]
fn encapsulated_pixel_data_is_copied_byte_for_byte() {
    use dicom_core::value::{PixelFragmentSequence, Value};
    use dicom_core::{DataElement, VR};
    let (mut o, _) = canary_dataset();
    let fragments = vec![
        b"\xFF\xD8frame-one\xFF\xD9\x00".to_vec(),
        b"\xFF\xD8frame-two!\xFF\xD9".to_vec(),
    ];
    o.put(DataElement::new(
        Tag(0x7FE0, 0x0010),
        VR::OB,
        Value::from(PixelFragmentSequence::new(
            vec![0u32, 20],
            fragments.clone(),
        )),
    ));
    // JPEG Baseline: explicit VR little endian data set, encapsulated pixels.
    let input = to_file_bytes(o, "1.2.840.10008.1.2.4.50");
    let deid = Deidentifier::new(&ProjectKey::from_bytes([8; 32]), DeidOptions::basic());
    let mut out = Vec::new();
    deid.deidentify_stream(&mut input.as_slice(), &mut out)
        .unwrap();
    assert!(
        !contains(&out, CANARY),
        "a canary survived next to encapsulated pixel data"
    );
    let file = read(&out);
    let pixel = file.get(Tag(0x7FE0, 0x0010)).unwrap();
    let got: Vec<Vec<u8>> = pixel.fragments().unwrap().to_vec();
    assert_eq!(got, fragments);
    assert_eq!(pixel.offset_table().unwrap(), &[0, 20]);
    // Trailing elements after the pixel data were de-identified too.
    assert!(file.get(Tag(0xFFFA, 0xFFFA)).is_none() && file.get(Tag(0xFFFC, 0xFFFC)).is_none());
}

#[cfg(feature = "danger-reidentify")]
#[test]
fn danger_map_reidentifies_only_what_it_recorded() {
    use gdpr_dicom::deid::danger::ReidentificationMap;
    let map = std::sync::Arc::new(ReidentificationMap::new());
    let deid = Deidentifier::new(&ProjectKey::from_bytes([10; 32]), DeidOptions::basic())
        .danger_with_reidentification_map(map.clone());
    let i = Instance::numbered(ROOT, 1);
    let mut input = Vec::new();
    write(Kind::Ct { rows: 2, cols: 2 }, &i, &mut input).unwrap();
    let mut out = Vec::new();
    let o = deid
        .deidentify_stream(&mut input.as_slice(), &mut out)
        .unwrap();
    assert_eq!(
        map.danger_reidentify(o.sop_uid()).as_deref(),
        Some(i.sop_uid.as_str())
    );
    assert_eq!(
        map.danger_reidentify(o.study_uid()).as_deref(),
        Some(i.study_uid.as_str())
    );
    let pseudonym = text(&read(&out), Tag(0x0010, 0x0020));
    assert_eq!(
        map.danger_reidentify(&pseudonym).as_deref(),
        Some(i.patient_id.as_str())
    );
    assert_eq!(map.danger_reidentify("2.25.1"), None);
    assert!(!format!("{map:?}").contains(&i.patient_id));
}

#[test]
fn a_presentation_state_still_points_at_its_images() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    std::fs::create_dir_all(&input).unwrap();
    let instances = write_study(&input);
    let series1: Vec<String> = instances[..3].iter().map(|i| i.sop_uid.clone()).collect();
    let pr = gsps(&instances[0].study_uid, &instances[0].series_uid, &series1);
    std::fs::write(
        input.join("pr.dcm"),
        to_file_bytes(pr, "1.2.840.10008.1.2.1"),
    )
    .unwrap();
    let deid = Deidentifier::new(&ProjectKey::from_bytes([11; 32]), DeidOptions::basic());
    let files = collect_inputs(std::slice::from_ref(&input)).unwrap();
    let results = deidentify_all(&deid, &files, &out, 2, &|_| {}).unwrap();
    let mut images = BTreeMap::new();
    let mut pr_file = None;
    for r in &results {
        let o = r.result.as_ref().unwrap();
        let f = read(&std::fs::read(out.join(o.relative_path())).unwrap());
        if r.input.ends_with("pr.dcm") {
            pr_file = Some(f);
        } else {
            images.insert(o.sop_uid().to_owned(), o.series_uid().to_owned());
        }
    }
    let pr = pr_file.unwrap();
    let series = &pr.get(Tag(0x0008, 0x1115)).and_then(|e| e.items()).unwrap()[0];
    let series_uid = text(series, Tag(0x0020, 0x000E));
    let refs = series
        .get(Tag(0x0008, 0x1140))
        .and_then(|e| e.items())
        .unwrap();
    assert_eq!(refs.len(), 3);
    for r in refs {
        let sop = text(r, Tag(0x0008, 0x1155));
        assert_eq!(
            images.get(&sop),
            Some(&series_uid),
            "reference does not resolve"
        );
    }
    assert_eq!(
        text(&pr, Tag(0x0070, 0x0082)).len(),
        8,
        "creation date dummy kept"
    );
}

/// A CT file of `i` with a pixel data value of `pixel_bytes` bytes, in
/// transfer syntax `ts`.
fn ct_bytes(i: &Instance, pixel_bytes: usize, ts: &str) -> Vec<u8> {
    use dicom_core::{DataElement, PrimitiveValue, VR};
    let mut o = gdpr_dicom::synthetic::header(Kind::Ct { rows: 8, cols: 8 }, i);
    o.put(DataElement::new(
        Tag(0x7FE0, 0x0010),
        VR::OW,
        PrimitiveValue::from(vec![7u8; pixel_bytes]),
    ));
    to_file_bytes(o, ts)
}

#[test]
fn inputs_sharing_a_sop_uid_never_overwrite_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    std::fs::create_dir_all(&input).unwrap();
    let same = Instance::numbered(ROOT, 1);
    // The first input in order is big, so that later inputs with the same
    // UID usually finish first: the first input must win all the same.
    let mut big = same.clone();
    big.instance_number = 99;
    let files: Vec<PathBuf> = [
        (
            "a_first_big",
            ct_bytes(&big, 24 << 20, "1.2.840.10008.1.2.1"),
        ),
        (
            "b_other",
            ct_bytes(&Instance::numbered(ROOT, 2), 128, "1.2.840.10008.1.2.1"),
        ),
        ("c_same_uid", ct_bytes(&same, 128, "1.2.840.10008.1.2.1")),
        ("d_copy_of_c", ct_bytes(&same, 128, "1.2.840.10008.1.2.1")),
        ("e_c_implicit", ct_bytes(&same, 128, "1.2.840.10008.1.2")),
    ]
    .into_iter()
    .map(|(name, bytes)| {
        let p = input.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    })
    .collect();
    let deid = Deidentifier::new(&ProjectKey::from_bytes([3; 32]), DeidOptions::basic());
    let alone = tmp.path().join("alone");
    let expected = deid.deidentify_file(&files[0], &alone).unwrap();
    let expected_bytes = std::fs::read(alone.join(expected.relative_path())).unwrap();

    for run in 0..3 {
        let out = out.join(run.to_string());
        let results = deidentify_all(&deid, &files, &out, 4, &|_| {}).unwrap();
        let r: Vec<_> = results.iter().map(|r| &r.result).collect();
        assert!(r[0].is_ok() && r[1].is_ok(), "{r:?}");
        // A different instance under the first input's UID.
        assert!(
            matches!(r[2], Err(Error::UidCollision { first_input: 1 })),
            "{r:?}"
        );
        assert!(
            matches!(r[3], Err(Error::UidCollision { first_input: 1 })),
            "{r:?}"
        );
        assert!(
            matches!(r[4], Err(Error::UidCollision { first_input: 1 })),
            "{r:?}"
        );
        let written = outputs(&out);
        assert_eq!(written.len(), 2, "{written:?}");
        let first = out.join(r[0].as_ref().unwrap().relative_path());
        assert!(
            std::fs::read(first).unwrap() == expected_bytes,
            "the first input wins"
        );
    }

    // Without the big one: a copy and the same instance in another transfer
    // syntax are duplicates of the first.
    let out = out.join("dup");
    let results = deidentify_all(&deid, &files[1..], &out, 4, &|_| {}).unwrap();
    let r: Vec<_> = results.iter().map(|r| &r.result).collect();
    assert!(r[0].is_ok() && r[1].is_ok(), "{r:?}");
    assert!(
        matches!(r[2], Err(Error::Duplicate { first_input: 2 })),
        "{r:?}"
    );
    assert!(
        matches!(r[3], Err(Error::Duplicate { first_input: 2 })),
        "{r:?}"
    );
    assert_eq!(outputs(&out).len(), 2);
    let debug = format!("{r:?}");
    assert!(!debug.contains(ROOT), "{debug}");
}
