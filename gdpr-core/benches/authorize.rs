//! How long one authorization decision takes: a permit (all rules pass) and
//! a denial with four reasons, as a host would call it per access.
//!
//! `cargo bench -p gdpr-core --bench authorize`

use criterion::{Criterion, criterion_group, criterion_main};
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::authorization::{Request, authorize};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::category::RecordCategory;
use gdpr_core::consent::Consent;
use gdpr_core::national::Catalogue;
use gdpr_core::purpose::Purpose;
use gdpr_core::restriction::{Restriction, RestrictionGround};
use gdpr_core::subject::{Identifiability, SubjectState};
use jiff::Timestamp;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let at: Timestamp = "2026-03-02T09:30:00Z".parse().unwrap();
    let activity = ProcessingActivity::new(
        "Radiology reporting",
        Purpose::Diagnosis,
        LawfulBasis::SpecialCategory(HealthBasis::new(
            Art6Basis::Contract,
            Art9Condition::HealthCare,
        )),
        vec![
            RecordCategory::ImagingExamination,
            RecordCategory::Diagnosis,
        ],
        Identifiability::Identified,
    )
    .unwrap();
    let physician = Request {
        actor: Actor {
            id: ActorId::new("dr-weber").unwrap(),
            role: Role::Physician,
            secrecy: Catalogue::germany().secrecy_for(Role::Physician),
        },
        purpose: Purpose::Diagnosis,
        categories: vec![RecordCategory::ImagingExamination],
        restriction_exception: None,
        retention_phase: None,
    };
    // A subject with some history: two consents, a lifted restriction.
    let subject = SubjectState {
        consents: vec![
            Consent::new(
                vec![Purpose::Research],
                "2026-01-01T00:00:00Z".parse().unwrap(),
            )
            .unwrap(),
            Consent::new(
                vec![Purpose::Treatment],
                "2026-01-02T00:00:00Z".parse().unwrap(),
            )
            .unwrap(),
        ],
        restrictions: vec![
            Restriction::new(
                RestrictionGround::AccuracyContested,
                "2026-01-05T00:00:00Z".parse().unwrap(),
            )
            .lifted("2026-01-20T00:00:00Z".parse().unwrap())
            .unwrap(),
        ],
        objections: vec![],
    };
    let clerk = Request {
        actor: Actor {
            id: ActorId::new("clerk-3").unwrap(),
            role: Role::Administration,
            secrecy: Secrecy::None,
        },
        purpose: Purpose::Research,
        categories: vec![
            RecordCategory::ImagingExamination,
            RecordCategory::Medication,
        ],
        restriction_exception: None,
        retention_phase: None,
    };
    c.bench_function("authorize/permit", |b| {
        b.iter(|| authorize(black_box(&activity), black_box(&physician), &subject, at))
    });
    c.bench_function("authorize/deny-4-reasons", |b| {
        b.iter(|| authorize(black_box(&activity), black_box(&clerk), &subject, at))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
