//! Known answers for the per-record assessment of an erasure request:
//! retention (statute, period ended, missing fact), legal holds, the
//! Art. 17(3) exemptions, § 35 BDSG and Art. 7:455 BW, each with its
//! citation; the pinned JSON of an assessment (format version 1).

use gdpr_core::Citation;
use gdpr_core::category::RecordCategory;
use gdpr_core::erasure::{ErasureGround, Obstacle};
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{
    Assessment, Exemption, Findings, FoundRecord, ReasonCode, RecordAssessment, RecordOutcome,
    RequestError, Scope, SystemName, assess_erasure,
};
use gdpr_core::retention::{DestructionRequest, Fact, HoldSet, Jurisdiction, LegalHold, RulePack};
use gdpr_core::store::{
    FhirId, RecordHandle, RecordId, ResourceHandle, ResourceType, StudyHandle, StudyUid,
};
use jiff::civil::{Date, date};

const ON: Date = date(2026, 3, 1);

fn pack(code: &str) -> RulePack {
    RulePack::builtin(&code.parse::<Jurisdiction>().unwrap())
        .unwrap()
        .unwrap()
}

fn system(name: &str) -> SystemName {
    SystemName::new(name).unwrap()
}

/// A patient record (an EHR document) whose treatment ended on `end`.
fn record(id: &str, fact: Fact, end: Date) -> FoundRecord {
    let handle = ResourceHandle::new(
        ResourceType::new("DocumentReference").unwrap(),
        FhirId::new(id).unwrap(),
        RecordCategory::PatientRecord,
    )
    .with_date(fact, end);
    FoundRecord::new(system("ehr"), RecordHandle::Resource(handle))
}

/// § 630f(3) BGB: 10 years after the end of treatment. Ended 2010-01-10 →
/// kept until 2020-01-10: due on 1 March 2026.
fn due() -> FoundRecord {
    record("old", Fact::TreatmentEnd, date(2010, 1, 10))
}

/// Ended 2020-01-10 → kept until 2030-01-10: still running in 2026.
fn running() -> FoundRecord {
    record("new", Fact::TreatmentEnd, date(2020, 1, 10))
}

fn one(ground: ErasureGround, found: FoundRecord, findings: &Findings) -> RecordAssessment {
    let a = assess_erasure(ground, &[found], &pack("DE"), findings, ON).unwrap();
    a.records.into_iter().next().unwrap()
}

fn applied(r: &RecordAssessment) -> Vec<(ReasonCode, &str)> {
    r.reasons
        .iter()
        .filter(|x| x.applied)
        .map(|x| (x.code, x.citation.as_str()))
        .collect()
}

const CONSENT: ErasureGround = ErasureGround::ConsentWithdrawn;
const NOT_NEEDED: ErasureGround = ErasureGround::NoLongerNecessary;

#[test]
fn a_record_past_its_period_is_erased() {
    let r = one(CONSENT, due(), &Findings::none());
    assert_eq!(r.outcome, RecordOutcome::Erase);
    assert_eq!(
        applied(&r),
        [(ReasonCode::ErasureGround, "GDPR Art. 17(1)(b)")]
    );
    let ended = r
        .reasons
        .iter()
        .find(|x| x.code == ReasonCode::RetentionEnded)
        .unwrap();
    assert_eq!(
        (ended.citation.as_str(), ended.applied),
        ("§ 630f(3) BGB", false)
    );
    // No date of the record in the reasons.
    assert!(
        r.reasons
            .iter()
            .all(|x| !x.message.contains("2010") && !x.message.contains("2020"))
    );
}

#[test]
fn a_running_statute_keeps_the_record_for_what_it_serves() {
    let r = one(CONSENT, running(), &Findings::none());
    assert_eq!(
        r.outcome,
        RecordOutcome::Keep {
            purposes: vec![
                Purpose::Diagnosis,
                Purpose::Treatment,
                Purpose::LegalClaims,
                Purpose::LegalObligation
            ]
        }
    );
    let statute = r
        .reasons
        .iter()
        .find(|x| x.code == ReasonCode::StatutoryRetention)
        .unwrap();
    assert_eq!(statute.citation.as_str(), "GDPR Art. 17(3)(b)");
    assert!(
        statute.message.contains("§ 630f(3) BGB"),
        "{}",
        statute.message
    );
    assert!(
        r.reasons
            .iter()
            .any(|x| x.code == ReasonCode::RestrictedToPurposes
                && x.message.contains("legal-claims"))
    );
    assert!(
        r.reasons
            .iter()
            .all(|x| x.code != ReasonCode::ErasureGround)
    );
}

