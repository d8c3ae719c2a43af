//! A request on a FHIR system alone (no DICOM patient id anywhere): the
//! audit subject comes from the request's subject map by its documented
//! rule (`SubjectMap::audit_subject`: the FHIR identifier's value with its
//! system as issuer). An access request exports the patient's resources; a
//! restriction puts the FHIR security label on them and the register holds
//! every record; lifting removes both. On the real Helios HFS of
//! scripts/fhir.sh; with the feature on and no server, it fails.
#![cfg(feature = "fhir-tests")]

mod support;

use std::collections::BTreeMap;

use gdpr_core::request::{
    ApprovalPolicy, DataSubjectRequest, Event, RequestId, RequestKind, Stage, SubjectMap,
    SystemName,
};
use gdpr_core::store::{FhirIdentifier, FhirSubject, SubjectRef, SubjectStore};
use gdpr_ehr::store::{FhirConfig, FhirStore};
use gdpr_request::{FileJournal, FileRegister, RequestDir, Resources, Setup, verify_certificate};
use support::*;

fn url() -> String {
    std::env::var("GDPR_TEST_FHIR_URL").unwrap_or_else(|_| {
        panic!("GDPR_TEST_FHIR_URL is not set: the `fhir-tests` feature needs the real FHIR server (scripts/fhir.sh start)")
    })
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
    let unique = format!(
        "{}{}",
        std::process::id(),
        jiff::Timestamp::now().subsec_nanosecond()
    );
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
