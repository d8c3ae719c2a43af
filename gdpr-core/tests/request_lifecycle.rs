//! The stages of a data-subject request: the legal path, every illegal
//! step refused with a typed error, the four-eyes approval, the dated
//! history, its pinned JSON form (format version 1), and no identifier in
//! any `Debug` or error output.

use gdpr_core::actor::ActorId;
use gdpr_core::erasure::ErasureGround;
use gdpr_core::request::{
    ApprovalPolicy, Calendar, DataSubjectRequest, Event, Extension, ExtensionGround,
    HolidayCalendar, Refusal, RefusalGround, RequestError, RequestId, RequestKind, Stage,
    SubjectMap, SystemName,
};
use gdpr_core::store::SubjectRef;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use jiff::civil::date;
use jiff::tz::TimeZone;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn actor(name: &str) -> ActorId {
    ActorId::new(name).unwrap()
}

fn subjects() -> SubjectMap {
    let mut m = SubjectMap::new();
    let id = PatientId::new("CANARY-PID-7")
        .unwrap()
        .with_issuer("HOSP-A")
        .unwrap();
    m.insert(SystemName::new("pacs").unwrap(), SubjectRef::Dicom(id));
    m
}

fn request(policy: ApprovalPolicy) -> DataSubjectRequest {
    DataSubjectRequest::receive(
        RequestId::new("dsr-2026-0001").unwrap(),
        RequestKind::Erasure {
            ground: ErasureGround::ConsentWithdrawn,
        },
        subjects(),
        policy,
        ts("2026-01-30T09:00:00Z"),
        actor("clerk"),
    )
}

fn calendar() -> Calendar {
    let de = HolidayCalendar::builtin("DE").unwrap().unwrap();
    Calendar::new(TimeZone::get("Europe/Berlin").unwrap(), de)
}

/// Takes the steps up to assessment, assessed by `dpo`.
fn assessed(policy: ApprovalPolicy) -> DataSubjectRequest {
    let mut r = request(policy);
    let verified = ts("2026-02-02T09:00:00Z");
    r.step(Event::IdentityVerified, actor("clerk"), verified)
        .unwrap();
    r.step(Event::Assessed, actor("dpo"), ts("2026-02-03T09:00:00Z"))
        .unwrap();
    r
}

/// Takes the steps up to (and including) approval by `approver`.
fn approved(approver: &str) -> DataSubjectRequest {
    let mut r = assessed(ApprovalPolicy::SecondActor);
    r.step(Event::Approved, actor(approver), ts("2026-02-04T09:00:00Z"))
        .unwrap();
    r
}

#[test]
fn the_legal_path_ends_completed_with_a_dated_history() {
    let mut r = approved("head-of-records");
    r.step(
        Event::ExecutionStarted,
        actor("robot"),
        ts("2026-02-04T10:00:00Z"),
    )
    .unwrap();
    r.step(
        Event::VerificationStarted,
        actor("robot"),
        ts("2026-02-04T11:00:00Z"),
    )
    .unwrap();
    let t = r
        .step(Event::Completed, actor("robot"), ts("2026-02-04T12:00:00Z"))
        .unwrap();
    assert_eq!(t.event.name(), "completed");
    assert_eq!(r.stage(), Stage::Completed);
    let names: Vec<_> = r
        .history()
        .transitions()
        .iter()
        .map(|t| t.event.name())
        .collect();
    assert_eq!(
        names,
        [
            "received",
            "identity-verified",
            "assessed",
            "approved",
            "execution-started",
            "verification-started",
            "completed"
        ]
    );
    // Answered on 4 Feb, due 2 March: not overdue, even seen in April.
    let s = r
        .deadline_status(&calendar(), ts("2026-04-01T00:00:00Z"))
        .unwrap();
    assert!(!s.overdue);
    assert_eq!(s.due, date(2026, 3, 2));
    assert_eq!(s.days_left, 26);
}

#[test]
fn partial_completion_follows_verification_only() {
    let mut r = approved("head-of-records");
    let err = r.step(
        Event::PartiallyCompleted,
        actor("robot"),
        ts("2026-02-05T09:00:00Z"),
    );
    assert_eq!(
        err.unwrap_err(),
        RequestError::IllegalTransition {
            from: Stage::Approved,
            step: "partially-completed"
        }
    );
    r.step(
        Event::ExecutionStarted,
        actor("robot"),
        ts("2026-02-05T09:00:00Z"),
    )
    .unwrap();
    r.step(
        Event::VerificationStarted,
        actor("robot"),
        ts("2026-02-05T10:00:00Z"),
    )
    .unwrap();
    r.step(
        Event::PartiallyCompleted,
        actor("robot"),
        ts("2026-02-05T11:00:00Z"),
    )
    .unwrap();
    assert_eq!(r.stage(), Stage::PartiallyCompleted);
    assert!(r.stage().is_answered());
}

