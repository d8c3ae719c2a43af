//! The rules about the activity, the purpose and the actor.

use jiff::Timestamp;

use super::{Findings, Request};
use crate::Citation;
use crate::activity::ProcessingActivity;
use crate::actor::{Actor, Secrecy};
use crate::basis::Art9Condition;
use crate::decision::{ReasonCode, SafeguardCode};
use crate::purpose::{Compatibility, Purpose};
use crate::subject::{Identifiability, SubjectState};

#[inline]
pub(super) fn check_categories(activity: &ProcessingActivity, request: &Request, f: &mut Findings) {
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

#[inline]
pub(super) fn check_purpose(original: Purpose, purpose: Purpose, f: &mut Findings) {
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

#[inline]
pub(super) fn check_condition_covers(art9: Art9Condition, purpose: Purpose, f: &mut Findings) {
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

#[inline]
pub(super) fn check_secrecy(actor: &Actor, f: &mut Findings) {
    match actor.secrecy.source() {
        Some(source) if actor.secrecy.satisfies_art9_3() => {
            f.safeguard(
                SafeguardCode::ProfessionalSecrecy,
                Citation::from_static("GDPR Art. 9(3)"),
                format!("the actor is bound to professional secrecy by {source}"),
            );
            if matches!(actor.secrecy, Secrecy::UnderResponsibility { .. }) {
                f.safeguard(
                    SafeguardCode::SecrecyObligation,
                    Citation::from_static("GDPR Art. 9(3)"),
                    "the actor contributes under a professional's responsibility: keep on \
                     file that the professional obliged them to secrecy (national law may make \
                     the professional answerable, e.g. § 203(4) S. 2 Nr. 1 StGB)"
                        .into(),
                );
            }
        }
        _ => f.deny(
            ReasonCode::NoProfessionalSecrecy,
            Citation::from_static("GDPR Art. 9(3)"),
            "Art. 9(2)(h) holds only for a professional under a duty of secrecy or a person \
             acting under one's responsibility: record the actor's secrecy duty \
             (e.g. § 203(1) or (4) StGB) or have a bound professional do this"
                .into(),
        ),
    }
}

#[inline]
pub(super) fn check_research_safeguards(activity: &ProcessingActivity, f: &mut Findings) {
    let cite = Citation::from_static("GDPR Art. 89(1)");
    match (
        activity.identifiability(),
        activity.identification_necessity(),
    ) {
        (Identifiability::Pseudonymised, _) => f.safeguard(
            SafeguardCode::Pseudonymisation,
            cite,
            "research on pseudonymised data (Art. 4(5)); keep the key separate, and \
             anonymise as soon as the research purpose allows (Art. 89(1); § 27(3) BDSG \
             where § 27 BDSG is the basis)"
                .into(),
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
                "identified data; recorded necessity: {}; keep the identifying features \
                 separate and anonymise as soon as the research purpose allows",
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

#[inline]
pub(super) fn check_consent(
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
