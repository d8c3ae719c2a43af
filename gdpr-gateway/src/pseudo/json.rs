//! DICOM JSON for research callers: an allow-list of attributes that
//! describe the images without the person (geometry, pixel description,
//! modality, numbers), the UIDs replaced by their keyed pseudonyms, the
//! patient's ID and name by the patient pseudonym, dates, times, names,
//! free text, sequences and private attributes dropped; Retrieve URLs and
//! bulk data URIs rebuilt from the pseudonymised UIDs under the public base.

use serde_json::{Map, Value, json};

use super::Pseudonyms;
use crate::route::is_uid;
use crate::upstream::first_string;

/// Attributes passed unchanged.
const KEEP: &[&str] = &[
    "00080005", "00080008", "00080016", "00080060", "00080061", "00080062", "00020010", "00180050",
    "00180088", "00200011", "00200013", "00200020", "00200032", "00200037", "00201041", "00201206",
    "00201208", "00201209", "00280002", "00280004", "00280006", "00280008", "00280010", "00280011",
    "00280030", "00280034", "00280100", "00280101", "00280102", "00280103", "00280301", "00281050",
    "00281051", "00281052", "00281053", "00281054",
];

/// UIDs replaced by their keyed pseudonyms.
const UIDS: &[&str] = &["0020000D", "0020000E", "00080018", "00200052"];

/// The UID segments of a DICOMweb path (after `studies`, `series`,
/// `instances`) mapped through `f`; `None` when `f` refuses one.
pub(crate) fn map_path(path: &str, f: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = Vec::new();
    let mut after_level = false;
    for segment in path.split('/') {
        if after_level && is_uid(segment) {
            out.push(f(segment)?);
        } else {
            out.push(segment.to_owned());
        }
        after_level = matches!(segment, "studies" | "series" | "instances");
    }
    Some(out.join("/"))
}

/// Pseudonymises a DICOM JSON answer (a list of data sets) in place.
pub(crate) fn pseudonymise_json(value: &mut Value, p: &Pseudonyms, upstream: &str, public: &str) {
    if let Value::Array(items) = value {
        for item in items.iter_mut() {
            if let Value::Object(map) = item {
                *map = entry(map, p, upstream, public);
            }
        }
    }
}

fn entry(
    e: &Map<String, Value>,
    p: &Pseudonyms,
    upstream: &str,
    public: &str,
) -> Map<String, Value> {
    let entry = Value::Object(e.clone());
    let mut out = Map::new();
    for tag in KEEP {
        if let Some(v) = e.get(*tag) {
            out.insert((*tag).to_owned(), v.clone());
        }
    }
    for tag in UIDS {
        if let Some(uid) = first_string(&entry, tag) {
            out.insert(
                (*tag).to_owned(),
                json!({"vr": "UI", "Value": [p.uid(uid)]}),
            );
        }
    }
    if let Some(id) = first_string(&entry, "00100020") {
        let issuer = first_string(&entry, "00100021").unwrap_or("");
        let pseudonym = p.patient(issuer, id);
        out.insert("00100020".into(), json!({"vr": "LO", "Value": [pseudonym]}));
        out.insert(
            "00100010".into(),
            json!({"vr": "PN", "Value": [{"Alphabetic": pseudonym}]}),
        );
    }
    if let Some(url) = retrieve_url(&entry, p, public) {
        out.insert("00081190".into(), json!({"vr": "UR", "Value": [url]}));
    }
    if let Some(uri) = e
        .get("7FE00010")
        .and_then(|v| v.get("BulkDataURI"))
        .and_then(Value::as_str)
    {
        let moved = uri
            .strip_prefix(upstream.trim_end_matches('/'))
            .and_then(|rest| {
                map_path(rest, |uid| Some(p.uid(uid)))
                    .map(|rest| format!("{}{rest}", public.trim_end_matches('/')))
            });
        if let Some(moved) = moved {
            let vr = e["7FE00010"].get("vr").cloned().unwrap_or(json!("OB"));
            out.insert("7FE00010".into(), json!({"vr": vr, "BulkDataURI": moved}));
        }
    }
    out
}

/// The Retrieve URL of an entry, from its pseudonymised UIDs.
fn retrieve_url(entry: &Value, p: &Pseudonyms, public: &str) -> Option<String> {
    let mut url = format!(
        "{}/studies/{}",
        public.trim_end_matches('/'),
        p.uid(first_string(entry, "0020000D")?)
    );
    if let Some(series) = first_string(entry, "0020000E") {
        url.push_str(&format!("/series/{}", p.uid(series)));
        if let Some(instance) = first_string(entry, "00080018") {
            url.push_str(&format!("/instances/{}", p.uid(instance)));
        }
    }
    Some(url)
}

