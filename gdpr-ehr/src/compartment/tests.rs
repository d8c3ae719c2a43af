use gdpr_core::category::RecordCategory;
use gdpr_core::retention::Fact;
use jiff::civil::date;
use serde_json::json;

use super::*;

fn resource(value: serde_json::Value) -> Resource {
    value.as_object().unwrap().clone()
}

fn own(value: serde_json::Value) -> OwnRecord {
    match classify(&resource(value), "p1") {
        Classification::Own(own) => own,
        other => panic!("expected an own record, got {other:?}"),
    }
}

#[test]
fn every_issue_type_is_classified_with_its_category() {
    let expected = [
        ("Patient", RecordCategory::Demographics),
        ("Encounter", RecordCategory::PatientRecord),
        ("Condition", RecordCategory::Diagnosis),
        ("Observation", RecordCategory::PatientRecord),
        ("MedicationRequest", RecordCategory::Medication),
        ("MedicationStatement", RecordCategory::Medication),
        ("AllergyIntolerance", RecordCategory::PatientRecord),
        ("Procedure", RecordCategory::PatientRecord),
        ("Immunization", RecordCategory::Medication),
        ("DiagnosticReport", RecordCategory::PatientRecord),
        ("DocumentReference", RecordCategory::ClinicalNote),
        ("CarePlan", RecordCategory::PatientRecord),
        ("Consent", RecordCategory::PatientRecord),
    ];
    for (name, category) in expected {
        assert_eq!(own_type(name).unwrap().category, category, "{name}");
    }
}

#[test]
fn own_and_shared_types_never_overlap_and_every_own_type_names_the_patient() {
    for (name, _) in SHARED {
        assert!(own_type(name).is_none(), "{name} is both own and shared");
    }
    for own in table::OWN {
        assert!(
            own.name == "Patient" || !own.patient_paths.is_empty(),
            "{} names no patient element",
            own.name
        );
    }
}

#[test]
fn encounter_periods_give_treatment_end_and_last_visit() {
    let record = own(json!({
        "resourceType": "Encounter", "subject": {"reference": "Patient/p1"},
        "period": {"start": "2020-01-01T08:00:00Z", "end": "2020-01-05"}
    }));
    assert_eq!(
        record.dates,
        vec![
            (Fact::EventDate, date(2020, 1, 1)),
            (Fact::TreatmentEnd, date(2020, 1, 5)),
            (Fact::LastVisit, date(2020, 1, 5)),
        ]
    );
}

#[test]
fn a_patient_gives_birth_and_death() {
    let record = own(json!({
        "resourceType": "Patient", "id": "p1",
        "birthDate": "1950-02-03", "deceasedDateTime": "2020-04-05T10:00:00+01:00"
    }));
    assert_eq!(record.category, RecordCategory::Demographics);
    assert_eq!(
        record.dates,
        vec![
            (Fact::BirthDate, date(1950, 2, 3)),
            (Fact::DeathDate, date(2020, 4, 5))
        ]
    );
    assert!(!format!("{record:?}").contains("1950"));
}

#[test]
fn partial_dates_are_left_out_never_guessed() {
    let record = own(json!({
        "resourceType": "Observation", "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2020-05"
    }));
    assert!(record.dates.is_empty());
}

#[test]
fn laboratory_observations_and_reports_are_lab_results() {
    let lab = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]);
    let record = own(json!({
        "resourceType": "Observation", "subject": {"reference": "Patient/p1"}, "category": lab
    }));
    assert_eq!(record.category, RecordCategory::LabResult);
    let rad = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}]);
    let record = own(json!({
        "resourceType": "DiagnosticReport", "subject": {"reference": "Patient/p1"}, "category": rad
    }));
    assert_eq!(record.category, RecordCategory::ImagingExamination);
}

#[test]
fn shared_and_unknown_types_are_never_own() {
    for kind in [
        "Group",
        "Appointment",
        "Practitioner",
        "Medication",
        "Provenance",
        "Basic",
    ] {
        let r = resource(json!({"resourceType": kind}));
        assert!(
            matches!(classify(&r, "p1"), Classification::Shared { .. }),
            "{kind}"
        );
    }
}

#[test]
fn a_resource_that_also_names_another_patient_is_shared() {
    let r = resource(json!({
        "resourceType": "Observation", "subject": {"reference": "Patient/p1"},
        "performer": [{"reference": "Patient/p2"}]
    }));
    assert!(matches!(classify(&r, "p1"), Classification::Shared { .. }));
    assert!(!belongs_to(&r, "p1", "http://s"));
}

#[test]
fn belongs_to_needs_the_exact_patient_reference() {
    let base = "http://fhir.example/r4";
    let obs = |reference: &str| {
        resource(json!({"resourceType": "Observation", "subject": {"reference": reference}}))
    };
    assert!(belongs_to(&obs("Patient/p1"), "p1", base));
    assert!(belongs_to(
        &obs("http://fhir.example/r4/Patient/p1"),
        "p1",
        base
    ));
    assert!(!belongs_to(&obs("Patient/P1"), "p1", base));
    assert!(!belongs_to(&obs("Patient/p10"), "p1", base));
    assert!(!belongs_to(
        &obs("http://other.example/Patient/p1"),
        "p1",
        base
    ));
    assert!(!belongs_to(&obs("Group/p1"), "p1", base));
    let no_subject = resource(json!({"resourceType": "Observation"}));
    assert!(!belongs_to(&no_subject, "p1", base));
    let patient = resource(json!({"resourceType": "Patient", "id": "p1"}));
    assert!(belongs_to(&patient, "p1", base));
    assert!(!belongs_to(
        &resource(json!({"resourceType": "Group"})),
        "p1",
        base
    ));
}

#[test]
fn patient_of_names_the_one_patient_of_an_own_record() {
    let base = "http://s/fhir";
    let obs = resource(
        json!({"resourceType": "Observation", "subject": {"reference": "http://s/fhir/Patient/p1"}}),
    );
    assert_eq!(patient_of(&obs, base).as_deref(), Some("p1"));
    let two = resource(
        json!({"resourceType": "Observation", "subject": {"reference": "Patient/p1"},
        "performer": [{"reference": "Patient/p2"}]}),
    );
    assert_eq!(patient_of(&two, base), None);
    let group = resource(
        json!({"resourceType": "Group", "member": [{"entity": {"reference": "Patient/p1"}}]}),
    );
    assert_eq!(patient_of(&group, base), None);
    let patient = resource(json!({"resourceType": "Patient", "id": "p1"}));
    assert_eq!(patient_of(&patient, base).as_deref(), Some("p1"));
}

#[test]
fn mentions_patient_finds_references_anywhere() {
    let appointment = resource(json!({"resourceType": "Appointment",
        "participant": [{"actor": {"reference": "http://s/Patient/p1/_history/2"}}]}));
    assert!(mentions_patient(&appointment, "p1"));
    assert!(!mentions_patient(&appointment, "p"));
    let other =
        resource(json!({"resourceType": "Observation", "subject": {"reference": "Patient/p2"}}));
    assert!(!mentions_patient(&other, "p1"));
    assert!(mentions_patient(
        &resource(json!({"resourceType": "Patient", "id": "p1"})),
        "p1"
    ));
}
