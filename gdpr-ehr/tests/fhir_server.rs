//! The real FHIR R4 server of the tests (Helios HFS, scripts/fhir.sh) is
//! set up as the adapter's tests assume: its searches use the official R4
//! search parameters, so a search for one patient returns only that patient.
//! Compiled with the feature `fhir-tests` (scripts/test.sh turns it on);
//! with the feature on and no server, they fail.
#![cfg(feature = "fhir-tests")]

mod support;

use support::*;

#[tokio::test]
async fn a_search_for_one_patient_returns_only_that_patient() {
    let url = fhir_url();
    let server = Server::new(&url);
    let system = format!("urn:gdpr-test:{}", unique());
    let a = server.create(patient(&system, "A-1")).await;
    let b = server.create(patient(&system, "B-2")).await;
    server.create(observation(&a, "2020-01-01")).await;
    server.create(observation(&b, "2020-01-02")).await;

    let found = server
        .search_ids(&format!("Patient?identifier={system}|A-1"))
        .await;
    assert_eq!(found, vec![a.clone()], "the identifier search is honoured");
    let found = server
        .search_ids(&format!("Patient?identifier={system}|NONE"))
        .await;
    assert!(found.is_empty(), "an unknown identifier finds nothing");
    let found = server
        .search_ids(&format!("Observation?subject=Patient/{a}"))
        .await;
    assert_eq!(found.len(), 1, "the subject search is honoured");
}

#[tokio::test]
async fn the_validator_accepts_valid_and_rejects_unknown_elements() {
    let validator = validator();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ndjson");
    std::fs::write(&good, format!("{}\n", patient("urn:x", "1"))).unwrap();
    validate(&validator, &[&good]);
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(&bad, "{\"resourceType\":\"Patient\",\"nonsense\":1}\n").unwrap();
    let status = std::process::Command::new(&validator)
        .arg(&bad)
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "unknown elements are rejected");
}
