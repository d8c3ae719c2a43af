//! The FHIR R4 adapter against the real server (Helios HFS, scripts/fhir.sh):
//! subject matching, locate, export (checked by the independent Python
//! validator), erasure of one patient among look-alikes, what is left
//! (history versions, shared resources), paging, the restriction label.
//! Skipped when GDPR_TEST_FHIR_URL is unset; fails then under CI or
//! GDPR_REQUIRE_SERVERS.

mod support;

use gdpr_core::category::RecordCategory;
use gdpr_core::retention::Fact;
use gdpr_ehr::compartment::Classification;
use gdpr_ehr::store::{FhirConfig, FhirStore, Named, resolve};
use serde_json::json;
use support::*;

/// A patient with records: Encounter, two Observations, a Condition; an
/// Appointment (shared) and the Practitioner it names.
struct Planted {
    system: String,
    value: String,
    patient: String,
    others: Vec<String>,
}

async fn plant(server: &Server) -> Planted {
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

fn store(url: &str, page_size: u32) -> FhirStore {
    let mut config = FhirConfig::new("test-fhir", url);
    config.page_size = page_size;
    FhirStore::connect(&config).unwrap()
}

#[tokio::test]
async fn the_subject_is_matched_exactly_and_located_with_categories_and_dates() {
    let Some(url) = fhir_url() else { return };
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 2); // several pages per listing
    let named = Named::Identifier {
        system: &planted.system,
        value: &planted.value,
    };
    let found = resolve(store.client(), named).await.unwrap();
    assert_eq!(found.id.as_deref(), Some(planted.patient.as_str()));
    let by_id = resolve(store.client(), Named::LogicalId(&planted.patient))
        .await
        .unwrap();
    assert_eq!(by_id.id, found.id);
    let missing = Named::Identifier {
        system: &planted.system,
        value: "MRN-AB-1",
    };
    let err = resolve(store.client(), missing).await.unwrap_err();
    assert!(!err.to_string().contains("MRN"), "{err}");

    let records = store.records(&planted.patient).await.unwrap();
    let kinds = |k: &str| records.iter().filter(|r| r.kind == k).count();
    assert_eq!(
        (
            kinds("Patient"),
            kinds("Encounter"),
            kinds("Observation"),
            kinds("Condition")
        ),
        (1, 1, 2, 1)
    );
    let encounter = records.iter().find(|r| r.kind == "Encounter").unwrap();
    let Classification::Own(own) = &encounter.class else {
        panic!("own")
    };
    assert_eq!(own.category, RecordCategory::PatientRecord);
    assert!(
        own.dates
            .contains(&(Fact::TreatmentEnd, jiff::civil::date(2020, 1, 5)))
    );
    for other in &planted.others {
        assert!(
            records.iter().all(|r| &r.id != other),
            "a look-alike was located"
        );
    }
    let appointment = records.iter().find(|r| r.kind == "Appointment");
    assert!(
        matches!(
            appointment.map(|a| &a.class),
            Some(Classification::Shared { .. })
        ),
        "$everything gives the Appointment, and it is shared"
    );
}

