//! OpenEmrStore against the FAKE OpenEMR of tests/support/fake_openemr/
//! (OpenEMR itself cannot be installed here): locate and export of one
//! patient among others, erasure through the DELETE routes with the rest
//! reported as residue, a record moved away before its deletion, a token
//! expiring mid-export, a refused client assertion, and no patient value in
//! errors or Debug output.

#[path = "support/fake_openemr/mod.rs"]
mod fake_openemr;
#[cfg(feature = "fhir-tests")]
#[path = "support/mod.rs"]
mod support;

/// Every export is checked by the independent validator where the test
/// suite has it (feature `fhir-tests`, which scripts/test.sh turns on).
fn validated(dir: &std::path::Path) {
    #[cfg(feature = "fhir-tests")]
    support::validate_export(&support::validator(), dir);
    let _ = dir;
}

use std::time::Duration;

use fake_openemr::{CLIENT_ID, FakeOpenEmr};
use gdpr_connect::{
    ClientAuth, ClientCredentials, Credentials, PasswordGrant, PrivateKeyJwt, SecretSource,
    SigningAlgorithm, TokenEndpoint,
};
use gdpr_core::store::{
    DerivedPolicy, FhirIdentifier, FhirSubject, RestrictionOutcome, SubjectRef, SubjectStore,
};
use gdpr_ehr::openemr::{OpenEmrConfig, OpenEmrStore, Site};
use serde_json::json;

const CANARY: &str = "CANARY-7f3a";
/// The registered client's key (the fake verifies its signatures).
const TEST_KEY: &str = fake_openemr::jwt::CLIENT_RSA_KEY;
const SYSTEM: &str = "urn:oid:1.2.276.0.76.3.1.1";

fn subject(value: &str) -> SubjectRef {
    let id = FhirIdentifier::parse(&format!("{SYSTEM}|{value}")).unwrap();
    SubjectRef::Fhir(FhirSubject::Identifier(id))
}

fn category(code: &str) -> serde_json::Value {
    json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": code}]}])
}

/// Two patients: `pa` (the subject, with an allergy, a problem-list
/// condition, an encounter diagnosis, an encounter and five observations)
/// and `pb` (an allergy and a problem).
async fn seeded() -> FakeOpenEmr {
    let fake = fake_openemr::start(Duration::from_secs(300)).await;
    for (id, value) in [("pa", format!("MRN-{CANARY}")), ("pb", "MRN-OTHER".into())] {
        fake.add(json!({"resourceType": "Patient", "id": id,
            "identifier": [{"system": SYSTEM, "value": value}],
            "name": [{"family": format!("{CANARY}-{id}")}], "birthDate": "1970-01-01"}));
    }
    let of = |p: &str| json!({"reference": format!("Patient/{p}")});
    for (id, p) in [("a1", "pa"), ("b1", "pb")] {
        fake.add(json!({"resourceType": "AllergyIntolerance", "id": id, "patient": of(p)}));
    }
    for (id, p, cat) in [
        ("c1", "pa", "problem-list-item"),
        ("c2", "pa", "encounter-diagnosis"),
        ("bc1", "pb", "problem-list-item"),
    ] {
        fake.add(
            json!({"resourceType": "Condition", "id": id, "subject": of(p),
                        "category": category(cat)}),
        );
    }
    {
        let mut s = fake.state.lock().unwrap();
        s.pids.insert("pa".into(), 1);
        s.pids.insert("pb".into(), 2);
        s.medication_rows.insert(7, "m1".into());
        s.medication_rows.insert(8, "mb1".into());
    }
    // m1 and mb1 are medication list entries, m2 a prescription.
    for (id, p) in [("m1", "pa"), ("m2", "pa"), ("mb1", "pb")] {
        fake.add(
            json!({"resourceType": "MedicationRequest", "id": id, "status": "active",
            "intent": "order", "medicationCodeableConcept": {"text": "x"}, "subject": of(p)}),
        );
    }
    fake.add(
        json!({"resourceType": "Encounter", "id": "e1", "status": "finished",
        "class": {"code": "AMB"}, "subject": of("pa"),
        "period": {"start": "2020-01-01", "end": "2020-01-02"}}),
    );
    for n in 1..=5 {
        fake.add(
            json!({"resourceType": "Observation", "id": format!("o{n}"), "status": "final",
            "code": {"text": "x"}, "subject": of("pa"), "effectiveDateTime": "2020-01-01"}),
        );
    }
    fake
}

fn store(fake: &FakeOpenEmr, client_id: &str, dir: &std::path::Path) -> OpenEmrStore {
    let key = dir.join("client.pem");
    std::fs::write(&key, TEST_KEY).unwrap();
    let auth = ClientAuth::PrivateKeyJwt(PrivateKeyJwt::new(key, SigningAlgorithm::Rs384));
    let client =
        ClientCredentials::with_auth(TokenEndpoint::Url(fake.token_url()), client_id, auth)
            .with_scopes(["system/*.read"]);
    let mut config = OpenEmrConfig::new("emr", &fake.root, Site::new("default").unwrap());
    config.endpoint = config
        .endpoint
        .with_credentials(Credentials::ClientCredentials(client));
    config.page_size = 2; // every search pages through link[next]
    OpenEmrStore::connect(&config).unwrap()
}

