//! Whether one access may happen: `gdpr_core::authorization::authorize`
//! for the activity whose purpose is the caller's, with the subject's
//! state from the host's source and, from the restriction register, the
//! purposes a kept record may still serve (as a retention phase, so that
//! authorize's `outside-retention-purpose` rule decides).

use gdpr_core::Citation;
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::authorization::{Request, RetentionPhase, authorize};
use gdpr_core::category::RecordCategory;
use gdpr_core::decision::Decision;
use gdpr_core::purpose::Purpose;
use gdpr_core::request::SystemName;
use gdpr_core::store::{RecordId, StudyUid};
use gdpr_core::subject::{Identifiability, PatientId};
use gdpr_request::register::RestrictionRegister;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::caller::Caller;
use crate::subjects::SubjectStates;

/// The outcome of deciding one access.
#[derive(Debug)]
pub enum Verdict {
    /// Permitted; answers are pseudonymised when `pseudonymise`.
    Permit {
        /// The decision (its basis goes into the audit record).
        decision: Decision,
        /// Whether the caller sees pseudonyms only.
        pseudonymise: bool,
    },
    /// Denied with these reason codes.
    Deny {
        /// The decision, when an activity was found (for the audit record).
        decision: Option<Decision>,
        /// The reason codes (no patient value).
        codes: Vec<String>,
    },
}

/// The DICOMweb adapter's record id of a study (gdpr-dicom's
/// `DicomWebStore`: `dw-` and the first 20 hex digits of the SHA-256 of
/// the Study Instance UID), the key under which the request workflow
/// registers a kept study.
pub fn study_record_id(study: &StudyUid) -> RecordId {
    let digest = Sha256::digest(study.expose().as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    // Invariant: "dw-" and hex digits satisfy RecordId's rules.
    RecordId::new(format!("dw-{hex}")).unwrap_or_else(|_| unreachable!("dw- and hex digits"))
}

/// What the decision needs besides the caller and the subject.
pub struct Context<'a> {
    /// The configured activities.
    pub activities: &'a [ProcessingActivity],
    /// Subject states.
    pub subjects: &'a dyn SubjectStates,
    /// The restriction register.
    pub register: &'a dyn RestrictionRegister,
    /// The upstream's name in the register.
    pub system: &'a SystemName,
}

/// Decides `caller`'s access to `study` of `patient` at `now`.
pub async fn decide(
    ctx: &Context<'_>,
    caller: &Caller,
    study: &StudyUid,
    patient: &PatientId,
    now: Timestamp,
) -> Verdict {
    let Some(activity) = ctx
        .activities
        .iter()
        .find(|a| a.purpose() == caller.purpose)
    else {
        return deny(None, "no-activity-for-purpose");
    };
    let Ok(state) = ctx.subjects.state_of(patient).await else {
        return deny(None, "subject-state-unavailable");
    };
    let retention_phase = match ctx
        .register
        .lookup(ctx.system, &study_record_id(study))
        .await
    {
        Ok(Some(entry)) if entry.lifted.is_none_or(|at| at > now) && entry.since <= now => {
            Some(kept_phase(&entry.purposes))
        }
        Ok(_) => None,
        Err(_) => return deny(None, "restriction-register-unavailable"),
    };
    let request = Request {
        actor: caller.actor.clone(),
        purpose: caller.purpose,
        categories: vec![RecordCategory::ImagingExamination],
        restriction_exception: None,
        retention_phase,
    };
    let decision = authorize(activity, &request, &state, now);
    if decision.is_permit() {
        let pseudonymise =
            caller.pseudonymise_role || activity.identifiability() != Identifiability::Identified;
        Verdict::Permit {
            decision,
            pseudonymise,
        }
    } else {
        let codes = decision
            .reasons()
            .iter()
            .map(|r| code_name(r.code))
            .collect();
        Verdict::Deny {
            decision: Some(decision),
            codes,
        }
    }
}

/// A register entry as a retention phase: the record serves only its
/// listed purposes (none listed: storage and the data subject's own
/// requests only).
fn kept_phase(purposes: &[Purpose]) -> RetentionPhase {
    let citation = Citation::new("GDPR Art. 17(3), Art. 18(2) (restriction register)");
    let purposes = if purposes.is_empty() {
        vec![Purpose::Storage]
    } else {
        purposes.to_vec()
    };
    // Invariant: the citation is not blank and the list is not empty.
    RetentionPhase::new(citation, purposes).unwrap_or_else(|_| unreachable!("checked above"))
}

fn deny(decision: Option<Decision>, code: &str) -> Verdict {
    Verdict::Deny {
        decision,
        codes: vec![code.to_owned()],
    }
}

/// The reason code's stable (serde) name.
pub(crate) fn code_name(code: gdpr_core::decision::ReasonCode) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "denied".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_id_is_the_dicomweb_adapters() {
        // Pinned: the same id gdpr-dicom's DicomWebStore gives this study.
        let id = study_record_id(&StudyUid::new("1.2.3").unwrap());
        assert_eq!(id.as_str().len(), 23);
        assert!(id.as_str().starts_with("dw-"));
        let digest = Sha256::digest(b"1.2.3");
        assert_eq!(&id.as_str()[3..5], format!("{:02x}", digest[0]));
    }
}