#[tokio::test]
async fn an_export_is_valid_fhir_and_keeps_nonconformant_elements_aside() {
    let (Some(url), Some(validator)) = (fhir_url(), validator()) else {
        return;
    };
    let server = Server::new(&url);
    let planted = plant(&server).await;
    server
        .create(
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": format!("Patient/{}", planted.patient)},
            "x-vendor-flag": true, "note": [], "valueString": ""}),
        )
        .await;
    let store = store(&url, 3);
    let dir = tempfile::tempdir().unwrap();
    let (files, found) = store
        .write_export(&planted.patient, dir.path())
        .await
        .unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"bundle.json") && names.contains(&"Observation.ndjson"),
        "{names:?}"
    );
    assert!(
        names.contains(&"nonconformant-elements.ndjson"),
        "{names:?}"
    );
    assert!(found.len() >= 6);
    let paths: Vec<std::path::PathBuf> = files
        .iter()
        .filter(|f| f.name != "nonconformant-elements.ndjson")
        .map(|f| dir.path().join(&f.name))
        .collect();
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    validate(&validator, &refs);
    for name in &names {
        assert!(
            !name.contains(&planted.patient) && !name.contains("MRN"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn erasure_deletes_only_the_subject_and_reports_history_and_shared_residue() {
    let Some(url) = fhir_url() else { return };
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 2);
    let done = store.delete_all(&planted.patient).await.unwrap();
    let deleted: Vec<(String, String)> = done
        .iter()
        .filter(|(_, o)| matches!(o, gdpr_connect::Outcome::Done { .. }))
        .map(|(f, _)| (f.kind.clone(), f.id.clone()))
        .collect();
    assert_eq!(
        deleted.len(),
        5,
        "Patient, Encounter, 2 Observations, Condition"
    );
    assert_eq!(
        deleted.last().unwrap().0,
        "Patient",
        "the Patient goes last"
    );
    let refused: Vec<&str> = done
        .iter()
        .filter(|(_, o)| matches!(o, gdpr_connect::Outcome::Refused(_)))
        .map(|(f, _)| f.kind.as_str())
        .collect();
    assert!(refused.contains(&"Appointment"), "{refused:?}");

    // Gone: reads answer 404/410.
    for (kind, id) in &deleted {
        assert!(
            store.client().read(kind, id).await.unwrap().is_none(),
            "{kind} still readable"
        );
    }
    // The look-alikes and their records survive.
    for other in &planted.others {
        assert!(
            store
                .client()
                .read("Patient", other)
                .await
                .unwrap()
                .is_some()
        );
    }
    let survivors = server
        .search_ids(&format!(
            "Observation?subject=Patient/{}",
            planted.others[0]
        ))
        .await;
    assert_eq!(survivors.len(), 1);

    // Helios keeps every deleted version in _history: each is residue.
    let left = store.left_over(&planted.patient, &deleted).await.unwrap();
    for (kind, id) in &deleted {
        let entry = left.iter().find(|l| &l.kind == kind && &l.id == id);
        assert!(
            entry.is_some_and(|l| l.reason.contains("_history")),
            "{kind}: {left:?}"
        );
    }
    // A second run finds nothing more to delete and stays idempotent.
    let again = store.delete_all(&planted.patient).await.unwrap();
    assert!(again.iter().all(|(f, _)| f.kind != "Observation"));
}

#[tokio::test]
async fn a_restriction_label_is_set_read_back_and_lifted() {
    let Some(url) = fhir_url() else { return };
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 50);
    let client = store.client();
    assert!(
        gdpr_ehr::store::set_label(client, "Patient", &planted.patient, true)
            .await
            .unwrap()
    );
    let patient = client
        .read("Patient", &planted.patient)
        .await
        .unwrap()
        .unwrap();
    assert!(gdpr_ehr::store::is_labelled(&patient));
    assert_eq!(patient["meta"]["security"][0]["code"], "NOAUTH");
    assert!(
        gdpr_ehr::store::set_label(client, "Patient", &planted.patient, false)
            .await
            .unwrap()
    );
    let patient = client
        .read("Patient", &planted.patient)
        .await
        .unwrap()
        .unwrap();
    assert!(!gdpr_ehr::store::is_labelled(&patient));
    assert!(
        !gdpr_ehr::store::set_label(client, "Patient", "no-such-id", true)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn per_type_searches_find_the_same_own_records_as_everything() {
    let Some(url) = fhir_url() else { return };
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 2);
    let ids = |records: Vec<gdpr_ehr::store::Found>| {
        let mut own: Vec<String> = records
            .into_iter()
            .filter(|r| matches!(r.class, Classification::Own(_)))
            .map(|r| format!("{}/{}", r.kind, r.id))
            .collect();
        own.sort();
        own
    };
    let everything = ids(store.records(&planted.patient).await.unwrap());
    let mut walk = gdpr_ehr::store::Walk::by_type(store.client(), &planted.patient);
    let mut by_type = Vec::new();
    while let Some(batch) = walk.next_batch().await.unwrap() {
        by_type.extend(batch.iter().map(|r| gdpr_ehr::store::Found {
            kind: r["resourceType"].as_str().unwrap().to_owned(),
            id: r["id"].as_str().unwrap().to_owned(),
            class: gdpr_ehr::compartment::classify(r, &planted.patient),
        }));
    }
    assert_eq!(ids(by_type), everything);
    assert_eq!(everything.len(), 5);
}

#[tokio::test]
async fn a_resource_moved_to_another_patient_after_locate_is_not_deleted() {
    let Some(url) = fhir_url() else { return };
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 50);
    let records = store.records(&planted.patient).await.unwrap();
    let observation = records.iter().find(|r| r.kind == "Observation").unwrap();
    // Between locate and erase, someone re-assigns it to the look-alike.
    let path = format!("Observation/{}", observation.id);
    let (_, mut moved) = server.get(&path).await;
    moved["subject"]["reference"] = json!(format!("Patient/{}", planted.others[0]));
    assert_eq!(server.put(&path, moved).await, 200);

    let outcome = gdpr_ehr::store::erase_resource(
        store.client(),
        "Observation",
        &observation.id,
        &planted.patient,
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, gdpr_connect::Outcome::Refused(_)),
        "{outcome:?}"
    );
    assert_eq!(server.get(&path).await.0, 200, "it survives");
}

#[tokio::test]
async fn no_identifier_appears_in_errors_or_debug_output() {
    let Some(url) = fhir_url() else { return };
    let server = Server::new(&url);
    let system = format!("urn:gdpr-test:{}", unique());
    let canary = format!("CANARY-{}", unique());
    // Two Patients with the same identifier: ambiguous.
    server.create(patient(&system, &canary)).await;
    server.create(patient(&system, &canary)).await;
    let store = store(&url, 50);
    let named = Named::Identifier {
        system: &system,
        value: &canary,
    };
    let err = resolve(store.client(), named).await.unwrap_err();
    assert!(
        matches!(err, gdpr_core::store::StoreError::Refused { .. }),
        "{err:?}"
    );
    for text in [err.to_string(), format!("{err:?}"), format!("{store:?}")] {
        assert!(!text.contains("CANARY"), "{text}");
    }
    let missing = Named::Identifier {
        system: &system,
        value: "CANARY-none",
    };
    let err = resolve(store.client(), missing).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("CANARY"));
}
