//! A refusal (or a partial refusal) of a request: its reasons, each with
//! its source, and the subject's remedies (GDPR Art. 12(4), 77, 79).

use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::request::error::RequestError;
use crate::request::kind::RequestKind;

/// Why the controller does not act on a request, or not fully.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ground", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum RefusalGround {
    /// The controller cannot identify the subject (Art. 11(2), 12(2)), and
    /// the subject gave no further information that allows it.
    IdentityNotEstablished,
    /// The request is manifestly unfounded or excessive (Art. 12(5)(b));
    /// the controller bears the burden of showing it.
    ManifestlyUnfoundedOrExcessive,
    /// A copy would adversely affect the rights and freedoms of others
    /// (Art. 15(4)).
    RightsOfOthers,
    /// Portability needs processing on consent or contract, by automated
    /// means (Art. 20(1)).
    PortabilityConditionsNotMet,
    /// An exemption of Art. 17(3) keeps the data (the assessment names
    /// which, per record).
    ErasureExemption,
    /// The controller demonstrated compelling legitimate grounds, or legal
    /// claims (Art. 21(1)).
    CompellingLegitimateGrounds,
    /// Another provision, cited (a member-state restriction under
    /// Art. 23, e.g. § 34 BDSG).
    Other {
        /// The provision.
        citation: Citation,
    },
}

impl RefusalGround {
    /// The provision the ground rests on.
    pub fn citation(&self) -> Citation {
        match self {
            Self::IdentityNotEstablished => Citation::from_static("GDPR Art. 11(2), Art. 12(2)"),
            Self::ManifestlyUnfoundedOrExcessive => Citation::from_static("GDPR Art. 12(5)(b)"),
            Self::RightsOfOthers => Citation::from_static("GDPR Art. 15(4)"),
            Self::PortabilityConditionsNotMet => Citation::from_static("GDPR Art. 20(1)"),
            Self::ErasureExemption => Citation::from_static("GDPR Art. 17(3)"),
            Self::CompellingLegitimateGrounds => Citation::from_static("GDPR Art. 21(1)"),
            Self::Other { citation } => citation.clone(),
        }
    }

    /// The stable name, as in JSON (`"manifestly-unfounded-or-excessive"`).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::IdentityNotEstablished => "identity-not-established",
            Self::ManifestlyUnfoundedOrExcessive => "manifestly-unfounded-or-excessive",
            Self::RightsOfOthers => "rights-of-others",
            Self::PortabilityConditionsNotMet => "portability-conditions-not-met",
            Self::ErasureExemption => "erasure-exemption",
            Self::CompellingLegitimateGrounds => "compelling-legitimate-grounds",
            Self::Other { .. } => "other",
        }
    }

    /// Whether the ground can answer a request of `kind`: the rights of
    /// others limit a copy (Art. 15(4), 20(4)), the conditions of Art. 20(1)
    /// only portability, an Art. 17(3) exemption only erasure, compelling
    /// legitimate grounds only an objection (Art. 21(1)); identity, a
    /// manifestly unfounded or excessive request and another cited
    /// provision apply to every kind.
    pub fn fits(&self, kind: &RequestKind) -> bool {
        match self {
            Self::RightsOfOthers => {
                matches!(kind, RequestKind::Access | RequestKind::Portability)
            }
            Self::PortabilityConditionsNotMet => matches!(kind, RequestKind::Portability),
            Self::ErasureExemption => matches!(kind, RequestKind::Erasure { .. }),
            Self::CompellingLegitimateGrounds => matches!(kind, RequestKind::Objection { .. }),
            _ => true,
        }
    }
}

/// The subject's remedies, told with every refusal (Art. 12(4)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Remedies {
    /// The right to lodge a complaint with a supervisory authority.
    pub complaint: Citation,
    /// The right to an effective judicial remedy.
    pub judicial: Citation,
    /// The provision that requires telling both.
    pub told_under: Citation,
}

impl Remedies {
    /// Art. 77 and Art. 79, told under Art. 12(4).
    pub const GDPR: Remedies = Remedies {
        complaint: Citation::from_static("GDPR Art. 77"),
        judicial: Citation::from_static("GDPR Art. 79"),
        told_under: Citation::from_static("GDPR Art. 12(4)"),
    };
}

/// A refusal: at least one ground, and the remedies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", try_from = "RefusalDraft")]
pub struct Refusal {
    grounds: Vec<RefusalGround>,
    remedies: Remedies,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RefusalDraft {
    grounds: Vec<RefusalGround>,
    remedies: Remedies,
}

impl TryFrom<RefusalDraft> for Refusal {
    type Error = RequestError;
    fn try_from(d: RefusalDraft) -> Result<Self, RequestError> {
        let mut r = Self::new(d.grounds)?;
        r.remedies = d.remedies;
        Ok(r)
    }
}

impl Refusal {
    /// A refusal on `grounds`, with the remedies of the GDPR.
    ///
    /// # Errors
    /// [`RequestError::RefusalWithoutReasons`] when `grounds` is empty.
    pub fn new(grounds: Vec<RefusalGround>) -> Result<Self, RequestError> {
        if grounds.is_empty() {
            return Err(RequestError::RefusalWithoutReasons);
        }
        Ok(Self {
            grounds,
            remedies: Remedies::GDPR,
        })
    }

    /// The grounds.
    pub fn grounds(&self) -> &[RefusalGround] {
        &self.grounds
    }

    /// The remedies the subject is told of.
    pub fn remedies(&self) -> &Remedies {
        &self.remedies
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_needs_a_reason_and_tells_the_remedies() {
        assert_eq!(
            Refusal::new(vec![]),
            Err(RequestError::RefusalWithoutReasons)
        );
        let r = Refusal::new(vec![RefusalGround::ManifestlyUnfoundedOrExcessive]).unwrap();
        assert_eq!(r.grounds()[0].citation().as_str(), "GDPR Art. 12(5)(b)");
        assert_eq!(r.remedies().complaint.as_str(), "GDPR Art. 77");
        assert_eq!(r.remedies().told_under.as_str(), "GDPR Art. 12(4)");
    }

    #[test]
    fn json_without_grounds_is_refused() {
        let json = r#"{"grounds":[],"remedies":{"complaint":"GDPR Art. 77","judicial":"GDPR Art. 79","told-under":"GDPR Art. 12(4)"}}"#;
        assert!(serde_json::from_str::<Refusal>(json).is_err());
        let ok = json.replace("[]", r#"[{"ground":"other","citation":"§ 34 BDSG"}]"#);
        let r: Refusal = serde_json::from_str(&ok).unwrap();
        assert_eq!(r.grounds()[0].citation().as_str(), "§ 34 BDSG");
        assert_eq!(serde_json::to_string(&r).unwrap(), ok);
    }
}
