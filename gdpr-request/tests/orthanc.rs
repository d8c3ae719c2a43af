//! An erasure request on the real Orthanc of scripts/orthanc.sh: the due
//! study is erased and verified gone, the recent one kept and restricted,
//! the other patient untouched; the certificate verifies. Fails loudly
//! when the feature is on and the server is missing.
#![cfg(feature = "orthanc-tests")]

mod support;

use std::collections::BTreeMap;

use gdpr_core::request::{Event, Findings, RequestId, Stage, SystemName};
use gdpr_core::store::{SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{Credentials, OrthancConfig, OrthancStore, SecretSource};
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_request::{Holds, RequestDir, verify_certificate};
use support::*;

fn orthanc() -> OrthancStore {
    orthanc_with(None)
}

fn orthanc_with(restriction_metadata: Option<&str>) -> OrthancStore {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: the `orthanc-tests` feature needs a real Orthanc (scripts/orthanc.sh start)")
        })
    };
    let mut config = OrthancConfig::new("orthanc", var("GDPR_TEST_ORTHANC_URL"));
    config.endpoint.credentials = Credentials::basic(
        var("GDPR_TEST_ORTHANC_USER"),
        SecretSource::File(var("GDPR_TEST_ORTHANC_PASSWORD_FILE").into()),
    );
    config.restriction_metadata = restriction_metadata.map(str::to_owned);
    OrthancStore::connect(&config).unwrap()
}

