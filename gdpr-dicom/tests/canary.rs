//! Every attribute of PS3.15 Table E.1-1 carries a distinct canary; after
//! de-identification no canary survives anywhere in the output bytes, and
//! every attribute got the action the table (and the options) give it.

mod support;

use dicom_core::header::Header as _;
use dicom_core::{Tag, VR};
use dicom_object::InMemDicomObject;
use gdpr_dicom::deid::attr_type::PRESENT_ONLY_WITH;
use gdpr_dicom::deid::{Action, DeidOption, DeidOptions, Deidentifier, ProjectKey, resolve};
use gdpr_dicom::synthetic::canary::*;
use support::{contains, read};

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";

fn key() -> ProjectKey {
    ProjectKey::from_bytes([7; 32])
}

fn run(deid: &Deidentifier, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    deid.deidentify_stream(&mut &input[..], &mut out)
        .expect("de-identified");
    out
}

fn text(o: &InMemDicomObject, tag: Tag) -> Option<String> {
    o.get(tag).map(|e| {
        e.to_str()
            .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
            .unwrap_or_default()
    })
}

/// A Type 1C attribute removed because its condition was removed
/// (`attr_type::PRESENT_ONLY_WITH`).
fn removed_with_its_condition(file: &InMemDicomObject, tag: Tag) -> bool {
    PRESENT_ONLY_WITH
        .iter()
        .any(|(dep, cond)| *dep == tag && file.get(*cond).is_none() && file.get(tag).is_none())
}

#[test]
fn no_canary_survives_the_basic_profile() {
    for ts in [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE] {
        let (o, placed) = canary_dataset();
        let input = to_file_bytes(o, ts);
        assert!(contains(&input, CANARY) && contains(&input, CANARY_TIME));
        let out = run(&Deidentifier::new(&key(), DeidOptions::basic()), &input);
        assert!(
            !contains(&out, CANARY),
            "a text or binary canary survived ({ts})"
        );
        assert!(
            !contains(&out, CANARY_TIME),
            "a time canary survived ({ts})"
        );
        assert!(
            !contains(&out, CANARY_UID_ROOT),
            "a canary UID survived ({ts})"
        );
        for (_, i) in &placed {
            assert!(
                !contains(&out, &canary_date(*i)),
                "canary date {i} survived ({ts})"
            );
        }
        // The pixel data and the trailer position are intact.
        assert!(out.windows(8).any(|w| w == [1, 2, 3, 4, 5, 6, 7, 8]));
    }
}

