//! The patient-index file: one identifier per configured system, read
//! strictly — unknown keys, duplicates, wrong kinds and broken identifiers
//! are errors whose messages never repeat a value from the file.

use gdpr_core::request::{RequestError, SubjectMap, SystemName};
use gdpr_core::store::{FhirSubject, SubjectRef};

const INDEX: &str = r#"
version = 1

[systems.pacs]
dicom-patient-id = "MRN-1"
issuer = "HOSP-A"

[systems.fhir]
fhir-identifier = "http://hospital.example/mrn|MRN-1"

[systems.openemr]
fhir-id = "9f2c"
"#;

fn system(name: &str) -> SystemName {
    SystemName::new(name).unwrap()
}

#[test]
fn each_system_gets_the_identifier_it_knows() {
    let m = SubjectMap::from_index_toml(INDEX).unwrap();
    assert_eq!(m.len(), 3);
    let SubjectRef::Dicom(id) = m.on(&system("pacs")).unwrap() else {
        panic!("pacs is DICOM")
    };
    assert_eq!((id.expose(), id.issuer()), ("MRN-1", Some("HOSP-A")));
    let Ok(SubjectRef::Fhir(FhirSubject::Identifier(ident))) = m.on(&system("fhir")) else {
        panic!("fhir is an identifier")
    };
    assert_eq!(ident.system(), Some("http://hospital.example/mrn"));
    assert_eq!(ident.expose_value(), "MRN-1");
    let Ok(SubjectRef::Fhir(FhirSubject::LogicalId(lid))) = m.on(&system("openemr")) else {
        panic!("openemr is a logical id")
    };
    assert_eq!(lid.as_str(), "9f2c");
    // A system the index does not name is never guessed.
    assert_eq!(
        m.on(&system("dcm4chee")),
        Err(RequestError::NoSubjectFor {
            system: "dcm4chee".into()
        })
    );
}

#[test]
fn the_map_round_trips_as_json() {
    let m = SubjectMap::from_index_toml(INDEX).unwrap();
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<SubjectMap>(&json).unwrap(), m);
    let twice = r#"{"a":{"dicom":{"id":"CANARY"}},"a":{"dicom":{"id":"CANARY"}}}"#;
    let err = serde_json::from_str::<SubjectMap>(twice)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("named twice") && !err.contains("CANARY"),
        "{err}"
    );
}

#[test]
fn strict_errors_never_echo_a_value() {
    let cases = [
        // A key given twice.
        (
            "version = 1\n[systems.a]\ndicom-patient-id = \"CANARY1\"\ndicom-patient-id = \"CANARY2\"\n",
            "line 4",
        ),
        // A table given twice.
        (
            "version = 1\n[systems.a]\nfhir-id = \"CANARY1\"\n[systems.a]\nfhir-id = \"CANARY2\"\n",
            "line 4",
        ),
        // An unknown key.
        (
            "version = 1\n[systems.a]\npatient = \"CANARY\"\n",
            "unknown field `patient`",
        ),
        // A wrong kind.
        (
            "version = 1\n[systems.a]\ndicom-patient-id = [\"CANARY\"]\n",
            "invalid type",
        ),
        // Two identifiers for one system.
        (
            "version = 1\n[systems.a]\nfhir-id = \"CANARY\"\ndicom-patient-id = \"CANARY\"\n",
            "exactly one",
        ),
        // None.
        ("version = 1\n[systems.a]\n", "exactly one"),
        // An issuer for a FHIR server.
        (
            "version = 1\n[systems.a]\nfhir-id = \"CANARY\"\nissuer = \"CANARY\"\n",
            "`issuer` goes only",
        ),
        // A bare FHIR value would match under any system: a guess.
        (
            "version = 1\n[systems.a]\nfhir-identifier = \"CANARY\"\n",
            "system|value",
        ),
        // A broken DICOM id.
        (
            "version = 1\n[systems.a]\ndicom-patient-id = \"CANARY\\\\x\"\n",
            "patient id",
        ),
        // A system name with a value in it.
        (
            "version = 1\n[systems.CANARY]\nfhir-id = \"x\"\n",
            "system name",
        ),
        ("version = 1\nCANARY = 1\n", "unknown field"),
    ];
    for (text, want) in cases {
        let err = SubjectMap::from_index_toml(text).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, RequestError::InvalidIndex { .. }), "{msg}");
        assert!(msg.contains(want), "{want}: {msg}");
        assert!(!msg.contains("CANARY"), "{msg}");
        assert!(!format!("{err:?}").contains("CANARY"));
    }
    let err = SubjectMap::from_index_toml("version = 3\n").unwrap_err();
    assert_eq!(
        err,
        RequestError::UnsupportedVersion {
            what: "patient index",
            found: 3
        }
    );
}

#[test]
fn system_names_follow_their_rule() {
    for ok in ["pacs", "orthanc-2", "fhir_main"] {
        assert_eq!(system(ok).as_str(), ok);
    }
    for bad in ["", "PACS", "a b", "a/b", &"x".repeat(65)] {
        assert_eq!(SystemName::new(bad), Err(RequestError::InvalidSystemName));
    }
}
