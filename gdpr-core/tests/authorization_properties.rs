//! Properties of `authorize` that hold for all inputs (proptest).

use gdpr_core::Citation;
use gdpr_core::activity::{IdentificationNecessity, ProcessingActivity};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::authorization::{Request, RetentionPhase, authorize};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::category::RecordCategory;
use gdpr_core::consent::Consent;
use gdpr_core::decision::{Decision, ReasonCode, SafeguardCode};
use gdpr_core::objection::Objection;
use gdpr_core::purpose::Purpose;
use gdpr_core::restriction::{Restriction, RestrictionException, RestrictionGround};
use gdpr_core::subject::{Identifiability, SubjectState};
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// An instant in 2026; all generated times are a few hours around it.
const T0: i64 = 1_780_000_000;

fn at(offset: i64) -> Timestamp {
    Timestamp::from_second(T0 + offset).unwrap()
}

fn basis() -> impl Strategy<Value = LawfulBasis> {
    prop_oneof![
        select(Art6Basis::ALL.to_vec()).prop_map(|art6| LawfulBasis::Ordinary { art6 }),
        (
            select(Art6Basis::ALL.to_vec()),
            select(Art9Condition::ALL.to_vec())
        )
            .prop_map(|(a6, a9)| LawfulBasis::SpecialCategory(HealthBasis::new(a6, a9))),
    ]
}

fn identifiability() -> impl Strategy<Value = Identifiability> {
    select(vec![
        Identifiability::Identified,
        Identifiability::Pseudonymised,
        Identifiability::Anonymised,
    ])
}

fn activity_with(
    basis: impl Strategy<Value = LawfulBasis>,
) -> impl Strategy<Value = ProcessingActivity> {
    (
        select(Purpose::ALL.to_vec()),
        basis,
        subsequence(RecordCategory::ALL.to_vec(), 1..=4),
        identifiability(),
        any::<bool>(),
    )
        .prop_filter_map(
            "invalid activity",
            |(purpose, basis, cats, ident, necessary)| {
                let a = ProcessingActivity::new("generated", purpose, basis, cats, ident).ok()?;
                Some(if necessary {
                    a.with_identification_necessity(
                        IdentificationNecessity::new("follow-up of incidental findings").ok()?,
                    )
                } else {
                    a
                })
            },
        )
}

fn secrecy() -> impl Strategy<Value = Secrecy> {
    prop_oneof![
        Just(Secrecy::None),
        Just(Secrecy::Professional {
            source: Citation::from_static("§ 203(1) Nr. 1 StGB")
        }),
        Just(Secrecy::UnderResponsibility {
            source: Citation::from_static("§ 203(4) S. 1 StGB")
        }),
    ]
}

fn actor(secrecy: impl Strategy<Value = Secrecy>) -> impl Strategy<Value = Actor> {
    let roles = vec![
        Role::Physician,
        Role::Nurse,
        Role::MedicalAssistant,
        Role::Researcher,
        Role::Administration,
        Role::ItAdministrator,
        Role::System,
    ];
    (select(roles), secrecy).prop_map(|(role, secrecy)| Actor {
        id: ActorId::new("generated-actor").unwrap(),
        role,
        secrecy,
    })
}

fn request(actor: impl Strategy<Value = Actor>) -> impl Strategy<Value = Request> {
    let exceptions = vec![
        RestrictionException::StorageOnly,
        RestrictionException::SubjectConsent,
        RestrictionException::LegalClaims,
        RestrictionException::ProtectionOfOthers,
        RestrictionException::ImportantPublicInterest,
    ];
    (
        actor,
        select(Purpose::ALL.to_vec()),
        subsequence(RecordCategory::ALL.to_vec(), 0..=4),
        proptest::option::of(select(exceptions)),
    )
        .prop_map(
            |(actor, purpose, categories, restriction_exception)| Request {
                actor,
                purpose,
                categories,
                restriction_exception,
                retention_phase: None,
            },
        )
}

