//! The rules that need law outside the GDPR: a basis in Union or
//! member-state law (Art. 6(3), Art. 9(2)), and the retention duty that
//! keeps a record after its purpose has ended.

use super::{Findings, RetentionPhase};
use crate::Citation;
use crate::activity::ProcessingActivity;
use crate::decision::{ReasonCode, SafeguardCode};
use crate::purpose::Purpose;

/// Art. 6(1)(c) and (e) need a basis in Union or member-state law
/// (Art. 6(3)); Art. 9(2)(b), (g), (i) and (j) say so in their own text.
/// The activity must name at least one such provision, on its basis or on
/// the activity.
#[inline]
pub(super) fn check_member_state_law(activity: &ProcessingActivity, f: &mut Findings) {
    let basis = activity.basis();
    let art6 = basis.art6();
    let art9 = basis.art9().filter(|c| c.expects_member_state_law());
    if !art6.expects_member_state_law() && art9.is_none() {
        return;
    }
    if !basis.national().is_empty() || !activity.national().is_empty() {
        return;
    }
    if art6.expects_member_state_law() {
        f.deny(
            ReasonCode::MissingMemberStateLaw,
            Citation::from_static("GDPR Art. 6(3)"),
            format!(
                "{} needs a basis in Union or member-state law (Art. 6(3)), and the activity \
                 names none: add the provision that lays down the obligation or task \
                 (e.g. § 630f BGB) to the basis's `national` list",
                art6.citation()
            ),
        );
    }
    if let Some(art9) = art9 {
        f.deny(
            ReasonCode::MissingMemberStateLaw,
            art9.citation(),
            format!(
                "{} holds only on the basis of Union or member-state law, and the activity \
                 names none: add the provision (e.g. § 27 BDSG for research, § 28 BDSG for \
                 archiving) to the basis's `national` list",
                art9.citation()
            ),
        );
    }
}

/// When every national provision named is narrowed to purposes, one of
/// them must serve the request's purpose (e.g. archiving under Art. 9(2)(j)
/// in Germany rests on § 28 BDSG, not § 27 BDSG).
#[inline]
pub(super) fn check_national_purposes(
    activity: &ProcessingActivity,
    purpose: Purpose,
    f: &mut Findings,
) {
    let mut named = activity
        .basis()
        .national()
        .iter()
        .chain(activity.national());
    let Some(first) = named.clone().next() else {
        return;
    };
    if named.any(|p| p.serves(purpose)) {
        return;
    }
    let names: Vec<&str> = first.purposes.iter().map(|p| p.name()).collect();
    f.deny(
        ReasonCode::NationalLawDoesNotCoverPurpose,
        first.citation.clone(),
        format!(
            "{} specifies the basis for `{}`, not for `{purpose}`: name the provision that \
             does (in Germany § 28 BDSG for archiving, § 27 BDSG for research and statistics)",
            first.citation,
            names.join("`, `")
        ),
    );
}

/// A record kept only because of a retention duty serves that duty's
/// purposes and nothing else.
#[inline]
pub(super) fn check_retention_phase(phase: &RetentionPhase, purpose: Purpose, f: &mut Findings) {
    let duty = phase.duty();
    if phase.serves(purpose) {
        f.safeguard(
            SafeguardCode::RetentionDuty,
            duty.clone(),
            format!(
                "the record is kept only for the retention duty of {duty} \
                 (GDPR Art. 17(3)(b)), which serves `{purpose}`"
            ),
        );
    } else {
        f.deny(
            ReasonCode::OutsideRetentionPurpose,
            Citation::from_static("GDPR Art. 5(1)(b), Art. 17(3)(b)"),
            format!(
                "the record's care purpose has ended and it is kept only for the retention \
                 duty of {duty}, which does not serve `{purpose}`: use it only for what that \
                 duty keeps it for, or erase it when the duty ends"
            ),
        );
    }
}
