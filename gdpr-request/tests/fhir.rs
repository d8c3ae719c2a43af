//! A request on a FHIR system alone (no DICOM patient id anywhere): the
//! audit subject comes from the request's subject map by its documented
//! rule (`SubjectMap::audit_subject`: the FHIR identifier's value with its
//! system as issuer). An access request exports the patient's resources; a
//! restriction puts the FHIR security label on them and the register holds
//! every record; lifting removes both. An erasure under the built-in DE
//! pack removes exactly the Encounters whose retention ran out and keeps,
//! restricted in the register, the running one and the held one, another
//! patient untouched. On the real Helios HFS of scripts/fhir.sh; with the
//! feature on and no server, it fails.
#![cfg(feature = "fhir-tests")]

mod support;

use std::collections::BTreeMap;

use gdpr_core::purpose::Purpose;
use gdpr_core::request::{
    ApprovalPolicy, DataSubjectRequest, Event, Findings, ReasonCode, RecordOutcome, RequestId,
    RequestKind, Stage, SubjectMap, SystemName,
};
use gdpr_core::store::{FhirIdentifier, FhirSubject, SubjectRef, SubjectStore};
use gdpr_ehr::store::{FhirConfig, FhirStore};
use gdpr_request::certificate::CertifiedStatus;
use gdpr_request::{
    FileJournal, FileRegister, RequestDir, Resources, RestrictionRegister, Setup,
    verify_certificate,
};
use support::*;

/// The real FHIR server's URL; panics (fails loudly) without it.
fn url() -> String {
    gdpr_test_support::servers::fhir_url("fhir-tests")
}

/// POSTs `resource` with curl; its new logical id.
fn create(resource: serde_json::Value) -> String {
    let kind = resource["resourceType"].as_str().unwrap().to_owned();
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-f",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/fhir+json",
        ])
        .arg("--data-binary")
        .arg(resource.to_string())
        .arg(format!("{}/{kind}", url().trim_end_matches('/')))
        .output()
        .unwrap();
    assert!(out.status.success(), "create {kind}");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    body["id"].as_str().unwrap().to_owned()
}

fn store() -> Box<dyn SubjectStore> {
    Box::new(FhirStore::connect(&FhirConfig::new("ehr", url())).unwrap())
}

#[tokio::test]
async fn a_fhir_only_request_runs_with_the_derived_audit_subject() {
    let unique = gdpr_test_support::unique_digits();
    let system = format!("urn:gdpr-request-test:{unique}");
    let value = format!("CANARY-FHIR-{unique}");
    let patient = create(serde_json::json!({"resourceType": "Patient",
        "identifier": [{"system": system, "value": value}], "birthDate": "1970-01-01"}));
    for day in ["2020-01-02", "2020-01-03"] {
        create(
            serde_json::json!({"resourceType": "Observation", "status": "final",
            "code": {"text": "synthetic"}, "subject": {"reference": format!("Patient/{patient}")},
            "effectiveDateTime": day}),
        );
    }
    let ehr = SystemName::new("ehr").unwrap();
    let subject: SubjectRef = SubjectRef::Fhir(FhirSubject::Identifier(
        FhirIdentifier::new(Some(system.clone()), value.clone()).unwrap(),
    ));
    let fx = Fixture::new();
    let kinds = [
        ("dsr-f-access", RequestKind::Access),
        ("dsr-f-restrict", restriction()),
        ("dsr-f-lift", RequestKind::LiftRestriction),
    ];
    for (id, kind) in kinds {
        let mut subjects = SubjectMap::new();
        subjects.insert(ehr.clone(), subject.clone());
        let req = DataSubjectRequest::receive(
            RequestId::new(id).unwrap(),
            kind.clone(),
            subjects,
            ApprovalPolicy::AnyActor,
            jiff::Timestamp::now(),
            gdpr_core::actor::ActorId::new("clerk").unwrap(),
        );
        let dir = RequestDir::create(&fx.path("requests"), &req).unwrap();
        let setup = Setup::for_request(actor("dpo-1"), &req).unwrap();
        assert_eq!(setup.audit_subject.expose(), value);
        assert_eq!(setup.audit_subject.issuer(), Some(system.as_str()));
        let mut stores = BTreeMap::new();
        stores.insert(ehr.clone(), store());
        let log = fx.log();
        let resources = Resources::new(
            std::sync::Arc::new(FileJournal::open(dir.path()).unwrap()),
            stores,
            log.clone(),
            std::sync::Arc::new(fx.signer()),
            std::sync::Arc::new(FileRegister::open(&fx.path("register")).unwrap()),
        );
        let mut ex = gdpr_request::Executor::open(dir.clone(), resources, setup, None)
            .await
            .unwrap();
        for e in [Event::IdentityVerified, Event::Assessed, Event::Approved] {
            ex.step(e).await.unwrap();
        }
        let outcome = ex.run().await.unwrap();
        assert_eq!(outcome.stage, Stage::Completed, "{id}: {outcome:?}");
        let system_outcome = &outcome.systems[0];
        match kind {
            RequestKind::Access => {
                assert!(system_outcome.exported_files.unwrap() >= 1);
            }
            _ => {
                let done = system_outcome.restriction.as_ref().unwrap();
                assert!(done.system_mark.is_some(), "the FHIR security label");
                assert_eq!(done.register_records, 3, "Patient and two Observations");
            }
        }
        let cert =
            gdpr_request::certificate::issue(&dir, &log, &fx.signer(), jiff::Timestamp::now())
                .unwrap();
        drop((ex, log));
        let text = serde_json::to_vec(&cert).unwrap();
        assert!(!String::from_utf8_lossy(&text).contains(&value));
        verify_certificate(&text, &fx.signer().verifier()).unwrap();
    }
    // Clean up the shared server.
    store()
        .erase_subject(&subject, gdpr_core::store::DerivedPolicy::Erase)
        .await
        .unwrap();
}

