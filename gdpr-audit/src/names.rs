//! The kebab-case serde names of `gdpr-core` enums, without going through
//! `serde_json` on the hot path of every append. Art. 6 bases and Art. 9
//! conditions are complete by law (exhaustive matches); roles may grow, so
//! an unknown role falls back to its serde name. A test holds every name
//! equal to serde's.

use std::borrow::Cow;

use gdpr_core::actor::Role;
use gdpr_core::basis::{Art6Basis, Art9Condition};

pub(crate) fn art6(b: Art6Basis) -> &'static str {
    match b {
        Art6Basis::Consent => "consent",
        Art6Basis::Contract => "contract",
        Art6Basis::LegalObligation => "legal-obligation",
        Art6Basis::VitalInterests => "vital-interests",
        Art6Basis::PublicTask => "public-task",
        Art6Basis::LegitimateInterests => "legitimate-interests",
    }
}

pub(crate) fn art9(c: Art9Condition) -> &'static str {
    match c {
        Art9Condition::ExplicitConsent => "explicit-consent",
        Art9Condition::EmploymentSocialSecurity => "employment-social-security",
        Art9Condition::VitalInterests => "vital-interests",
        Art9Condition::NotForProfitBody => "not-for-profit-body",
        Art9Condition::ManifestlyPublic => "manifestly-public",
        Art9Condition::LegalClaims => "legal-claims",
        Art9Condition::SubstantialPublicInterest => "substantial-public-interest",
        Art9Condition::HealthCare => "health-care",
        Art9Condition::PublicHealth => "public-health",
        Art9Condition::ResearchArchivingStatistics => "research-archiving-statistics",
    }
}

pub(crate) fn role(r: Role) -> Cow<'static, str> {
    Cow::Borrowed(match r {
        Role::Physician => "physician",
        Role::Nurse => "nurse",
        Role::Radiographer => "radiographer",
        Role::Pharmacist => "pharmacist",
        Role::Therapist => "therapist",
        Role::MedicalAssistant => "medical-assistant",
        Role::Researcher => "researcher",
        Role::Administration => "administration",
        Role::DataProtectionOfficer => "data-protection-officer",
        Role::ItAdministrator => "it-administrator",
        Role::System => "system",
        other => {
            return Cow::Owned(
                serde_json::to_value(other)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            );
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: serde::Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn names_equal_serde_names() {
        for b in Art6Basis::ALL {
            assert_eq!(art6(b), serde_name(b));
        }
        for c in Art9Condition::ALL {
            assert_eq!(art9(c), serde_name(c));
        }
        for r in [
            Role::Physician,
            Role::Nurse,
            Role::Radiographer,
            Role::Pharmacist,
            Role::Therapist,
            Role::MedicalAssistant,
            Role::Researcher,
            Role::Administration,
            Role::DataProtectionOfficer,
            Role::ItAdministrator,
            Role::System,
        ] {
            assert_eq!(role(r), serde_name(r));
        }
    }
}
