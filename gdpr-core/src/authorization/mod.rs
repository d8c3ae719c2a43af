//! Authorization: one pure function that decides whether a request to
//! process a subject's data is lawful, and says why.
//!
//! [`authorize`] checks every rule below and collects **every** failing rule
//! as a [`Reason`]; it permits only when none fails. It does no I/O and
//! reads no clock: the instant to decide for is an argument, so decisions
//! can be replayed.
//!
//! | rule | reason code | citation |
//! |---|---|---|
//! | the request names categories the activity covers | `category-not-covered` | GDPR Art. 5(1)(b), (c) |
//! | special-category data only on an Art. 6 + Art. 9 pair | `missing-art9-condition` | GDPR Art. 9(1) |
//! | a basis that needs Union or member-state law names it | `missing-member-state-law` | GDPR Art. 6(3), Art. 9(2)(b), (g), (i), (j) |
//! | national provisions narrowed to purposes serve the purpose | `national-law-does-not-cover-purpose` | the provision |
//! | the purpose is compatible with the activity's purpose | `purpose-incompatible` | GDPR Art. 6(4) |
//! | the Art. 9(2) condition covers the purpose | `condition-does-not-cover-purpose` | the condition |
//! | Art. 9(2)(h) only for actors bound to secrecy | `no-professional-secrecy` | GDPR Art. 9(3) |
//! | research on identified data only with a recorded necessity | `identified-data-without-necessity` | GDPR Art. 89(1) |
//! | consent-based processing needs a consent valid at the time | `no-consent`, `consent-withdrawn` | GDPR Art. 9(2)(a), 6(1)(a), 7(3) |
//! | a record kept only for a retention duty serves only that duty's purposes | `outside-retention-purpose` | GDPR Art. 5(1)(b), Art. 17(3)(b) |
//! | restricted data only stored, or processed for an Art. 18(2) reason | `restricted`, `restriction-exception-not-met` | GDPR Art. 18(2) |
//! | objections stop processing on Art. 6(1)(e)/(f) (unless legal claims or recorded compelling grounds), direct marketing always, research and statistics unless a public task | `objection` | GDPR Art. 21(1), 21(2)–(3), 21(6) |

mod law;
mod phase;
mod rights;
mod rules;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::activity::ProcessingActivity;
use crate::actor::Actor;
use crate::basis::{Art6Basis, Art9Condition};
use crate::category::RecordCategory;
use crate::decision::{
    Case, Decision, Denial, Permit, Reason, ReasonCode, Safeguard, SafeguardCode,
};
use crate::purpose::Purpose;
use crate::restriction::RestrictionException;
use crate::subject::SubjectState;

pub use phase::RetentionPhase;

/// What is asked: who wants to process which categories of a subject's data,
/// for which purpose, within a processing activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Request {
    /// Who processes.
    pub actor: Actor,
    /// For what.
    pub purpose: Purpose,
    /// Which record categories.
    pub categories: Vec<RecordCategory>,
    /// The Art. 18(2) reason relied on if the subject's processing is
    /// restricted; ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction_exception: Option<RestrictionException>,
    /// Set when the record is in its retention phase: its care purpose has
    /// ended and it is kept only because a retention duty demands it. The
    /// request is then permitted only for the purposes that duty serves.
    /// `None` while the record is in use for the purpose it was collected
    /// for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_phase: Option<RetentionPhase>,
}

/// Decides whether `request` may process the data of a subject in `subject`
/// state within `activity`, at the instant `at`.
///
/// ```
/// use gdpr_core::activity::ProcessingActivity;
/// use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
/// use gdpr_core::authorization::{authorize, Request};
/// use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
/// use gdpr_core::category::RecordCategory;
/// use gdpr_core::decision::ReasonCode;
/// use gdpr_core::purpose::Purpose;
/// use gdpr_core::subject::{Identifiability, SubjectState};
///
/// let reporting = ProcessingActivity::new(
///     "Radiology reporting",
///     Purpose::Diagnosis,
///     LawfulBasis::SpecialCategory(HealthBasis::new(Art6Basis::Contract, Art9Condition::HealthCare)),
///     vec![RecordCategory::ImagingExamination],
///     Identifiability::Identified,
/// )?;
/// let it_admin = Actor { id: ActorId::new("it-7")?, role: Role::ItAdministrator, secrecy: Secrecy::None };
/// let request = Request {
///     actor: it_admin,
///     purpose: Purpose::Diagnosis,
///     categories: vec![RecordCategory::ImagingExamination],
///     restriction_exception: None,
///     retention_phase: None,
/// };
/// let decision = authorize(&reporting, &request, &SubjectState::default(), "2026-03-02T09:30:00Z".parse()?);
/// assert!(decision.denies_with(ReasonCode::NoProfessionalSecrecy));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn authorize(
    activity: &ProcessingActivity,
    request: &Request,
    subject: &SubjectState,
    at: Timestamp,
) -> Decision {
    let mut f = Findings::default();
    let purpose = request.purpose;
    let basis = activity.basis();

    rules::check_categories(activity, request, &mut f);
    law::check_member_state_law(activity, &mut f);
    law::check_national_purposes(activity, purpose, &mut f);
    rules::check_purpose(activity.purpose(), purpose, &mut f);
    if let Some(art9) = basis.art9() {
        rules::check_condition_covers(art9, purpose, &mut f);
        if art9 == Art9Condition::HealthCare {
            rules::check_secrecy(&request.actor, &mut f);
        }
    }
    if purpose.is_art89() || basis.art9() == Some(Art9Condition::ResearchArchivingStatistics) {
        rules::check_research_safeguards(activity, &mut f);
    }
    let explicit = basis.art9() == Some(Art9Condition::ExplicitConsent);
    if explicit || basis.art6() == Art6Basis::Consent {
        rules::check_consent(explicit, purpose, subject, at, &mut f);
    }
    if let Some(phase) = &request.retention_phase {
        law::check_retention_phase(phase, purpose, &mut f);
    }
    rights::check_restriction(request, subject, at, &mut f);
    rights::check_objections(basis.art6(), purpose, subject, at, &mut f);

    let case = Case {
        activity: activity.name().to_owned(),
        purpose,
        categories: request.categories.clone(),
        at,
        basis: basis.clone(),
    };
    if f.reasons.is_empty() {
        Decision::Permit(Permit::new(case, f.safeguards))
    } else {
        Decision::Deny(Denial::new(case, f.reasons))
    }
}

/// Reasons and safeguards collected while checking the rules.
#[derive(Default)]
struct Findings {
    reasons: Vec<Reason>,
    safeguards: Vec<Safeguard>,
}

impl Findings {
    fn deny(&mut self, code: ReasonCode, citation: Citation, message: String) {
        self.reasons.push(Reason {
            code,
            citation,
            message,
        });
    }

    fn safeguard(&mut self, code: SafeguardCode, citation: Citation, message: String) {
        self.safeguards.push(Safeguard {
            code,
            citation,
            message,
        });
    }
}