/// The status code of a GET of `path` on the server (`Patient/1`).
fn status(path: &str) -> u16 {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("{}/{path}", url().trim_end_matches('/')))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().parse().unwrap()
}

/// The body of a GET of `path` on the server.
fn read(path: &str) -> serde_json::Value {
    let out = std::process::Command::new("curl")
        .args(["-s", "-f"])
        .arg(format!("{}/{path}", url().trim_end_matches('/')))
        .output()
        .unwrap();
    assert!(out.status.success(), "read {path}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A Patient with `identifier` and its Encounters, one per
/// (start, end) period; their `Type/id` paths, the Patient's first.
fn patient_with_encounters(system: &str, value: &str, periods: &[(&str, &str)]) -> Vec<String> {
    let patient = create(serde_json::json!({"resourceType": "Patient",
        "identifier": [{"system": system, "value": value}], "birthDate": "1970-01-01"}));
    let mut out = vec![format!("Patient/{patient}")];
    for (start, end) in periods {
        let id = create(
            serde_json::json!({"resourceType": "Encounter", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": format!("Patient/{patient}")},
            "period": {"start": start, "end": end}}),
        );
        out.push(format!("Encounter/{id}"));
    }
    out
}

fn record(path: &str) -> gdpr_core::store::RecordId {
    gdpr_core::store::RecordId::new(path.replace('/', ":")).unwrap()
}

#[tokio::test]
async fn erasure_removes_exactly_the_due_resources_and_keeps_the_running_and_the_held() {
    let unique = gdpr_test_support::unique_digits();
    let system = format!("urn:gdpr-request-test:{unique}");
    let (value, other_value) = (format!("CANARY-FHIR-{unique}"), format!("OTHER-{unique}"));
    // DE: patient record, 10 years after the end of the treatment
    // (§ 630f(3) BGB). On 2026-03-02 the 2010 treatments are due, the 2023
    // one runs until the end of 2033.
    let periods = [
        ("2010-03-01", "2010-03-05"), // due
        ("2010-04-01", "2010-04-02"), // due, but under a litigation hold
        ("2023-05-01", "2023-05-03"), // retention still running
    ];
    let target = patient_with_encounters(&system, &value, &periods);
    let other = patient_with_encounters(&system, &other_value, &periods[..1]);
    let other_before: Vec<_> = other.iter().map(|p| read(p)).collect();
    let (due, held, running) = (&target[1], &target[2], &target[3]);

    let ehr = SystemName::new("ehr").unwrap();
    let subject = SubjectRef::Fhir(FhirSubject::Identifier(
        FhirIdentifier::new(Some(system.clone()), value.clone()).unwrap(),
    ));
    let mut holds = gdpr_request::Holds::new();
    holds.insert(
        (ehr.clone(), record(held)),
        gdpr_core::retention::HoldSet::EMPTY.with(gdpr_core::retention::LegalHold::Litigation),
    );
    // No finding: the DE pack's follows rule `de-master-data` keeps the
    // Patient resource (`demographics`) while the running and the held
    // Encounters are kept (a reading of § 630f(3) BGB).
    let findings = Findings::none();
    let fx = Fixture::new();
    let (outcome, assessment, cert) = erase(&fx, &ehr, subject.clone(), &findings, &holds).await;
    let outcome_of = |path: &str| {
        assessment
            .records
            .iter()
            .find(|r| r.record == record(path))
            .unwrap_or_else(|| panic!("{path} assessed"))
    };
    assert_eq!(outcome_of(due).outcome, RecordOutcome::Erase);
    assert!(outcome_of(due).reasons.iter().any(|r| r.code
        == ReasonCode::RetentionEnded
        && r.citation.as_str() == "§ 630f(3) BGB"));
    for kept in [held, running] {
        assert!(
            matches!(outcome_of(kept).outcome, RecordOutcome::Keep { .. }),
            "{kept}"
        );
    }
    let the_patient = outcome_of(&target[0]);
    assert!(
        matches!(the_patient.outcome, RecordOutcome::Keep { .. }),
        "the Patient, kept with the records it identifies"
    );
    let follows = the_patient
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::FollowsRecords && r.applied)
        .expect("the follows rule keeps the Patient");
    assert_eq!(follows.citation.as_str(), "§ 630f(3) BGB");
    assert!(
        follows.message.contains("de-master-data"),
        "{}",
        follows.message
    );

    // The server afterwards: the due one gone, the kept ones and the other
    // patient as they were.
    assert!(matches!(status(due), 404 | 410), "{due}: {}", status(due));
    for kept in [&target[0], held, running] {
        assert_eq!(status(kept), 200, "{kept}");
    }
    let other_after: Vec<_> = other.iter().map(|p| read(p)).collect();
    assert_eq!(other_after, other_before, "the other patient is untouched");

    // Helios keeps deleted versions in `_history` and offers no `$expunge`
    // (docs/ehr.md): verification finds the due Encounter's earlier
    // version and says so; the request is partially completed, not
    // "erased". Nothing else is reported left: the kept ones are not residue.
    assert_eq!(outcome.stage, Stage::PartiallyCompleted, "{outcome:?}");
    let sys = &outcome.systems[0];
    let report = sys.report.as_ref().unwrap();
    assert!(!report.is_verified());
    let items: Vec<_> = report
        .items()
        .iter()
        .map(|i| match i.item {
            gdpr_core::store::Item::Resource { id, .. } => (id.clone(), i.status, i.reason),
            _ => panic!("only resources: {report:?}"),
        })
        .collect();
    assert_eq!(items.len(), 1, "{report:?}");
    assert_eq!(items[0].0, record(due));
    assert_eq!(items[0].1, gdpr_core::store::ItemStatus::Left);
    assert!(items[0].2.unwrap().contains("_history"), "{report:?}");

    // The kept ones: restricted in the register, each with its reason and
    // citation.
    let kept_of = |path: &str| sys.kept.iter().find(|k| k.record == record(path));
    let kept_ids: Vec<_> = sys.kept.iter().map(|k| k.record.clone()).collect();
    let mut expected = vec![record(&target[0]), record(held), record(running)];
    expected.sort();
    let mut sorted = kept_ids.clone();
    sorted.sort();
    assert_eq!(
        sorted, expected,
        "exactly the Patient, the held and the running"
    );
    let held_kept = kept_of(held).unwrap();
    let hold = held_kept
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::LegalHold)
        .expect("the hold is the reason");
    assert_eq!(hold.citation.as_str(), "GDPR Art. 17(3)(e)");
    assert!(hold.message.contains("litigation"), "{}", hold.message);
    assert_eq!(held_kept.purposes, vec![Purpose::LegalClaims]);
    // Kept records carry only what kept them: no applied "erase without
    // undue delay", no "decide manually" once a finding decided.
    for k in &sys.kept {
        assert!(
            k.reasons
                .iter()
                .all(|r| !matches!(r.code, ReasonCode::ErasureGround | ReasonCode::Undetermined)),
            "{}: {:?}",
            k.record,
            k.reasons
        );
    }
    let statute = kept_of(running)
        .unwrap()
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::StatutoryRetention)
        .expect("the running statute is the reason");
    assert_eq!(statute.citation.as_str(), "GDPR Art. 17(3)(b)");
    assert!(
        statute.message.contains("§ 630f(3) BGB"),
        "{}",
        statute.message
    );
    let register = FileRegister::open(&fx.path("register")).unwrap();
    for k in &sys.kept {
        let entry = register.lookup(&ehr, &k.record).await.unwrap();
        let entry = entry.unwrap_or_else(|| panic!("{} in the register", k.record));
        assert_eq!(entry.purposes, k.purposes);
        assert!(entry.citation.is_some());
    }
    assert_eq!(register.lookup(&ehr, &record(due)).await.unwrap(), None);

    // The certificate says the same, signed.
    let cert_sys = &cert.systems[0];
    assert!(!cert_sys.verified);
    assert_eq!(cert_sys.kept, sys.kept);
    assert_eq!(cert_sys.items.len(), 1);
    assert_eq!(cert_sys.items[0].item, record(due).to_string());
    assert_eq!(cert_sys.items[0].status, CertifiedStatus::Left);
    let cert_text = serde_json::to_string(&cert).unwrap();
    assert!(!cert_text.contains(&value));
    assert!(!cert_text.contains(&other_value));

    // Clean up the shared server.
    for v in [&value, &other_value] {
        let s = SubjectRef::Fhir(FhirSubject::Identifier(
            FhirIdentifier::new(Some(system.clone()), v.clone()).unwrap(),
        ));
        store()
            .erase_subject(&s, gdpr_core::store::DerivedPolicy::Erase)
            .await
            .unwrap();
    }
}

