//! Property tests: the same input and key give byte-identical output; two
//! keys give unrelated UIDs and pseudonyms.

mod support;

use std::collections::BTreeSet;

use dicom_core::Tag;
use gdpr_dicom::deid::{DeidOption, DeidOptions, Deidentifier, ProjectKey};
use gdpr_dicom::synthetic::{Instance, Kind, write};
use proptest::prelude::*;
use support::read;

fn instance(name: &str, id: &str, day: u32, n: u32) -> Instance {
    let mut i = Instance::numbered(&format!("1.2.826.0.1.3680043.10.9999.{day}"), n);
    i.patient_name = name.to_owned();
    i.patient_id = id.to_owned();
    i.study_date = format!("2019{:02}{:02}", 1 + day % 12, 1 + day % 28);
    i
}

fn options(mask: u16) -> DeidOptions {
    DeidOptions::new(
        DeidOption::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, o)| o)
            .filter(|o| *o != DeidOption::RetainLongitudinalFullDates || mask & 0x8000 != 0),
    )
    .unwrap_or_else(|_| DeidOptions::basic())
}

fn run(deid: &Deidentifier, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    deid.deidentify_stream(&mut &input[..], &mut out).unwrap();
    out
}

fn uids(bytes: &[u8]) -> BTreeSet<String> {
    let f = read(bytes);
    [
        Tag(0x0020, 0x000D),
        Tag(0x0020, 0x000E),
        Tag(0x0008, 0x0018),
        Tag(0x0020, 0x0052),
        Tag(0x0010, 0x0020),
    ]
    .into_iter()
    .filter_map(|t| {
        f.get(t)?
            .to_str()
            .ok()
            .map(|s| s.trim_end_matches('\0').to_owned())
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn same_input_and_key_give_identical_bytes(
        name in "[A-Z]{2,12}\\^[A-Z]{2,12}",
        id in "[A-Z0-9]{3,16}",
        day in 0u32..400,
        n in 1u32..50,
        rows in 1u16..12,
        mask in any::<u16>(),
        key in any::<[u8; 32]>(),
    ) {
        let mut input = Vec::new();
        write(Kind::Ct { rows, cols: rows }, &instance(&name, &id, day, n), &mut input).unwrap();
        let a = Deidentifier::new(&ProjectKey::from_bytes(key), options(mask));
        let b = Deidentifier::new(&ProjectKey::from_bytes(key), options(mask));
        let (x, y) = (run(&a, &input), run(&b, &input));
        prop_assert_eq!(&x, &y);
        prop_assert!(!x.windows(name.len()).any(|w| w == name.as_bytes()));
    }

    #[test]
    fn two_keys_give_unrelated_uids(
        id in "[A-Z0-9]{3,16}",
        day in 0u32..400,
        k1 in any::<[u8; 32]>(),
        k2 in any::<[u8; 32]>(),
    ) {
        prop_assume!(k1 != k2);
        let mut input = Vec::new();
        write(Kind::Ct { rows: 2, cols: 2 }, &instance("DOE^JOHN", &id, day, 1), &mut input).unwrap();
        let a = uids(&run(&Deidentifier::new(&ProjectKey::from_bytes(k1), DeidOptions::basic()), &input));
        let b = uids(&run(&Deidentifier::new(&ProjectKey::from_bytes(k2), DeidOptions::basic()), &input));
        prop_assert_eq!(a.len(), 5);
        prop_assert!(a.is_disjoint(&b), "shared identifiers between keys");
    }
}
