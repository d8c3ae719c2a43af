//! The FHIR store's parts against the real server (Helios HFS,
//! scripts/fhir.sh): the per-type walk, the re-check right before a DELETE,
//! erasing a single record, and no identifier in errors or `Debug`.
//! Compiled with the feature `fhir-tests` (scripts/test.sh turns it on);
//! with the feature on and no server, they fail.
#![cfg(feature = "fhir-tests")]

mod support;

use gdpr_core::store::{
    FhirIdentifier, FhirSubject, ItemStatus, RecordHandle, StoreError, SubjectStore,
};
use gdpr_ehr::compartment::Classification;
use gdpr_ehr::store::{Found, Walk, erase_resource, resolve};
use serde_json::json;
use support::*;

fn own_ids(records: impl IntoIterator<Item = Found>) -> Vec<String> {
    let mut own: Vec<String> = records
        .into_iter()
        .filter(|r| matches!(r.class, Classification::Own(_)))
        .map(|r| format!("{}/{}", r.kind, r.id))
        .collect();
    own.sort();
    own
}

#[tokio::test]
async fn per_type_searches_find_the_same_own_records_as_everything() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 2);
    let everything = own_ids(store.records(&planted.patient).await.unwrap());
    let mut walk = Walk::by_type(store.client(), &planted.patient);
    let mut by_type = Vec::new();
    while let Some(batch) = walk.next_batch().await.unwrap() {
        by_type.extend(batch.iter().map(|r| Found {
            kind: r["resourceType"].as_str().unwrap().to_owned(),
            id: r["id"].as_str().unwrap().to_owned(),
            class: gdpr_ehr::compartment::classify(r, &planted.patient),
            mentions_patient: true,
        }));
    }
    assert_eq!(own_ids(by_type), everything);
    assert_eq!(everything.len(), 5);
}

#[tokio::test]
async fn a_resource_moved_to_another_patient_after_locate_is_not_deleted() {
    let url = fhir_url();
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

    let client = store.client();
    let outcome = erase_resource(client, "Observation", &observation.id, &planted.patient);
    let outcome = outcome.await.unwrap();
    assert!(
        matches!(outcome, gdpr_connect::Outcome::Refused(_)),
        "{outcome:?}"
    );
    assert_eq!(server.get(&path).await.0, 200, "it survives");
}

#[tokio::test]
async fn erase_record_deletes_one_own_record_and_refuses_shared_ones() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 50);
    let handles = store.locate(&planted.by_identifier()).await.unwrap();
    let pick = |t: &str| {
        handles
            .iter()
            .find(|h| {
                h.as_resource()
                    .is_some_and(|r| r.resource_type().as_str() == t)
            })
            .unwrap()
    };
    let report = store.erase_record(pick("Condition")).await.unwrap();
    // Deleted; its old version is still in _history, so not verified.
    assert!(!report.is_verified());
    assert!(
        report.items()[0]
            .reason
            .is_some_and(|r| r.contains("_history"))
    );
    let condition = pick("Condition").as_resource().unwrap();
    let read = store
        .client()
        .read("Condition", condition.logical_id().as_str());
    assert!(read.await.unwrap().is_none());
    let report = store.erase_record(pick("Appointment")).await.unwrap();
    assert_eq!(report.items()[0].status, ItemStatus::Left);
    assert_eq!(
        store.locate(&planted.by_id()).await.unwrap().len(),
        handles.len() - 1
    );
    let study = RecordHandle::from(gdpr_core::store::StudyHandle::new(
        gdpr_core::store::RecordId::new("s1").unwrap(),
        gdpr_core::store::StudyUid::new("1.2.3").unwrap(),
        None,
        vec![],
    ));
    let err = store.erase_record(&study).await.unwrap_err();
    assert!(
        matches!(err, StoreError::UnsupportedRecord { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_identifier_appears_in_errors_or_debug_output() {
    let url = fhir_url();
    let server = Server::new(&url);
    let system = format!("urn:gdpr-test:{}", unique());
    let canary = format!("CANARY-{}", unique());
    // Two Patients with the same identifier: ambiguous.
    server.create(patient(&system, &canary)).await;
    server.create(patient(&system, &canary)).await;
    let store = store(&url, 50);
    let subject = |value: &str| {
        FhirSubject::Identifier(FhirIdentifier::new(Some(system.clone()), value).unwrap())
    };
    let err = resolve(store.client(), &subject(&canary))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused { .. }), "{err:?}");
    let located = store
        .locate(&gdpr_core::store::SubjectRef::Fhir(subject(&canary)))
        .await;
    let located = format!("{located:?}");
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{store:?}"),
        located,
    ] {
        assert!(!text.contains("CANARY"), "{text}");
    }
    let err = resolve(store.client(), &subject("CANARY-none"))
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("CANARY"));
}