/// A patient whose only Encounter is past its § 630f(3) BGB period: the
/// DE follows rule no longer keeps the Patient resource, so both are
/// erased (the Patient after its Encounter); another patient's untouched.
#[tokio::test]
async fn erasure_removes_the_patient_once_nothing_of_it_is_kept() {
    let unique = gdpr_test_support::unique_digits();
    let system = format!("urn:gdpr-request-test:{unique}");
    let (value, other_value) = (format!("CANARY-FHIR-{unique}"), format!("OTHER-{unique}"));
    let periods = [("2010-03-01", "2010-03-05")];
    let target = patient_with_encounters(&system, &value, &periods);
    let other = patient_with_encounters(&system, &other_value, &periods);
    let other_before: Vec<_> = other.iter().map(|p| read(p)).collect();
    let ehr = SystemName::new("ehr").unwrap();
    let subject = SubjectRef::Fhir(FhirSubject::Identifier(
        FhirIdentifier::new(Some(system.clone()), value.clone()).unwrap(),
    ));
    let fx = Fixture::new();
    let holds = gdpr_request::Holds::new();
    let (outcome, assessment, cert) = erase(&fx, &ehr, subject, &Findings::none(), &holds).await;
    assert_eq!(assessment.records.len(), 2);
    for r in &assessment.records {
        assert_eq!(
            r.outcome,
            RecordOutcome::Erase,
            "{}: {:?}",
            r.record,
            r.reasons
        );
    }
    let patient = assessment
        .records
        .iter()
        .find(|r| r.record == record(&target[0]))
        .unwrap();
    let follows = patient
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::FollowsRecords)
        .expect("the follows rule is named");
    assert!(!follows.applied, "nothing keeps the Patient");
    for gone in &target {
        assert!(
            matches!(status(gone), 404 | 410),
            "{gone}: {}",
            status(gone)
        );
    }
    let other_after: Vec<_> = other.iter().map(|p| read(p)).collect();
    assert_eq!(other_after, other_before, "the other patient is untouched");
    // Helios keeps the deleted versions in `_history`: partially completed,
    // with exactly those two left, never "erased".
    assert_eq!(outcome.stage, Stage::PartiallyCompleted, "{outcome:?}");
    assert!(outcome.systems[0].kept.is_empty());
    let report = outcome.systems[0].report.as_ref().unwrap();
    let mut left: Vec<_> = report
        .items()
        .iter()
        .map(|i| match i.item {
            gdpr_core::store::Item::Resource { id, .. } => {
                assert_eq!(i.status, gdpr_core::store::ItemStatus::Left, "{report:?}");
                assert!(i.reason.unwrap().contains("_history"), "{report:?}");
                id.clone()
            }
            _ => panic!("only resources: {report:?}"),
        })
        .collect();
    left.sort();
    let mut expected: Vec<_> = target.iter().map(|p| record(p)).collect();
    expected.sort();
    assert_eq!(left, expected, "exactly the two deleted versions are left");
    let cert_text = serde_json::to_string(&cert).unwrap();
    assert!(!cert_text.contains(&value) && !cert_text.contains(&other_value));
    for v in [&value, &other_value] {
        let s = SubjectRef::Fhir(FhirSubject::Identifier(
            FhirIdentifier::new(Some(system.clone()), v.clone()).unwrap(),
        ));
        // The target is gone already; only the other patient is left to clean.
        let _ = store()
            .erase_subject(&s, gdpr_core::store::DerivedPolicy::Erase)
            .await;
    }
}

