//! Properties of the request workflow that hold for all inputs: the
//! assessment lists every record exactly once and never erases what a
//! statute, hold or exemption keeps; a deadline always ends on a working
//! day, no earlier than the month and with only non-working days skipped;
//! a request's history only ever holds legal steps and survives JSON.

use gdpr_core::actor::ActorId;
use gdpr_core::category::RecordCategory;
use gdpr_core::erasure::{ErasureGround, Obstacle};
use gdpr_core::request::{
    ApprovalPolicy, Calendar, DataSubjectRequest, Deadline, Event, Exemption, Extension,
    ExtensionGround, Findings, FoundRecord, HolidayCalendar, ReasonCode, RecordOutcome, Refusal,
    RefusalGround, RequestId, RequestKind, Scope, Stage, SubjectMap, SystemName, assess_erasure,
    hold_purpose,
};
use gdpr_core::retention::{Fact, HoldSet, Jurisdiction, LegalHold, RulePack};
use gdpr_core::store::{FhirId, RecordHandle, ResourceHandle, ResourceType};
use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use proptest::prelude::*;

const CATEGORIES: [RecordCategory; 5] = [
    RecordCategory::PatientRecord,
    RecordCategory::ImagingExamination,
    RecordCategory::Transfusion,
    RecordCategory::LabResult,
    RecordCategory::Billing,
];
const FACTS: [Fact; 4] = [
    Fact::TreatmentEnd,
    Fact::EventDate,
    Fact::LastChange,
    Fact::LastExamination,
];
const GROUNDS: [ErasureGround; 4] = [
    ErasureGround::NoLongerNecessary,
    ErasureGround::ConsentWithdrawn,
    ErasureGround::Objection,
    ErasureGround::UnlawfulProcessing,
];

fn found(i: usize, category: usize, fact: usize, years_ago: i16, holds: u8) -> FoundRecord {
    let handle = ResourceHandle::new(
        ResourceType::new("Observation").unwrap(),
        FhirId::new(format!("r{i}")).unwrap(),
        CATEGORIES[category],
    )
    .with_date(FACTS[fact], date(2026 - years_ago, 6, 15));
    let system = SystemName::new(if i.is_multiple_of(2) { "ehr" } else { "pacs" }).unwrap();
    let mut f = FoundRecord::new(system, RecordHandle::Resource(handle));
    f.holds = LegalHold::ALL
        .into_iter()
        .enumerate()
        .filter(|(b, _)| holds & (1 << b) != 0)
        .map(|(_, h)| h)
        .collect::<HoldSet>();
    f
}

fn findings(choice: u8) -> Findings {
    let mut f = Findings::none();
    if choice & 1 != 0 {
        f = f.exempt(Scope::Subject, Exemption::LegalClaims);
    }
    if choice & 2 != 0 {
        f = f.obstacle(Scope::Subject, Obstacle::HarmsSubjectInterests);
    }
    if choice & 4 != 0 {
        f = f.obstacle(Scope::Subject, Obstacle::DisproportionateNonAutomated);
    }
    f
}

