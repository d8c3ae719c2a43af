//! Fixtures shared by the authorization tests.
#![allow(dead_code)]

use gdpr_core::activity::{IdentificationNecessity, ProcessingActivity};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::authorization::Request;
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis, NationalProvision};
use gdpr_core::category::RecordCategory;
use gdpr_core::national::Catalogue;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::Identifiability;
use jiff::Timestamp;

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn pair(art6: Art6Basis, art9: Art9Condition) -> LawfulBasis {
    LawfulBasis::SpecialCategory(HealthBasis::new(art6, art9))
}

pub fn activity(
    purpose: Purpose,
    basis: LawfulBasis,
    identifiability: Identifiability,
) -> ProcessingActivity {
    ProcessingActivity::new(
        "test activity",
        purpose,
        basis,
        vec![
            RecordCategory::ImagingExamination,
            RecordCategory::Diagnosis,
        ],
        identifiability,
    )
    .unwrap()
}

pub fn reporting() -> ProcessingActivity {
    activity(
        Purpose::Diagnosis,
        pair(Art6Basis::Contract, Art9Condition::HealthCare),
        Identifiability::Identified,
    )
}

/// § 27 BDSG, which specifies Art. 9(2)(j) for research in Germany.
pub fn section_27() -> NationalProvision {
    Catalogue::germany().find("§ 27 BDSG").unwrap()
}

/// Research as a public task on Art. 9(2)(j), specified by § 27 BDSG.
pub fn research(identifiability: Identifiability, necessity: Option<&str>) -> ProcessingActivity {
    let a = activity(
        Purpose::Research,
        LawfulBasis::SpecialCategory(
            HealthBasis::new(
                Art6Basis::PublicTask,
                Art9Condition::ResearchArchivingStatistics,
            )
            .with_national(section_27()),
        ),
        identifiability,
    );
    match necessity {
        Some(n) => a.with_identification_necessity(IdentificationNecessity::new(n).unwrap()),
        None => a,
    }
}

pub fn consent_study() -> ProcessingActivity {
    activity(
        Purpose::Research,
        pair(Art6Basis::Consent, Art9Condition::ExplicitConsent),
        Identifiability::Pseudonymised,
    )
}

pub fn actor(role: Role) -> Actor {
    Actor {
        id: ActorId::new("staff-0815").unwrap(),
        role,
        secrecy: Catalogue::germany().secrecy_for(role),
    }
}

pub fn actor_without_secrecy(role: Role) -> Actor {
    Actor {
        id: ActorId::new("staff-0816").unwrap(),
        role,
        secrecy: Secrecy::None,
    }
}

pub fn request(actor: Actor, purpose: Purpose) -> Request {
    Request {
        actor,
        purpose,
        categories: vec![RecordCategory::ImagingExamination],
        restriction_exception: None,
        retention_phase: None,
    }
}
