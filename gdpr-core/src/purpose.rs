//! Purposes of processing in care settings and their compatibility
//! (GDPR Art. 5(1)(b) purpose limitation, Art. 6(4) further processing).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Citation;

/// Why data is processed. The taxonomy covers the purposes that occur in
/// hospitals, imaging centres and research institutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Purpose {
    /// Medical diagnosis (Art. 9(2)(h)).
    Diagnosis,
    /// Treatment and provision of health care (Art. 9(2)(h)).
    Treatment,
    /// Coordination of care between providers (referrals, tumour boards).
    CareCoordination,
    /// Preventive or occupational medicine (Art. 9(2)(h)).
    Prevention,
    /// Billing and reimbursement by health insurers.
    Billing,
    /// Internal quality assurance of care.
    QualityAssurance,
    /// Management of health-care systems and services.
    HealthcareManagement,
    /// Scientific research (Art. 9(2)(j), Art. 89).
    Research,
    /// Statistics (Art. 9(2)(j), Art. 89).
    Statistics,
    /// Archiving in the public interest (Art. 9(2)(j), Art. 89).
    Archiving,
    /// Public health: serious cross-border threats, quality and safety of
    /// care and medicinal products (Art. 9(2)(i)).
    PublicHealth,
    /// Establishment, exercise or defence of legal claims (Art. 9(2)(f)).
    LegalClaims,
    /// Compliance with a legal obligation of the controller, such as keeping
    /// records for the period the law requires.
    LegalObligation,
    /// Answering a data-subject request (Art. 15–22).
    DataSubjectRequest,
    /// Keeping the data stored — archive, backup, migration to a new
    /// system — without consulting, using or disclosing them. The one
    /// processing Art. 18(2) allows on restricted data without a further
    /// reason.
    Storage,
    /// Direct marketing (offers of services or products, newsletters): an
    /// objection to it binds without exception (Art. 21(2), (3)).
    DirectMarketing,
}

/// The purposes of direct patient care, mutually compatible within one
/// treatment relationship.
const CARE: [Purpose; 4] = [
    Purpose::Diagnosis,
    Purpose::Treatment,
    Purpose::CareCoordination,
    Purpose::Prevention,
];

impl Purpose {
    /// Every purpose, for listings and property tests.
    pub const ALL: [Purpose; 16] = [
        Self::Diagnosis,
        Self::Treatment,
        Self::CareCoordination,
        Self::Prevention,
        Self::Billing,
        Self::QualityAssurance,
        Self::HealthcareManagement,
        Self::Research,
        Self::Statistics,
        Self::Archiving,
        Self::PublicHealth,
        Self::LegalClaims,
        Self::LegalObligation,
        Self::DataSubjectRequest,
        Self::Storage,
        Self::DirectMarketing,
    ];

