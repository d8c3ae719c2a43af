//! The authorization rules of issue 12: secrecy of contributors and DPOs
//! (§ 203 StGB), hospital billing, bases that need member-state law,
//! records in their retention phase, storage of restricted data, and
//! objections to archiving.

mod common;

use common::*;
use gdpr_core::Citation;
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::Role;
use gdpr_core::authorization::{RetentionPhase, authorize};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis, NationalProvision};
use gdpr_core::category::RecordCategory;
use gdpr_core::decision::{Decision, Permit, ReasonCode, SafeguardCode};
use gdpr_core::national::Catalogue;
use gdpr_core::objection::Objection;
use gdpr_core::purpose::Purpose;
use gdpr_core::restriction::{Restriction, RestrictionException, RestrictionGround};
use gdpr_core::subject::{Identifiability, SubjectState};

const AT: &str = "2026-03-02T09:30:00Z";

fn permit(d: &Decision) -> &Permit {
    match d {
        Decision::Permit(p) => p,
        Decision::Deny(d) => panic!("expected a permit, got {:?}", d.reasons()),
    }
}

fn reason(d: &Decision, code: ReasonCode) -> (String, String) {
    d.reasons()
        .iter()
        .find(|r| r.code == code)
        .map(|r| (r.citation.to_string(), r.message.clone()))
        .unwrap_or_else(|| panic!("no {code:?} in {:?}", d.reasons()))
}

fn decide(activity: &ProcessingActivity, r: &gdpr_core::authorization::Request) -> Decision {
    authorize(activity, r, &SubjectState::default(), ts(AT))
}

fn provision(citation: &str) -> NationalProvision {
    NationalProvision::new("DE", citation, "test provision")
}

// § 203 StGB -------------------------------------------------------------

#[test]
fn hospital_billing_by_billing_staff_is_permitted_under_h() {
    // Old code: `purpose-incompatible` (billing vs diagnosis) and
    // `no-professional-secrecy` (administration had no duty).
    let d = decide(
        &reporting(),
        &request(actor(Role::Administration), Purpose::Billing),
    );
    let p = permit(&d);
    let secrecy = p
        .safeguards()
        .iter()
        .find(|s| s.code == SafeguardCode::ProfessionalSecrecy)
        .unwrap();
    assert!(
        secrecy.message.contains("§ 203(4) S. 1 StGB"),
        "{}",
        secrecy.message
    );
    let compatible = p
        .safeguards()
        .iter()
        .find(|s| s.code == SafeguardCode::CompatiblePurpose)
        .unwrap();
    assert_eq!(
        compatible.citation.as_str(),
        "GDPR Art. 6(4)(a), (b), Art. 9(2)(h)"
    );
}

#[test]
fn contributors_carry_the_obligation_safeguard_of_203_4_s2() {
    for role in [
        Role::MedicalAssistant,
        Role::ItAdministrator,
        Role::Administration,
    ] {
        let d = decide(&reporting(), &request(actor(role), Purpose::Diagnosis));
        let p = permit(&d);
        let s = p
            .safeguards()
            .iter()
            .find(|s| s.code == SafeguardCode::SecrecyObligation)
            .unwrap_or_else(|| panic!("{role:?}: {:?}", p.safeguards()));
        assert_eq!(s.citation.as_str(), "GDPR Art. 9(3)");
        assert!(
            s.message.contains("§ 203(4) S. 2 Nr. 1 StGB"),
            "{}",
            s.message
        );
    }
    // A professional's own duty needs no obligation by another.
    let d = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Diagnosis),
    );
    assert!(!permit(&d).has_safeguard(SafeguardCode::SecrecyObligation));
}

#[test]
fn dpo_may_process_under_h_bound_by_203_4_and_bdsg() {
    let r = request(
        actor(Role::DataProtectionOfficer),
        Purpose::DataSubjectRequest,
    );
    let d = decide(&reporting(), &r);
    let s = permit(&d)
        .safeguards()
        .iter()
        .find(|s| s.code == SafeguardCode::ProfessionalSecrecy)
        .unwrap();
    assert!(s.message.contains("§ 203(4) S. 1 StGB"), "{}", s.message);
    assert!(s.message.contains("§ 38(2) BDSG"), "{}", s.message);
}

#[test]
fn billing_staff_of_a_public_hospital_are_officials() {
    let mut clerk = actor(Role::Administration);
    clerk.secrecy = Catalogue::germany().secrecy_for_public_body(Role::Administration);
    let d = decide(&reporting(), &request(clerk, Purpose::Billing));
    let s = permit(&d)
        .safeguards()
        .iter()
        .find(|s| s.code == SafeguardCode::ProfessionalSecrecy)
        .unwrap();
    assert!(
        s.message.contains("§ 203(2) S. 1 Nr. 1, 2 StGB"),
        "{}",
        s.message
    );
}

// Member-state law -------------------------------------------------------

fn on(art6: Art6Basis, art9: Art9Condition, purpose: Purpose) -> ProcessingActivity {
    activity(purpose, pair(art6, art9), Identifiability::Pseudonymised)
}

