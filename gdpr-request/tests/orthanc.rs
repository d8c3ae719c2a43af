//! Requests on the real Orthanc of scripts/orthanc.sh. Erasure: the due
//! studies are erased and verified gone, a due one under a legal hold and
//! a recent one kept and restricted with their reasons, the other patient
//! untouched (read back raw); the certificate says so and verifies.
//! Restriction and lifting marked by metadata. Fails loudly when the
//! feature is on and the server is missing.
#![cfg(feature = "orthanc-tests")]

mod support;

use std::collections::BTreeMap;

use gdpr_core::purpose::Purpose;
use gdpr_core::request::{
    Event, Findings, ReasonCode, RecordOutcome, RequestId, Stage, SystemName,
};
use gdpr_core::retention::{HoldSet, LegalHold};
use gdpr_core::store::{RecordId, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{Credentials, OrthancConfig, OrthancStore, SecretSource};
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_request::certificate::CertifiedStatus;
use gdpr_request::{FileRegister, Holds, RequestDir, RestrictionRegister, verify_certificate};
use support::*;

fn orthanc() -> OrthancStore {
    orthanc_with(None)
}

/// The real Orthanc's settings; panics (fails loudly) without them.
fn env() -> gdpr_test_support::servers::Orthanc {
    gdpr_test_support::servers::Orthanc::from_env("orthanc-tests")
}

fn orthanc_with(restriction_metadata: Option<&str>) -> OrthancStore {
    let env = env();
    let mut config = OrthancConfig::new("orthanc", env.url);
    config.endpoint.credentials =
        Credentials::basic(env.user, SecretSource::File(env.password_file));
    config.restriction_metadata = restriction_metadata.map(str::to_owned);
    OrthancStore::connect(&config).unwrap()
}

/// Orthanc's raw answer to `GET path` (or `POST path` with `body`), read
/// with curl: a check independent of the adapter.
fn raw(path: &str, body: Option<&str>) -> (bool, String) {
    let env = env();
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-s", "-f", "-u"])
        .arg(format!("{}:{}", env.user, env.password()))
        .arg(format!("{}{path}", env.url));
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
    let unique = gdpr_test_support::unique_digits();
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

/// The Orthanc study id of `patient`'s synthetic study `n`, found by its
/// StudyInstanceUID (raw `/tools/lookup`), or `None` when Orthanc has none.
fn orthanc_study(patient: &str, n: u32) -> Option<String> {
    let uid = SyntheticInstance::new(UID_ROOT, patient, n, 1, 1).study_uid;
    let (ok, found) = raw("/tools/lookup", Some(&uid));
    assert!(ok, "lookup failed");
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Type"] == "Study")
        .map(|r| r["ID"].as_str().unwrap().to_owned())
}

/// Everything Orthanc holds about `patient`'s study `n`: the study and
/// its instances, read raw.
fn raw_study(patient: &str, n: u32) -> Option<(String, String)> {
    let id = orthanc_study(patient, n)?;
    let (ok, study) = raw(&format!("/studies/{id}"), None);
    assert!(ok);
    let (ok, instances) = raw(&format!("/studies/{id}/instances"), None);
    assert!(ok);
    Some((study, instances))
}

/// The imaging pack (10 years after the study date) on 2026-03-02: studies
/// 1 and 2 (1990, 1991) are due, study 3 (1992) is due but under a
/// litigation hold, study 4 (2024) still runs. Erasure removes exactly 1
/// and 2, keeps 3 (the hold's reason, GDPR Art. 17(3)(e)) and 4 (the
/// statute) restricted in the register; the other patient's two studies
/// read back from Orthanc unchanged; the certificate says so and verifies.
#[tokio::test]
async fn erasure_on_the_real_orthanc_with_a_legal_hold() {
    let unique = gdpr_test_support::unique_digits();
    let (target, other) = (
        format!("CANARY-ORT-{unique}"),
        format!("OTHER-ORT-{unique}"),
    );
    let store = orthanc();
    let dates = [
        (1, "19900105"),
        (2, "19910105"),
        (3, "19920105"),
        (4, "20240105"),
    ];
    for (n, date) in dates {
        upload(&store, &target, n, date).await;
    }
    upload(&store, &other, 1, "19900105").await;
    upload(&store, &other, 2, "20240105").await;
    let other_before: Vec<_> = [1, 2]
        .map(|n| raw_study(&other, n).expect("uploaded"))
        .into();
    let other_ref: SubjectRef = PatientId::new(&other).unwrap().into();

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
    let study = |n: u32| RecordId::new(orthanc_study(&target, n).expect("uploaded")).unwrap();
    let (due1, due2, held, running) = (study(1), study(2), study(3), study(4));
    let mut holds = Holds::new();
    holds.insert(
        (name.clone(), held.clone()),
        HoldSet::EMPTY.with(LegalHold::Litigation),
    );
    let on = jiff::civil::date(2026, 3, 2);
    let a = ex
        .assess(&pack(), &Findings::none(), &holds, on)
        .await
        .unwrap();
    assert_eq!(a.records.len(), 4);
    let outcome_of = |id: &RecordId| {
        a.records
            .iter()
            .find(|r| &r.record == id)
            .unwrap_or_else(|| panic!("{id} assessed"))
            .outcome
            .clone()
    };
    assert_eq!(outcome_of(&due1), RecordOutcome::Erase);
    assert_eq!(outcome_of(&due2), RecordOutcome::Erase);
    assert_eq!(
        outcome_of(&held),
        RecordOutcome::Keep {
            purposes: vec![Purpose::LegalClaims]
        }
    );
    assert!(matches!(outcome_of(&running), RecordOutcome::Keep { .. }));
    ex.step(Event::Approved).await.unwrap();
    let outcome = ex.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed, "{outcome:?}");

    // Orthanc afterwards, read raw: exactly the due studies are gone, the
    // held and the running one are there, the other patient as before.
    assert_eq!(orthanc_study(&target, 1), None, "due study 1 erased");
    assert_eq!(orthanc_study(&target, 2), None, "due study 2 erased");
    assert!(raw_study(&target, 3).is_some(), "the held study is kept");
    assert!(raw_study(&target, 4).is_some(), "the running study is kept");
    let other_after: Vec<_> = [1, 2]
        .map(|n| raw_study(&other, n).expect("untouched"))
        .into();
    assert_eq!(other_after, other_before, "the other patient is untouched");
    assert_eq!(store.locate(&other_ref).await.unwrap().len(), 2);

    // Kept and restricted, each with its reason.
    let sys = &outcome.systems[0];
    let mut kept: Vec<_> = sys.kept.iter().map(|k| k.record.clone()).collect();
    kept.sort();
    let mut expected = vec![held.clone(), running.clone()];
    expected.sort();
    assert_eq!(
        kept, expected,
        "exactly the held and the running study kept"
    );
    let held_kept = sys.kept.iter().find(|k| k.record == held).unwrap();
    let hold = held_kept
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::LegalHold)
        .expect("the hold is the reason");
    assert_eq!(hold.citation.as_str(), "GDPR Art. 17(3)(e)");
    assert!(hold.message.contains("litigation"), "{}", hold.message);
    assert_eq!(held_kept.purposes, vec![Purpose::LegalClaims]);
    let running_kept = sys.kept.iter().find(|k| k.record == running).unwrap();
    assert!(
        running_kept
            .reasons
            .iter()
            .any(|r| r.code == ReasonCode::StatutoryRetention && r.message.contains("StrlSchG")),
        "{:?}",
        running_kept.reasons
    );
    let register = FileRegister::open(&fx.path("register")).unwrap();
    for k in &sys.kept {
        let entry = register.lookup(&name, &k.record).await.unwrap();
        let entry = entry.unwrap_or_else(|| panic!("{} in the register", k.record));
        assert_eq!(entry.purposes, k.purposes);
    }
    for erased in [&due1, &due2] {
        assert_eq!(register.lookup(&name, erased).await.unwrap(), None);
    }

    // The certificate says the same, signed, and holds no identifier.
    let cert =
        gdpr_request::certificate::issue(&dir, &log, &fx.signer(), jiff::Timestamp::now()).unwrap();
    let text = serde_json::to_vec(&cert).unwrap();
    assert!(!String::from_utf8_lossy(&text).contains(&target));
    assert!(!String::from_utf8_lossy(&text).contains(&other));
    verify_certificate(&text, &fx.signer().verifier()).unwrap();
    let cs = &cert.systems[0];
    assert!(cs.verified);
    assert_eq!(cs.kept, sys.kept);
    let mut erased: Vec<_> = cs
        .items
        .iter()
        .filter(|i| i.status == CertifiedStatus::Erased)
        .map(|i| i.item.clone())
        .collect();
    erased.sort();
    let mut due = vec![due1.to_string(), due2.to_string()];
    due.sort();
    assert_eq!(erased, due, "erased: exactly the due studies");
    for kept in [&held, &running] {
        assert!(
            cs.items.iter().all(|i| i.item != kept.to_string()),
            "{kept} is not listed as erased or left"
        );
    }

    // Clean up what this test left on the shared server.
    for subject in [&target, &other] {
        let s: SubjectRef = PatientId::new(subject).unwrap().into();
        store
            .erase_subject(&s, gdpr_core::store::DerivedPolicy::Erase)
            .await
            .unwrap();
    }
}