    /// The stable kebab-case name, as in JSON (`"quality-assurance"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Diagnosis => "diagnosis",
            Self::Treatment => "treatment",
            Self::CareCoordination => "care-coordination",
            Self::Prevention => "prevention",
            Self::Billing => "billing",
            Self::QualityAssurance => "quality-assurance",
            Self::HealthcareManagement => "healthcare-management",
            Self::Research => "research",
            Self::Statistics => "statistics",
            Self::Archiving => "archiving",
            Self::PublicHealth => "public-health",
            Self::LegalClaims => "legal-claims",
            Self::LegalObligation => "legal-obligation",
            Self::DataSubjectRequest => "data-subject-request",
            Self::Storage => "storage",
            Self::DirectMarketing => "direct-marketing",
        }
    }

    /// Whether this is a purpose of direct patient care.
    pub fn is_care(self) -> bool {
        CARE.contains(&self)
    }

    /// Whether this purpose falls under Art. 89(1) (archiving in the public
    /// interest, scientific or historical research, statistics), which needs
    /// the safeguards of that article.
    pub const fn is_art89(self) -> bool {
        matches!(self, Self::Research | Self::Statistics | Self::Archiving)
    }

    /// Whether processing for `self`, on data collected for `original`, is a
    /// compatible further processing.
    ///
    /// - the same purpose is always compatible;
    /// - keeping the data stored serves the purpose they were collected for
    ///   (Art. 5(1)(e) limits how long, not whether);
    /// - answering the subject's own request (Art. 15–22) is owed on any data
    ///   (Art. 12(2): the controller facilitates the exercise of the rights);
    /// - research, statistics and archiving are compatible with any original
    ///   purpose, given the Art. 89(1) safeguards (Art. 5(1)(b));
    /// - purposes of direct care are compatible with each other (close link,
    ///   reasonable expectations of the patient: Art. 6(4)(a) and (b));
    /// - billing the care given is compatible with every care purpose: the
    ///   patient expects the treatment to be invoiced, and Art. 9(2)(h)
    ///   covers the management of health-care services (a DPO's reading of
    ///   Art. 6(4)(a), (b); in Germany billing also rests on § 630a BGB and,
    ///   for statutory insurance, § 301 SGB V);
    /// - anything else needs its own compatibility assessment under Art. 6(4)
    ///   or a new lawful basis.
    pub fn compatibility_with(self, original: Purpose) -> Compatibility {
        if self == original {
            Compatibility::Same
        } else if self == Self::Storage {
            Compatibility::Compatible {
                citation: Citation::from_static("GDPR Art. 5(1)(e)"),
                safeguards_required: false,
            }
        } else if self == Self::DataSubjectRequest {
            Compatibility::Compatible {
                citation: Citation::from_static("GDPR Art. 12(2)"),
                safeguards_required: false,
            }
        } else if self.is_art89() {
            Compatibility::Compatible {
                citation: Citation::from_static("GDPR Art. 5(1)(b), Art. 89(1)"),
                safeguards_required: true,
            }
        } else if self.is_care() && original.is_care() {
            Compatibility::Compatible {
                citation: Citation::from_static("GDPR Art. 6(4)(a), (b)"),
                safeguards_required: false,
            }
        } else if self == Self::Billing && original.is_care() {
            Compatibility::Compatible {
                citation: Citation::from_static("GDPR Art. 6(4)(a), (b), Art. 9(2)(h)"),
                safeguards_required: false,
            }
        } else {
            Compatibility::RequiresAssessment {
                citation: Citation::from_static("GDPR Art. 6(4)"),
            }
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome of a purpose-compatibility check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "compatibility", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Compatibility {
    /// The further purpose is the original purpose.
    Same,
    /// The further purpose is compatible by law.
    Compatible {
        /// The provision that makes it compatible.
        citation: Citation,
        /// Whether Art. 89(1) safeguards (pseudonymisation, minimisation)
        /// must apply.
        safeguards_required: bool,
    },
    /// Not compatible by a rule of law: the controller must assess
    /// compatibility under Art. 6(4) or rely on a new basis.
    RequiresAssessment {
        /// The provision that governs the assessment.
        citation: Citation,
    },
}

impl Compatibility {
    /// Whether further processing may go ahead without a new assessment.
    pub fn is_compatible(&self) -> bool {
        matches!(self, Self::Same | Self::Compatible { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn research_is_compatible_with_every_purpose() {
        for original in Purpose::ALL {
            let c = Purpose::Research.compatibility_with(original);
            assert!(c.is_compatible(), "{original}: {c:?}");
        }
    }

    #[test]
    fn billing_the_care_given_is_compatible() {
        for care in [Purpose::Diagnosis, Purpose::Treatment, Purpose::Prevention] {
            let c = Purpose::Billing.compatibility_with(care);
            assert_eq!(
                c,
                Compatibility::Compatible {
                    citation: Citation::from_static("GDPR Art. 6(4)(a), (b), Art. 9(2)(h)"),
                    safeguards_required: false,
                },
                "{care}"
            );
        }
        // Not the other way round: billing data are not care data.
        assert!(
            !Purpose::Treatment
                .compatibility_with(Purpose::Billing)
                .is_compatible()
        );
    }

    #[test]
    fn storage_and_data_subject_requests_fit_every_purpose() {
        for original in Purpose::ALL {
            for p in [Purpose::Storage, Purpose::DataSubjectRequest] {
                assert!(
                    p.compatibility_with(original).is_compatible(),
                    "{p} on {original}"
                );
            }
        }
    }

    #[test]
    fn billing_after_research_needs_assessment() {
        let c = Purpose::Billing.compatibility_with(Purpose::Research);
        assert!(!c.is_compatible());
    }

    #[test]
    fn names_match_serde() {
        for p in Purpose::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
        }
    }
}
