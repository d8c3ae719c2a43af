//! The outcome of an authorization: a permit with its basis and safeguards,
//! or a denial with **every** reason, each citing its article.
//!
//! Decisions are made only by [`crate::authorization::authorize`]: a
//! [`Permit`] has no public constructor and decisions serialise but do not
//! deserialise, so no code path can forge one.
//!
//! JSON shape (field and code names are stable):
//!
//! ```json
//! {"decision": "permit", "activity": "…", "purpose": "diagnosis",
//!  "categories": ["imaging-examination"], "at": "…",
//!  "basis": {"kind": "special-category", "art6": "contract", "art9": "health-care"},
//!  "safeguards": [{"code": "professional-secrecy", "citation": "GDPR Art. 9(3)", "message": "…"}],
//!  "reasons": []}
//! {"decision": "deny", "activity": "…", "purpose": "research",
//!  "categories": ["imaging-examination"], "at": "…",
//!  "basis": {…}, "safeguards": [],
//!  "reasons": [{"code": "consent-withdrawn", "citation": "GDPR Art. 7(3)", "message": "…"}]}
//! ```

use jiff::Timestamp;
use serde::Serialize;

use crate::Citation;
use crate::basis::LawfulBasis;
use crate::category::RecordCategory;
use crate::purpose::Purpose;

/// A decision on one processing request.
///
/// Serialises to one flat JSON object with the same keys for both outcomes
/// (`reasons` is empty for a permit, `safeguards` empty for a denial), so
/// consumers read one schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    /// The processing may go ahead.
    Permit(Permit),
    /// The processing may not go ahead, for the reasons given.
    Deny(Denial),
}

impl Decision {
    /// Whether this is a permit.
    pub fn is_permit(&self) -> bool {
        matches!(self, Self::Permit(_))
    }

    /// The reasons of a denial; empty for a permit.
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Self::Permit(_) => &[],
            Self::Deny(d) => &d.reasons,
        }
    }

    /// Whether a denial gives a reason with `code`.
    pub fn denies_with(&self, code: ReasonCode) -> bool {
        self.reasons().iter().any(|r| r.code == code)
    }
}

/// The case a decision was made on; shared by permits and denials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Case {
    /// The processing activity's name.
    pub activity: String,
    /// The purpose requested.
    pub purpose: Purpose,
    /// The record categories requested.
    pub categories: Vec<RecordCategory>,
    /// The instant the decision applies to.
    pub at: Timestamp,
    /// The lawful basis examined: the activity's basis.
    pub basis: LawfulBasis,
}

impl Serialize for Decision {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            decision: &'static str,
            #[serde(flatten)]
            about: &'a Case,
            safeguards: &'a [Safeguard],
            reasons: &'a [Reason],
        }
        let wire = match self {
            Self::Permit(p) => Wire {
                decision: "permit",
                about: &p.about,
                safeguards: &p.safeguards,
                reasons: &[],
            },
            Self::Deny(d) => Wire {
                decision: "deny",
                about: &d.about,
                safeguards: &[],
                reasons: &d.reasons,
            },
        };
        wire.serialize(serializer)
    }
}

/// Permission to process, with the basis and the safeguards that apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    about: Case,
    safeguards: Vec<Safeguard>,
}

impl Permit {
    /// Only [`crate::authorization::authorize`] makes permits, and only
    /// when no rule failed — in particular, never for special-category
    /// `about.categories` on an Art. 6 basis alone.
    pub(crate) fn new(about: Case, safeguards: Vec<Safeguard>) -> Self {
        Self { about, safeguards }
    }

    /// The activity, purpose, time and basis of the permit.
    pub fn about(&self) -> &Case {
        &self.about
    }

    /// The lawful basis the processing rests on: the Art. 6 + Art. 9 pair
    /// whenever special-category data are processed.
    pub fn basis(&self) -> &LawfulBasis {
        &self.about.basis
    }

    /// The safeguards that apply (professional secrecy, pseudonymisation,
    /// consent, an Art. 18(2) exception, …).
    pub fn safeguards(&self) -> &[Safeguard] {
        &self.safeguards
    }

    /// Whether the permit lists a safeguard with `code`.
    pub fn has_safeguard(&self, code: SafeguardCode) -> bool {
        self.safeguards.iter().any(|s| s.code == code)
    }
}

/// A refusal, with every reason found (not only the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    about: Case,
    reasons: Vec<Reason>,
}

impl Denial {
    /// Only [`crate::authorization::authorize`] makes denials; `reasons` is
    /// never empty.
    pub(crate) fn new(about: Case, reasons: Vec<Reason>) -> Self {
        Self { about, reasons }
    }

    /// The activity, purpose, time and basis that were examined.
    pub fn about(&self) -> &Case {
        &self.about
    }

    /// Every reason for the denial.
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }
}

/// One reason for a denial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// A stable, machine-readable code.
    pub code: ReasonCode,
    /// The provision the rule comes from.
    pub citation: Citation,
    /// What is wrong and what to do about it, for a human. Never contains
    /// identifying data.
    pub message: String,
}

