//! Whether one access may happen: `gdpr_core::authorization::authorize`
//! for the activity whose purpose is the caller's, with the subject's
//! state from the host's source and what the restriction register holds
//! for the study and for the subject as a whole, applied by
//! [`gdpr_request::register::consult`]: an Art. 18 entry (per study, or
//! the subject-wide entry a restriction request registers, found through
//! [`SubjectRecords`]) restricts the subject (`restricted`: storage and
//! the Art. 18(2) exceptions only); a kept record's entry limits the study
//! to the purposes that keep it (as a retention phase, so that authorize's
//! `outside-retention-purpose` rule decides). The subject's objections
//! registered by an objection request (Art. 21), under the same
//! subject-wide record id, are added to the subject's state.

use gdpr_audit::store::AuditStore;
use gdpr_audit::{AuditLog, KeyStore};
use gdpr_core::Citation;
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::authorization::{Request, authorize};
use gdpr_core::category::RecordCategory;
use gdpr_core::decision::Decision;
use gdpr_core::request::SystemName;
use gdpr_core::store::{RecordId, StudyUid};
use gdpr_core::subject::{Identifiability, PatientId};
use gdpr_request::objections::consult_objections;
use gdpr_request::register::{
    RestrictionEntry, RestrictionRegister, consult, in_force_for, subject_record_of,
};
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

/// Finds the record id under which the restriction register holds a
/// subject-wide entry for a patient: [`subject_record_of`] over the audit
/// log's key store (the key's random id, never a patient value). The
/// request workflow registers one per system with every Art. 18
/// restriction, so that studies the subject gains later are covered too.
pub trait SubjectRecords: Send + Sync {
    /// The subject-wide record id of `patient`; `None` when the audit log
    /// holds no key for them (nothing subject-wide can have been
    /// registered) or the key was shredded.
    fn subject_record(&self, patient: &PatientId) -> Option<RecordId>;
}

impl<S: AuditStore, K: KeyStore> SubjectRecords for AuditLog<S, K> {
    fn subject_record(&self, patient: &PatientId) -> Option<RecordId> {
        subject_record_of(&*self.keys(), patient)
    }
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
    /// Where subject-wide entries are found (none: per-study entries only).
    pub subject_records: Option<&'a dyn SubjectRecords>,
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
    let Ok(mut state) = ctx.subjects.state_of(patient).await else {
        return deny(None, "subject-state-unavailable");
    };
    let mut request = Request {
        actor: caller.actor.clone(),
        purpose: caller.purpose,
        categories: vec![RecordCategory::ImagingExamination],
        restriction_exception: None,
        retention_phase: None,
    };
    let subject = ctx.subject_records.and_then(|s| s.subject_record(patient));
    let record = study_record_id(study);
    let entries = match in_force_for(ctx.register, ctx.system, &record, subject.as_ref()).await {
        // Entries not yet in force at `now` are left out.
        Ok(all) => all
            .into_iter()
            .filter(|e| e.since <= now)
            .collect::<Vec<_>>(),
        Err(_) => return deny(None, "restriction-register-unavailable"),
    };
    if consult(&with_citation(entries), &mut request, &mut state).is_err() {
        return deny(None, "restriction-register-unavailable");
    }
    // The subject's registered objections (Art. 21), found by the same
    // subject-wide record id; a register that cannot answer refuses.
    if let (Some(subject), Some(objections)) = (subject.as_ref(), ctx.register.objections()) {
        match objections.objections_of(subject).await {
            Ok(found) => consult_objections(&found, &mut state),
            Err(_) => return deny(None, "objection-register-unavailable"),
        }
    }
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

/// A kept record's entry written without its citation (by a host, not by
/// the request workflow) is read as kept under the register's general
/// provisions, so that it still limits the study to its purposes.
fn with_citation(mut entries: Vec<RestrictionEntry>) -> Vec<RestrictionEntry> {
    for e in entries.iter_mut().filter(|e| !e.is_art18()) {
        e.citation.get_or_insert_with(|| {
            Citation::new("GDPR Art. 17(3), Art. 18(2) (restriction register)")
        });
    }
    entries
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

    /// The subject-wide record of every patient (a fixed key id).
    struct OneSubject;
    impl SubjectRecords for OneSubject {
        fn subject_record(&self, _: &PatientId) -> Option<RecordId> {
            RecordId::new("gdpr-subject:00112233445566778899aabbccddeeff").ok()
        }
    }

    /// An objection an objection request registered refuses quality
    /// assurance on legitimate interests (Art. 21(1)) at the gateway, and
    /// only once it is registered.
    #[tokio::test]
    async fn a_registered_objection_refuses_legitimate_interests() {
        use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
        use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
        use gdpr_core::objection::Objection;
        use gdpr_core::purpose::Purpose;
        use gdpr_core::request::RequestId;
        use gdpr_request::{FileRegister, ObjectionEntry, ObjectionRegister};

        let qa = ProcessingActivity::new(
            "Quality assurance",
            Purpose::QualityAssurance,
            LawfulBasis::SpecialCategory(HealthBasis::new(
                Art6Basis::LegitimateInterests,
                Art9Condition::HealthCare,
            )),
            vec![RecordCategory::ImagingExamination],
            Identifiability::Identified,
        )
        .unwrap();
        let caller = Caller {
            actor: Actor {
                id: ActorId::new("dr-qa").unwrap(),
                role: Role::Physician,
                secrecy: Secrecy::Professional {
                    source: gdpr_core::Citation::from_static("§ 203(1) Nr. 1 StGB"),
                },
            },
            purpose: Purpose::QualityAssurance,
            pseudonymise_role: false,
        };
        let dir = tempfile::tempdir().unwrap();
        let register = FileRegister::open(dir.path()).unwrap();
        let subjects = crate::subjects::FileSubjectStates::empty();
        let system = SystemName::new("pacs").unwrap();
        let ctx = Context {
            activities: std::slice::from_ref(&qa),
            subjects: &subjects,
            register: &register,
            system: &system,
            subject_records: Some(&OneSubject),
        };
        let study = StudyUid::new("1.2.3").unwrap();
        let patient = PatientId::new("CANARY-GW-OBJ").unwrap();
        let now: Timestamp = "2026-03-02T09:30:00Z".parse().unwrap();
        let before = decide(&ctx, &caller, &study, &patient, now).await;
        assert!(matches!(before, Verdict::Permit { .. }), "{before:?}");
        let entry = ObjectionEntry::new(
            OneSubject.subject_record(&patient).unwrap(),
            RequestId::new("dsr-obj").unwrap(),
            Objection::to_all("2026-02-01T00:00:00Z".parse().unwrap()),
        );
        register.record_objection(&entry).await.unwrap();
        let after = decide(&ctx, &caller, &study, &patient, now).await;
        let Verdict::Deny {
            decision: Some(decision),
            codes,
        } = after
        else {
            panic!("{after:?}");
        };
        assert_eq!(codes, ["objection"]);
        assert_eq!(decision.reasons()[0].citation.as_str(), "GDPR Art. 21(1)");
    }

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
