//! The patient's master data (category `demographics`, the FHIR Patient
//! resource) under the DE pack's follows rule `de-master-data`: kept while
//! any other record of the subject on the same system is kept, restricted
//! to what keeps those; erased once every other one there is erased or
//! due; restricted or left to a person with them; a hold or a finding on
//! the Patient still counts; another system's records do not.

use gdpr_core::category::RecordCategory;
use gdpr_core::erasure::{ErasureGround, Obstacle};
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{
    Findings, FoundRecord, ReasonCode, RecordAssessment, RecordOutcome, Scope, SystemName,
    assess_erasure,
};
use gdpr_core::retention::{Fact, HoldSet, Jurisdiction, LegalHold, RulePack};
use gdpr_core::store::{FhirId, RecordHandle, RecordId, ResourceHandle, ResourceType};
use jiff::civil::{Date, date};

const ON: Date = date(2026, 3, 1);
const GROUND: ErasureGround = ErasureGround::ConsentWithdrawn;

fn de() -> RulePack {
    RulePack::builtin(&"DE".parse::<Jurisdiction>().unwrap())
        .unwrap()
        .unwrap()
}

fn found(kind: &str, id: &str, category: RecordCategory) -> ResourceHandle {
    ResourceHandle::new(
        ResourceType::new(kind).unwrap(),
        FhirId::new(id).unwrap(),
        category,
    )
}

fn on(system: &str, handle: ResourceHandle) -> FoundRecord {
    FoundRecord::new(
        SystemName::new(system).unwrap(),
        RecordHandle::Resource(handle),
    )
}

fn patient(system: &str) -> FoundRecord {
    on(system, found("Patient", "p1", RecordCategory::Demographics))
}

/// An Encounter whose treatment ended on `end` (§ 630f(3) BGB, 10 years).
fn encounter(system: &str, id: &str, end: Date) -> FoundRecord {
    on(
        system,
        found("Encounter", id, RecordCategory::PatientRecord).with_date(Fact::TreatmentEnd, end),
    )
}

fn due(system: &str) -> FoundRecord {
    encounter(system, "old", date(2010, 1, 10))
}

fn running(system: &str) -> FoundRecord {
    encounter(system, "new", date(2020, 1, 10))
}

fn assess(records: &[FoundRecord], findings: &Findings) -> Vec<RecordAssessment> {
    assess_erasure(GROUND, records, &de(), findings, ON)
        .unwrap()
        .records
}

fn the_patient(all: &[RecordAssessment]) -> &RecordAssessment {
    all.iter()
        .find(|r| r.record.as_str().contains("p1"))
        .unwrap()
}

fn follows(r: &RecordAssessment) -> (&str, bool, &str) {
    let x = r
        .reasons
        .iter()
        .find(|x| x.code == ReasonCode::FollowsRecords)
        .expect("the follows rule is named");
    (x.citation.as_str(), x.applied, x.message.as_str())
}

#[test]
fn the_patient_is_kept_while_another_record_is_kept_for_what_keeps_it() {
    let all = assess(
        &[patient("ehr"), due("ehr"), running("ehr")],
        &Findings::none(),
    );
    let p = the_patient(&all);
    assert_eq!(
        p.outcome,
        RecordOutcome::Keep {
            purposes: vec![
                Purpose::Diagnosis,
                Purpose::Treatment,
                Purpose::LegalClaims,
                Purpose::LegalObligation
            ]
        }
    );
    let (cite, applied, message) = follows(p);
    assert_eq!((cite, applied), ("§ 630f(3) BGB", true));
    assert!(
        message.contains("de-master-data") && message.contains("a reading"),
        "{message}"
    );
    // Only what keeps it is applied: no "erase", no "decide manually".
    assert!(
        p.reasons
            .iter()
            .filter(|r| r.applied)
            .all(|r| !matches!(r.code, ReasonCode::ErasureGround | ReasonCode::Undetermined))
    );
    // The Patient comes first in the input and is still listed first.
    assert_eq!(all[0].record, p.record);
    assert_eq!(all.len(), 3);
}