fn consent() -> impl Strategy<Value = Consent> {
    (
        subsequence(Purpose::ALL.to_vec(), 1..=3),
        -5000i64..5000,
        proptest::option::of(0i64..5000),
    )
        .prop_map(|(purposes, given, withdrawn_after)| {
            let c = Consent::new(purposes, at(given)).unwrap();
            match withdrawn_after {
                Some(d) => c.withdrawn(at(given + d)).unwrap(),
                None => c,
            }
        })
}

fn restriction() -> impl Strategy<Value = Restriction> {
    (-5000i64..5000, proptest::option::of(0i64..5000)).prop_map(|(since, lifted_after)| {
        let r = Restriction::new(RestrictionGround::AccuracyContested, at(since));
        match lifted_after {
            Some(d) => r.lifted(at(since + d)).unwrap(),
            None => r,
        }
    })
}

fn subject() -> impl Strategy<Value = SubjectState> {
    (
        proptest::collection::vec(consent(), 0..3),
        proptest::collection::vec(restriction(), 0..2),
        proptest::collection::vec(-5000i64..5000, 0..2),
    )
        .prop_map(|(consents, restrictions, objections)| SubjectState {
            consents,
            restrictions,
            objections: objections
                .into_iter()
                .map(|o| Objection::to_all(at(o)))
                .collect(),
        })
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(config())]

    /// No permit for special-category data without an Art. 6 + Art. 9 pair.
    #[test]
    fn no_permit_for_special_categories_without_the_pair(
        activity in activity_with(basis()),
        request in request(actor(secrecy())),
        subject in subject(),
        t in -6000i64..6000,
    ) {
        let d = authorize(&activity, &request, &subject, at(t));
        let special = request.categories.iter().any(|c| !c.special_categories().is_empty());
        if let Decision::Permit(p) = &d {
            prop_assert!(!special || matches!(p.basis(), LawfulBasis::SpecialCategory(_)));
        }
    }

    /// No permit under Art. 9(2)(h) for an actor without a secrecy duty.
    #[test]
    fn no_permit_under_h_without_secrecy(
        activity in activity_with(select(Art6Basis::ALL.to_vec()).prop_map(|a6| {
            LawfulBasis::SpecialCategory(HealthBasis::new(a6, Art9Condition::HealthCare))
        })),
        request in request(actor(Just(Secrecy::None))),
        subject in subject(),
        t in -6000i64..6000,
    ) {
        let d = authorize(&activity, &request, &subject, at(t));
        prop_assert!(!d.is_permit());
        prop_assert!(d.denies_with(ReasonCode::NoProfessionalSecrecy));
    }

    /// No permit for research on identified data without a recorded necessity.
    #[test]
    fn no_research_permit_on_identified_data_without_necessity(
        activity in activity_with(basis()).prop_filter("identified, no necessity", |a| {
            a.identifiability() == Identifiability::Identified
                && a.identification_necessity().is_none()
        }),
        request in request(actor(secrecy())),
        subject in subject(),
        t in -6000i64..6000,
    ) {
        let d = authorize(&activity, &request, &subject, at(t));
        let research = request.purpose.is_art89()
            || activity.basis().art9() == Some(Art9Condition::ResearchArchivingStatistics);
        if research {
            prop_assert!(d.denies_with(ReasonCode::IdentifiedDataWithoutNecessity));
        }
        if let Decision::Permit(p) = &d {
            prop_assert!(!research, "permitted research on identified data");
            prop_assert!(!p.has_safeguard(SafeguardCode::IdentificationNecessary));
        }
    }

    /// A withdrawn consent never permits at or after its withdrawal time.
    #[test]
    fn withdrawn_consent_never_permits_at_or_after_withdrawal(
        activity in activity_with(basis()).prop_filter("rests on consent", |a| {
            a.basis().art6() == Art6Basis::Consent
                || a.basis().art9() == Some(Art9Condition::ExplicitConsent)
        }),
        request in request(actor(secrecy())),
        // Withdrawn exactly at `t` in about half of the cases: the boundary.
        withdrawals in proptest::collection::vec(
            (0i64..5000, prop_oneof![Just(0i64), 0i64..5000]),
            1..3,
        ),
        t in -6000i64..6000,
    ) {
        // Every consent covers every purpose and was withdrawn at or before t.
        let consents = withdrawals.iter().map(|(since_given, since_withdrawn)| {
            let w = t - since_withdrawn;
            Consent::new(Purpose::ALL.to_vec(), at(w - since_given)).unwrap().withdrawn(at(w)).unwrap()
        }).collect();
        let subject = SubjectState { consents, ..SubjectState::default() };
        let d = authorize(&activity, &request, &subject, at(t));
        prop_assert!(!d.is_permit());
        prop_assert!(d.denies_with(ReasonCode::ConsentWithdrawn));
    }

    /// A restricted subject is only ever permitted under an Art. 18(2) exception
    /// that holds.
    #[test]
    fn restricted_subject_never_permitted_beyond_art18_2(
        activity in activity_with(basis()),
        request in request(actor(secrecy())),
        mut subject in subject(),
        since in prop_oneof![Just(0i64), 0i64..5000],
        t in -6000i64..6000,
    ) {
        subject.restrictions.push(Restriction::new(RestrictionGround::ObjectionPending, at(t - since)));
        let d = authorize(&activity, &request, &subject, at(t));
        if let Decision::Permit(p) = &d {
            prop_assert!(p.has_safeguard(SafeguardCode::RestrictionException));
            match request.restriction_exception {
                None => prop_assert_eq!(request.purpose, Purpose::Storage),
                Some(RestrictionException::StorageOnly) => {
                    prop_assert_eq!(request.purpose, Purpose::Storage);
                }
                Some(RestrictionException::LegalClaims) => {
                    prop_assert_eq!(request.purpose, Purpose::LegalClaims);
                }
                Some(RestrictionException::SubjectConsent) => {
                    prop_assert!(subject.consents.iter().any(|c| c.covers(request.purpose, at(t))));
                }
                Some(_) => {}
            }
        } else {
            prop_assert!(
                d.denies_with(ReasonCode::Restricted)
                    || d.denies_with(ReasonCode::RestrictionExceptionNotMet)
                    || request.restriction_exception.is_some()
                    || request.purpose == Purpose::Storage
            );
        }
    }

    /// No permit on a basis that needs Union or member-state law when the
    /// activity names none (Art. 6(3), Art. 9(2)(b), (g), (i), (j)).
    #[test]
    fn no_permit_without_the_member_state_law_a_basis_needs(
        activity in activity_with(basis()),
        request in request(actor(secrecy())),
        subject in subject(),
        t in -6000i64..6000,
    ) {
        let basis = activity.basis();
        let needs = basis.art6().expects_member_state_law()
            || basis.art9().is_some_and(|c| c.expects_member_state_law());
        let d = authorize(&activity, &request, &subject, at(t));
        if needs {
            prop_assert!(d.denies_with(ReasonCode::MissingMemberStateLaw));
        } else {
            prop_assert!(!d.denies_with(ReasonCode::MissingMemberStateLaw));
        }
    }

    /// A record in its retention phase is only ever permitted for a purpose
    /// its duty serves.
    #[test]
    fn retention_phase_permits_only_the_duty_purposes(
        activity in activity_with(basis()),
        mut request in request(actor(secrecy())),
        purposes in subsequence(Purpose::ALL.to_vec(), 1..=3),
        subject in subject(),
        t in -6000i64..6000,
    ) {
        let phase = RetentionPhase::new(Citation::from_static("§ 630f(3) BGB"), purposes).unwrap();
        request.retention_phase = Some(phase.clone());
        let d = authorize(&activity, &request, &subject, at(t));
        if d.is_permit() {
            prop_assert!(phase.serves(request.purpose));
        }
        prop_assert_eq!(
            d.denies_with(ReasonCode::OutsideRetentionPurpose),
            !phase.serves(request.purpose)
        );
    }

    /// The decision depends only on its arguments: the same inputs give the
    /// same decision (no clock, no hidden state).
    #[test]
    fn decisions_replay(
        activity in activity_with(basis()),
        request in request(actor(secrecy())),
        subject in subject(),
        t in -6000i64..6000,
    ) {
        prop_assert_eq!(
            authorize(&activity, &request, &subject, at(t)),
            authorize(&activity, &request, &subject, at(t))
        );
    }
}