#[test]
fn a_legal_hold_keeps_a_record_past_its_period() {
    let mut found = due();
    found.holds = HoldSet::EMPTY.with(LegalHold::Litigation);
    let r = one(CONSENT, found, &Findings::none());
    assert_eq!(
        r.outcome,
        RecordOutcome::Keep {
            purposes: vec![Purpose::LegalClaims]
        }
    );
    assert!(applied(&r).contains(&(ReasonCode::LegalHold, "GDPR Art. 17(3)(e)")));
    // The ground's "erase without undue delay" did not decide a kept record.
    assert!(
        r.reasons
            .iter()
            .filter(|x| x.code == ReasonCode::ErasureGround)
            .all(|x| !x.applied),
        "{:?}",
        r.reasons
    );
}

#[test]
fn a_record_kept_by_a_finding_is_not_left_to_decide_manually() {
    // An imaging study without the patient's birth date (undetermined
    // under the DE pack), kept by the controller's finding: kept, the open
    // rule question named but not applied.
    let study = StudyHandle::new(
        RecordId::new("study-1").unwrap(),
        StudyUid::new("1.2.3.4").unwrap(),
        Some(date(2012, 5, 1)),
        vec!["CT".parse().unwrap()],
    );
    let found = FoundRecord::new(system("pacs"), RecordHandle::Study(study));
    let findings = Findings::none().exempt(Scope::Subject, Exemption::LegalClaims);
    let r = one(CONSENT, found, &findings);
    assert!(
        matches!(r.outcome, RecordOutcome::Keep { .. }),
        "{:?}",
        r.outcome
    );
    let undetermined: Vec<_> = r
        .reasons
        .iter()
        .filter(|x| x.code == ReasonCode::Undetermined)
        .collect();
    assert_eq!(undetermined.len(), 1);
    assert!(!undetermined[0].applied);
    assert!(
        !applied(&r)
            .iter()
            .any(|(c, _)| *c == ReasonCode::ErasureGround),
        "{:?}",
        r.reasons
    );
}

#[test]
fn a_hold_beside_a_running_statute_names_both() {
    let mut found = running();
    found.holds = HoldSet::EMPTY.with(LegalHold::ResearchFreeze);
    let r = one(CONSENT, found, &Findings::none());
    let RecordOutcome::Keep { purposes } = &r.outcome else {
        panic!("kept: {:?}", r.outcome)
    };
    assert!(purposes.contains(&Purpose::Research) && purposes.contains(&Purpose::LegalClaims));
    let codes = applied(&r);
    assert!(codes.contains(&(ReasonCode::LegalHold, "GDPR Art. 17(3)(d), Art. 89(1)")));
    assert!(codes.contains(&(ReasonCode::StatutoryRetention, "GDPR Art. 17(3)(b)")));
}

#[test]
fn a_missing_fact_is_decided_manually_never_erased() {
    // An imaging study without the patient's birth date: the DE imaging
    // rule needs it (the last examination is the latest of the subject's
    // found studies, so it is known).
    let study = StudyHandle::new(
        RecordId::new("study-1").unwrap(),
        StudyUid::new("1.2.3.4").unwrap(),
        Some(date(2012, 5, 1)),
        vec!["CT".parse().unwrap()],
    );
    let found = FoundRecord::new(system("pacs"), RecordHandle::Study(study));
    let r = one(CONSENT, found, &Findings::none());
    assert_eq!(r.outcome, RecordOutcome::DecideManually);
    assert_eq!(r.category, RecordCategory::ImagingExamination);
    let why = r
        .reasons
        .iter()
        .find(|x| x.code == ReasonCode::Undetermined)
        .unwrap();
    assert!(why.message.contains("birth_date"), "{}", why.message);
    assert!(
        r.reasons
            .iter()
            .filter(|x| x.code == ReasonCode::ErasureGround)
            .all(|x| !x.applied)
    );
}

