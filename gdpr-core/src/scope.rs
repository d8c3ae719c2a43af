//! Which purposes each Art. 9(2) condition can serve.
//!
//! A condition lifts the prohibition of Art. 9(1) only for what it names:
//! Art. 9(2)(h) for care, (j) for research, (f) for legal claims, and so on.
//! Purpose compatibility (Art. 6(4)) does not replace this: research on
//! data collected for treatment still needs (j) or consent.

use crate::basis::Art9Condition;
use crate::purpose::Purpose;

impl Art9Condition {
    /// Whether this condition can serve `purpose`. Conditions whose scope
    /// depends on facts this crate does not model — (a) consent (scoped by the
    /// consent itself), (b), (d), (e), (g) — are not narrowed here.
    pub fn covers(self, purpose: Purpose) -> bool {
        use Purpose as P;
        // Answering the subject and keeping what is held serve whatever the
        // data were processed for.
        if matches!(purpose, P::DataSubjectRequest | P::Storage) {
            return true;
        }
        match self {
            // "preventive or occupational medicine, … medical diagnosis, the
            // provision of health or social care or treatment or the management
            // of health or social care systems and services".
            Art9Condition::HealthCare => {
                purpose.is_care()
                    || matches!(
                        purpose,
                        P::Billing
                            | P::QualityAssurance
                            | P::HealthcareManagement
                            | P::LegalObligation
                    )
            }
            Art9Condition::VitalInterests => {
                matches!(purpose, P::Diagnosis | P::Treatment | P::CareCoordination)
            }
            Art9Condition::PublicHealth => matches!(purpose, P::PublicHealth | P::QualityAssurance),
            Art9Condition::ResearchArchivingStatistics => purpose.is_art89(),
            Art9Condition::LegalClaims => purpose == P::LegalClaims,
            Art9Condition::ExplicitConsent
            | Art9Condition::EmploymentSocialSecurity
            | Art9Condition::NotForProfitBody
            | Art9Condition::ManifestlyPublic
            | Art9Condition::SubstantialPublicInterest => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_care_does_not_cover_research() {
        assert!(Art9Condition::HealthCare.covers(Purpose::Treatment));
        assert!(!Art9Condition::HealthCare.covers(Purpose::Research));
        assert!(Art9Condition::ResearchArchivingStatistics.covers(Purpose::Archiving));
        assert!(!Art9Condition::ResearchArchivingStatistics.covers(Purpose::Treatment));
    }

    #[test]
    fn consent_is_scoped_by_the_consent_itself() {
        for p in Purpose::ALL {
            assert!(Art9Condition::ExplicitConsent.covers(p));
        }
    }

    #[test]
    fn answering_a_data_subject_request_is_always_covered() {
        for c in Art9Condition::ALL {
            assert!(c.covers(Purpose::DataSubjectRequest));
        }
    }
}