#[test]
fn each_attribute_gets_its_basic_action() {
    let (o, placed) = canary_dataset();
    let input = to_file_bytes(o, EXPLICIT_LE);
    let deid = Deidentifier::new(&key(), DeidOptions::basic());
    let file = read(&run(&deid, &input));
    let p = deid.pseudonymiser();
    let basic = DeidOptions::basic();
    let mut checked = 0;
    for (tag, i) in placed {
        let (action, row) = resolve(tag, &basic);
        let elem = file.get(tag);
        if removed_with_its_condition(&file, tag) {
            continue;
        }
        let name = row.map_or("?", |r| r.name());
        match action {
            Action::Remove => assert!(elem.is_none(), "{name} {tag} should be removed"),
            Action::Empty => {
                let e = elem.unwrap_or_else(|| panic!("{name} {tag} should be present"));
                if e.vr() == VR::SQ {
                    assert_eq!(e.items().map(<[_]>::len), Some(0), "{name}");
                } else if tag == Tag(0x0010, 0x0010) {
                    assert!(text(&file, tag).unwrap().starts_with("PSN"));
                } else {
                    assert_eq!(
                        text(&file, tag).as_deref(),
                        Some(""),
                        "{name} {tag} should be empty"
                    );
                }
            }
            Action::Dummy => {
                let e = elem.unwrap_or_else(|| panic!("{name} {tag} should have a dummy"));
                if e.vr() == VR::SQ {
                    let item = &e.items().unwrap()[0];
                    assert!(
                        item.get(Tag(0x0009, 0x1001)).is_none(),
                        "{name}: nested private kept"
                    );
                    assert!(!text(item, Tag(0x0010, 0x0010)).unwrap().contains(CANARY));
                } else {
                    let v = e.to_bytes().unwrap();
                    assert!(!v.is_empty(), "{name} {tag} dummy is empty");
                    assert_ne!(
                        v.as_ref(),
                        canary_value(e.vr(), i).unwrap().to_bytes().as_ref(),
                        "{name}"
                    );
                    if e.vr() == VR::DA {
                        assert!(
                            jiff::civil::Date::strptime("%Y%m%d", text(&file, tag).unwrap())
                                .is_ok()
                        );
                    }
                }
            }
            Action::ReplaceUid => {
                assert_eq!(
                    text(&file, tag),
                    Some(p.uid(&canary_uid(i))),
                    "{name} {tag}"
                );
            }
            Action::KeepReplacingUids => {
                let item = &file
                    .get(tag)
                    .and_then(|e| e.items())
                    .expect("sequence kept")[0];
                assert_eq!(
                    text(item, Tag(0x0008, 0x1155)),
                    Some(p.uid(&canary_uid(50000 + i)))
                );
                let deep = &item
                    .get(Tag(0x0008, 0x9215))
                    .and_then(|e| e.items())
                    .expect("nested kept")[0];
                assert_eq!(
                    text(deep, Tag(0x0008, 0x1155)),
                    Some(p.uid(&canary_uid(90000 + i)))
                );
                assert!(
                    deep.get(Tag(0x0008, 0x0080)).is_none(),
                    "nested Institution Name removed"
                );
            }
            other => panic!("{name}: unexpected {other:?} in the basic profile"),
        }
        checked += 1;
    }
    assert!(checked > 600, "only {checked} attributes checked");
    for g in [0x0009, 0x0019] {
        assert!(
            file.iter().all(|e| e.tag().group() != g),
            "private group {g:04X} kept"
        );
    }
    assert_eq!(text(&file, Tag(0x0012, 0x0062)).as_deref(), Some("YES"));
    let codes = file
        .get(Tag(0x0012, 0x0064))
        .and_then(|e| e.items())
        .unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(
        text(&codes[0], Tag(0x0008, 0x0100)).as_deref(),
        Some("113100")
    );
    assert!(file.get(Tag(0x0028, 0x0303)).is_none());
    let sop = text(&file, Tag(0x0008, 0x0018)).unwrap();
    assert_eq!(file.meta().media_storage_sop_instance_uid(), sop);
    assert!(file.meta().source_application_entity_title().is_none());
}