/// Orthanc's raw answer to `GET path` (or `POST path` with `body`), read
/// with curl: a check independent of the adapter.
fn raw(path: &str, body: Option<&str>) -> (bool, String) {
    let var = |n: &str| std::env::var(n).unwrap();
    let password = std::fs::read_to_string(var("GDPR_TEST_ORTHANC_PASSWORD_FILE")).unwrap();
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-s", "-f", "-u"])
        .arg(format!(
            "{}:{}",
            var("GDPR_TEST_ORTHANC_USER"),
            password.trim()
        ))
        .arg(format!("{}{path}", var("GDPR_TEST_ORTHANC_URL")));
    if let Some(b) = body {
        cmd.args(["-X", "POST", "--data-binary", b]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The `GdprRestriction` metadata of the Orthanc patient of `patient_id`.
fn restriction_metadata(patient_id: &str) -> Option<String> {
    let (ok, found) = raw("/tools/lookup", Some(patient_id));
    assert!(ok, "lookup failed");
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    let id = found
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Type"] == "Patient")
        .map(|r| r["ID"].as_str().unwrap().to_owned())
        .unwrap();
    let (ok, value) = raw(&format!("/patients/{id}/metadata/GdprRestriction"), None);
    ok.then_some(value)
}

#[tokio::test]
async fn restriction_and_lifting_on_the_real_orthanc_marked_by_metadata() {
    let unique = format!(
        "{}{}",
        std::process::id(),
        jiff::Timestamp::now().subsec_nanosecond()
    );
    let target = format!("CANARY-RST-{unique}");
    let other = format!("OTHER-RST-{unique}");
    let store = orthanc();
    upload(&store, &target, 1, "19900105").await;
    upload(&store, &target, 2, "20240105").await;
    upload(&store, &other, 1, "19900105").await;
    let fx = Fixture::new();
    let name = SystemName::new("orthanc").unwrap();
    for (id, kind) in [
        ("dsr-orthanc-r", restriction()),
        (
            "dsr-orthanc-l",
            gdpr_core::request::RequestKind::LiftRestriction,
        ),
    ] {
        let mut subjects = gdpr_core::request::SubjectMap::new();
        subjects.insert(name.clone(), PatientId::new(&target).unwrap().into());
        let req = gdpr_core::request::DataSubjectRequest::receive(
            RequestId::new(id).unwrap(),
            kind,
            subjects,
            gdpr_core::request::ApprovalPolicy::AnyActor,
            jiff::Timestamp::now(),
            gdpr_core::actor::ActorId::new("clerk").unwrap(),
        );
        let dir = RequestDir::create(&fx.path("requests"), &req).unwrap();
        let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
        stores.insert(
            name.clone(),
            Box::new(orthanc_with(Some("GdprRestriction"))),
        );
        let mut ex = open_with(&fx, &dir, stores, fx.log(), &target).await;
        for e in [Event::IdentityVerified, Event::Assessed, Event::Approved] {
            ex.step(e).await.unwrap();
        }
        let outcome = ex.run().await.unwrap();
        assert_eq!(outcome.stage, Stage::Completed, "{outcome:?}");
        let done = outcome.systems[0].restriction.clone().unwrap();
        assert!(done.system_mark.is_some(), "Orthanc carries the mark");
        assert_eq!(done.register_records, 2);
        let mark = restriction_metadata(&target);
        if done.lifted {
            assert_eq!(mark, None, "lifted: the metadata is gone");
        } else {
            let mark = mark.expect("the metadata is set");
            assert!(mark.contains("Art. 18(1)(a)"), "{mark}");
            assert!(!mark.contains(&target));
        }
        assert_eq!(
            restriction_metadata(&other),
            None,
            "the other patient is unmarked"
        );
    }
    for subject in [&target, &other] {
        let s: SubjectRef = PatientId::new(subject).unwrap().into();
        store
            .erase_subject(&s, gdpr_core::store::DerivedPolicy::Erase)
            .await
            .unwrap();
    }
}

async fn upload(store: &OrthancStore, patient: &str, study: u32, date: &str) {
    for i in 1..=2 {
        let mut inst = SyntheticInstance::new(UID_ROOT, patient, study, 1, i);
        inst.study_date = date.into();
        store
            .store_instance(inst.to_bytes().unwrap())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn erasure_on_the_real_orthanc() {
    let unique = format!(
        "{}{}",
        std::process::id(),
        jiff::Timestamp::now().subsec_nanosecond()
    );
    let (target, other) = (
        format!("CANARY-ORT-{unique}"),
        format!("OTHER-ORT-{unique}"),
    );
    let store = orthanc();
    upload(&store, &target, 1, "19900105").await;
    upload(&store, &target, 2, "20240105").await;
    upload(&store, &other, 1, "19900105").await;
    let other_ref: SubjectRef = PatientId::new(&other).unwrap().into();
    let other_before = store.locate(&other_ref).await.unwrap();
    assert_eq!(other_before.len(), 1);

    let fx = Fixture::new();
    let name = SystemName::new("orthanc").unwrap();
    let req = gdpr_core::request::DataSubjectRequest::receive(
        RequestId::new("dsr-orthanc").unwrap(),
        erasure(),
        [(name.clone(), PatientId::new(&target).unwrap().into())]
            .into_iter()
            .fold(gdpr_core::request::SubjectMap::new(), |mut m, (k, v)| {
                m.insert(k, v);
                m
            }),
        gdpr_core::request::ApprovalPolicy::AnyActor,
        jiff::Timestamp::now(),
        gdpr_core::actor::ActorId::new("clerk").unwrap(),
    );
    let dir = RequestDir::create(&fx.path("requests"), &req).unwrap();
    let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
    stores.insert(name.clone(), Box::new(orthanc()));
    let log = fx.log();
    let mut ex = open_with(&fx, &dir, stores, log.clone(), &target).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    let on = jiff::civil::date(2026, 3, 2);
    let a = ex
        .assess(&pack(), &Findings::none(), &Holds::new(), on)
        .await
        .unwrap();
    assert_eq!(a.records.len(), 2);
    ex.step(Event::Approved).await.unwrap();
    let outcome = ex.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed, "{outcome:?}");
    assert_eq!(outcome.systems[0].kept.len(), 1);

    let left = store
        .locate(&PatientId::new(&target).unwrap().into())
        .await
        .unwrap();
    assert_eq!(left.len(), 1, "only the recent study is left");
    assert_eq!(store.locate(&other_ref).await.unwrap(), other_before);

    let cert =
        gdpr_request::certificate::issue(&dir, &log, &fx.signer(), jiff::Timestamp::now()).unwrap();
    let text = serde_json::to_vec(&cert).unwrap();
    assert!(!String::from_utf8_lossy(&text).contains(&target));
    verify_certificate(&text, &fx.signer().verifier()).unwrap();

    // Clean up what this test left on the shared server.
    for subject in [&target, &other] {
        let s: SubjectRef = PatientId::new(subject).unwrap().into();
        store
            .erase_subject(&s, gdpr_core::store::DerivedPolicy::Erase)
            .await
            .unwrap();
    }
}
