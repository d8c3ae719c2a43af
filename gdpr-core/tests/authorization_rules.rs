//! One test (or a few) per authorization rule, through the public API.

mod common;

use common::*;
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::Role;
use gdpr_core::authorization::{Request, authorize};
use gdpr_core::basis::{Art6Basis, Art9Condition, LawfulBasis};
use gdpr_core::category::RecordCategory;
use gdpr_core::consent::Consent;
use gdpr_core::decision::{Decision, ReasonCode, SafeguardCode};
use gdpr_core::objection::Objection;
use gdpr_core::purpose::Purpose;
use gdpr_core::restriction::{Restriction, RestrictionException, RestrictionGround};
use gdpr_core::subject::{Identifiability, SubjectState};

const AT: &str = "2026-03-02T09:30:00Z";

/// The decision on `request` under `activity` for a subject with no
/// consent, restriction or objection, at [`AT`].
fn decide(activity: &ProcessingActivity, request: &Request) -> Decision {
    decide_on(activity, request, &SubjectState::default())
}

/// The decision on `request` under `activity` for a subject in `state`,
/// at [`AT`].
fn decide_on(activity: &ProcessingActivity, request: &Request, state: &SubjectState) -> Decision {
    authorize(activity, request, state, ts(AT))
}

fn permit(d: &Decision) -> &gdpr_core::decision::Permit {
    match d {
        Decision::Permit(p) => p,
        Decision::Deny(d) => panic!("expected a permit, got {:?}", d.reasons()),
    }
}

fn citation_of(d: &Decision, code: ReasonCode) -> String {
    d.reasons()
        .iter()
        .find(|r| r.code == code)
        .map(|r| r.citation.to_string())
        .unwrap_or_else(|| panic!("no {code:?} in {:?}", d.reasons()))
}

#[test]
fn physician_may_report_under_art9_2_h_with_secrecy_as_safeguard() {
    let d = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Diagnosis),
    );
    let p = permit(&d);
    assert_eq!(p.basis().art9(), Some(Art9Condition::HealthCare));
    assert!(p.has_safeguard(SafeguardCode::ProfessionalSecrecy));
    let s = &p.safeguards()[0];
    assert!(s.message.contains("§ 203(1) Nr. 1 StGB"), "{}", s.message);
}

#[test]
fn assistant_under_responsibility_satisfies_art9_3() {
    let d = decide(
        &reporting(),
        &request(actor(Role::MedicalAssistant), Purpose::Diagnosis),
    );
    assert!(d.is_permit(), "{:?}", d.reasons());
}

#[test]
fn actor_without_secrecy_is_denied_under_h_citing_art9_3() {
    let d = decide(
        &reporting(),
        &request(
            actor_without_secrecy(Role::ItAdministrator),
            Purpose::Diagnosis,
        ),
    );
    assert_eq!(
        citation_of(&d, ReasonCode::NoProfessionalSecrecy),
        "GDPR Art. 9(3)"
    );
}

#[test]
fn categories_outside_the_activity_are_denied() {
    let mut r = request(actor(Role::Physician), Purpose::Diagnosis);
    r.categories = vec![RecordCategory::Medication];
    let d = decide(&reporting(), &r);
    assert!(d.denies_with(ReasonCode::CategoryNotCovered));
    r.categories.clear();
    let d = decide(&reporting(), &r);
    assert!(d.denies_with(ReasonCode::CategoryNotCovered));
}

#[test]
fn health_data_on_art6_alone_is_denied_with_every_reason() {
    let reminders = ProcessingActivity::new(
        "Appointment reminders",
        Purpose::CareCoordination,
        LawfulBasis::Ordinary {
            art6: Art6Basis::Contract,
        },
        vec![RecordCategory::Demographics],
        Identifiability::Identified,
    )
    .unwrap();
    let mut r = request(actor(Role::Nurse), Purpose::CareCoordination);
    r.categories = vec![RecordCategory::Demographics, RecordCategory::Diagnosis];
    let d = decide(&reminders, &r);
    assert_eq!(
        citation_of(&d, ReasonCode::MissingArt9Condition),
        "GDPR Art. 9(1)"
    );
    assert!(d.denies_with(ReasonCode::CategoryNotCovered));

    r.categories = vec![RecordCategory::Demographics];
    let d = decide(&reminders, &r);
    assert!(d.is_permit(), "{:?}", d.reasons());
}

#[test]
fn incompatible_purpose_is_denied_citing_art6_4() {
    let d = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::QualityAssurance),
    );
    assert_eq!(
        citation_of(&d, ReasonCode::PurposeIncompatible),
        "GDPR Art. 6(4)"
    );
}

