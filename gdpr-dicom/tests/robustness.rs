//! Property test: any truncation or corruption of a valid file gives either
//! an output or an error — never a panic — and an error never carries a
//! patient value.

mod support;

use gdpr_dicom::deid::{DeidOptions, Deidentifier, ProjectKey};
use gdpr_dicom::synthetic::{Instance, Kind, write};
use proptest::prelude::*;

fn valid_file() -> Vec<u8> {
    let mut i = Instance::numbered("1.2.826.0.1.3680043.10.9999.9", 1);
    i.references = vec!["1.2.826.0.1.3680043.10.9999.9.1.1.7".into()];
    let mut v = Vec::new();
    write(Kind::Ct { rows: 4, cols: 4 }, &i, &mut v).unwrap();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn corrupt_input_never_panics_or_leaks(
        cut in 0usize..2000,
        flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..6),
    ) {
        let mut bytes = valid_file();
        for (at, v) in flips {
            let n = bytes.len();
            bytes[at % n] = v;
        }
        bytes.truncate(cut.min(bytes.len()));
        let deid = Deidentifier::new(&ProjectKey::from_bytes([1; 32]), DeidOptions::basic());
        let mut out = Vec::new();
        if let Err(e) = deid.deidentify_stream(&mut bytes.as_slice(), &mut out) {
            let msg = format!("{e} {e:?}");
            prop_assert!(!msg.contains("DOE") && !msg.contains("SYN-000123") && !msg.contains("9999.9"), "{}", msg);
        }
    }
}
