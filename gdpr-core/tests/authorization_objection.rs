//! Objections (GDPR Art. 21) in `authorize`: the rule follows the Art. 6(1)
//! basis the activity declares, whatever its Art. 9(2) condition; the
//! exceptions (legal claims, the controller's compelling legitimate
//! grounds, a public-interest task for research) permit with their
//! citation; a basis Art. 21 does not reach permits saying so.

mod common;

use common::*;
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::Role;
use gdpr_core::authorization::authorize;
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis, NationalProvision};
use gdpr_core::category::RecordCategory;
use gdpr_core::consent::Consent;
use gdpr_core::decision::{Decision, ReasonCode, SafeguardCode};
use gdpr_core::objection::{CompellingGrounds, Objection};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::{Identifiability, SubjectState};

const AT: &str = "2026-03-02T09:30:00Z";
const LODGED: &str = "2026-02-01T00:00:00Z";

fn objected() -> SubjectState {
    SubjectState {
        objections: vec![Objection::to_all(ts(LODGED))],
        ..SubjectState::default()
    }
}

fn on(art6: Art6Basis, art9: Art9Condition, purpose: Purpose) -> ProcessingActivity {
    let mut basis = HealthBasis::new(art6, art9);
    if art6.expects_member_state_law() {
        basis = basis.with_national(NationalProvision::new(
            "DE",
            "§ 630f BGB",
            "documentation duty",
        ));
    }
    activity(
        purpose,
        LawfulBasis::SpecialCategory(basis),
        Identifiability::Identified,
    )
}

fn decide(activity: &ProcessingActivity, purpose: Purpose, subject: &SubjectState) -> Decision {
    authorize(
        activity,
        &request(actor(Role::Physician), purpose),
        subject,
        ts(AT),
    )
}

/// The only reason of a denial: (code, citation).
fn only_reason(d: &Decision) -> (ReasonCode, String) {
    assert!(!d.is_permit(), "expected a denial");
    let r = d.reasons();
    assert_eq!(r.len(), 1, "{r:?}");
    (r[0].code, r[0].citation.to_string())
}

/// The permit's safeguard with `code`: (citation, message).
fn safeguard(d: &Decision, code: SafeguardCode) -> (String, String) {
    let Decision::Permit(p) = d else {
        panic!("expected a permit, got {:?}", d.reasons());
    };
    p.safeguards()
        .iter()
        .find(|s| s.code == code)
        .map(|s| (s.citation.to_string(), s.message.clone()))
        .unwrap_or_else(|| panic!("no {code:?} in {:?}", p.safeguards()))
}

fn quality_assurance() -> ProcessingActivity {
    on(
        Art6Basis::LegitimateInterests,
        Art9Condition::HealthCare,
        Purpose::QualityAssurance,
    )
}

#[test]
fn objection_refuses_legitimate_interests_under_21_1() {
    let qa = quality_assurance();
    assert!(decide(&qa, Purpose::QualityAssurance, &SubjectState::default()).is_permit());
    let d = decide(&qa, Purpose::QualityAssurance, &objected());
    assert_eq!(
        only_reason(&d),
        (ReasonCode::Objection, "GDPR Art. 21(1)".into())
    );
    assert!(d.reasons()[0].message.contains("Art. 6(1)(f)"));
}

#[test]
fn compelling_grounds_recorded_by_the_controller_permit_citing_them() {
    let mut subject = objected();
    subject.objections[0].overridden_by = Some(CompellingGrounds {
        recorded_at: ts("2026-02-15T00:00:00Z"),
        purposes: vec![Purpose::QualityAssurance],
        assessment: "DPO assessment 2026-14".into(),
    });
    let d = decide(&quality_assurance(), Purpose::QualityAssurance, &subject);
    let (cite, message) = safeguard(&d, SafeguardCode::CompellingGrounds);
    assert_eq!(cite, "GDPR Art. 21(1)");
    assert!(message.contains("DPO assessment 2026-14"), "{message}");
    assert!(message.contains("2026-02-15"), "{message}");
    // Before they were recorded, the objection bound.
    let before = authorize(
        &quality_assurance(),
        &request(actor(Role::Physician), Purpose::QualityAssurance),
        &subject,
        ts("2026-02-10T00:00:00Z"),
    );
    assert_eq!(only_reason(&before).1, "GDPR Art. 21(1)");
}

#[test]
fn legal_claims_continue_despite_the_objection() {
    // The data's types: legal claims rest on Art. 6(1)(f) with Art. 9(2)(f).
    let claims = on(
        Art6Basis::LegitimateInterests,
        Art9Condition::LegalClaims,
        Purpose::LegalClaims,
    );
    let d = decide(&claims, Purpose::LegalClaims, &objected());
    let (cite, message) = safeguard(&d, SafeguardCode::ObjectionException);
    assert_eq!(cite, "GDPR Art. 21(1)");
    assert!(message.contains("legal claims"), "{message}");
}