/// Runs an erasure request for `subject` on `ehr` under the built-in DE
/// pack on 2026-03-02 with `findings` and `holds`: the outcome, the assessment and the
/// certificate (verified offline).
async fn erase(
    fx: &Fixture,
    ehr: &SystemName,
    subject: SubjectRef,
    findings: &Findings,
    holds: &gdpr_request::Holds,
) -> (
    gdpr_request::RunOutcome,
    gdpr_core::request::Assessment,
    gdpr_request::Certificate,
) {
    let mut subjects = SubjectMap::new();
    subjects.insert(ehr.clone(), subject);
    let req = DataSubjectRequest::receive(
        RequestId::new("dsr-f-erase").unwrap(),
        erasure(),
        subjects,
        ApprovalPolicy::AnyActor,
        jiff::Timestamp::now(),
        gdpr_core::actor::ActorId::new("clerk").unwrap(),
    );
    let dir = RequestDir::create(&fx.path("requests"), &req).unwrap();
    let setup = Setup::for_request(actor("dpo-1"), &req).unwrap();
    let mut stores = BTreeMap::new();
    stores.insert(ehr.clone(), store());
    let log = fx.log();
    let resources = Resources::new(
        std::sync::Arc::new(FileJournal::open(dir.path()).unwrap()),
        stores,
        log.clone(),
        std::sync::Arc::new(fx.signer()),
        std::sync::Arc::new(FileRegister::open(&fx.path("register")).unwrap()),
    );
    let mut ex = gdpr_request::Executor::open(dir.clone(), resources, setup, None)
        .await
        .unwrap();
    ex.step(Event::IdentityVerified).await.unwrap();
    let de = gdpr_core::retention::RulePack::builtin(&"DE".parse().unwrap())
        .unwrap()
        .unwrap();
    let on = jiff::civil::date(2026, 3, 2);
    let assessment = ex.assess(&de, findings, holds, on).await.unwrap();
    ex.step(Event::Approved).await.unwrap();
    let outcome = ex.run().await.unwrap();
    let cert =
        gdpr_request::certificate::issue(&dir, &log, &fx.signer(), jiff::Timestamp::now()).unwrap();
    drop((ex, log));
    let text = serde_json::to_vec(&cert).unwrap();
    verify_certificate(&text, &fx.signer().verifier()).unwrap();
    (outcome, assessment, cert)
}