/// Stable codes of denial reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// Special-category data requested on an Art. 6 basis alone (Art. 9(1)).
    MissingArt9Condition,
    /// A requested record category is not part of the activity.
    CategoryNotCovered,
    /// The purpose is not compatible with the activity's purpose
    /// (Art. 5(1)(b), Art. 6(4)).
    PurposeIncompatible,
    /// The Art. 9(2) condition does not cover the requested purpose.
    ConditionDoesNotCoverPurpose,
    /// Art. 9(2)(h) for an actor without professional secrecy (Art. 9(3)).
    NoProfessionalSecrecy,
    /// Identified data for research without a recorded necessity
    /// (Art. 89(1)).
    IdentifiedDataWithoutNecessity,
    /// No consent covering the purpose at the time (Art. 6(1)(a),
    /// Art. 9(2)(a)).
    NoConsent,
    /// The consent covering the purpose was withdrawn (Art. 7(3)).
    ConsentWithdrawn,
    /// The subject's processing is restricted and no Art. 18(2) exception
    /// was named.
    Restricted,
    /// The named Art. 18(2) exception does not hold.
    RestrictionExceptionNotMet,
    /// The subject objected (Art. 21(1) or 21(6)).
    Objection,
    /// The basis needs Union or member-state law and the activity names
    /// none (Art. 6(3), Art. 9(2)(b), (g), (i), (j)).
    MissingMemberStateLaw,
    /// The record is kept only for a retention duty that does not serve
    /// the purpose (Art. 5(1)(b), Art. 17(3)(b)).
    OutsideRetentionPurpose,
    /// The national provisions named specify the basis for other purposes
    /// only (e.g. § 27 BDSG for research, asked for archiving).
    NationalLawDoesNotCoverPurpose,
}

impl ReasonCode {
    /// The stable kebab-case name, as in JSON (`"no-professional-secrecy"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingArt9Condition => "missing-art9-condition",
            Self::CategoryNotCovered => "category-not-covered",
            Self::PurposeIncompatible => "purpose-incompatible",
            Self::ConditionDoesNotCoverPurpose => "condition-does-not-cover-purpose",
            Self::NoProfessionalSecrecy => "no-professional-secrecy",
            Self::IdentifiedDataWithoutNecessity => "identified-data-without-necessity",
            Self::NoConsent => "no-consent",
            Self::ConsentWithdrawn => "consent-withdrawn",
            Self::Restricted => "restricted",
            Self::RestrictionExceptionNotMet => "restriction-exception-not-met",
            Self::Objection => "objection",
            Self::MissingMemberStateLaw => "missing-member-state-law",
            Self::OutsideRetentionPurpose => "outside-retention-purpose",
            Self::NationalLawDoesNotCoverPurpose => "national-law-does-not-cover-purpose",
        }
    }
}

/// One safeguard that applies to a permitted processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Safeguard {
    /// A stable, machine-readable code.
    pub code: SafeguardCode,
    /// The provision that requires or provides the safeguard.
    pub citation: Citation,
    /// What it means for the processing, for a human.
    pub message: String,
}

/// Stable codes of safeguards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SafeguardCode {
    /// The actor is bound by professional secrecy (Art. 9(3)).
    ProfessionalSecrecy,
    /// The research data are pseudonymised (Art. 89(1), Art. 4(5)).
    Pseudonymisation,
    /// The research data are anonymised (Art. 89(1), Recital 26).
    Anonymisation,
    /// Identified research data, with the recorded necessity (Art. 89(1)).
    IdentificationNecessary,
    /// A valid explicit consent covers the purpose (Art. 9(2)(a), Art. 7).
    Consent,
    /// Further processing for a compatible purpose (Art. 6(4), 5(1)(b)).
    CompatiblePurpose,
    /// Processing of restricted data under an Art. 18(2) exception.
    RestrictionException,
    /// The actor contributes under a professional's responsibility: the
    /// professional's obligation of the actor to secrecy is to be kept on
    /// file (Art. 9(3); e.g. § 203(4) S. 2 Nr. 1 StGB).
    SecrecyObligation,
    /// The record is kept for a retention duty that serves the purpose
    /// (Art. 17(3)(b)); the citation is the duty.
    RetentionDuty,
    /// The subject objected, and an exception of Art. 21 holds: legal
    /// claims (Art. 21(1)) or a task in the public interest (Art. 21(6)).
    ObjectionException,
    /// The subject objected, and the controller's recorded compelling
    /// legitimate grounds override (Art. 21(1)).
    CompellingGrounds,
    /// The subject objected, and Art. 21 does not reach processing on this
    /// Art. 6(1) basis (only (e) and (f), research and direct marketing).
    ObjectionNotReached,
}

impl SafeguardCode {
    /// The stable kebab-case name, as in JSON (`"pseudonymisation"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProfessionalSecrecy => "professional-secrecy",
            Self::Pseudonymisation => "pseudonymisation",
            Self::Anonymisation => "anonymisation",
            Self::IdentificationNecessary => "identification-necessary",
            Self::Consent => "consent",
            Self::CompatiblePurpose => "compatible-purpose",
            Self::RestrictionException => "restriction-exception",
            Self::SecrecyObligation => "secrecy-obligation",
            Self::RetentionDuty => "retention-duty",
            Self::ObjectionException => "objection-exception",
            Self::CompellingGrounds => "compelling-grounds",
            Self::ObjectionNotReached => "objection-not-reached",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_match_serde() {
        use ReasonCode as R;
        for c in [
            R::MissingArt9Condition,
            R::CategoryNotCovered,
            R::PurposeIncompatible,
            R::ConditionDoesNotCoverPurpose,
            R::NoProfessionalSecrecy,
            R::IdentifiedDataWithoutNecessity,
            R::NoConsent,
            R::ConsentWithdrawn,
            R::Restricted,
            R::RestrictionExceptionNotMet,
            R::Objection,
            R::MissingMemberStateLaw,
            R::OutsideRetentionPurpose,
            R::NationalLawDoesNotCoverPurpose,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        use SafeguardCode as S;
        for c in [
            S::ProfessionalSecrecy,
            S::Pseudonymisation,
            S::Anonymisation,
            S::IdentificationNecessary,
            S::Consent,
            S::CompatiblePurpose,
            S::RestrictionException,
            S::SecrecyObligation,
            S::RetentionDuty,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
