//! Lawful bases: Art. 6(1) and the Art. 9(2) conditions.
//!
//! Processing of health, genetic or biometric data needs **two** things: a
//! lawful basis under Art. 6(1) *and* a condition under Art. 9(2). The type
//! [`HealthBasis`] is that pair; nothing in this workspace accepts an
//! [`Art6Basis`] alone where special-category data is processed.
//!
//! Member-state law that specifies a condition (for example § 22(1) Nr. 1 b
//! BDSG for health care in Germany, or § 27 BDSG for research) is attached as
//! data — a [`NationalProvision`] — never as a hard-coded branch.

use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::purpose::Purpose;

/// A lawful basis under GDPR Art. 6(1)(a)–(f).
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Art6Basis {
    /// Art. 6(1)(a): the data subject has given consent.
    Consent,
    /// Art. 6(1)(b): necessary for a contract with the data subject
    /// (e.g. the treatment contract, § 630a BGB).
    Contract,
    /// Art. 6(1)(c): necessary for a legal obligation of the controller.
    LegalObligation,
    /// Art. 6(1)(d): necessary to protect vital interests.
    VitalInterests,
    /// Art. 6(1)(e): necessary for a task in the public interest or in the
    /// exercise of official authority.
    PublicTask,
    /// Art. 6(1)(f): legitimate interests of the controller or a third party.
    LegitimateInterests,
}

impl Art6Basis {
    /// Every Art. 6(1) basis, in the order of the regulation.
    pub const ALL: [Art6Basis; 6] = [
        Self::Consent,
        Self::Contract,
        Self::LegalObligation,
        Self::VitalInterests,
        Self::PublicTask,
        Self::LegitimateInterests,
    ];

    /// Whether the basis must be laid down by Union or member-state law
    /// (Art. 6(3)): (c) a legal obligation and (e) a public task. An activity
    /// on such a basis names the provision, or is denied.
    pub const fn expects_member_state_law(self) -> bool {
        matches!(self, Self::LegalObligation | Self::PublicTask)
    }

    /// The provision that establishes this basis.
    pub const fn citation(self) -> Citation {
        Citation::from_static(match self {
            Self::Consent => "GDPR Art. 6(1)(a)",
            Self::Contract => "GDPR Art. 6(1)(b)",
            Self::LegalObligation => "GDPR Art. 6(1)(c)",
            Self::VitalInterests => "GDPR Art. 6(1)(d)",
            Self::PublicTask => "GDPR Art. 6(1)(e)",
            Self::LegitimateInterests => "GDPR Art. 6(1)(f)",
        })
    }
}

/// A condition under GDPR Art. 9(2)(a)–(j) that lifts the prohibition of
/// Art. 9(1) on processing special categories of personal data.
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Art9Condition {
    /// Art. 9(2)(a): explicit consent for one or more specified purposes.
    ExplicitConsent,
    /// Art. 9(2)(b): obligations in employment, social security and social
    /// protection law.
    EmploymentSocialSecurity,
    /// Art. 9(2)(c): vital interests where the subject cannot consent.
    VitalInterests,
    /// Art. 9(2)(d): legitimate activities of a not-for-profit body, for its
    /// members.
    NotForProfitBody,
    /// Art. 9(2)(e): data manifestly made public by the data subject.
    ManifestlyPublic,
    /// Art. 9(2)(f): establishment, exercise or defence of legal claims.
    LegalClaims,
    /// Art. 9(2)(g): substantial public interest on the basis of law.
    SubstantialPublicInterest,
    /// Art. 9(2)(h): preventive or occupational medicine, medical diagnosis,
    /// the provision of health or social care or treatment, or the management
    /// of health or social care systems — subject to the secrecy of Art. 9(3).
    HealthCare,
    /// Art. 9(2)(i): public interest in the area of public health.
    PublicHealth,
    /// Art. 9(2)(j): archiving in the public interest, scientific or
    /// historical research or statistics, with the safeguards of Art. 89(1).
    ResearchArchivingStatistics,
}