#[test]
fn section_35_3_bdsg_restricts_instead_only_under_art_17_1_a() {
    let bylaw = Obstacle::BylawOrContractualRetention {
        source: Citation::new("Archivsatzung § 4"),
    };
    let findings = Findings::none().obstacle(Scope::Subject, bylaw);
    let r = one(NOT_NEEDED, due(), &findings);
    assert_eq!(r.outcome, RecordOutcome::RestrictInstead);
    assert!(applied(&r).contains(&(ReasonCode::RestrictInstead, "§ 35(3) BDSG")));
    let r = one(CONSENT, due(), &findings);
    assert_eq!(r.outcome, RecordOutcome::Erase);
}

#[test]
fn harm_to_the_subject_restricts_and_the_subject_is_told() {
    let findings = Findings::none().obstacle(Scope::Subject, Obstacle::HarmsSubjectInterests);
    let r = one(NOT_NEEDED, due(), &findings);
    assert_eq!(r.outcome, RecordOutcome::RestrictInstead);
    assert!(r.inform_subject);
}

#[test]
fn exemptions_keep_for_their_purpose_with_their_letter() {
    let cases = [
        (
            Exemption::Research {
                source: Citation::new("Studie EK-2024-17"),
            },
            Purpose::Research,
            "GDPR Art. 17(3)(d), Art. 89(1)",
        ),
        (
            Exemption::PublicHealth {
                source: Citation::new("§ 25 IfSG"),
            },
            Purpose::PublicHealth,
            "GDPR Art. 17(3)(c)",
        ),
        (
            Exemption::LegalClaims,
            Purpose::LegalClaims,
            "GDPR Art. 17(3)(e)",
        ),
    ];
    for (exemption, purpose, cite) in cases {
        let findings = Findings::none().exempt(Scope::Subject, exemption);
        let r = one(CONSENT, due(), &findings);
        assert_eq!(
            r.outcome,
            RecordOutcome::Keep {
                purposes: vec![purpose]
            },
            "{cite}"
        );
        assert!(
            applied(&r).contains(&(ReasonCode::Exemption, cite)),
            "{cite}"
        );
    }
    // (b) under a statute outside the pack.
    let ao = Exemption::LegalObligation {
        source: Citation::new("§ 147 AO"),
    };
    let r = one(CONSENT, due(), &Findings::none().exempt(Scope::Subject, ao));
    assert_eq!(
        r.outcome,
        RecordOutcome::Keep {
            purposes: vec![Purpose::LegalObligation]
        }
    );
    assert!(
        r.reasons
            .iter()
            .any(|x| x.code == ReasonCode::StatutoryRetention && x.message.contains("§ 147 AO"))
    );
}

#[test]
fn a_finding_for_one_record_does_not_reach_another() {
    let scope = Scope::Record {
        system: system("ehr"),
        record: RecordId::new("DocumentReference:old").unwrap(),
    };
    let findings = Findings::none().exempt(scope, Exemption::LegalClaims);
    let other = record("other", Fact::TreatmentEnd, date(2010, 1, 10));
    let a = assess_erasure(CONSENT, &[due(), other], &pack("DE"), &findings, ON).unwrap();
    assert_eq!(a.records[0].outcome.name(), "keep");
    assert_eq!(a.records[1].outcome, RecordOutcome::Erase);
    assert!(a.is_decided());
    assert_eq!(a.with_outcome("keep").count(), 1);
}