#[tokio::test]
async fn a_search_over_several_pages_returns_every_match_once() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    for day in 10..=16 {
        server
            .create(observation(&planted.patient, &format!("2020-02-{day}")))
            .await;
    }
    let store = store(&url, 3);
    let reference = format!("Patient/{}", planted.patient);
    let mut pages = store
        .client()
        .search("Observation", &[("subject", &reference)]);
    let (mut count, mut ids) = (0, std::collections::BTreeSet::new());
    while let Some(page) = pages.next_page().await.unwrap() {
        count += 1;
        ids.extend(page.entry.iter().map(|e| e.full_url.clone().unwrap()));
    }
    assert!(count >= 3, "{count} pages");
    assert_eq!(ids.len(), 9, "2 planted + 7 more Observations");
}

#[tokio::test]
async fn erase_records_deletes_own_records_patient_last_and_refuses_shared_and_moved_ones() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 50);
    let handles = store.locate(&planted.by_identifier()).await.unwrap();
    let ids = |t: &str| -> Vec<String> {
        handles
            .iter()
            .filter_map(RecordHandle::as_resource)
            .filter(|r| r.resource_type().as_str() == t)
            .map(|r| r.logical_id().as_str().to_owned())
            .collect()
    };
    // Between locate and erase, one Observation is re-assigned to the
    // look-alike.
    let moved = format!("Observation/{}", ids("Observation")[0]);
    let (_, mut body) = server.get(&moved).await;
    body["subject"]["reference"] = json!(format!("Patient/{}", planted.others[0]));
    assert_eq!(server.put(&moved, body).await, 200);

    let attempt = store
        .erase_records(&planted.by_identifier(), &handles)
        .await
        .unwrap();
    let refused: Vec<&str> = attempt.refused.iter().map(|r| r.id.as_str()).collect();
    assert!(
        refused.contains(&moved.replace('/', ":").as_str()),
        "{refused:?}"
    );
    let appointment = format!("Appointment:{}", ids("Appointment")[0]);
    assert!(refused.contains(&appointment.as_str()), "{refused:?}");
    // Shared ones (the Appointment, the Practitioner it names) are never
    // deleted; the moved Observation is refused by its re-check.
    let shared = handles
        .iter()
        .filter(|h| h.as_resource().is_some_and(|r| r.is_shared()))
        .count();
    assert_eq!(attempt.refused.len(), shared + 1, "{refused:?}");
    assert_eq!(attempt.deleted.len(), handles.len() - shared - 1);
    assert_eq!(server.get(&moved).await.0, 200, "the moved one survives");
    for t in ["Patient", "Encounter", "Condition"] {
        for id in ids(t) {
            assert!(store.client().read(t, &id).await.unwrap().is_none());
        }
    }
    for other in &planted.others {
        assert_eq!(server.get(&format!("Patient/{other}")).await.0, 200);
    }
}

#[tokio::test]
async fn erase_records_deletes_nothing_once_the_patient_no_longer_carries_the_identifier() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 50);
    let handles = store.locate(&planted.by_identifier()).await.unwrap();
    let path = format!("Patient/{}", planted.patient);
    let (_, mut body) = server.get(&path).await;
    body["identifier"][0]["value"] = json!("MRN-CORRECTED-1");
    assert_eq!(server.put(&path, body).await, 200);

    let attempt = store
        .erase_records(&planted.by_identifier(), &handles)
        .await
        .unwrap();
    assert!(attempt.deleted.is_empty(), "{attempt:?}");
    assert_eq!(attempt.refused.len(), handles.len());
    assert_eq!(server.get(&path).await.0, 200);
    assert_eq!(
        store.locate(&planted.by_id()).await.unwrap().len(),
        handles.len()
    );
}