#[test]
fn conditions_b_g_i_j_without_national_law_are_denied() {
    let cases = [
        (Art9Condition::EmploymentSocialSecurity, Purpose::Prevention),
        (
            Art9Condition::SubstantialPublicInterest,
            Purpose::HealthcareManagement,
        ),
        (Art9Condition::PublicHealth, Purpose::PublicHealth),
        (
            Art9Condition::ResearchArchivingStatistics,
            Purpose::Research,
        ),
    ];
    for (art9, purpose) in cases {
        let a = on(Art6Basis::LegitimateInterests, art9, purpose);
        let d = decide(&a, &request(actor(Role::Researcher), purpose));
        let (cite, message) = reason(&d, ReasonCode::MissingMemberStateLaw);
        assert_eq!(cite, art9.citation().as_str());
        assert!(message.contains("member-state law"), "{message}");
        assert!(message.contains("`national`"), "{message}");
    }
}

#[test]
fn bases_c_and_e_without_national_law_are_denied_under_art6_3() {
    for art6 in [Art6Basis::LegalObligation, Art6Basis::PublicTask] {
        let a = on(art6, Art9Condition::HealthCare, Purpose::Diagnosis);
        let d = decide(&a, &request(actor(Role::Physician), Purpose::Diagnosis));
        let (cite, message) = reason(&d, ReasonCode::MissingMemberStateLaw);
        assert_eq!(cite, "GDPR Art. 6(3)");
        assert!(message.contains(art6.citation().as_str()), "{message}");
    }
    // An ordinary basis names its law on the activity.
    let reminders = |with_law: bool| {
        let a = ProcessingActivity::new(
            "Recall letters",
            Purpose::PublicHealth,
            LawfulBasis::Ordinary {
                art6: Art6Basis::LegalObligation,
            },
            vec![RecordCategory::Demographics],
            Identifiability::Identified,
        )
        .unwrap();
        if with_law {
            a.with_national(provision("§ 20i SGB V"))
        } else {
            a
        }
    };
    let mut r = request(actor(Role::Administration), Purpose::PublicHealth);
    r.categories = vec![RecordCategory::Demographics];
    assert!(decide(&reminders(false), &r).denies_with(ReasonCode::MissingMemberStateLaw));
    let d = decide(&reminders(true), &r);
    assert!(d.is_permit(), "{:?}", d.reasons());
}

#[test]
fn a_named_provision_satisfies_the_rule_and_contract_h_needs_none() {
    let with_law = activity(
        Purpose::Diagnosis,
        LawfulBasis::SpecialCategory(
            HealthBasis::new(Art6Basis::LegalObligation, Art9Condition::HealthCare)
                .with_national(provision("§ 630f BGB")),
        ),
        Identifiability::Identified,
    );
    let d = decide(
        &with_law,
        &request(actor(Role::Physician), Purpose::Diagnosis),
    );
    assert!(d.is_permit(), "{:?}", d.reasons());
    // Art. 9(2)(h) "or pursuant to contract": the treatment contract suffices.
    let d = decide(
        &reporting(),
        &request(actor(Role::Physician), Purpose::Diagnosis),
    );
    assert!(d.is_permit(), "{:?}", d.reasons());
}

// Retention phase --------------------------------------------------------

fn kept_for_630f(purposes: Vec<Purpose>) -> Option<RetentionPhase> {
    Some(RetentionPhase::new(Citation::from_static("§ 630f(3) BGB"), purposes).unwrap())
}

#[test]
fn a_record_in_its_retention_phase_serves_only_its_duty() {
    let mut r = request(actor(Role::Physician), Purpose::Treatment);
    r.retention_phase = kept_for_630f(vec![Purpose::LegalClaims, Purpose::Treatment]);
    // Continuity of care when the patient returns: listed by the duty.
    let d = decide(&reporting(), &r);
    let p = permit(&d);
    let s = p
        .safeguards()
        .iter()
        .find(|s| s.code == SafeguardCode::RetentionDuty)
        .unwrap();
    assert_eq!(s.citation.as_str(), "§ 630f(3) BGB");
    assert!(s.message.contains("GDPR Art. 17(3)(b)"), "{}", s.message);

    // Care coordination is compatible with diagnosis, but not what the duty
    // keeps the record for.
    r.purpose = Purpose::CareCoordination;
    let d = decide(&reporting(), &r);
    let (cite, message) = reason(&d, ReasonCode::OutsideRetentionPurpose);
    assert_eq!(cite, "GDPR Art. 5(1)(b), Art. 17(3)(b)");
    assert!(message.contains("§ 630f(3) BGB"), "{message}");
    assert!(message.contains("`care-coordination`"), "{message}");

    // The subject's own request is always answered.
    r.purpose = Purpose::DataSubjectRequest;
    assert!(decide(&reporting(), &r).is_permit());
}

