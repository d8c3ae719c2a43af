//! The rules that follow the data subject's rights: restriction (Art. 18)
//! and objection (Art. 21).

use jiff::Timestamp;

use super::{Findings, Request};
use crate::Citation;
use crate::basis::Art6Basis;
use crate::decision::{ReasonCode, SafeguardCode};
use crate::objection::ObjectionEffect;
use crate::purpose::Purpose;
use crate::restriction::RestrictionException;
use crate::subject::SubjectState;

#[inline]
pub(super) fn check_restriction(
    request: &Request,
    subject: &SubjectState,
    at: Timestamp,
    f: &mut Findings,
) {
    let Some(restriction) = subject.restrictions.iter().find(|r| r.is_active_at(at)) else {
        return;
    };
    let cite = Citation::from_static("GDPR Art. 18(2)");
    let purpose = request.purpose;
    // Storage itself needs no exception (Art. 18(2), first half).
    let exception = match request.restriction_exception {
        None if purpose == Purpose::Storage => RestrictionException::StorageOnly,
        Some(e) => e,
        None => {
            f.deny(
                ReasonCode::Restricted,
                cite,
                format!(
                    "processing is restricted ({}) since {}: only storage or an Art. 18(2) \
                     reason is allowed; name it in `restriction-exception`",
                    restriction.ground().citation(),
                    restriction.since()
                ),
            );
            return;
        }
    };
    let holds = match exception {
        RestrictionException::StorageOnly => purpose == Purpose::Storage,
        RestrictionException::SubjectConsent => {
            subject.consents.iter().any(|c| c.covers(purpose, at))
        }
        RestrictionException::LegalClaims => purpose == Purpose::LegalClaims,
        RestrictionException::ProtectionOfOthers
        | RestrictionException::ImportantPublicInterest => true,
    };
    if holds {
        f.safeguard(
            SafeguardCode::RestrictionException,
            cite,
            match exception {
                RestrictionException::StorageOnly => {
                    "restricted data only kept stored: not consulted, used or disclosed".into()
                }
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
                    RestrictionException::StorageOnly => {
                        "it allows keeping the data stored (purpose `storage`), not processing \
                         them for another purpose; name the subject's consent, legal claims, \
                         the protection of another person or an important public interest"
                    }
                    RestrictionException::SubjectConsent => {
                        "no consent of the subject covers this purpose now"
                    }
                    _ => "the purpose must be `legal-claims`",
                }
            ),
        );
    }
}

/// Every objection in force that covers the purpose decides: one that
/// binds denies (once per provision); one that does not bind is recorded as
/// a safeguard saying why (an exception, the controller's grounds, or a
/// basis Art. 21 does not reach), so that every decision on an objected
/// subject carries its reason.
#[inline]
pub(super) fn check_objections(
    art6: Art6Basis,
    purpose: Purpose,
    subject: &SubjectState,
    at: Timestamp,
    f: &mut Findings,
) {
    let mut denied: Vec<Citation> = Vec::new();
    let mut noted: Vec<SafeguardCode> = Vec::new();
    for objection in &subject.objections {
        let effect = objection.effect(purpose, art6, at);
        let Some(cite) = effect.citation() else {
            continue;
        };
        let lodged = objection.lodged_at;
        let reading = effect.reading();
        let (code, message) = match &effect {
            ObjectionEffect::Binds { .. } => {
                if !denied.contains(&cite) {
                    f.deny(
                        ReasonCode::Objection,
                        cite.clone(),
                        format!(
                            "the subject objected at {lodged} to processing for `{purpose}` on \
                             {}: stop ({reading})",
                            art6.citation()
                        ),
                    );
                    denied.push(cite);
                }
                continue;
            }
            ObjectionEffect::Overridden { grounds } => (
                SafeguardCode::CompellingGrounds,
                format!(
                    "the subject objected at {lodged}; the controller recorded compelling \
                     legitimate grounds at {} (assessment: {}) ({reading})",
                    grounds.recorded_at, grounds.assessment
                ),
            ),
            ObjectionEffect::BasisNotReached { .. } => (
                SafeguardCode::ObjectionNotReached,
                format!(
                    "the subject objected at {lodged}; processing for `{purpose}` rests on {} \
                     ({reading})",
                    art6.citation()
                ),
            ),
            _ => (
                SafeguardCode::ObjectionException,
                format!("the subject objected at {lodged} ({reading})"),
            ),
        };
        if !noted.contains(&code) {
            f.safeguard(code, cite, message);
            noted.push(code);
        }
    }
}