#[test]
fn steps_cannot_be_skipped_or_taken_after_the_answer() {
    let mut r = request(ApprovalPolicy::AnyActor);
    let skip = r.step(Event::Assessed, actor("dpo"), ts("2026-02-01T09:00:00Z"));
    assert!(matches!(
        skip,
        Err(RequestError::IllegalTransition {
            from: Stage::Received,
            step: "assessed"
        })
    ));
    let again = r.step(Event::Received, actor("dpo"), ts("2026-02-01T09:00:00Z"));
    assert!(matches!(again, Err(RequestError::IllegalTransition { .. })));
    let refusal = Refusal::new(vec![RefusalGround::IdentityNotEstablished]).unwrap();
    r.step(
        Event::Refused { refusal },
        actor("dpo"),
        ts("2026-02-01T09:00:00Z"),
    )
    .unwrap();
    assert_eq!(r.stage(), Stage::Refused);
    let after = r.step(
        Event::IdentityVerified,
        actor("dpo"),
        ts("2026-02-02T09:00:00Z"),
    );
    assert!(matches!(
        after,
        Err(RequestError::IllegalTransition {
            from: Stage::Refused,
            ..
        })
    ));
    let refusal = r.history().refusal().unwrap();
    assert_eq!(refusal.remedies().complaint.as_str(), "GDPR Art. 77");
}

#[test]
fn no_refusal_once_execution_has_started() {
    let mut r = approved("head-of-records");
    r.step(
        Event::ExecutionStarted,
        actor("robot"),
        ts("2026-02-05T09:00:00Z"),
    )
    .unwrap();
    let refusal = Refusal::new(vec![RefusalGround::ErasureExemption]).unwrap();
    let err = r.step(
        Event::Refused { refusal },
        actor("dpo"),
        ts("2026-02-05T10:00:00Z"),
    );
    assert!(matches!(
        err,
        Err(RequestError::IllegalTransition {
            from: Stage::Executing,
            step: "refused"
        })
    ));
}

#[test]
fn a_second_actor_approves_when_the_policy_says_so() {
    let at = ts("2026-02-03T10:00:00Z");
    let mut r = assessed(ApprovalPolicy::SecondActor);
    let same = r.step(Event::Approved, actor("dpo"), at);
    assert_eq!(same.unwrap_err(), RequestError::SameActorApproves);
    assert_eq!(r.stage(), Stage::Assessed, "a refused step changes nothing");
    r.step(Event::Approved, actor("ciso"), at).unwrap();
    assert_eq!(r.stage(), Stage::Approved);

    let mut one = assessed(ApprovalPolicy::AnyActor);
    one.step(Event::Approved, actor("dpo"), at).unwrap();
    assert_eq!(one.stage(), Stage::Approved);
}

#[test]
fn steps_are_recorded_in_time_order() {
    let mut r = request(ApprovalPolicy::AnyActor);
    let err = r.step(
        Event::IdentityVerified,
        actor("clerk"),
        ts("2026-01-30T08:59:59Z"),
    );
    assert_eq!(
        err.unwrap_err(),
        RequestError::OutOfOrder {
            step: "identity-verified"
        }
    );
}

#[test]
fn one_extension_told_within_the_first_month() {
    let cal = calendar();
    let mut r = request(ApprovalPolicy::AnyActor);
    let ext =
        |told: &str| Extension::new(2, vec![ExtensionGround::NumberOfRequests], ts(told)).unwrap();
    // The first period ends Mon 2 March 2026; told 3 March is late.
    let late = r.extend(
        ext("2026-03-03T08:00:00Z"),
        &cal,
        actor("dpo"),
        ts("2026-03-03T08:00:00Z"),
    );
    assert_eq!(late.unwrap_err(), RequestError::ExtensionTooLate);
    let before = r.extend(
        ext("2026-01-29T08:00:00Z"),
        &cal,
        actor("dpo"),
        ts("2026-02-03T08:00:00Z"),
    );
    assert_eq!(
        before.unwrap_err(),
        RequestError::ExtensionTooLate,
        "told before receipt"
    );
    r.extend(
        ext("2026-02-20T08:00:00Z"),
        &cal,
        actor("dpo"),
        ts("2026-02-20T08:00:00Z"),
    )
    .unwrap();
    assert_eq!(r.stage(), Stage::Received, "an extension keeps the stage");
    // 30 Jan + 3 months = Thu 30 April 2026.
    assert_eq!(r.deadline(&cal).unwrap().due, date(2026, 4, 30));
    let twice = r.extend(
        ext("2026-02-21T08:00:00Z"),
        &cal,
        actor("dpo"),
        ts("2026-02-21T08:00:00Z"),
    );
    assert_eq!(twice.unwrap_err(), RequestError::ExtendedTwice);
    let direct = Event::Extended {
        extension: ext("2026-02-21T08:00:00Z"),
    };
    assert!(
        r.step(direct, actor("dpo"), ts("2026-02-21T08:00:00Z"))
            .is_err()
    );
    // Overdue from 1 May 00:00 Berlin (30 April 22:00 UTC).
    assert!(
        !r.deadline_status(&cal, ts("2026-04-30T21:59:59Z"))
            .unwrap()
            .overdue
    );
    assert!(
        r.deadline_status(&cal, ts("2026-04-30T22:00:00Z"))
            .unwrap()
            .overdue
    );
}

