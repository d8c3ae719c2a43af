use serde_json::json;

use super::*;

fn resource(value: serde_json::Value) -> Resource {
    value.as_object().unwrap().clone()
}

#[test]
fn an_export_writes_a_bundle_ndjson_per_type_and_a_side_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ExportWriter::create(dir.path(), "http://s/fhir/").unwrap();
    writer
        .add(resource(json!({"resourceType": "Patient", "id": "p1"})))
        .unwrap();
    writer
        .add(resource(
            json!({"resourceType": "Observation", "id": "o1", "status": "final", "x-odd": 1}),
        ))
        .unwrap();
    writer
        .add(resource(json!({"resourceType": "Observation", "id": "o2"})))
        .unwrap();
    writer.add(resource(json!({"no": "type"}))).unwrap();
    // Nothing is in place before finish.
    assert!(!dir.path().join(BUNDLE_FILE).exists());
    let files = writer.finish().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            BUNDLE_FILE,
            "Observation.ndjson",
            "Patient.ndjson",
            SIDE_FILE
        ]
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(BUNDLE_FILE)).unwrap()).unwrap();
    assert_eq!(bundle["type"], "collection");
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 3);
    assert_eq!(bundle["entry"][0]["fullUrl"], "http://s/fhir/Patient/p1");
    assert!(bundle["entry"][1]["resource"].get("x-odd").is_none());
    let side = std::fs::read_to_string(dir.path().join(SIDE_FILE)).unwrap();
    assert_eq!(side.lines().count(), 2);
    let observations = std::fs::read(dir.path().join("Observation.ndjson")).unwrap();
    let expected: String = Sha256::digest(&observations)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(files[1].sha256, expected);
    assert_eq!(files[1].items, 2);
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn a_directory_that_is_not_empty_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_manifest(dir.path(), &json!({"old": true})).unwrap();
    let err = ExportWriter::create(dir.path(), "http://s").unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    let fresh = dir.path().join("new");
    assert!(ExportWriter::create(&fresh, "http://s").is_ok());
}

#[test]
fn an_interrupted_export_is_cleared_and_run_again_but_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ExportWriter::create(dir.path(), "http://s").unwrap();
    writer
        .add(resource(json!({"resourceType": "Patient", "id": "p1"})))
        .unwrap();
    drop(writer); // interrupted: only `.bundle.json.partial`, `.Patient.ndjson.partial`
    std::fs::write(dir.path().join("attachment-0001.bin"), b"x").unwrap();
    let again = ExportWriter::create(dir.path(), "http://s").unwrap();
    let files = again.finish().unwrap();
    assert_eq!(files.len(), 1, "the old Patient file is gone");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [BUNDLE_FILE]);
    // A complete export (with its manifest), or a stranger's file, stays.
    write_manifest(dir.path(), &json!({"complete": true})).unwrap();
    assert!(ExportWriter::create(dir.path(), "http://s").is_err());
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("notes.txt"), b"mine").unwrap();
    assert!(ExportWriter::create(other.path(), "http://s").is_err());
    assert!(other.path().join("notes.txt").exists());
    assert!(is_interrupted_file(".Observation.ndjson.partial"));
    assert!(!is_interrupted_file("Unknown.ndjson") && !is_interrupted_file("attachment-.bin"));
}

#[test]
fn fhir_ids_and_type_names_are_checked() {
    assert!(is_fhir_id("a-1.B"));
    assert!(!is_fhir_id("a/b"));
    assert!(!is_fhir_id(""));
    assert!(is_type_name("Observation"));
    assert!(!is_type_name("../x"));
}
