//! `SubjectStore` for any FHIR R4 server, against the real server (Helios
//! HFS, scripts/fhir.sh): locate, export (checked by the independent Python
//! validator), erasure of one patient among look-alikes with what is left
//! (versions in `_history`, shared resources), verification, the restriction
//! label. Compiled with the feature `fhir-tests` (scripts/test.sh turns it
//! on); with the feature on and no server, they fail.
#![cfg(feature = "fhir-tests")]

mod support;

use gdpr_core::category::RecordCategory;
use gdpr_core::restriction::{Restriction, RestrictionGround};
use gdpr_core::retention::Fact;
use gdpr_core::store::{
    DerivedPolicy, ExportManifest, ItemStatus, RecordHandle, ResourceKind, StoreError, SubjectRef,
    SubjectStore,
};
use serde_json::json;
use support::*;

fn resources(handles: &[RecordHandle]) -> Vec<&gdpr_core::store::ResourceHandle> {
    handles
        .iter()
        .filter_map(RecordHandle::as_resource)
        .collect()
}

#[tokio::test]
async fn locate_finds_exactly_the_subject_with_categories_dates_and_shared_records() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 2); // several pages per listing
    let handles = store.locate(&planted.by_identifier()).await.unwrap();
    let by_id = store.locate(&planted.by_id()).await.unwrap();
    assert_eq!(handles.len(), by_id.len());
    let records = resources(&handles);
    let count = |t: &str| {
        records
            .iter()
            .filter(|r| r.resource_type().as_str() == t)
            .count()
    };
    assert_eq!(
        (
            count("Patient"),
            count("Encounter"),
            count("Observation"),
            count("Condition")
        ),
        (1, 1, 2, 1)
    );
    let encounter = records
        .iter()
        .find(|r| r.resource_type().as_str() == "Encounter")
        .unwrap();
    assert_eq!(encounter.category(), RecordCategory::PatientRecord);
    assert_eq!(
        encounter.date(Fact::TreatmentEnd),
        Some(jiff::civil::date(2020, 1, 5))
    );
    assert_eq!(
        encounter.date(Fact::LastVisit),
        Some(jiff::civil::date(2020, 1, 5))
    );
    let patient = records
        .iter()
        .find(|r| r.resource_type().as_str() == "Patient")
        .unwrap();
    assert_eq!(
        patient.date(Fact::BirthDate),
        Some(jiff::civil::date(1970, 1, 1))
    );
    let appointment = records
        .iter()
        .find(|r| r.resource_type().as_str() == "Appointment");
    assert!(
        appointment.is_some_and(|a| a.is_shared()),
        "the Appointment is shared"
    );
    for other in &planted.others {
        assert!(
            records.iter().all(|r| r.logical_id().as_str() != other),
            "look-alike located"
        );
    }
}

