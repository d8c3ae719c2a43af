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
//! | the purpose is compatible with the activity's purpose | `purpose-incompatible` | GDPR Art. 6(4) |
//! | the Art. 9(2) condition covers the purpose | `condition-does-not-cover-purpose` | the condition |
//! | Art. 9(2)(h) only for actors bound to secrecy | `no-professional-secrecy` | GDPR Art. 9(3) |
//! | research on identified data only with a recorded necessity | `identified-data-without-necessity` | GDPR Art. 89(1) |
//! | consent-based processing needs a consent valid at the time | `no-consent`, `consent-withdrawn` | GDPR Art. 9(2)(a), 6(1)(a), 7(3) |
//! | restricted data only stored or processed for an Art. 18(2) reason | `restricted`, `restriction-exception-not-met` | GDPR Art. 18(2) |
//! | objections stop processing on Art. 6(1)(e)/(f) and research | `objection` | GDPR Art. 21(1), 21(6) |

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
use crate::purpose::{Compatibility, Purpose};
use crate::restriction::RestrictionException;
use crate::subject::{Identifiability, SubjectState};

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

    check_categories(activity, request, &mut f);
    check_purpose(activity.purpose(), purpose, &mut f);
    if let Some(art9) = basis.art9() {
        check_condition_covers(art9, purpose, &mut f);
        if art9 == Art9Condition::HealthCare {
            check_secrecy(&request.actor, &mut f);
        }
    }
    if purpose.is_art89() || basis.art9() == Some(Art9Condition::ResearchArchivingStatistics) {
        check_research_safeguards(activity, &mut f);
    }
    let explicit = basis.art9() == Some(Art9Condition::ExplicitConsent);
    if explicit || basis.art6() == Art6Basis::Consent {
        check_consent(explicit, purpose, subject, at, &mut f);
    }
    check_restriction(request, subject, at, &mut f);
    check_objections(basis.art6(), purpose, subject, at, &mut f);

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

fn check_categories(activity: &ProcessingActivity, request: &Request, f: &mut Findings) {
    if request.categories.is_empty() {
        f.deny(
            ReasonCode::CategoryNotCovered,
            Citation::from_static("GDPR Art. 5(1)(c)"),
            "the request names no record category: list the categories to be processed".into(),
        );
    }
    for c in &request.categories {
        if !activity.categories().contains(c) {
            f.deny(
                ReasonCode::CategoryNotCovered,
                Citation::from_static("GDPR Art. 5(1)(b), (c)"),
                format!(
                    "record category `{c}` is not part of the activity \"{}\": \
                     add it to the activity (and its Art. 30 record) or leave it out",
                    activity.name()
                ),
            );
        }
    }
    // Defence in depth: `ProcessingActivity::new` already refuses an
    // Art. 6 basis alone for special categories it lists.
    let special = request
        .categories
        .iter()
        .any(|c| !c.special_categories().is_empty());
    if special && activity.basis().art9().is_none() {
        f.deny(
            ReasonCode::MissingArt9Condition,
            Citation::from_static("GDPR Art. 9(1)"),
            "special-category data need an Art. 6 basis and an Art. 9(2) condition; \
             the activity has an Art. 6 basis alone"
                .into(),
        );
    }
}

fn check_purpose(original: Purpose, purpose: Purpose, f: &mut Findings) {
    match purpose.compatibility_with(original) {
        Compatibility::Same => {}
        Compatibility::Compatible { citation, .. } => f.safeguard(
            SafeguardCode::CompatiblePurpose,
            citation,
            format!(
                "`{purpose}` is compatible further processing of data collected for `{original}`"
            ),
        ),
        Compatibility::RequiresAssessment { citation } => f.deny(
            ReasonCode::PurposeIncompatible,
            citation,
            format!(
                "`{purpose}` is not compatible by law with the activity's purpose `{original}`: \
                 assess compatibility under Art. 6(4) or define an activity for `{purpose}`"
            ),
        ),
    }
}

fn check_condition_covers(art9: Art9Condition, purpose: Purpose, f: &mut Findings) {
    if !art9.covers(purpose) {
        f.deny(
            ReasonCode::ConditionDoesNotCoverPurpose,
            art9.citation(),
            format!(
                "{} does not cover the purpose `{purpose}`: process it in an activity \
                 whose Art. 9(2) condition does (e.g. (j) for research, (f) for legal claims)",
                art9.citation()
            ),
        );
    }
}

fn check_secrecy(actor: &Actor, f: &mut Findings) {
    match actor.secrecy.source() {
        Some(source) if actor.secrecy.satisfies_art9_3() => f.safeguard(
            SafeguardCode::ProfessionalSecrecy,
            Citation::from_static("GDPR Art. 9(3)"),
            format!("the actor is bound to professional secrecy by {source}"),
        ),
        _ => f.deny(
            ReasonCode::NoProfessionalSecrecy,
            Citation::from_static("GDPR Art. 9(3)"),
            "Art. 9(2)(h) holds only for a professional under a duty of secrecy or a person \
             acting under one's responsibility: record the actor's secrecy duty \
             (e.g. § 203 StGB) or have a bound professional do this"
                .into(),
        ),
    }
}