fn ids<'a>(ids: impl Iterator<Item = &'a gdpr_core::store::RecordId>) -> Vec<String> {
    let mut all: Vec<String> = ids.map(|i| i.as_str().to_owned()).collect();
    all.sort();
    all
}

#[tokio::test]
async fn locate_and_export_find_exactly_the_one_patient() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(&fake, CLIENT_ID, dir.path());
    let found = store
        .locate(&subject(&format!("MRN-{CANARY}")))
        .await
        .unwrap();
    let found = ids(found.iter().map(|h| h.id()));
    assert_eq!(found.len(), 12, "{found:?}");
    assert!(
        found
            .iter()
            .all(|id| !id.ends_with("b1") && !id.ends_with("pb")),
        "{found:?}"
    );
    let out = dir.path().join("export");
    let report = store
        .export(&subject(&format!("MRN-{CANARY}")), &out)
        .await
        .unwrap();
    assert_eq!(report.manifest.records.len(), 12);
    let bundle = std::fs::read_to_string(out.join("bundle.json")).unwrap();
    assert!(bundle.contains("\"a1\"") && bundle.contains("\"o5\"") && !bundle.contains("\"b1\""));
    assert!(out.join("manifest.json").exists());
    validated(&out);
    assert_eq!(store.identity().kind(), "openemr");
}

#[tokio::test]
async fn erase_deletes_what_the_routes_cover_and_reports_the_rest() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(&fake, CLIENT_ID, dir.path());
    let report = store
        .erase_subject(&subject(&format!("MRN-{CANARY}")), DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(
        !report.is_verified(),
        "OpenEMR keeps the patient: never verified"
    );
    let mut deleted = fake.state.lock().unwrap().deleted.clone();
    deleted.sort();
    assert_eq!(
        deleted,
        ["allergy/a1", "medical_problem/c1", "medication/7"]
    );
    assert!(
        fake.has("MedicationRequest/mb1"),
        "the other patient's medication stays"
    );
    assert!(fake.has("AllergyIntolerance/b1") && fake.has("Condition/bc1"));
    let erased = ids(report.erased().iter().map(|e| &e.id));
    assert_eq!(
        erased,
        [
            "AllergyIntolerance:a1",
            "Condition:c1",
            "MedicationRequest:m1"
        ]
    );
    let left = ids(report.left().iter().map(|r| &r.id));
    let expected = [
        "Condition:c2",
        "Encounter:e1",
        "MedicationRequest:m2",
        "Observation:o1",
        "Observation:o2",
        "Observation:o3",
        "Observation:o4",
        "Observation:o5",
        "Patient:pa",
        "log:deleted-rows",
    ];
    assert_eq!(left, expected);
    for remnant in report.left() {
        let reason = remnant.reason.as_deref().unwrap();
        assert!(reason.contains("administrator task"), "{reason}");
        assert!(reason.contains('`'), "names the OpenEMR tables: {reason}");
    }
    assert!(report.refused().is_empty());
    // verify_erasure re-reads and finds the same.
    let again = store
        .verify_erasure(&subject(&format!("MRN-{CANARY}")), &[])
        .await
        .unwrap();
    assert_eq!(
        again.remaining().len(),
        expected.len() - 1,
        "no log remnant without deletions"
    );
}

#[tokio::test]
async fn a_record_moved_to_another_patient_before_its_deletion_stays() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(&fake, CLIENT_ID, dir.path());
    fake.state.lock().unwrap().move_on_read = Some(("Condition/c1".into(), "pb".into()));
    let report = store
        .erase_subject(&subject(&format!("MRN-{CANARY}")), DerivedPolicy::Erase)
        .await
        .unwrap();
    assert!(fake.has("Condition/c1"), "the moved record is not deleted");
    let mut deleted = fake.state.lock().unwrap().deleted.clone();
    deleted.sort();
    assert_eq!(deleted, ["allergy/a1", "medication/7"]);
    let refused = ids(report.refused().iter().map(|r| &r.id));
    assert_eq!(refused, ["Condition:c1"]);
    assert!(!report.is_verified());
}

#[tokio::test]
async fn a_token_expiring_mid_export_is_renewed_once_and_429_is_waited_out() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(&fake, CLIENT_ID, dir.path());
    {
        let mut s = fake.state.lock().unwrap();
        s.expire_tokens_after = Some(5);
        s.throttle_once = true;
    }
    let report = store
        .export(
            &subject(&format!("MRN-{CANARY}")),
            &dir.path().join("export"),
        )
        .await
        .unwrap();
    assert_eq!(report.manifest.records.len(), 12);
    assert_eq!(fake.state.lock().unwrap().token_requests, 2, "one renewal");
    validated(&dir.path().join("export"));
}