/// The persisted form of a request, format version 1. A change to it is a
/// new version, never an accident.
const PINNED: &str = r#"{"version":1,"id":"dsr-2026-0001","kind":{"kind":"erasure","ground":"consent-withdrawn"},"subjects":{"pacs":{"dicom":{"id":"CANARY-PID-7","issuer":"HOSP-A"}}},"approval":"second-actor","history":[{"event":"received","at":"2026-01-30T09:00:00Z","actor":"clerk"},{"event":"identity-verified","at":"2026-02-02T09:00:00Z","actor":"clerk"},{"event":"assessed","at":"2026-02-03T09:00:00Z","actor":"dpo"},{"event":"approved","at":"2026-02-04T09:00:00Z","actor":"head-of-records"},{"event":"extended","extension":{"months":1,"grounds":["complexity"],"told-at":"2026-02-05T09:00:00Z"},"at":"2026-02-05T09:00:00Z","actor":"dpo"},{"event":"refused","refusal":{"grounds":[{"ground":"manifestly-unfounded-or-excessive"}],"remedies":{"complaint":"GDPR Art. 77","judicial":"GDPR Art. 79","told-under":"GDPR Art. 12(4)"}},"at":"2026-02-06T09:00:00Z","actor":"dpo"}]}"#;

#[test]
fn pinned_json_round_trips() {
    let mut r = approved("head-of-records");
    let ext = Extension::new(
        1,
        vec![ExtensionGround::Complexity],
        ts("2026-02-05T09:00:00Z"),
    )
    .unwrap();
    r.extend(ext, &calendar(), actor("dpo"), ts("2026-02-05T09:00:00Z"))
        .unwrap();
    let refusal = Refusal::new(vec![RefusalGround::ManifestlyUnfoundedOrExcessive]).unwrap();
    r.step(
        Event::Refused { refusal },
        actor("dpo"),
        ts("2026-02-06T09:00:00Z"),
    )
    .unwrap();
    assert_eq!(serde_json::to_string(&r).unwrap(), PINNED);
    let back: DataSubjectRequest = serde_json::from_str(PINNED).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.stage(), Stage::Refused);
}

#[test]
fn persisted_histories_are_replayed_and_checked() {
    // Approval by the assessor under the four-eyes policy.
    let same = PINNED.replace("\"head-of-records\"", "\"dpo\"");
    let err = serde_json::from_str::<DataSubjectRequest>(&same).unwrap_err();
    assert!(err.to_string().contains("second actor"), "{err}");
    // A skipped stage.
    let skipped = PINNED.replace(
        r#"{"event":"assessed","at":"2026-02-03T09:00:00Z","actor":"dpo"},"#,
        "",
    );
    assert!(serde_json::from_str::<DataSubjectRequest>(&skipped).is_err());
    // Another format version.
    let v2 = PINNED.replace("\"version\":1", "\"version\":2");
    let err = serde_json::from_str::<DataSubjectRequest>(&v2).unwrap_err();
    assert!(err.to_string().contains("version 2"), "{err}");
    // A history that does not start with the receipt.
    let headless = PINNED.replace(
        r#"{"event":"received","at":"2026-01-30T09:00:00Z","actor":"clerk"},"#,
        "",
    );
    assert!(serde_json::from_str::<DataSubjectRequest>(&headless).is_err());
}

#[test]
fn no_identifier_in_debug_or_errors() {
    let r = approved("CANARY-ACTOR");
    let text = format!("{r:?} {:?}", r.subjects());
    assert!(!text.contains("CANARY"), "{text}");
    assert!(text.contains("pacs"), "system names print: {text}");
    let err = r
        .subjects()
        .on(&SystemName::new("fhir").unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("fhir"));
}

#[test]
fn a_refusal_ground_must_fit_the_request() {
    let at = ts("2026-02-04T09:00:00Z");
    let mut r = assessed(ApprovalPolicy::AnyActor);
    for (ground, name) in [
        (RefusalGround::RightsOfOthers, "rights-of-others"),
        (
            RefusalGround::PortabilityConditionsNotMet,
            "portability-conditions-not-met",
        ),
        (
            RefusalGround::CompellingLegitimateGrounds,
            "compelling-legitimate-grounds",
        ),
        // The identity was verified: it cannot be refused as unestablished.
        (
            RefusalGround::IdentityNotEstablished,
            "identity-not-established",
        ),
    ] {
        let refusal = Refusal::new(vec![RefusalGround::ErasureExemption, ground]).unwrap();
        let err = r.step(Event::Refused { refusal }, actor("dpo"), at);
        assert!(
            matches!(err, Err(RequestError::RefusalGroundDoesNotApply { ground, .. }) if ground == name),
            "{name}: {err:?}"
        );
        assert_eq!(r.stage(), Stage::Assessed, "a refused step changes nothing");
    }
    let refusal = Refusal::new(vec![RefusalGround::ErasureExemption]).unwrap();
    r.step(Event::Refused { refusal }, actor("dpo"), at)
        .unwrap();
    assert_eq!(r.stage(), Stage::Refused);
}
