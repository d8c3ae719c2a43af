//! Shared helpers of the gdpr-ehr integration tests (feature `fhir-tests`):
//! the real FHIR R4 server (Helios HFS) and the Python validator, both
//! started or installed by scripts/fhir.sh.
#![allow(dead_code)]

use std::path::Path;

use gdpr_core::store::{FhirId, FhirIdentifier, FhirSubject, SubjectRef};
use gdpr_ehr::store::{FhirConfig, FhirStore};
use serde_json::json;
use std::process::Command;

pub use gdpr_test_support::unique;

/// The base URL of the real FHIR server started by scripts/fhir.sh; panics
/// (fails the test loudly) when it is unset: these tests are compiled only
/// with the `fhir-tests` feature, which asks for the real server.
pub fn fhir_url() -> String {
    gdpr_test_support::servers::fhir_url("fhir-tests")
}

/// The validator command (scripts/validate_fhir.py in its virtual
/// environment, installed by scripts/fhir.sh); panics as [`fhir_url`].
pub fn validator() -> String {
    gdpr_test_support::servers::setting("GDPR_TEST_FHIR_VALIDATOR", "fhir-tests", "scripts/fhir.sh")
}

/// Runs the validator on `files`; panics with its output when any is invalid.
pub fn validate(validator: &str, files: &[&Path]) {
    let output = Command::new(validator)
        .args(files)
        .output()
        .expect("the FHIR validator runs");
    assert!(
        output.status.success(),
        "the FHIR validator rejected the export:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the validator on every FHIR file of the export in `dir`: the
/// Bundle and each NDJSON file but the side file of elements that are not
/// R4 (which holds them as the server sent them, not as resources). Returns
/// how many files it checked (at least the Bundle).
pub fn validate_export(validator: &str, dir: &Path) -> usize {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name == "bundle.json"
                || (name.ends_with(".ndjson") && name != "nonconformant-elements.ndjson")
        })
        .collect();
    files.sort();
    assert!(
        files.iter().any(|p| p.ends_with("bundle.json")),
        "no Bundle in the export"
    );
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    validate(validator, &paths);
    files.len()
}

/// Raw requests to the test server, for setting up data the adapter only
/// reads.
pub struct Server {
    /// The base URL, without a trailing slash.
    pub base: String,
    http: reqwest::Client,
}

impl Server {
    /// The server at `base`.
    pub fn new(base: &str) -> Self {
        // reqwest is built without a default crypto provider (as in
        // gdpr-connect); installing fails only when one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// POSTs `resource` to its type's endpoint; returns its new logical id.
    pub async fn create(&self, resource: serde_json::Value) -> String {
        let kind = resource["resourceType"].as_str().unwrap().to_owned();
        let response = self
            .http
            .post(format!("{}/{kind}", self.base))
            .header("Content-Type", "application/fhir+json")
            .json(&resource)
            .send()
            .await
            .expect("the test FHIR server answers");
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 201, "create {kind}: {body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// GETs `path` (below the base) and returns status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}/{path}", self.base))
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .expect("the test FHIR server answers");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// PUTs `resource` at `path`; returns the status.
    pub async fn put(&self, path: &str, resource: serde_json::Value) -> u16 {
        self.http
            .put(format!("{}/{path}", self.base))
            .header("Content-Type", "application/fhir+json")
            .json(&resource)
            .send()
            .await
            .expect("the test FHIR server answers")
            .status()
            .as_u16()
    }

    /// The logical ids of a search's first page (`query` after `Type?`).
    pub async fn search_ids(&self, path: &str) -> Vec<String> {
        let (status, bundle) = self.get(path).await;
        assert_eq!(status, 200, "search: {bundle}");
        bundle["entry"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A Patient with one identifier.
pub fn patient(system: &str, value: &str) -> serde_json::Value {
    serde_json::json!({
        "resourceType": "Patient",
        "identifier": [{"system": system, "value": value}],
        "name": [{"family": "Synthetic", "given": ["Test"]}],
        "birthDate": "1970-01-01"
    })
}

/// An Observation of `patient` on `date`.
pub fn observation(patient: &str, date: &str) -> serde_json::Value {
    serde_json::json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "synthetic measurement"},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": date
    })
}

/// A planted patient with records: Encounter, two Observations, a Condition; an
/// Appointment (shared) and the Practitioner it names.
pub struct Planted {
    /// The identifier's system.
    pub system: String,
    /// The identifier's value.
    pub value: String,
    /// The Patient's logical id.
    pub patient: String,
    /// Look-alike Patients (case variant, other system) that must survive.
    pub others: Vec<String>,
}

impl Planted {
    /// The subject as the operator names it: by identifier.
    pub fn by_identifier(&self) -> SubjectRef {
        let id = FhirIdentifier::new(Some(self.system.clone()), self.value.clone()).unwrap();
        SubjectRef::Fhir(FhirSubject::Identifier(id))
    }

    /// The subject by the Patient's logical id.
    pub fn by_id(&self) -> SubjectRef {
        SubjectRef::Fhir(FhirSubject::LogicalId(
            FhirId::new(self.patient.clone()).unwrap(),
        ))
    }
}

pub async fn plant(server: &Server) -> Planted {
    let system = format!("urn:gdpr-test:{}", unique());
    let value = "MRN-Ab-1".to_owned();
    let subject = server.create(patient(&system, &value)).await;
    // Look-alikes that must survive: case variant, other system.
    let twin_case = server.create(patient(&system, "mrn-ab-1")).await;
    let twin_system = server
        .create(patient(&format!("{system}:other"), &value))
        .await;
    server.create(observation(&twin_case, "2021-01-01")).await;
    let reference = json!({"reference": format!("Patient/{subject}")});
    server
        .create(json!({"resourceType": "Encounter", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": reference, "period": {"start": "2020-01-01", "end": "2020-01-05"}}))
        .await;
    server.create(observation(&subject, "2020-01-02")).await;
    server.create(observation(&subject, "2020-01-03")).await;
    server
        .create(json!({"resourceType": "Condition", "subject": reference,
            "code": {"text": "synthetic"}, "recordedDate": "2020-01-02"}))
        .await;
    let practitioner = server
        .create(json!({"resourceType": "Practitioner", "name": [{"family": "Staff"}]}))
        .await;
    server
        .create(json!({"resourceType": "Appointment", "status": "booked", "participant": [
            {"actor": reference, "status": "accepted"},
            {"actor": {"reference": format!("Practitioner/{practitioner}")}, "status": "accepted"}
        ]}))
        .await;
    Planted {
        system,
        value,
        patient: subject,
        others: vec![twin_case, twin_system],
    }
}

pub fn store(url: &str, page_size: u32) -> FhirStore {
    let mut config = FhirConfig::new("test-fhir", url);
    config.page_size = page_size;
    FhirStore::connect(&config).unwrap()
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