#[test]
fn a_legal_obligation_is_not_reached() {
    let duty = on(
        Art6Basis::LegalObligation,
        Art9Condition::HealthCare,
        Purpose::LegalObligation,
    );
    let d = decide(&duty, Purpose::LegalObligation, &objected());
    let (cite, message) = safeguard(&d, SafeguardCode::ObjectionNotReached);
    assert_eq!(cite, "GDPR Art. 21(1)");
    assert!(message.contains("Art. 6(1)(c)"), "{message}");
}

#[test]
fn health_care_follows_its_art6_basis_not_its_art9_condition() {
    // Art. 9(2)(h) on the treatment contract: not reached.
    let private = on(
        Art6Basis::Contract,
        Art9Condition::HealthCare,
        Purpose::Treatment,
    );
    let d = decide(&private, Purpose::Treatment, &objected());
    safeguard(&d, SafeguardCode::ObjectionNotReached);
    // Art. 9(2)(h) on a public hospital's task (Art. 6(1)(e)): reached.
    let public = on(
        Art6Basis::PublicTask,
        Art9Condition::HealthCare,
        Purpose::Treatment,
    );
    assert!(decide(&public, Purpose::Treatment, &SubjectState::default()).is_permit());
    let d = decide(&public, Purpose::Treatment, &objected());
    assert_eq!(
        only_reason(&d),
        (ReasonCode::Objection, "GDPR Art. 21(1)".into())
    );
    assert!(d.reasons()[0].message.contains("Art. 6(1)(e)"));
}

#[test]
fn research_on_a_public_task_continues_under_21_6() {
    let study = research(Identifiability::Pseudonymised, None);
    let d = authorize(
        &study,
        &request(actor(Role::Researcher), Purpose::Research),
        &objected(),
        ts(AT),
    );
    let (cite, _) = safeguard(&d, SafeguardCode::ObjectionException);
    assert_eq!(cite, "GDPR Art. 21(6)");
    // On consent, the objection binds under Art. 21(6).
    let subject = SubjectState {
        consents: vec![Consent::new(vec![Purpose::Research], ts("2025-01-01T00:00:00Z")).unwrap()],
        ..objected()
    };
    let d = authorize(
        &consent_study(),
        &request(actor(Role::Researcher), Purpose::Research),
        &subject,
        ts(AT),
    );
    assert_eq!(
        only_reason(&d),
        (ReasonCode::Objection, "GDPR Art. 21(6)".into())
    );
}

#[test]
fn direct_marketing_stops_on_every_basis_and_grounds_do_not_help() {
    let mut subject = objected();
    subject.objections[0].overridden_by = Some(CompellingGrounds {
        recorded_at: ts(LODGED),
        purposes: Vec::new(),
        assessment: "DPO assessment 2026-15".into(),
    });
    subject.consents =
        vec![Consent::new(vec![Purpose::DirectMarketing], ts("2025-01-01T00:00:00Z")).unwrap()];
    for art6 in [Art6Basis::Consent, Art6Basis::LegitimateInterests] {
        let newsletter = ProcessingActivity::new(
            "Clinic newsletter",
            Purpose::DirectMarketing,
            LawfulBasis::Ordinary { art6 },
            vec![RecordCategory::Demographics],
            Identifiability::Identified,
        )
        .unwrap();
        let mut r = request(actor(Role::Administration), Purpose::DirectMarketing);
        r.categories = vec![RecordCategory::Demographics];
        assert!(
            authorize(
                &newsletter,
                &r,
                &SubjectState {
                    objections: Vec::new(),
                    ..subject.clone()
                },
                ts(AT)
            )
            .is_permit()
        );
        let d = authorize(&newsletter, &r, &subject, ts(AT));
        assert_eq!(
            only_reason(&d),
            (ReasonCode::Objection, "GDPR Art. 21(2), (3)".into()),
            "{art6:?}"
        );
    }
}

#[test]
fn an_objection_to_other_purposes_leaves_this_one_alone() {
    let subject = SubjectState {
        objections: vec![Objection::new(ts(LODGED), vec![Purpose::Research])],
        ..SubjectState::default()
    };
    let d = decide(&quality_assurance(), Purpose::QualityAssurance, &subject);
    let Decision::Permit(p) = &d else {
        panic!("{:?}", d.reasons())
    };
    assert!(
        !p.safeguards()
            .iter()
            .any(|s| s.citation.as_str().starts_with("GDPR Art. 21")),
        "{:?}",
        p.safeguards()
    );
}