#[test]
fn the_patient_is_erased_once_every_other_record_is_erased_or_due() {
    for records in [vec![patient("ehr"), due("ehr")], vec![patient("ehr")]] {
        let all = assess(&records, &Findings::none());
        let p = the_patient(&all);
        assert_eq!(p.outcome, RecordOutcome::Erase, "{:?}", p.reasons);
        let (_, applied, _) = follows(p);
        assert!(!applied);
    }
}

#[test]
fn only_records_on_the_same_system_count() {
    let all = assess(
        &[patient("ehr"), due("ehr"), running("other")],
        &Findings::none(),
    );
    assert_eq!(the_patient(&all).outcome, RecordOutcome::Erase);
}

#[test]
fn a_hold_on_another_record_keeps_the_patient_for_its_purpose() {
    let mut held = due("ehr");
    held.holds = HoldSet::EMPTY.with(LegalHold::Litigation);
    let all = assess(&[patient("ehr"), held], &Findings::none());
    assert_eq!(
        the_patient(&all).outcome,
        RecordOutcome::Keep {
            purposes: vec![Purpose::LegalClaims]
        }
    );
}

#[test]
fn the_patient_is_restricted_or_left_to_a_person_with_the_others() {
    // § 35(2) BDSG restricts the Encounter instead of erasing it (ground
    // (a)); the Patient is restricted with it.
    let rec = RecordId::new(due("ehr").handle.id().as_str()).unwrap();
    let findings = Findings::none().obstacle(
        Scope::Record {
            system: SystemName::new("ehr").unwrap(),
            record: rec,
        },
        Obstacle::HarmsSubjectInterests,
    );
    let all = assess_erasure(
        ErasureGround::NoLongerNecessary,
        &[patient("ehr"), due("ehr")],
        &de(),
        &findings,
        ON,
    )
    .unwrap()
    .records;
    let p = the_patient(&all);
    assert_eq!(p.outcome, RecordOutcome::RestrictInstead);
    assert!(
        p.reasons
            .iter()
            .filter(|r| r.applied)
            .all(|r| r.code != ReasonCode::ErasureGround)
    );
    // An Encounter without its end date waits for a person; so does the
    // Patient.
    let open = on(
        "ehr",
        found("Encounter", "open", RecordCategory::PatientRecord),
    );
    let all = assess(&[patient("ehr"), open], &Findings::none());
    assert_eq!(the_patient(&all).outcome, RecordOutcome::DecideManually);
}

#[test]
fn a_hold_on_the_patient_itself_still_keeps_it() {
    let mut p = patient("ehr");
    p.holds = HoldSet::EMPTY.with(LegalHold::Litigation);
    let all = assess(&[p, due("ehr")], &Findings::none());
    assert!(matches!(
        the_patient(&all).outcome,
        RecordOutcome::Keep { .. }
    ));
}

#[test]
fn without_a_follows_rule_the_patient_still_waits_for_a_person() {
    // The sample imaging pack has no follows rule: the Patient alone is
    // undetermined. (Every built-in pack has one since AT, FR, NL and
    // UK-ENG gained theirs: request_master_data_packs.rs.)
    let text = include_str!("../../docs/samples/imaging-pack.toml");
    let bare = RulePack::from_toml(text).unwrap();
    assert!(bare.follower(RecordCategory::Demographics).is_none());
    let a = assess_erasure(GROUND, &[patient("ehr")], &bare, &Findings::none(), ON).unwrap();
    assert_eq!(a.records[0].outcome, RecordOutcome::DecideManually);
    let f = de().follower(RecordCategory::Demographics).unwrap().clone();
    assert_eq!(f.source().as_str(), "§ 630f(3) BGB");
    assert!(f.reading().is_some());
}