fn check_research_safeguards(activity: &ProcessingActivity, f: &mut Findings) {
    let cite = Citation::from_static("GDPR Art. 89(1)");
    match (
        activity.identifiability(),
        activity.identification_necessity(),
    ) {
        (Identifiability::Pseudonymised, _) => f.safeguard(
            SafeguardCode::Pseudonymisation,
            cite,
            "research on pseudonymised data (Art. 4(5)); keep the key separate".into(),
        ),
        (Identifiability::Anonymised, _) => f.safeguard(
            SafeguardCode::Anonymisation,
            cite,
            "research on anonymised data (Recital 26)".into(),
        ),
        (Identifiability::Identified, Some(necessity)) => f.safeguard(
            SafeguardCode::IdentificationNecessary,
            cite,
            format!(
                "identified data; recorded necessity: {}",
                necessity.reason()
            ),
        ),
        (Identifiability::Identified, None) => f.deny(
            ReasonCode::IdentifiedDataWithoutNecessity,
            cite,
            "research, statistics and archiving use pseudonymised or anonymised data unless \
             the activity records why identification is necessary: pseudonymise the data or \
             record `identification-necessity` in the activity"
                .into(),
        ),
    }
}

fn check_consent(
    explicit: bool,
    purpose: Purpose,
    subject: &SubjectState,
    at: Timestamp,
    f: &mut Findings,
) {
    let cite = Citation::from_static(if explicit {
        "GDPR Art. 9(2)(a)"
    } else {
        "GDPR Art. 6(1)(a)"
    });
    let for_purpose = || {
        subject
            .consents
            .iter()
            .filter(|c| c.purposes().contains(&purpose))
    };
    if let Some(c) = for_purpose().find(|c| c.covers(purpose, at)) {
        f.safeguard(
            SafeguardCode::Consent,
            cite,
            format!("consent given at {} covers `{purpose}`", c.given_at()),
        );
    } else if let Some(w) = for_purpose()
        .filter_map(|c| c.withdrawn_at())
        .find(|w| *w <= at)
    {
        f.deny(
            ReasonCode::ConsentWithdrawn,
            Citation::from_static("GDPR Art. 7(3)"),
            format!(
                "the consent for `{purpose}` was withdrawn at {w}: processing on consent \
                 stops from that moment"
            ),
        );
    } else {
        f.deny(
            ReasonCode::NoConsent,
            cite,
            format!("the activity rests on consent, and no consent covers `{purpose}` at {at}"),
        );
    }
}

fn check_restriction(request: &Request, subject: &SubjectState, at: Timestamp, f: &mut Findings) {
    let Some(restriction) = subject.restrictions.iter().find(|r| r.is_active_at(at)) else {
        return;
    };
    let cite = Citation::from_static("GDPR Art. 18(2)");
    let Some(exception) = request.restriction_exception else {
        f.deny(
            ReasonCode::Restricted,
            cite,
            format!(
                "processing is restricted ({}) since {}: only storage or an Art. 18(2) reason \
                 is allowed; name it in `restriction-exception`",
                restriction.ground().citation(),
                restriction.since()
            ),
        );
        return;
    };
    let purpose = request.purpose;
    let holds = match exception {
        RestrictionException::SubjectConsent => {
            subject.consents.iter().any(|c| c.covers(purpose, at))
        }
        RestrictionException::LegalClaims => purpose == Purpose::LegalClaims,
        RestrictionException::StorageOnly
        | RestrictionException::ProtectionOfOthers
        | RestrictionException::ImportantPublicInterest => true,
    };
    if holds {
        f.safeguard(
            SafeguardCode::RestrictionException,
            cite,
            match exception {
                RestrictionException::SubjectConsent | RestrictionException::LegalClaims => {
                    format!("restricted data processed {}", exception.description())
                }
                _ => format!(
                    "restricted data processed {} (as declared by the requester: \
                     keep the justification with the audit record)",
                    exception.description()
                ),
            },
        );
    } else {
        f.deny(
            ReasonCode::RestrictionExceptionNotMet,
            cite,
            format!(
                "the Art. 18(2) exception \"{}\" does not hold: {}",
                exception.description(),
                match exception {
                    RestrictionException::SubjectConsent =>
                        "no consent of the subject covers this purpose now",
                    _ => "the purpose must be `legal-claims`",
                }
            ),
        );
    }
}

fn check_objections(
    art6: Art6Basis,
    purpose: Purpose,
    subject: &SubjectState,
    at: Timestamp,
    f: &mut Findings,
) {
    let mut cited: Vec<Citation> = Vec::new();
    for objection in &subject.objections {
        if let Some(cite) = objection.binds(purpose, art6, at)
            && !cited.contains(&cite)
        {
            let unless = if cite.as_str().ends_with("21(6)") {
                "research and statistics continue only where necessary for a task carried \
                 out in the public interest (Art. 6(1)(e))"
            } else {
                "the controller may continue only on compelling legitimate grounds it \
                 demonstrates (then end the objection in the subject's record)"
            };
            f.deny(
                ReasonCode::Objection,
                cite.clone(),
                format!(
                    "the subject objected at {} to processing for `{purpose}`: stop; {unless}",
                    objection.lodged_at
                ),
            );
            cited.push(cite);
        }
    }
}