#[tokio::test]
async fn a_refused_assertion_and_an_unknown_patient_name_no_patient_value() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let refused = store(&fake, "another-client", dir.path());
    let error = refused
        .locate(&subject(&format!("MRN-{CANARY}")))
        .await
        .unwrap_err();
    let unknown = store(&fake, CLIENT_ID, dir.path())
        .locate(&subject(&format!("MRN-{CANARY}-NONE")))
        .await
        .unwrap_err();
    let good = store(&fake, CLIENT_ID, dir.path());
    let report = good
        .erase_subject(&subject(&format!("MRN-{CANARY}")), DerivedPolicy::Erase)
        .await
        .unwrap();
    for text in [
        format!("{error} {error:?}"),
        format!("{unknown} {unknown:?}"),
        format!("{good:?} {report:?}"),
    ] {
        assert!(!text.contains(CANARY), "{text}");
    }
}

#[tokio::test]
async fn restriction_is_unsupported_with_its_reason() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(&fake, CLIENT_ID, dir.path());
    let outcome = store.lift_restriction(&subject("MRN-OTHER")).await.unwrap();
    assert!(
        matches!(outcome, RestrictionOutcome::Unsupported { reason } if reason.contains("OpenEMR"))
    );
}

#[tokio::test]
async fn the_password_grant_with_user_role_users_erases_too() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("password");
    std::fs::write(&secret, fake_openemr::PASSWORD).unwrap();
    let mut client = ClientCredentials::with_auth(
        TokenEndpoint::Url(fake.token_url()),
        CLIENT_ID,
        ClientAuth::None,
    )
    .with_scopes(["openid", "api:oemr", "api:fhir", "user/allergy.write"]);
    client.parameters.push(("user_role".into(), "users".into()));
    let grant = PasswordGrant::new(client, fake_openemr::USER, SecretSource::File(secret));
    let mut config = OpenEmrConfig::new("emr", &fake.root, Site::new("default").unwrap());
    config.endpoint = config
        .endpoint
        .with_credentials(Credentials::Password(grant));
    let store = OpenEmrStore::connect(&config).unwrap();
    let report = store
        .erase_subject(&subject(&format!("MRN-{CANARY}")), DerivedPolicy::Erase)
        .await
        .unwrap();
    assert_eq!(report.erased().len(), 3);
    assert!(!report.is_verified());
}

#[tokio::test]
async fn erase_record_deletes_a_routed_record_and_reports_an_unrouted_one() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store(&fake, CLIENT_ID, dir.path());
    let handles = store
        .locate(&subject(&format!("MRN-{CANARY}")))
        .await
        .unwrap();
    let by_id = |id: &str| handles.iter().find(|h| h.id().as_str() == id).unwrap();
    let allergy = store
        .erase_record(by_id("AllergyIntolerance:a1"))
        .await
        .unwrap();
    assert_eq!(allergy.erased().len(), 1);
    assert_eq!(
        ids(allergy.left().iter().map(|r| &r.id)),
        ["log:deleted-rows"]
    );
    assert!(!allergy.is_verified(), "the log table keeps a copy");
    let observation = store.erase_record(by_id("Observation:o1")).await.unwrap();
    assert!(observation.erased().is_empty() && !observation.is_verified());
    let reason = observation.left()[0].reason.as_deref().unwrap();
    assert!(reason.contains("form_vitals"), "{reason}");
    assert!(fake.has("Observation/o1"));
    assert_eq!(fake.state.lock().unwrap().deleted, ["allergy/a1"]);
}

#[tokio::test]
async fn erase_record_leaves_a_record_moved_away_after_locate() {
    let fake = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let first = store(&fake, CLIENT_ID, dir.path());
    let handles = first
        .locate(&subject(&format!("MRN-{CANARY}")))
        .await
        .unwrap();
    let allergy = handles
        .iter()
        .find(|h| h.id().as_str() == "AllergyIntolerance:a1")
        .unwrap();
    fake.state.lock().unwrap().move_on_read = Some(("AllergyIntolerance/a1".into(), "pb".into()));
    let report = first.erase_record(allergy).await.unwrap();
    assert_eq!(
        ids(report.refused().iter().map(|r| &r.id)),
        ["AllergyIntolerance:a1"]
    );
    assert!(fake.has("AllergyIntolerance/a1") && fake.state.lock().unwrap().deleted.is_empty());
    // A store that never located the record does not know its patient.
    let other = store(&fake, CLIENT_ID, dir.path());
    let report = other.erase_record(allergy).await.unwrap();
    assert_eq!(report.refused().len(), 1);
    assert!(fake.has("AllergyIntolerance/a1"));
}