impl Art9Condition {
    /// Every Art. 9(2) condition, in the order of the regulation.
    pub const ALL: [Art9Condition; 10] = [
        Self::ExplicitConsent,
        Self::EmploymentSocialSecurity,
        Self::VitalInterests,
        Self::NotForProfitBody,
        Self::ManifestlyPublic,
        Self::LegalClaims,
        Self::SubstantialPublicInterest,
        Self::HealthCare,
        Self::PublicHealth,
        Self::ResearchArchivingStatistics,
    ];

    /// The provision that establishes this condition.
    pub const fn citation(self) -> Citation {
        Citation::from_static(match self {
            Self::ExplicitConsent => "GDPR Art. 9(2)(a)",
            Self::EmploymentSocialSecurity => "GDPR Art. 9(2)(b)",
            Self::VitalInterests => "GDPR Art. 9(2)(c)",
            Self::NotForProfitBody => "GDPR Art. 9(2)(d)",
            Self::ManifestlyPublic => "GDPR Art. 9(2)(e)",
            Self::LegalClaims => "GDPR Art. 9(2)(f)",
            Self::SubstantialPublicInterest => "GDPR Art. 9(2)(g)",
            Self::HealthCare => "GDPR Art. 9(2)(h)",
            Self::PublicHealth => "GDPR Art. 9(2)(i)",
            Self::ResearchArchivingStatistics => "GDPR Art. 9(2)(j)",
        })
    }

    /// Whether the condition holds only on the basis of Union or
    /// member-state law: Art. 9(2)(b), (g), (i) and (j). An activity on such
    /// a condition names the [`NationalProvision`], or is denied.
    ///
    /// Art. 9(2)(h) is not among them: it holds "on the basis of Union or
    /// Member State law **or pursuant to contract** with a health
    /// professional", and the treatment contract is such a contract (where
    /// (h) is paired with Art. 6(1)(c) or (e), Art. 6(3) asks for the law).
    pub const fn expects_member_state_law(self) -> bool {
        matches!(
            self,
            Self::EmploymentSocialSecurity
                | Self::SubstantialPublicInterest
                | Self::PublicHealth
                | Self::ResearchArchivingStatistics
        )
    }
}

/// A provision of Union or member-state law that specifies or supplements a
/// GDPR basis, kept as data (e.g. `"§ 22(1) Nr. 1 b BDSG"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NationalProvision {
    /// Jurisdiction code, e.g. `"DE"`.
    pub jurisdiction: String,
    /// The citation, e.g. `"§ 27 BDSG"`.
    pub citation: Citation,
    /// What the provision does, in one line.
    pub summary: String,
    /// The purposes the provision specifies the basis for (e.g. § 27 BDSG:
    /// research and statistics; § 28 BDSG: archiving); empty means every
    /// purpose of the basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<Purpose>,
}

impl NationalProvision {
    /// A provision with its jurisdiction, citation and a one-line summary.
    pub fn new(
        jurisdiction: impl Into<String>,
        citation: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            jurisdiction: jurisdiction.into(),
            citation: Citation::new(citation),
            summary: summary.into(),
            purposes: Vec::new(),
        }
    }

    /// The same provision, narrowed to `purposes`.
    #[must_use]
    pub fn with_purposes(mut self, purposes: Vec<Purpose>) -> Self {
        self.purposes = purposes;
        self
    }

    /// Whether the provision specifies the basis for `purpose`: it is not
    /// narrowed, or names the purpose. Storage and answering a data-subject
    /// request follow the basis they serve.
    pub fn serves(&self, purpose: Purpose) -> bool {
        self.purposes.is_empty()
            || matches!(purpose, Purpose::Storage | Purpose::DataSubjectRequest)
            || self.purposes.contains(&purpose)
    }
}

/// The lawful basis for processing special-category (health, genetic,
/// biometric) data: an Art. 6(1) basis **and** an Art. 9(2) condition, with
/// any member-state provisions that specify them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HealthBasis {
    art6: Art6Basis,
    art9: Art9Condition,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    national: Vec<NationalProvision>,
}

impl HealthBasis {
    /// The pair of an Art. 6(1) basis and an Art. 9(2) condition.
    pub fn new(art6: Art6Basis, art9: Art9Condition) -> Self {
        Self {
            art6,
            art9,
            national: Vec::new(),
        }
    }

    /// Adds a member-state provision that specifies this basis.
    #[must_use]
    pub fn with_national(mut self, provision: NationalProvision) -> Self {
        self.national.push(provision);
        self
    }