#[test]
fn compatible_care_purpose_is_permitted_and_says_so() {
    let d = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Treatment),
    );
    assert!(permit(&d).has_safeguard(SafeguardCode::CompatiblePurpose));
}

#[test]
fn research_on_care_data_needs_its_own_condition_and_safeguards() {
    let d = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Research),
    );
    assert_eq!(
        citation_of(&d, ReasonCode::ConditionDoesNotCoverPurpose),
        "GDPR Art. 9(2)(h)"
    );
    assert!(d.denies_with(ReasonCode::IdentifiedDataWithoutNecessity));
}

#[test]
fn research_on_pseudonymised_or_anonymised_data_names_the_safeguard() {
    for (ident, code) in [
        (
            Identifiability::Pseudonymised,
            SafeguardCode::Pseudonymisation,
        ),
        (Identifiability::Anonymised, SafeguardCode::Anonymisation),
    ] {
        let d = decide(
            &research(ident, None),
            &request(actor(Role::Researcher), Purpose::Research),
        );
        let p = permit(&d);
        let s = p.safeguards().iter().find(|s| s.code == code).unwrap();
        assert_eq!(s.citation.as_str(), "GDPR Art. 89(1)");
    }
}

#[test]
fn identified_research_data_need_a_recorded_necessity() {
    let r = request(actor(Role::Researcher), Purpose::Research);
    let d = decide(&research(Identifiability::Identified, None), &r);
    assert_eq!(
        citation_of(&d, ReasonCode::IdentifiedDataWithoutNecessity),
        "GDPR Art. 89(1)"
    );
    let d = decide(
        &research(
            Identifiability::Identified,
            Some("re-contact for incidental findings"),
        ),
        &r,
    );
    assert!(permit(&d).has_safeguard(SafeguardCode::IdentificationNecessary));
}

#[test]
fn consent_must_cover_the_purpose_at_the_time() {
    let r = request(actor(Role::Researcher), Purpose::Research);
    let none = decide(&consent_study(), &r);
    assert_eq!(
        citation_of(&none, ReasonCode::NoConsent),
        "GDPR Art. 9(2)(a)"
    );

    let other_purpose = SubjectState {
        consents: vec![Consent::new(vec![Purpose::Treatment], ts("2026-01-01T00:00:00Z")).unwrap()],
        ..SubjectState::default()
    };
    let d = decide_on(&consent_study(), &r, &other_purpose);
    assert!(d.denies_with(ReasonCode::NoConsent));

    let given = SubjectState {
        consents: vec![Consent::new(vec![Purpose::Research], ts("2026-01-01T00:00:00Z")).unwrap()],
        ..SubjectState::default()
    };
    let d = decide_on(&consent_study(), &r, &given);
    assert!(permit(&d).has_safeguard(SafeguardCode::Consent));
    // Not before it was given.
    let d = authorize(&consent_study(), &r, &given, ts("2025-12-31T23:59:59Z"));
    assert!(d.denies_with(ReasonCode::NoConsent));
}

#[test]
fn withdrawn_consent_stops_processing_from_the_withdrawal_instant() {
    let r = request(actor(Role::Researcher), Purpose::Research);
    let withdrawn = SubjectState {
        consents: vec![
            Consent::new(vec![Purpose::Research], ts("2026-01-01T00:00:00Z"))
                .unwrap()
                .withdrawn(ts(AT))
                .unwrap(),
        ],
        ..SubjectState::default()
    };
    let d = decide_on(&consent_study(), &r, &withdrawn);
    assert_eq!(
        citation_of(&d, ReasonCode::ConsentWithdrawn),
        "GDPR Art. 7(3)"
    );
    let d = authorize(&consent_study(), &r, &withdrawn, ts("2026-03-02T09:29:59Z"));
    assert!(d.is_permit(), "{:?}", d.reasons());
}

fn restricted() -> SubjectState {
    SubjectState {
        restrictions: vec![Restriction::new(
            RestrictionGround::AccuracyContested,
            ts("2026-02-01T00:00:00Z"),
        )],
        ..SubjectState::default()
    }
}