#[test]
fn options_keep_clean_and_shift() {
    let all_but_full: Vec<DeidOption> = DeidOption::ALL
        .into_iter()
        .filter(|o| *o != DeidOption::RetainLongitudinalFullDates)
        .collect();
    let options = DeidOptions::new(all_but_full).unwrap();
    let (o, placed) = canary_dataset();
    let issuer = text(&o, Tag(0x0010, 0x0021)).unwrap();
    let pid = text(&o, Tag(0x0010, 0x0020)).unwrap();
    let input = to_file_bytes(o.clone(), EXPLICIT_LE);
    let deid = Deidentifier::new(&key(), options.clone());
    let file = read(&run(&deid, &input));
    let shift = deid.pseudonymiser().date_shift_days(&issuer, &pid);
    let (mut kept, mut shifted) = (0, 0);
    for (tag, _) in placed {
        let (action, _) = resolve(tag, &options);
        let original = o.get(tag).unwrap();
        if removed_with_its_condition(&file, tag) {
            continue;
        }
        match (action, original.vr()) {
            (Action::Keep, VR::SQ) => assert!(file.get(tag).is_some(), "{tag} kept"),
            (Action::Keep, _) => {
                assert_eq!(text(&file, tag), text(&o, tag), "{tag} kept");
                kept += 1;
            }
            (Action::Clean, VR::DA) => {
                let before = jiff::civil::Date::strptime("%Y%m%d", text(&o, tag).unwrap()).unwrap();
                let after =
                    jiff::civil::Date::strptime("%Y%m%d", text(&file, tag).unwrap()).unwrap();
                assert_eq!(
                    before.until(after).unwrap().get_days() as i64,
                    shift,
                    "{tag} shifted"
                );
                shifted += 1;
            }
            (Action::Clean, VR::DT) => {
                let day = |v: String| jiff::civil::Date::strptime("%Y%m%d", &v[..8]).unwrap();
                let (before, after) = (day(text(&o, tag).unwrap()), day(text(&file, tag).unwrap()));
                assert_eq!(
                    before.until(after).unwrap().get_days() as i64,
                    shift,
                    "{tag} shifted"
                );
                assert_eq!(
                    text(&o, tag).unwrap()[8..],
                    text(&file, tag).unwrap()[8..],
                    "{tag} time kept"
                );
                shifted += 1;
            }
            (Action::Clean, VR::TM) => assert_eq!(text(&file, tag), text(&o, tag)),
            _ => {}
        }
    }
    assert!(kept > 50 && shifted > 20, "kept {kept}, shifted {shifted}");
    assert_eq!(
        text(&file, Tag(0x0019, 0x100C)).as_deref(),
        Some("1000"),
        "safe private kept"
    );
    assert!(file.get(Tag(0x0019, 0x0010)).is_some(), "its creator kept");
    assert!(file.get(Tag(0x0019, 0x1099)).is_none() && file.get(Tag(0x0009, 0x1001)).is_none());
    assert_eq!(
        text(&file, Tag(0x0028, 0x0303)).as_deref(),
        Some("MODIFIED")
    );
    let codes = file
        .get(Tag(0x0012, 0x0064))
        .and_then(|e| e.items())
        .unwrap();
    assert_eq!(codes.len(), 10);
}

#[test]
fn full_dates_are_kept_and_marked() {
    let options = DeidOptions::new([DeidOption::RetainLongitudinalFullDates]).unwrap();
    let (o, _) = canary_dataset();
    let study_date = text(&o, Tag(0x0008, 0x0020));
    let file = read(&run(
        &Deidentifier::new(&key(), options),
        &to_file_bytes(o, EXPLICIT_LE),
    ));
    assert_eq!(text(&file, Tag(0x0008, 0x0020)), study_date);
    assert_eq!(
        text(&file, Tag(0x0028, 0x0303)).as_deref(),
        Some("UNMODIFIED")
    );
}

#[test]
fn nested_datetimes_shift_with_the_patient() {
    // The report's TEXT item needs the cleaning option (it would be refused).
    let options = DeidOptions::new([
        DeidOption::RetainLongitudinalModifiedDates,
        DeidOption::CleanStructuredContent,
    ])
    .unwrap();
    let deid = Deidentifier::new(&key(), options);
    let file = read(&run(&deid, &to_file_bytes(basic_text_sr(), EXPLICIT_LE)));
    let shift = deid.pseudonymiser().date_shift_days("", "SYN-000123");
    let day = |v: &str| jiff::civil::Date::strptime("%Y%m%d", &v[..8]).unwrap();
    let content_date = text(&file, Tag(0x0008, 0x0023)).unwrap();
    assert_eq!(
        day("20240612")
            .until(day(&content_date))
            .unwrap()
            .get_days() as i64,
        shift
    );
    let items = file
        .get(Tag(0x0040, 0xA730))
        .and_then(|e| e.items())
        .unwrap();
    let nested = text(&items[1], Tag(0x0040, 0xA120)).unwrap();
    assert_eq!(&nested[8..], "101010", "time of day kept");
    // The interval between the nested DateTime and the Content Date stays.
    assert_eq!(
        day(&nested).until(day(&content_date)).unwrap().get_days(),
        1
    );
    let observer = &file
        .get(Tag(0x0040, 0xA073))
        .and_then(|e| e.items())
        .unwrap()[0];
    let verified = text(observer, Tag(0x0040, 0xA030)).unwrap();
    assert_eq!(day(&verified), day(&content_date));
    assert_eq!(
        text(&file, Tag(0x0028, 0x0303)).as_deref(),
        Some("MODIFIED")
    );
}

