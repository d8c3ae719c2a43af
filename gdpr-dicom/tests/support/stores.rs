//! Fixtures of the store tests: unique ids, synthetic studies, a real
//! Orthanc's configuration, report checks.

use gdpr_core::store::{ErasureReport, NotChecked, Verification};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{Credentials, OrthancConfig, OrthancStore, SecretSource};
use gdpr_dicom::synthetic::SyntheticInstance;

/// A UID root for synthetic data (under the 2.25 UUID arc is not needed:
/// these never leave the test).
pub const UID_ROOT: &str = "1.2.826.0.1.3680043.10.1234";

/// A value unique to this test process and call, for patient ids and UIDs
/// (digits only).
pub use gdpr_test_support::unique_digits as unique;

/// The real Orthanc's settings (gdpr-test-support: panics, failing loudly,
/// when the test feature is on but the server is not configured).
pub fn orthanc_env() -> gdpr_test_support::servers::Orthanc {
    gdpr_test_support::servers::Orthanc::from_env("orthanc-tests")
}

/// The real Orthanc started by scripts/orthanc.sh, as the adapter's
/// configuration. Panics (fails loudly) when the test feature is on but the
/// server is not configured.
pub fn orthanc_config() -> OrthancConfig {
    let env = orthanc_env();
    let mut config = OrthancConfig::new("test-orthanc", env.url);
    config.endpoint.credentials =
        Credentials::basic(env.user, SecretSource::File(env.password_file));
    config
}

/// Connects to the test Orthanc and checks that it answers.
pub async fn orthanc() -> OrthancStore {
    let config = orthanc_config();
    let store = OrthancStore::connect(&config).expect("test Orthanc configuration is valid");
    let (status, _) = raw(reqwest::Method::GET, "system").await;
    assert_eq!(
        status, 200,
        "the test Orthanc at {} does not answer GET /system with the test credentials",
        config.endpoint.url
    );
    store
}

/// A raw, authenticated request to the test Orthanc (for what the adapter
/// does not offer: anonymising, checking resources directly).
pub async fn raw(method: reqwest::Method, path: &str) -> (u16, serde_json::Value) {
    raw_json(method, path, serde_json::json!({})).await
}

/// [`raw`] with a JSON body.
pub async fn raw_json(
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = raw_request(method, path)
        .json(&body)
        .send()
        .await
        .expect("the test Orthanc answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// A raw GET answered in plain text (Orthanc's metadata values).
pub async fn raw_text(path: &str) -> (u16, String) {
    let response = raw_request(reqwest::Method::GET, path)
        .send()
        .await
        .expect("the test Orthanc answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// An authenticated request to the test Orthanc at `path`.
fn raw_request(method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    let env = orthanc_env();
    let url = format!("{}/{}", env.url.trim_end_matches('/'), path);
    reqwest::Client::new()
        .request(method, url)
        .basic_auth(&env.user, Some(env.password()))
}

/// A patient id for a test.
pub fn patient(prefix: &str) -> PatientId {
    PatientId::new(format!("{prefix}-{}", unique())).unwrap()
}

/// The synthetic instances of a study: `series` × `instances`.
pub fn study(
    patient: &PatientId,
    study: u32,
    series: u32,
    instances: u32,
    modality: &str,
) -> Vec<SyntheticInstance> {
    let root = format!("{UID_ROOT}.{}", unique());
    let mut out = Vec::new();
    for se in 1..=series {
        for i in 1..=instances {
            let mut inst = SyntheticInstance::new(&root, patient.expose(), study, se, i);
            inst.issuer = patient.issuer().map(str::to_owned);
            inst.modality = if se == 1 {
                modality.to_owned()
            } else {
                "SR".to_owned()
            };
            out.push(inst);
        }
    }
    out
}

/// Uploads instances to the test Orthanc; returns the Orthanc study ids.
pub async fn upload(store: &OrthancStore, instances: &[SyntheticInstance]) -> Vec<String> {
    let mut studies = Vec::new();
    for inst in instances {
        let id = store
            .store_instance(inst.to_bytes().unwrap())
            .await
            .expect("upload to the test Orthanc");
        if !studies.contains(&id.to_string()) {
            studies.push(id.to_string());
        }
    }
    studies
}

/// Anonymises a study through Orthanc's own `/anonymize`; returns the id of
/// the derived study.
pub async fn anonymize(study_id: &str) -> String {
    let (status, body) = raw(
        reqwest::Method::POST,
        &format!("studies/{study_id}/anonymize"),
    )
    .await;
    assert_eq!(status, 200, "anonymize failed: {body}");
    body["ID"]
        .as_str()
        .expect("anonymize returns an ID")
        .to_owned()
}

/// An erasure report of a store that cannot find derived copies (DICOMweb,
/// dcm4chee): nothing left, refused or unreadable, "derived copies not
/// checked" said, and therefore never verified.
pub fn clean_but_derived_unchecked(report: &ErasureReport) -> bool {
    report.left().is_empty()
        && report.refused().is_empty()
        && report.unreadable().is_empty()
        && report.not_checked() == [NotChecked::DerivedCopies]
        && !report.is_verified()
}

/// A verification of such a store: nothing remains, every file was read,
/// derived copies not checked, so not confirmed.
pub fn nothing_left_but_derived_unchecked(verification: &Verification) -> bool {
    verification.remaining().is_empty()
        && verification.unreadable().is_empty()
        && verification.not_checked() == [NotChecked::DerivedCopies]
        && !verification.is_confirmed()
}