proptest! {
    #[test]
    fn every_record_is_listed_exactly_once_and_kept_when_something_keeps_it(
        specs in prop::collection::vec((0..5usize, 0..4usize, 0..40i16, 0..16u8), 0..24),
        ground in 0..4usize,
        choice in 0..8u8,
        pack in prop::sample::select(vec!["DE", "NL", "FR", "AT"]),
    ) {
        let pack = RulePack::builtin(&pack.parse::<Jurisdiction>().unwrap()).unwrap().unwrap();
        let records: Vec<_> = specs
            .iter()
            .enumerate()
            .map(|(i, (c, f, y, h))| found(i, *c, *f, *y, *h))
            .collect();
        let a = assess_erasure(GROUNDS[ground], &records, &pack, &findings(choice), date(2026, 3, 1)).unwrap();
        prop_assert_eq!(a.records.len(), records.len());
        for (input, out) in records.iter().zip(&a.records) {
            prop_assert_eq!(&out.system, &input.system);
            prop_assert_eq!(&out.record, input.handle.id());
            prop_assert!(!out.reasons.is_empty());
            let keeps = out.reasons.iter().any(|r| r.applied && matches!(
                r.code,
                ReasonCode::StatutoryRetention | ReasonCode::LegalHold | ReasonCode::Exemption
            ));
            match &out.outcome {
                RecordOutcome::Keep { purposes } => {
                    prop_assert!(!purposes.is_empty());
                    prop_assert!(keeps);
                    for hold in input.holds.iter() {
                        prop_assert!(purposes.contains(&hold_purpose(hold)));
                    }
                }
                RecordOutcome::Erase => {
                    prop_assert!(!keeps);
                    prop_assert!(input.holds.is_empty());
                    prop_assert!(choice & 1 == 0, "an exemption for the subject keeps every record");
                    prop_assert!(out.reasons.iter().all(|r| r.code != ReasonCode::Undetermined));
                }
                _ => prop_assert!(input.holds.is_empty() && choice & 1 == 0),
            }
        }
    }

    #[test]
    fn deadlines_end_on_a_working_day_skipping_only_non_working_days(
        seconds in 1_767_225_600i64..1_830_211_200i64, // 2026-01-01 .. 2027-12-31
        region in prop::sample::select(vec![
            ("DE", "Europe/Berlin"), ("DE-BY", "Europe/Berlin"), ("FR", "Europe/Paris"),
            ("NL", "Europe/Amsterdam"), ("AT", "Europe/Vienna"),
        ]),
        months in 1..=2u8,
    ) {
        let holidays = HolidayCalendar::builtin(region.0).unwrap().unwrap();
        let cal = Calendar::new(TimeZone::get(region.1).unwrap(), holidays.clone());
        let received = Timestamp::from_second(seconds).unwrap();
        let d = Deadline::compute(&cal, received, None).unwrap();
        let nominal = d.received_on.checked_add(Span::new().months(1)).unwrap();
        prop_assert!(holidays.is_working_day(d.due).unwrap());
        prop_assert!(d.due >= nominal && d.due <= nominal.checked_add(Span::new().days(4)).unwrap());
        let mut day = nominal;
        while day < d.due {
            prop_assert!(!holidays.is_working_day(day).unwrap());
            day = day.tomorrow().unwrap();
        }
        let ext = Extension::new(months, vec![ExtensionGround::Complexity], received).unwrap();
        let e = Deadline::compute(&cal, received, Some(&ext)).unwrap();
        prop_assert!(e.due > d.due);
        prop_assert_eq!(e.first_period_ends, d.due);
        prop_assert!(d.status(&cal, received).days_left >= 28);
    }

    #[test]
    fn histories_hold_only_legal_steps_and_survive_json(
        steps in prop::collection::vec((0..9usize, 0..2usize, 0..3i64), 0..16),
        policy in prop::sample::select(vec![ApprovalPolicy::AnyActor, ApprovalPolicy::SecondActor]),
    ) {
        let actors = [ActorId::new("a").unwrap(), ActorId::new("b").unwrap()];
        let mut at: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        let mut r = DataSubjectRequest::receive(
            RequestId::new("dsr-1").unwrap(),
            RequestKind::Access,
            SubjectMap::new(),
            policy,
            at,
            actors[0].clone(),
        );
        for (event, who, back) in steps {
            let event = match event {
                0 => Event::IdentityVerified,
                1 => Event::Assessed,
                2 => Event::Approved,
                3 => Event::ExecutionStarted,
                4 => Event::VerificationStarted,
                5 => Event::Completed,
                6 => Event::PartiallyCompleted,
                7 => Event::Received,
                _ => Event::Refused {
                    refusal: Refusal::new(vec![RefusalGround::RightsOfOthers]).unwrap(),
                },
            };
            // Sometimes a step dated before the last one.
            at = at.checked_add(Span::new().hours(1 - back)).unwrap();
            let before = r.clone();
            let expected = event.next_stage(before.stage());
            match r.step(event, actors[who].clone(), at) {
                Ok(_) => prop_assert_eq!(Some(r.stage()), expected),
                Err(_) => prop_assert_eq!(&r, &before),
            }
        }
        let json = serde_json::to_string(&r).unwrap();
        let back: DataSubjectRequest = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.stage(), r.stage());
        prop_assert_eq!(&back, &r);
        let times: Vec<_> = r.history().transitions().iter().map(|t| t.at).collect();
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));
        prop_assert!(r.stage() != Stage::Completed || r.history().transitions().len() == 7);
    }
}