#[test]
fn research_on_a_kept_record_is_denied_by_the_retention_phase() {
    let mut r = request(actor(Role::Researcher), Purpose::Research);
    r.retention_phase = kept_for_630f(vec![Purpose::LegalClaims]);
    let d = authorize(
        &research(Identifiability::Pseudonymised, None),
        &r,
        &SubjectState::default(),
        ts(AT),
    );
    assert!(d.denies_with(ReasonCode::OutsideRetentionPurpose));
    r.retention_phase = None;
    let d = authorize(
        &research(Identifiability::Pseudonymised, None),
        &r,
        &SubjectState::default(),
        ts(AT),
    );
    assert!(d.is_permit(), "{:?}", d.reasons());
}

// Restriction: storage only ----------------------------------------------

fn restricted() -> SubjectState {
    SubjectState {
        restrictions: vec![Restriction::new(
            RestrictionGround::UnlawfulProcessing,
            ts("2026-02-01T00:00:00Z"),
        )],
        ..SubjectState::default()
    }
}

#[test]
fn storage_only_does_not_open_other_purposes() {
    // Old code: a permit for diagnosis on restricted data.
    let mut r = request(actor(Role::Physician), Purpose::Diagnosis);
    r.restriction_exception = Some(RestrictionException::StorageOnly);
    let d = authorize(&reporting(), &r, &restricted(), ts(AT));
    let (cite, message) = reason(&d, ReasonCode::RestrictionExceptionNotMet);
    assert_eq!(cite, "GDPR Art. 18(2)");
    assert!(message.contains("purpose `storage`"), "{message}");

    // Storage itself is allowed, with or without naming the exception.
    r.purpose = Purpose::Storage;
    for exception in [Some(RestrictionException::StorageOnly), None] {
        r.restriction_exception = exception;
        let d = authorize(&reporting(), &r, &restricted(), ts(AT));
        let s = permit(&d)
            .safeguards()
            .iter()
            .find(|s| s.code == SafeguardCode::RestrictionException)
            .unwrap();
        assert_eq!(s.citation.as_str(), "GDPR Art. 18(2)");
        assert!(s.message.contains("not consulted"), "{}", s.message);
    }
}

// Objection: archiving is not Art. 21(6) ----------------------------------

#[test]
fn objection_to_archiving_is_art21_1_not_21_6() {
    let archive = activity(
        Purpose::Archiving,
        LawfulBasis::SpecialCategory(
            HealthBasis::new(
                Art6Basis::PublicTask,
                Art9Condition::ResearchArchivingStatistics,
            )
            .with_national(Catalogue::germany().find("§ 28 BDSG").unwrap()),
        ),
        Identifiability::Pseudonymised,
    );
    let objected = SubjectState {
        objections: vec![Objection::to_all(ts("2026-02-01T00:00:00Z"))],
        ..SubjectState::default()
    };
    // Old code: Art. 21(6)'s public-task exception let this through.
    let d = authorize(
        &archive,
        &request(actor(Role::Researcher), Purpose::Archiving),
        &objected,
        ts(AT),
    );
    let (cite, message) = reason(&d, ReasonCode::Objection);
    assert_eq!(cite, "GDPR Art. 21(1)");
    assert!(
        message.contains("compelling legitimate grounds"),
        "{message}"
    );
}

#[test]
fn archiving_rests_on_section_28_not_section_27() {
    let on = |citation: &str| {
        activity(
            Purpose::Research,
            LawfulBasis::SpecialCategory(
                HealthBasis::new(
                    Art6Basis::PublicTask,
                    Art9Condition::ResearchArchivingStatistics,
                )
                .with_national(Catalogue::germany().find(citation).unwrap()),
            ),
            Identifiability::Pseudonymised,
        )
    };
    let archivist = request(actor(Role::Researcher), Purpose::Archiving);
    let d = decide(&on("§ 27 BDSG"), &archivist);
    let (cite, message) = reason(&d, ReasonCode::NationalLawDoesNotCoverPurpose);
    assert_eq!(cite, "§ 27 BDSG");
    assert!(message.contains("`research`, `statistics`"), "{message}");
    assert!(message.contains("§ 28 BDSG"), "{message}");
    let d = decide(&on("§ 28 BDSG"), &archivist);
    assert!(
        !d.denies_with(ReasonCode::NationalLawDoesNotCoverPurpose),
        "{:?}",
        d.reasons()
    );
    // § 27 serves research, and an unnarrowed provision serves anything.
    let d = decide(
        &on("§ 27 BDSG"),
        &request(actor(Role::Researcher), Purpose::Statistics),
    );
    assert!(d.is_permit(), "{:?}", d.reasons());
}

// § 27(3) BDSG -----------------------------------------------------------

#[test]
fn research_permits_remind_to_anonymise_as_soon_as_possible() {
    let d = authorize(
        &research(Identifiability::Pseudonymised, None),
        &request(actor(Role::Researcher), Purpose::Research),
        &SubjectState::default(),
        ts(AT),
    );
    let s = permit(&d)
        .safeguards()
        .iter()
        .find(|s| s.code == SafeguardCode::Pseudonymisation)
        .unwrap();
    assert_eq!(s.citation.as_str(), "GDPR Art. 89(1)");
    assert!(s.message.contains("anonymise as soon as"), "{}", s.message);
    assert!(s.message.contains("§ 27(3) BDSG"), "{}", s.message);
}
