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

fn observation(n: u32) -> Resource {
    resource(json!({"resourceType": "Observation", "id": format!("o{n}"), "status": "final"}))
}

/// Writes o0..o2, checkpoints, writes o3..o4 and stops (interrupted).
fn interrupted(dir: &Path) {
    let mut writer = ExportWriter::create(dir, "http://s").unwrap();
    (0..3).for_each(|n| writer.add(observation(n)).unwrap());
    writer.checkpoint(json!({"next": "page-2"})).unwrap();
    (3..5).for_each(|n| writer.add(observation(n)).unwrap());
    writer.add(resource(json!({"no": "type"}))).unwrap();
    drop(writer);
}

#[test]
fn an_interrupted_export_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    interrupted(dir.path());
    let (mut writer, cursor) = ExportWriter::resume(dir.path(), "http://s").unwrap();
    assert_eq!(cursor, Some(json!({"next": "page-2"})));
    assert_eq!(writer.entries(), 3, "only what the checkpoint recorded");
    let mut back = writer.read_back().unwrap();
    let ids: Vec<String> = back
        .next_batch(10)
        .unwrap()
        .iter()
        .map(|r| logical_id(r).unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["o0", "o1", "o2"]);
    assert!(back.next_batch(10).unwrap().is_empty());
    (3..5).for_each(|n| writer.add(observation(n)).unwrap());
    let files = writer.finish().unwrap();
    let bundle = std::fs::read(dir.path().join(BUNDLE_FILE)).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let ids: Vec<&str> = parsed["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["o0", "o1", "o2", "o3", "o4"]);
    // The hashes cover the whole files, the part before the checkpoint too.
    for file in &files {
        let data = std::fs::read(dir.path().join(&file.name)).unwrap();
        let hex: String = Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file.sha256, hex, "{}", file.name);
        assert_eq!(file.bytes, data.len() as u64);
    }
    assert_eq!(files[1].items, 5);
    // The side file begun after the checkpoint is gone; nothing else is left.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Observation.ndjson", BUNDLE_FILE]);
}

/// Resources whose references to a patient sit (partly) in elements that
/// are not valid R4 and go to the side file.
fn naming_in_side_elements() -> Vec<Resource> {
    vec![
        // Own type, but a vendor element names another patient: shared.
        resource(
            json!({"resourceType": "Observation", "id": "o1", "status": "final",
            "subject": {"reference": "Patient/p1"},
            "x-vendor-link": {"target": {"reference": "Patient/p2"}}}),
        ),
        // A reference where the type has none (CodeableConcept).
        resource(json!({"resourceType": "Condition", "id": "c1",
            "subject": {"reference": "Patient/p1"}, "code": {"reference": "Patient/p2"}})),
        // Names p1 only through an element of the wrong shape.
        resource(
            json!({"resourceType": "Group", "id": "g1", "type": "person", "actual": true,
            "member": {"entity": {"reference": "Patient/p1"}}}),
        ),
        // Own, a reference to the patient itself set aside: still own.
        resource(
            json!({"resourceType": "Procedure", "id": "r1", "status": "completed",
            "subject": {"reference": "Patient/p1"}, "x-also": [{"reference": "Patient/p1"}]}),
        ),
        // Set aside whole (an id that is not valid).
        resource(json!({"resourceType": "Observation", "id": "bad id",
            "subject": {"reference": "Patient/p1"}})),
    ]
}

#[test]
fn a_resumed_export_classifies_what_it_reads_back_as_one_run_does() {
    use crate::compartment::{classify, mentions_patient};
    let one_run: Vec<_> = naming_in_side_elements()
        .iter()
        .map(|r| {
            (
                logical_id(r).unwrap().to_owned(),
                classify(r, "p1"),
                mentions_patient(r, "p1"),
            )
        })
        .collect();
    assert!(
        one_run
            .iter()
            .any(|(_, c, _)| matches!(c, crate::compartment::Classification::Shared { .. }))
    );
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ExportWriter::create(dir.path(), "http://s").unwrap();
    naming_in_side_elements()
        .into_iter()
        .for_each(|r| writer.add(r).unwrap());
    writer.checkpoint(json!({"next": "page-2"})).unwrap();
    drop(writer);
    let (mut writer, _) = ExportWriter::resume(dir.path(), "http://s").unwrap();
    let mut back = writer.read_back().unwrap();
    let mut resumed: Vec<_> = back
        .next_batch(100)
        .unwrap()
        .iter()
        .map(|r| {
            (
                logical_id(r).unwrap().to_owned(),
                classify(r, "p1"),
                mentions_patient(r, "p1"),
            )
        })
        .collect();
    let mut expected = one_run;
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    resumed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(resumed, expected);
}

#[test]
fn a_checkpoint_whose_files_do_not_verify_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    interrupted(dir.path());
    // One byte of the checkpointed part of the NDJSON file changed.
    let path = dir.path().join(".Observation.ndjson.partial");
    let mut data = std::fs::read(&path).unwrap();
    let at = data.iter().position(|&b| b == b'1').unwrap();
    data[at] = b'7';
    std::fs::write(&path, data).unwrap();
    let (writer, cursor) = ExportWriter::resume(dir.path(), "http://s").unwrap();
    assert_eq!(cursor, None, "started afresh");
    assert_eq!(writer.entries(), 0);
    // A cut file, or a checkpoint of another server, is not resumed either.
    drop(writer);
    let other = tempfile::tempdir().unwrap();
    interrupted(other.path());
    assert!(
        ExportWriter::resume(other.path(), "http://elsewhere")
            .unwrap()
            .1
            .is_none()
    );
    let cut = tempfile::tempdir().unwrap();
    interrupted(cut.path());
    let bundle = cut.path().join(".bundle.json.partial");
    let len = std::fs::metadata(&bundle).unwrap().len();
    std::fs::File::options()
        .write(true)
        .open(&bundle)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    assert!(
        ExportWriter::resume(cut.path(), "http://s")
            .unwrap()
            .1
            .is_none()
    );
}