    /// The Art. 6(1) basis.
    pub fn art6(&self) -> Art6Basis {
        self.art6
    }

    /// The Art. 9(2) condition.
    pub fn art9(&self) -> Art9Condition {
        self.art9
    }

    /// Member-state provisions attached to this basis.
    pub fn national(&self) -> &[NationalProvision] {
        &self.national
    }

    /// Every citation of the pair, Art. 6 first, then Art. 9, then national law.
    pub fn citations(&self) -> Vec<Citation> {
        let mut out = vec![self.art6.citation(), self.art9.citation()];
        out.extend(self.national.iter().map(|p| p.citation.clone()));
        out
    }
}

/// The lawful basis of one processing operation: Art. 6 alone for ordinary
/// personal data, or the [`HealthBasis`] pair for special categories.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LawfulBasis {
    /// Ordinary personal data (no Art. 9(1) category): Art. 6(1) suffices.
    Ordinary {
        /// The Art. 6(1) basis.
        art6: Art6Basis,
    },
    /// Special-category data: the Art. 6 + Art. 9 pair.
    SpecialCategory(HealthBasis),
}

impl LawfulBasis {
    /// The Art. 6(1) basis, present in either form.
    pub fn art6(&self) -> Art6Basis {
        match self {
            Self::Ordinary { art6 } => *art6,
            Self::SpecialCategory(pair) => pair.art6(),
        }
    }

    /// The Art. 9(2) condition, if this basis covers special categories.
    pub fn art9(&self) -> Option<Art9Condition> {
        match self {
            Self::Ordinary { .. } => None,
            Self::SpecialCategory(pair) => Some(pair.art9()),
        }
    }

    /// The member-state provisions attached to the basis (only the
    /// [`HealthBasis`] pair carries them; an ordinary basis names its law on
    /// the activity, [`crate::activity::ProcessingActivity::with_national`]).
    pub fn national(&self) -> &[NationalProvision] {
        match self {
            Self::Ordinary { .. } => &[],
            Self::SpecialCategory(pair) => pair.national(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_condition_cites_its_letter() {
        let letters = "abcdefghij";
        for (cond, letter) in Art9Condition::ALL.iter().zip(letters.chars()) {
            assert_eq!(
                cond.citation().as_str(),
                format!("GDPR Art. 9(2)({letter})")
            );
        }
        for (basis, letter) in Art6Basis::ALL.iter().zip(letters.chars()) {
            assert_eq!(
                basis.citation().as_str(),
                format!("GDPR Art. 6(1)({letter})")
            );
        }
    }

    #[test]
    fn pair_round_trips_through_json() {
        let basis = HealthBasis::new(Art6Basis::Contract, Art9Condition::HealthCare).with_national(
            NationalProvision::new("DE", "§ 22(1) Nr. 1 b BDSG", "health care by professionals"),
        );
        let json = serde_json::to_string(&basis).unwrap();
        assert!(json.contains("\"art9\":\"health-care\""), "{json}");
        let back: HealthBasis = serde_json::from_str(&json).unwrap();
        assert_eq!(back, basis);
        assert_eq!(back.citations().len(), 3);
    }

    #[test]
    fn member_state_law_is_expected_for_b_g_i_j_and_c_e() {
        let nine: Vec<_> = Art9Condition::ALL
            .into_iter()
            .filter(|c| c.expects_member_state_law())
            .map(|c| c.citation().to_string())
            .collect();
        assert_eq!(
            nine,
            [
                "GDPR Art. 9(2)(b)",
                "GDPR Art. 9(2)(g)",
                "GDPR Art. 9(2)(i)",
                "GDPR Art. 9(2)(j)"
            ]
        );
        let six: Vec<_> = Art6Basis::ALL
            .into_iter()
            .filter(|b| b.expects_member_state_law())
            .map(|b| b.citation().to_string())
            .collect();
        assert_eq!(six, ["GDPR Art. 6(1)(c)", "GDPR Art. 6(1)(e)"]);
    }

    #[test]
    fn pair_without_art9_is_rejected() {
        let err = serde_json::from_str::<HealthBasis>(r#"{"art6":"contract"}"#).unwrap_err();
        assert!(err.to_string().contains("art9"), "{err}");
    }
}
