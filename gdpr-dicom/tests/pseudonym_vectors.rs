//! Known-answer vectors for the keyed pseudonyms, format v1 (UIDs, patient
//! pseudonym, date shift, dummy tokens): `vectors/pseudonyms.json`, written
//! by an independent Python implementation of the format
//! (`vectors/pseudonyms.py`, from docs/deidentification.md). A research
//! cohort's linkage across versions depends on these values never changing.

use gdpr_dicom::deid::key::{ProjectKey, Pseudonymiser};
use serde_json::Value;

fn vectors() -> Vec<(Pseudonymiser, Value)> {
    let v: Value = serde_json::from_str(include_str!("vectors/pseudonyms.json")).unwrap();
    assert_eq!(v["format"], "gdpr-dicom keyed pseudonyms v1");
    v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|set| {
            let key = ProjectKey::from_hex(set["key"].as_str().unwrap()).unwrap();
            (Pseudonymiser::new(&key), set.clone())
        })
        .collect()
}

fn rows<'a>(set: &'a Value, name: &str) -> impl Iterator<Item = Vec<&'a Value>> {
    set[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().collect())
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn uids_match_the_vectors() {
    let mut n = 0;
    for (p, set) in vectors() {
        for row in rows(&set, "uids") {
            assert_eq!(p.uid(s(row[0])), s(row[1]), "uid of {:?}", s(row[0]));
            n += 1;
        }
    }
    assert_eq!(n, 18);
}

#[test]
fn patient_pseudonyms_and_date_shifts_match_the_vectors() {
    let mut n = 0;
    for (p, set) in vectors() {
        for row in rows(&set, "patients") {
            let (issuer, id) = (s(row[0]), s(row[1]));
            assert_eq!(p.patient_pseudonym(issuer, id), s(row[2]));
            assert_eq!(p.date_shift_days(issuer, id), row[3].as_i64().unwrap());
            n += 1;
        }
    }
    assert_eq!(n, 12);
}

#[test]
fn tokens_match_the_vectors() {
    let mut n = 0;
    for (p, set) in vectors() {
        for row in rows(&set, "tokens") {
            assert_eq!(p.token(s(row[0]), s(row[1]), s(row[2])), s(row[3]));
            n += 1;
        }
    }
    assert_eq!(n, 6);
}