#[test]
fn safe_private_attributes_survive_in_implicit_vr_too() {
    let options = DeidOptions::new([DeidOption::RetainSafePrivate]).unwrap();
    let (o, _) = canary_dataset();
    let file = read(&run(
        &Deidentifier::new(&key(), options),
        &to_file_bytes(o, IMPLICIT_LE),
    ));
    let kept = file
        .get(Tag(0x0019, 0x100C))
        .map(|e| e.to_bytes().unwrap().into_owned());
    assert_eq!(
        kept.as_deref(),
        Some(b"1000".as_slice()),
        "safe b-value kept"
    );
    assert!(file.get(Tag(0x0019, 0x1099)).is_none() && file.get(Tag(0x0009, 0x1001)).is_none());
}

/// The synthetic report of a patient "Doe^John", ID "MRN-123".
fn doe_john() -> gdpr_dicom::synthetic::Instance {
    let mut i = gdpr_dicom::synthetic::Instance::numbered(CANARY_UID_ROOT, 5);
    i.patient_name = "Doe^John".into();
    i.patient_id = "MRN-123".into();
    i
}

fn sr_bytes(items: Vec<InMemDicomObject>) -> Vec<u8> {
    let mut out = Vec::new();
    let i = doe_john();
    gdpr_dicom::synthetic::sr::write_sr(
        &gdpr_dicom::synthetic::sr::comprehensive_sr(&i, items),
        &mut out,
    )
    .unwrap();
    out
}

const PATIENT_VALUES: &[&str] = &[
    "DOE",
    "JOHN",
    "MRN-123",
    "2024-06-11",
    "07.03.1961",
    "19610307",
    "HOUSE",
];

#[test]
fn report_text_is_refused_without_clean_structured_content() {
    use gdpr_dicom::synthetic::sr::content_items;
    let input = sr_bytes(content_items(&doe_john()));
    for options in [
        DeidOptions::basic(),
        DeidOptions::new([
            DeidOption::RetainLongitudinalModifiedDates,
            DeidOption::CleanDescriptors,
        ])
        .unwrap(),
    ] {
        let mut out = Vec::new();
        let err = Deidentifier::new(&key(), options)
            .deidentify_stream(&mut &input[..], &mut out)
            .unwrap_err();
        assert!(
            matches!(err, gdpr_dicom::Error::StructuredContent { .. }),
            "{err:?}"
        );
        assert_eq!(err.refusal(), Some("structured-content"));
        let shown = format!("{err} {err:?}");
        for v in PATIENT_VALUES {
            assert!(!contains(shown.as_bytes(), v), "{v} in {shown}");
        }
    }
    // Each identifying kind alone is refused; safe kinds pass.
    let items = content_items(&doe_john());
    let basic = Deidentifier::new(&key(), DeidOptions::basic());
    let verdict = |deid: &Deidentifier, items: Vec<InMemDicomObject>| {
        let mut out = Vec::new();
        deid.deidentify_stream(&mut &sr_bytes(items)[..], &mut out)
            .map(|_| ())
            .map_err(|e| e.refusal())
    };
    for (n, kind) in ["TEXT", "TEXT", "PNAME", "DATE"].iter().enumerate() {
        assert_eq!(
            verdict(&basic, vec![items[n].clone()]),
            Err(Some("structured-content")),
            "{kind}"
        );
    }
    assert_eq!(
        verdict(&basic, vec![items[4].clone()]),
        Ok(()),
        "a public code is kept"
    );
    let mut private = items[4].clone();
    let mut code = InMemDicomObject::new_empty();
    code.put(dicom_core::DataElement::new(
        Tag(0x0008, 0x0100),
        VR::SH,
        dicom_core::PrimitiveValue::from("4711"),
    ));
    code.put(dicom_core::DataElement::new(
        Tag(0x0008, 0x0102),
        VR::SH,
        dicom_core::PrimitiveValue::from("99HOSP"),
    ));
    code.put(dicom_core::DataElement::new(
        Tag(0x0008, 0x0104),
        VR::LO,
        dicom_core::PrimitiveValue::from("Doe John"),
    ));
    private.put(dicom_core::DataElement::new(
        Tag(0x0040, 0xA168),
        VR::SQ,
        dicom_core::value::DataSetSequence::new(vec![code], dicom_core::Length::UNDEFINED),
    ));
    assert_eq!(
        verdict(&basic, vec![private]),
        Err(Some("structured-content"))
    );
    // With a longitudinal option, dates follow that option instead.
    let shifted = Deidentifier::new(
        &key(),
        DeidOptions::new([DeidOption::RetainLongitudinalModifiedDates]).unwrap(),
    );
    assert_eq!(verdict(&shifted, vec![items[3].clone()]), Ok(()));
}