#[test]
fn restricted_subject_needs_an_art18_2_exception() {
    let mut r = request(actor(Role::Physician), Purpose::Diagnosis);
    let d = decide_on(&reporting(), &r, &restricted());
    assert_eq!(citation_of(&d, ReasonCode::Restricted), "GDPR Art. 18(2)");
    assert!(d.reasons()[0].message.contains("GDPR Art. 18(1)(a)"));

    // `storage-only` does not open diagnosis (see authorization_national.rs).
    r.restriction_exception = Some(RestrictionException::StorageOnly);
    let d = decide_on(&reporting(), &r, &restricted());
    assert!(d.denies_with(ReasonCode::RestrictionExceptionNotMet));

    r.restriction_exception = Some(RestrictionException::LegalClaims);
    let d = decide_on(&reporting(), &r, &restricted());
    assert!(d.denies_with(ReasonCode::RestrictionExceptionNotMet));

    r.restriction_exception = Some(RestrictionException::SubjectConsent);
    let d = decide_on(&reporting(), &r, &restricted());
    assert!(d.denies_with(ReasonCode::RestrictionExceptionNotMet));
    let mut consented = restricted();
    consented.consents =
        vec![Consent::new(vec![Purpose::Diagnosis], ts("2026-02-15T00:00:00Z")).unwrap()];
    let d = decide_on(&reporting(), &r, &consented);
    assert!(d.is_permit(), "{:?}", d.reasons());
}

#[test]
fn lifted_restriction_no_longer_applies() {
    let mut state = restricted();
    state.restrictions[0] = state.restrictions[0]
        .clone()
        .lifted(ts("2026-03-01T00:00:00Z"))
        .unwrap();
    let d = decide_on(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Diagnosis),
        &state,
    );
    assert!(d.is_permit(), "{:?}", d.reasons());
}

#[test]
fn objections_bind_legitimate_interests_and_research() {
    let objected = SubjectState {
        objections: vec![Objection::to_all(ts("2026-02-01T00:00:00Z"))],
        ..SubjectState::default()
    };
    let qa = activity(
        Purpose::QualityAssurance,
        pair(Art6Basis::LegitimateInterests, Art9Condition::HealthCare),
        Identifiability::Identified,
    );
    let d = decide_on(
        &qa,
        &request(actor(Role::Physician), Purpose::QualityAssurance),
        &objected,
    );
    assert_eq!(citation_of(&d, ReasonCode::Objection), "GDPR Art. 21(1)");

    // Art. 21(6): research in the public interest continues.
    let r = request(actor(Role::Researcher), Purpose::Research);
    let d = decide_on(
        &research(Identifiability::Pseudonymised, None),
        &r,
        &objected,
    );
    assert!(d.is_permit(), "{:?}", d.reasons());

    // Treatment on the contract is not objectable.
    let d = decide_on(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Diagnosis),
        &objected,
    );
    assert!(d.is_permit(), "{:?}", d.reasons());
}

#[test]
fn every_reason_is_collected_not_only_the_first() {
    let mut r = request(
        actor_without_secrecy(Role::Administration),
        Purpose::Diagnosis,
    );
    r.categories.push(RecordCategory::Medication);
    let d = decide_on(&reporting(), &r, &restricted());
    for code in [
        ReasonCode::NoProfessionalSecrecy,
        ReasonCode::CategoryNotCovered,
        ReasonCode::Restricted,
    ] {
        assert!(d.denies_with(code), "{code:?} missing: {:?}", d.reasons());
    }
}

#[test]
fn decision_json_has_stable_names() {
    let d = decide(
        &reporting(),
        &request(
            actor_without_secrecy(Role::ItAdministrator),
            Purpose::Diagnosis,
        ),
    );
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["reasons"][0]["code"], "no-professional-secrecy");
    assert_eq!(v["reasons"][0]["citation"], "GDPR Art. 9(3)");
    assert_eq!(v["basis"]["art9"], "health-care");
    assert_eq!(v["at"], AT);
    assert!(
        !v.to_string().contains("staff-0816"),
        "actor id leaked: {v}"
    );

    let d = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Diagnosis),
    );
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["decision"], "permit");
    assert_eq!(v["safeguards"][0]["code"], "professional-secrecy");
}

#[test]
fn consent_under_art6_alone_cites_art6_1_a() {
    let a = activity(
        Purpose::Diagnosis,
        pair(Art6Basis::Consent, Art9Condition::HealthCare),
        Identifiability::Identified,
    );
    let d = decide(&a, &request(actor(Role::Physician), Purpose::Diagnosis));
    assert_eq!(citation_of(&d, ReasonCode::NoConsent), "GDPR Art. 6(1)(a)");
}

#[test]
fn permit_and_deny_share_one_json_schema() {
    let permit = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Diagnosis),
    );
    let deny = decide(
        &reporting(),
        &request(actor_without_secrecy(Role::System), Purpose::Diagnosis),
    );
    let keys = |d: &Decision| {
        let v = serde_json::to_value(d).unwrap();
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&permit), keys(&deny));
    assert_eq!(
        keys(&permit),
        [
            "activity",
            "at",
            "basis",
            "categories",
            "decision",
            "purpose",
            "reasons",
            "safeguards"
        ]
    );
    assert_eq!(
        serde_json::to_value(&permit).unwrap()["reasons"],
        serde_json::json!([])
    );
}
