//! Shared helpers of the gdpr-dicom integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{OrthancConfig, OrthancStore, PasswordSource, SyntheticInstance};

pub mod fake_dcm4chee;
pub mod misbehaving_server;

/// A UID root for synthetic data (under the 2.25 UUID arc is not needed:
/// these never leave the test).
pub const UID_ROOT: &str = "1.2.826.0.1.3680043.10.1234";

/// A value unique to this test process and call, for patient ids and UIDs.
pub fn unique() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}{}{}",
        std::process::id(),
        nanos % 100_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The real Orthanc started by scripts/orthanc.sh. Panics (fails loudly)
/// when the test feature is on but the server is not configured.
pub fn orthanc_config() -> OrthancConfig {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: the `orthanc-tests` feature needs a real Orthanc. Run \
                 ./scripts/test.sh, or `eval \"$(scripts/orthanc.sh start)\"` before cargo test"
            )
        })
    };
    let mut config = OrthancConfig::new("test-orthanc", var("GDPR_TEST_ORTHANC_URL"));
    config.username = Some(var("GDPR_TEST_ORTHANC_USER"));
    config.password = Some(PasswordSource::File(
        var("GDPR_TEST_ORTHANC_PASSWORD_FILE").into(),
    ));
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
        config.url
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
    let config = orthanc_config();
    let password =
        std::fs::read_to_string(std::env::var("GDPR_TEST_ORTHANC_PASSWORD_FILE").unwrap()).unwrap();
    let url = format!("{}/{}", config.url.trim_end_matches('/'), path);
    let response = reqwest::Client::new()
        .request(method, url)
        .basic_auth(config.username.unwrap(), Some(password.trim()))
        .json(&body)
        .send()
        .await
        .expect("the test Orthanc answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
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