#[test]
fn clean_structured_content_masks_the_patient_everywhere_in_the_report() {
    use gdpr_dicom::deid::{TextPatterns, Uncleaned};
    use gdpr_dicom::synthetic::sr::{UNKNOWN_NUMBER_TEXT, content_items};
    let input = sr_bytes(content_items(&doe_john()));
    for v in PATIENT_VALUES {
        assert!(contains(&input, v), "the input holds {v}");
    }
    let options = DeidOptions::new([DeidOption::CleanStructuredContent]).unwrap();
    let deid = Deidentifier::new(&key(), options.clone());
    let mut out = Vec::new();
    let outcome = deid.deidentify_stream(&mut &input[..], &mut out).unwrap();
    for v in PATIENT_VALUES {
        assert!(!contains(&out, v), "{v} survived");
    }
    assert!(
        contains(&out, "No acute findings"),
        "the report stays readable"
    );
    assert!(
        contains(&out, UNKNOWN_NUMBER_TEXT),
        "unknown numbers are not guessed"
    );
    assert_eq!(outcome.uncleaned(), [Uncleaned::LongNumber]);

    // A custodian's pattern masks what the file does not reveal.
    let patterns = TextPatterns::with_custom(&[r"(?i)prior exam \d+"]).unwrap();
    let deid = Deidentifier::new(&key(), options).with_text_patterns(patterns);
    let mut out = Vec::new();
    let outcome = deid.deidentify_stream(&mut &input[..], &mut out).unwrap();
    assert!(!contains(&out, "4711815"));
    assert!(outcome.uncleaned().is_empty(), "{:?}", outcome.uncleaned());
    let file = read(&out);
    let items = file
        .get(Tag(0x0040, 0xA730))
        .and_then(|e| e.items())
        .unwrap();
    assert_eq!(items.len(), 5, "the content tree is kept");

    // A local code whose meaning names the patient: masked, and reported.
    let mut code = InMemDicomObject::new_empty();
    for (e, vr, v) in [
        (0x0100, VR::SH, "4711"),
        (0x0102, VR::SH, "99HOSP"),
        (0x0104, VR::LO, "Doe John"),
    ] {
        code.put(dicom_core::DataElement::new(
            Tag(0x0008, e),
            vr,
            dicom_core::PrimitiveValue::from(v),
        ));
    }
    let mut private = content_items(&doe_john())[4].clone();
    private.put(dicom_core::DataElement::new(
        Tag(0x0040, 0xA168),
        VR::SQ,
        dicom_core::value::DataSetSequence::new(vec![code], dicom_core::Length::UNDEFINED),
    ));
    let mut out = Vec::new();
    let outcome = deid
        .deidentify_stream(&mut &sr_bytes(vec![private])[..], &mut out)
        .unwrap();
    assert!(!contains(&out, "DOE") && !contains(&out, "JOHN"));
    assert_eq!(outcome.uncleaned(), [Uncleaned::PrivateCode]);
}