#[test]
fn a_dutch_destruction_request_makes_the_period_yield() {
    // nl-patient-record: 20 years from the last change (2020) → running.
    let nl = pack("NL");
    let file = record("nl", Fact::LastChange, date(2020, 6, 1));
    let kept = assess_erasure(
        CONSENT,
        std::slice::from_ref(&file),
        &nl,
        &Findings::none(),
        ON,
    )
    .unwrap();
    assert_eq!(kept.records[0].outcome.name(), "keep");

    let request = DestructionRequest::received(ON);
    let findings = Findings::none().with_destruction_request(request.clone());
    let a = assess_erasure(CONSENT, std::slice::from_ref(&file), &nl, &findings, ON).unwrap();
    let r = &a.records[0];
    assert_eq!(r.outcome, RecordOutcome::Erase);
    assert!(applied(r).contains(&(ReasonCode::DestructionRequest, "Art. 7:455(1), (2) BW")));

    let findings = Findings::none().with_destruction_request(request.with_other_persons_interest());
    let a = assess_erasure(CONSENT, &[file], &nl, &findings, ON).unwrap();
    let r = &a.records[0];
    assert_eq!(r.outcome.name(), "keep");
    assert!(
        r.reasons
            .iter()
            .any(|x| x.message.contains("Art. 7:455(2) BW"))
    );
}

#[test]
fn a_record_given_twice_is_an_error() {
    let err = assess_erasure(CONSENT, &[due(), due()], &pack("DE"), &Findings::none(), ON);
    assert_eq!(
        err.unwrap_err(),
        RequestError::DuplicateRecord {
            system: "ehr".into(),
            record: "DocumentReference:old".into()
        }
    );
    // The same id on another system is another record.
    let mut elsewhere = due();
    elsewhere.system = system("ehr-2");
    assert!(
        assess_erasure(
            CONSENT,
            &[due(), elsewhere],
            &pack("DE"),
            &Findings::none(),
            ON
        )
        .is_ok()
    );
}

/// The persisted form of an assessment, format version 1.
const PINNED: &str = r#"{"version":1,"ground":"consent-withdrawn","on":"2026-03-01","jurisdiction":"DE","records":[{"system":"ehr","record":"DocumentReference:old","category":"patient-record","outcome":{"outcome":"erase"},"inform-subject":false,"reasons":[{"code":"erasure-ground","citation":"GDPR Art. 17(1)(b)","applied":true,"message":"erase without undue delay and answer within one month (GDPR Art. 12(3)); keep the request's own record, not the data"},{"code":"retention-ended","citation":"§ 630f(3) BGB","applied":false,"message":"the retention period of rule de-patient-record has ended: it does not keep the record"}]}]}"#;

#[test]
fn pinned_json_round_trips() {
    let a = assess_erasure(CONSENT, &[due()], &pack("DE"), &Findings::none(), ON).unwrap();
    assert_eq!(serde_json::to_string(&a).unwrap(), PINNED);
    assert_eq!(serde_json::from_str::<Assessment>(PINNED).unwrap(), a);
    assert!(a.is_decided());
}

#[test]
fn the_last_examination_is_the_latest_found_and_a_known_birth_date_decides() {
    // Two studies of one adult, 2012 and 2014: § 85(2) StrlSchG counts ten
    // years from the last one (2024-06-11), so both are due on 2026-03-02;
    // the earlier alone would not show when the last examination was.
    let study = |id: &str, on: Date| {
        let s = StudyHandle::new(
            RecordId::new(id).unwrap(),
            StudyUid::new("1.2.3.4").unwrap(),
            Some(on),
            vec!["CT".parse().unwrap()],
        );
        let mut f = FoundRecord::new(system("pacs"), RecordHandle::Study(s));
        f.birth_date = Some(date(1950, 4, 1));
        f
    };
    let pack = pack("DE");
    let records = [
        study("study-1", date(2012, 3, 5)),
        study("study-2", date(2024, 9, 1)),
    ];
    let a = assess_erasure(
        CONSENT,
        &records,
        &pack,
        &Findings::none(),
        date(2026, 3, 2),
    )
    .unwrap();
    // The 2012 study is kept with the 2024 one: the last examination counts.
    assert!(
        a.records
            .iter()
            .all(|r| matches!(r.outcome, RecordOutcome::Keep { .. })),
        "{a:?}"
    );
    let records = [
        study("study-1", date(2012, 3, 5)),
        study("study-2", date(2014, 6, 11)),
    ];
    let a = assess_erasure(
        CONSENT,
        &records,
        &pack,
        &Findings::none(),
        date(2026, 3, 2),
    )
    .unwrap();
    assert!(
        a.records.iter().all(|r| r.outcome == RecordOutcome::Erase),
        "{a:?}"
    );
}