/// The query keys a research caller may use, UID values translated back
/// to the originals; `None` when a key is not allowed (searching by name,
/// ID or date would let a pseudonymised caller probe identities) or a UID
/// is not a pseudonym this gateway gave out.
pub(crate) fn allowed_query(
    pairs: &[(String, String)],
    p: &Pseudonyms,
) -> Option<Vec<(String, String)>> {
    use crate::route::UID_PARAMS as UID_KEYS;
    // `fuzzymatching` (PS3.18 8.3.4.1) changes how the match keys above
    // match, and none of them names a person; OHIF sends it on every search.
    const PLAIN: [&str; 8] = [
        "Modality",
        "00080060",
        "ModalitiesInStudy",
        "00080061",
        "limit",
        "offset",
        "includefield",
        "fuzzymatching",
    ];
    let mut out = Vec::new();
    for (key, value) in pairs {
        if UID_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            let originals: Option<Vec<String>> =
                value.split([',', '\\']).map(|u| p.original(u)).collect();
            out.push((key.clone(), originals?.join(",")));
        } else if PLAIN.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            out.push((key.clone(), value.clone()));
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdpr_dicom::deid::ProjectKey;

    #[test]
    fn identifying_attributes_go_and_uids_are_the_batch_pseudonyms() {
        let key = ProjectKey::from_bytes([7; 32]);
        let p = Pseudonyms::new(&key);
        let batch = gdpr_dicom::deid::Pseudonymiser::new(&key);
        let mut doc: Value = serde_json::from_str(
            r#"[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"0020000E":{"vr":"UI","Value":["1.2.3.4"]},
                "00100010":{"vr":"PN","Value":[{"Alphabetic":"Canary^Name"}]},
                "00100020":{"vr":"LO","Value":["CANARY-ID"]},"00100030":{"vr":"DA","Value":["19700101"]},
                "00080020":{"vr":"DA","Value":["20240101"]},"00080090":{"vr":"PN","Value":[{"Alphabetic":"Dr^Who"}]},
                "00080060":{"vr":"CS","Value":["CT"]},
                "7FE00010":{"vr":"OB","BulkDataURI":"http://up/dicom-web/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5/bulk/7fe00010"}}]"#,
        )
        .unwrap();
        pseudonymise_json(&mut doc, &p, "http://up/dicom-web/", "https://gw/dicom-web");
        let text = doc.to_string();
        for gone in [
            "Canary",
            "CANARY-ID",
            "19700101",
            "20240101",
            "Dr^Who",
            "\"1.2.3\"",
            "http://up",
        ] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        let study = batch.uid("1.2.3");
        assert_eq!(doc[0]["0020000D"]["Value"][0], study.as_str());
        assert_eq!(
            doc[0]["00100020"]["Value"][0],
            batch.patient_pseudonym("", "CANARY-ID").as_str()
        );
        assert_eq!(doc[0]["00080060"]["Value"][0], "CT");
        let bulk = doc[0]["7FE00010"]["BulkDataURI"].as_str().unwrap();
        assert!(
            bulk.starts_with(&format!("https://gw/dicom-web/studies/{study}/series/")),
            "{bulk}"
        );
        assert!(bulk.ends_with("/bulk/7fe00010"));
        assert_eq!(p.original(&study).as_deref(), Some("1.2.3"));
        assert_eq!(
            doc[0]["00081190"]["Value"][0],
            format!(
                "https://gw/dicom-web/studies/{study}/series/{}",
                batch.uid("1.2.3.4")
            )
        );
    }

    #[test]
    fn research_queries() {
        let p = Pseudonyms::new(&ProjectKey::from_bytes([7; 32]));
        let ps = p.uid("1.2.3");
        let ok = vec![
            ("StudyInstanceUID".to_owned(), ps),
            ("limit".to_owned(), "10".to_owned()),
        ];
        assert_eq!(allowed_query(&ok, &p).unwrap()[0].1, "1.2.3");
        assert!(allowed_query(&[("PatientID".to_owned(), "X".to_owned())], &p).is_none());
        // OHIF's study list asks exactly this (tests/ohif.rs).
        let ohif: Vec<(String, String)> = [
            ("ModalitiesInStudy", "MR"),
            ("limit", "101"),
            ("offset", "0"),
            ("fuzzymatching", "false"),
            ("includefield", "00081030,00080060,00080090,00100030"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        assert_eq!(allowed_query(&ohif, &p).as_ref(), Some(&ohif));
        assert!(
            allowed_query(&[("StudyInstanceUID".to_owned(), "9.9.9".to_owned())], &p).is_none()
        );
    }
}