#[tokio::test]
async fn an_unknown_identifier_and_a_dicom_subject_are_clear_errors() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 50);
    let case_variant = SubjectRef::Fhir(gdpr_core::store::FhirSubject::Identifier(
        gdpr_core::store::FhirIdentifier::new(Some(planted.system.clone()), "MRN-AB-1").unwrap(),
    ));
    let err = store.locate(&case_variant).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(!err.to_string().contains("MRN"), "{err}");
    let dicom = SubjectRef::Dicom(gdpr_core::subject::PatientId::new("P1").unwrap());
    let err = store.locate(&dicom).await.unwrap_err();
    assert!(
        matches!(err, StoreError::UnsupportedSubject { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_export_is_valid_fhir_with_a_manifest_and_nonconformant_elements_aside() {
    let (url, validator) = (fhir_url(), validator());
    let server = Server::new(&url);
    let planted = plant(&server).await;
    server
        .create(
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": format!("Patient/{}", planted.patient)},
            "x-vendor-flag": true, "note": [], "valueString": "",
            // Well-formed, but not R4: an element Observation does not
            // have, a repeating one sent single, a boolean sent as text.
            "vendorFlag": true, "category": {"text": "single"},
            "component": [{"code": {"text": "y"}, "valueBoolean": "yes"}]}),
        )
        .await;
    let store = store(&url, 3);
    let dir = tempfile::tempdir().unwrap();
    let report = store
        .export(&planted.by_identifier(), dir.path())
        .await
        .unwrap();

    let text = std::fs::read_to_string(dir.path().join("manifest.json")).unwrap();
    let manifest: ExportManifest = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest, report.manifest);
    let names: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for expected in [
        "bundle.json",
        "Observation.ndjson",
        "Patient.ndjson",
        "nonconformant-elements.ndjson",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    assert_eq!(report.files, manifest.files.len());
    assert!(manifest.records.len() >= 7, "{}", manifest.records.len());
    for file in &manifest.files {
        let bytes = std::fs::read(dir.path().join(&file.path)).unwrap();
        assert_eq!(bytes.len() as u64, file.bytes);
        assert_eq!(sha256_hex(&bytes), file.sha256, "{}", file.path);
        assert!(!file.path.contains(&planted.patient) && !file.path.contains("MRN"));
    }
    let side = std::fs::read_to_string(dir.path().join("nonconformant-elements.ndjson")).unwrap();
    let mut paths: Vec<String> = side
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["path"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "category",
            "component.0.valueBoolean",
            "note",
            "valueString",
            "vendorFlag",
            "x-vendor-flag"
        ]
    );
    // The side file is listed in the manifest with its hash (checked above)
    // and holds the values as sent.
    assert!(side.contains(r#""value":"yes""#), "{side}");
    // The Bundle, Observation, Patient, Encounter, Condition, Appointment
    // and Practitioner files.
    assert!(validate_export(&validator, dir.path()) >= 7);
    assert!(
        !text.contains("MRN") && !text.contains("Synthetic"),
        "manifest names a value"
    );
}

/// The look-alike Patients (case variant, other system) and their records
/// are still there.
async fn look_alikes_survive(
    store: &gdpr_ehr::store::FhirStore,
    server: &Server,
    planted: &Planted,
) {
    for other in &planted.others {
        let read = store.client().read("Patient", other).await.unwrap();
        assert!(read.is_some(), "a look-alike Patient was erased");
    }
    let query = format!("Observation?subject=Patient/{}", planted.others[0]);
    assert_eq!(server.search_ids(&query).await.len(), 1);
}

/// How many remnants give a reason containing `needle`.
fn with_reason(remaining: &[gdpr_core::store::Remnant], needle: &str) -> usize {
    remaining
        .iter()
        .filter(|r| {
            r.reason
                .as_deref()
                .is_some_and(|reason| reason.contains(needle))
        })
        .count()
}

#[tokio::test]
async fn erasure_removes_only_the_subject_and_reports_history_and_shared_residue() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 2);
    let located = store.locate(&planted.by_identifier()).await.unwrap();
    let report = store
        .erase_subject(&planted.by_identifier(), DerivedPolicy::Erase)
        .await
        .unwrap();

    // Every own record was deleted and is unreadable (404/410) ...
    for r in resources(&located).iter().filter(|r| !r.is_shared()) {
        let read = store
            .client()
            .read(r.resource_type().as_str(), r.logical_id().as_str());
        assert!(read.await.unwrap().is_none(), "{} still readable", r.id());
    }
    // ... but Helios still serves every deleted version from _history, and
    // the Appointment is shared: the erasure is honestly not verified.
    assert!(!report.is_verified());
    let items = report.items();
    let left: Vec<_> = items
        .iter()
        .filter(|i| i.status == ItemStatus::Left)
        .collect();
    let history = left
        .iter()
        .filter(|i| i.reason.is_some_and(|r| r.contains("_history")))
        .count();
    assert_eq!(
        history, 5,
        "Patient, Encounter, 2 Observations, Condition: {left:?}"
    );
    assert!(
        left.iter()
            .any(|i| i.reason.is_some_and(|r| r.contains("Appointment")))
    );
    // The Practitioner names no patient: not part of the erasure.
    assert!(
        !left
            .iter()
            .any(|i| i.reason.is_some_and(|r| r.contains("Practitioner")))
    );
    assert!(
        report
            .left()
            .iter()
            .any(|l| l.kind == ResourceKind::Patient)
    );

    look_alikes_survive(&store, &server, &planted).await;

    // Verification by logical id (the Patient is gone; records could still
    // point at it): the history versions and the shared Appointment (the
    // Practitioner names no patient: nothing of the subject is in it).
    let verification = store
        .verify_erasure(&planted.by_id(), &located)
        .await
        .unwrap();
    let remaining = verification.remaining();
    assert_eq!(with_reason(remaining, "_history"), 5);
    assert_eq!(with_reason(remaining, "never deleted"), 1);
    assert_eq!(remaining.len(), 6, "{remaining:?}");
    // A logical id the server never knew is NotFound, not a clean erasure.
    let never = SubjectRef::Fhir(gdpr_core::store::FhirSubject::LogicalId(
        gdpr_core::store::FhirId::new(format!("never-{}", unique())).unwrap(),
    ));
    let err = store.erase_subject(&never, DerivedPolicy::Erase).await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
    // By identifier, the subject is gone: a clear NotFound, not a success.
    let again = store
        .erase_subject(&planted.by_identifier(), DerivedPolicy::Erase)
        .await;
    assert!(
        matches!(again, Err(StoreError::NotFound { .. })),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_restriction_is_marked_on_every_own_record_read_back_and_lifted() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let store = store(&url, 50);
    let restriction =
        Restriction::new(RestrictionGround::AccuracyContested, jiff::Timestamp::now());
    let outcome = store
        .restrict(&planted.by_identifier(), &restriction)
        .await
        .unwrap();
    let gdpr_core::store::RestrictionOutcome::Marked { mark, records } = outcome else {
        panic!("Helios keeps security labels: {outcome:?}");
    };
    assert_eq!(
        mark,
        "http://terminology.hl7.org/CodeSystem/v3-ActCode|NOAUTH"
    );
    assert_eq!(records, 5);
    let (_, patient) = server.get(&format!("Patient/{}", planted.patient)).await;
    assert_eq!(patient["meta"]["security"][0]["code"], "NOAUTH");
    let lifted = store.lift_restriction(&planted.by_id()).await.unwrap();
    assert!(lifted.is_marked());
    let (_, patient) = server.get(&format!("Patient/{}", planted.patient)).await;
    assert!(
        patient["meta"]
            .get("security")
            .is_none_or(|s| s.as_array().unwrap().is_empty())
    );
}

#[tokio::test]
async fn attachments_are_exported_and_their_binaries_reported_never_deleted() {
    let (url, validator) = (fhir_url(), validator());
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let binary = server
        .create(
            json!({"resourceType": "Binary", "contentType": "text/plain",
            "data": "aGVsbG8gd29ybGQ="}),
        )
        .await;
    server
        .create(json!({"resourceType": "DocumentReference", "status": "current",
            "subject": {"reference": format!("Patient/{}", planted.patient)}, "content": [
                // R4 `url` is absolute (a relative one is not valid FHIR).
                {"attachment": {"contentType": "text/plain", "url": format!("{url}/Binary/{binary}")}},
                {"attachment": {"contentType": "application/pdf", "url": "http://elsewhere.example/d.pdf"}}
            ]}))
        .await;
    let store = store(&url, 50);
    let dir = tempfile::tempdir().unwrap();
    let report = store
        .export(&planted.by_identifier(), dir.path())
        .await
        .unwrap();
    let attachment = std::fs::read(dir.path().join("attachment-0001.bin")).unwrap();
    assert_eq!(attachment, b"hello world");
    let index = std::fs::read_to_string(dir.path().join("attachments.json")).unwrap();
    assert!(index.contains("DocumentReference/"), "{index}");
    let paths: Vec<&str> = report
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert!(paths.contains(&"attachment-0001.bin") && paths.contains(&"attachments.json"));
    // The attachment on another host is not followed, and said so.
    assert_eq!(report.unreadable.len(), 1, "{:?}", report.unreadable);
    assert!(!format!("{:?}", report.unreadable).contains("elsewhere"));
    validate_export(&validator, dir.path());

    let erased = store
        .erase_subject(&planted.by_identifier(), DerivedPolicy::Erase)
        .await
        .unwrap();
    let binary_id = format!("Binary:{binary}");
    let item = erased.items().into_iter().find(|i| {
        matches!(i.item, gdpr_core::store::Item::Resource { id, .. } if id.as_str() == binary_id)
    });
    let item = item.expect("the Binary is in the report");
    assert_eq!(item.status, ItemStatus::Left);
    assert!(item.reason.is_some_and(|r| r.contains("DocumentReference")));
    assert_eq!(server.get(&format!("Binary/{binary}")).await.0, 200);
    let located = store.locate(&planted.by_id()).await;
    assert!(located.is_err(), "the Patient is gone");
}
