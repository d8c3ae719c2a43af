//! The audit event: who did what to whose data, when, why and on which
//! lawful basis.
//!
//! The model follows IHE Basic Audit Log Patterns (BALP) / FHIR R4
//! `AuditEvent` and the DICOM audit message (PS3.15 A.5): an event type and
//! action, an outcome, the time it was recorded, the actor (user or system,
//! role, professional secrecy), the purpose of use, the lawful basis, the
//! data subject, the object acted on, the source system, the tenant and a
//! correlation id.
//!
//! **Personal fields** — the data subject reference, the object id and free
//! text — are redacted in `Debug` and are stored encrypted under a key of the
//! data subject, so that erasing the subject (Art. 17) makes them unreadable
//! without breaking the log. Everything else is stored in clear.

use gdpr_core::actor::Actor;
use gdpr_core::basis::LawfulBasis;
use gdpr_core::decision::Permit;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::action::{Action, EventType, Outcome};
use crate::label::{CorrelationId, SourceSystem, TenantId};
use crate::object::{FreeText, ObjectRef};

/// One audited processing operation, in clear (before sealing).
///
/// `Debug` never shows the subject reference, the object id, free text or
/// the actor's identity.
///
/// ```
/// use gdpr_audit::action::{Action, EventType};
/// use gdpr_audit::event::AuditEvent;
/// use gdpr_audit::label::SourceSystem;
/// use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
/// use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
/// use gdpr_core::purpose::Purpose;
/// use gdpr_core::subject::PatientId;
/// use gdpr_core::Citation;
///
/// # fn main() -> Result<(), gdpr_audit::Error> {
/// let actor = Actor {
///     id: ActorId::new("dr.house")?,
///     role: Role::Physician,
///     secrecy: Secrecy::Professional { source: Citation::from_static("§ 203(1) Nr. 1 StGB") },
/// };
/// let basis = LawfulBasis::SpecialCategory(HealthBasis::new(
///     Art6Basis::Contract,
///     Art9Condition::HealthCare,
/// ));
/// let event = AuditEvent::builder(
///     EventType::PatientRecord,
///     Action::Read,
///     actor,
///     Purpose::Treatment,
///     basis,
///     SourceSystem::new("EHR-1")?,
/// )
/// .subject(PatientId::new("P-0042")?)
/// .build("2026-11-25T10:00:00Z".parse().expect("valid timestamp"));
/// assert!(!format!("{event:?}").contains("P-0042"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    event_type: EventType,
    action: Action,
    outcome: Outcome,
    recorded: Timestamp,
    actor: Actor,
    purpose: Purpose,
    lawful_basis: LawfulBasis,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked_subject"
    )]
    subject: Option<PatientId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<ObjectRef>,
    source: SourceSystem,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<TenantId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    correlation_id: Option<CorrelationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<FreeText>,
}

impl AuditEvent {
    /// Starts the event that records an access `permit` allowed: its
    /// purpose and lawful basis are the permit's own, so the basis logged
    /// is the basis decided. The caller adds who acted (the request's
    /// actor), what was done and which system reports it.
    ///
    /// ```
    /// use gdpr_audit::action::{Action, EventType};
    /// use gdpr_audit::event::AuditEvent;
    /// use gdpr_audit::label::SourceSystem;
    /// use gdpr_core::activity::ProcessingActivity;
    /// use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
    /// use gdpr_core::authorization::{authorize, Request};
    /// use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
    /// use gdpr_core::category::RecordCategory;
    /// use gdpr_core::decision::Decision;
    /// use gdpr_core::purpose::Purpose;
    /// use gdpr_core::subject::{Identifiability, PatientId, SubjectState};
    /// use gdpr_core::Citation;
    ///
    /// let reporting = ProcessingActivity::new(
    ///     "Radiology reporting",
    ///     Purpose::Diagnosis,
    ///     LawfulBasis::SpecialCategory(HealthBasis::new(Art6Basis::Contract, Art9Condition::HealthCare)),
    ///     vec![RecordCategory::ImagingExamination],
    ///     Identifiability::Identified,
    /// )?;
    /// let radiologist = Actor {
    ///     id: ActorId::new("dr.weber")?,
    ///     role: Role::Physician,
    ///     secrecy: Secrecy::Professional { source: Citation::from_static("§ 203(1) Nr. 1 StGB") },
    /// };
    /// let request = Request {
    ///     actor: radiologist.clone(),
    ///     purpose: Purpose::Diagnosis,
    ///     categories: vec![RecordCategory::ImagingExamination],
    ///     restriction_exception: None,
    ///     retention_phase: None,
    /// };
    /// let at = "2026-03-02T09:30:00Z".parse()?;
    /// let Decision::Permit(permit) = authorize(&reporting, &request, &SubjectState::default(), at) else {
    ///     panic!("a physician reporting on imaging is permitted");
    /// };
    /// let event = AuditEvent::for_permit(&permit, EventType::DicomInstancesAccessed, Action::Read, radiologist, SourceSystem::new("PACS-1")?)
    ///     .subject(PatientId::new("MRN-1")?)
    ///     .build(at);
    /// assert_eq!(event.lawful_basis(), permit.basis());
    /// assert_eq!(event.purpose(), Purpose::Diagnosis);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn for_permit(
        permit: &Permit,
        event_type: EventType,
        action: Action,
        actor: Actor,
        source: SourceSystem,
    ) -> AuditEventBuilder {
        Self::builder(
            event_type,
            action,
            actor,
            permit.about().purpose,
            permit.basis().clone(),
            source,
        )
    }

    /// Starts an event with everything the law requires of it: what kind of
    /// event, what was done, by whom, for which purpose, on which lawful
    /// basis, reported by which system. The outcome defaults to success.
    #[inline]
    pub fn builder(
        event_type: EventType,
        action: Action,
        actor: Actor,
        purpose: Purpose,
        lawful_basis: LawfulBasis,
        source: SourceSystem,
    ) -> AuditEventBuilder {
        AuditEventBuilder {
            event: AuditEvent {
                event_type,
                action,
                outcome: Outcome::Success,
                recorded: Timestamp::UNIX_EPOCH,
                actor,
                purpose,
                lawful_basis,
                subject: None,
                object: None,
                source,
                tenant: None,
                correlation_id: None,
                text: None,
            },
        }
    }

    /// The kind of event.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// What was done.
    pub fn action(&self) -> Action {
        self.action
    }

    /// How it ended.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// When the event was recorded.
    pub fn recorded(&self) -> Timestamp {
        self.recorded
    }

    /// Who did it.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Why.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// On which lawful basis.
    pub fn lawful_basis(&self) -> &LawfulBasis {
        &self.lawful_basis
    }

    /// Whose data (personal; encrypted at rest).
    pub fn subject(&self) -> Option<&PatientId> {
        self.subject.as_ref()
    }

    /// Which object (its id is personal; encrypted at rest).
    pub fn object(&self) -> Option<&ObjectRef> {
        self.object.as_ref()
    }

    /// The reporting system.
    pub fn source(&self) -> &SourceSystem {
        &self.source
    }

    /// The tenant, in a shared log.
    pub fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    /// The correlation id linking events of one transaction.
    pub fn correlation_id(&self) -> Option<&CorrelationId> {
        self.correlation_id.as_ref()
    }

    /// Free text (personal; encrypted at rest).
    pub fn text(&self) -> Option<&FreeText> {
        self.text.as_ref()
    }

    /// Checks the rules that the event's types cannot enforce by
    /// themselves: the subject reference follows [`PatientId::new`]'s rule
    /// (a `PatientId` deserialized on its own is not checked by
    /// `gdpr-core`). [`crate::log::AuditLog`] checks every event before it
    /// seals or stores anything, so a record that could not be read back
    /// never enters the log.
    ///
    /// # Errors
    /// [`Error::Core`] ([`gdpr_core::Error::InvalidIdentifier`]) naming the
    /// rule, never the value.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(subject) = &self.subject {
            check_subject(subject)?;
        }
        Ok(())
    }
}

/// `PatientId::new`'s rule (and `with_issuer`'s for the issuer), applied
/// to an already built identifier.
fn check_subject(id: &PatientId) -> Result<(), gdpr_core::Error> {
    let fresh = PatientId::new(id.expose())?;
    if let Some(issuer) = id.issuer() {
        fresh.with_issuer(issuer)?;
    }
    Ok(())
}

/// Deserializes the subject and checks it with [`check_subject`], so that
/// input with a bad identifier fails where it is read.
fn checked_subject<'de, D>(d: D) -> Result<Option<PatientId>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let subject = Option::<PatientId>::deserialize(d)?;
    if let Some(s) = &subject {
        check_subject(s).map_err(serde::de::Error::custom)?;
    }
    Ok(subject)
}

/// Builds an [`AuditEvent`]; see [`AuditEvent::builder`].
#[derive(Debug, Clone)]
#[must_use = "call .build(recorded) to obtain the event"]
pub struct AuditEventBuilder {
    event: AuditEvent,
}

impl AuditEventBuilder {
    /// Sets the outcome (default: success).
    #[inline]
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.event.outcome = outcome;
        self
    }

    /// Sets the data subject whose data were processed.
    #[inline]
    pub fn subject(mut self, subject: PatientId) -> Self {
        self.event.subject = Some(subject);
        self
    }

    /// Sets the object acted on.
    #[inline]
    pub fn object(mut self, object: ObjectRef) -> Self {
        self.event.object = Some(object);
        self
    }

    /// Sets the tenant.
    #[inline]
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.event.tenant = Some(tenant);
        self
    }

    /// Sets the correlation id.
    #[inline]
    pub fn correlation_id(mut self, id: CorrelationId) -> Self {
        self.event.correlation_id = Some(id);
        self
    }

    /// Sets free text.
    #[inline]
    pub fn text(mut self, text: FreeText) -> Self {
        self.event.text = Some(text);
        self
    }

    /// Finishes the event, recorded at `recorded` (the caller reads the
    /// clock: this crate's model never does).
    #[inline]
    pub fn build(mut self, recorded: Timestamp) -> AuditEvent {
        self.event.recorded = recorded;
        self.event
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use gdpr_core::Citation;
    use gdpr_core::actor::{ActorId, Role, Secrecy};
    use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis};

    use super::*;
    use crate::object::{ObjectId, ObjectKind};

    /// A fully populated event whose personal fields contain `canary`.
    pub(crate) fn sample(canary: &str) -> AuditEvent {
        let actor = Actor {
            id: ActorId::new("dr.who").unwrap(),
            role: Role::Physician,
            secrecy: Secrecy::Professional {
                source: Citation::from_static("§ 203(1) Nr. 1 StGB"),
            },
        };
        let basis = LawfulBasis::SpecialCategory(HealthBasis::new(
            Art6Basis::Contract,
            Art9Condition::HealthCare,
        ));
        AuditEvent::builder(
            EventType::DicomInstancesAccessed,
            Action::Read,
            actor,
            Purpose::Diagnosis,
            basis,
            SourceSystem::new("PACS-1").unwrap(),
        )
        .subject(PatientId::new(canary).unwrap())
        .object(ObjectRef::new(
            ObjectKind::Study,
            ObjectId::new(format!("1.2.3.{canary}")).unwrap(),
        ))
        .tenant(TenantId::new("hospital-a").unwrap())
        .correlation_id(CorrelationId::new("req-7").unwrap())
        .text(FreeText::new(format!("note about {canary}")).unwrap())
        .outcome(Outcome::MinorFailure)
        .build("2026-11-25T10:00:00Z".parse().unwrap())
    }

    #[test]
    fn debug_redacts_every_personal_field() {
        let event = sample("CANARY-PID-77");
        let debug = format!("{event:?} {:#?}", event);
        assert!(!debug.contains("CANARY"), "{debug}");
        assert!(!debug.contains("dr.who"), "{debug}");
        assert!(debug.contains("PACS-1"));
    }

    #[test]
    fn round_trips_through_json_and_rejects_unknown_fields() {
        let event = sample("P-1");
        let json = serde_json::to_string(&event).unwrap();
        let back: AuditEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        let extra = json.replacen('{', "{\"surprise\":1,", 1);
        assert!(serde_json::from_str::<AuditEvent>(&extra).is_err());
    }

    #[test]
    fn subject_ids_breaking_the_patient_id_rule_are_rejected() {
        let good = serde_json::to_value(sample("P-1")).unwrap();
        let long = "x".repeat(65);
        for (id, issuer) in [
            ("", None),
            ("   ", None),
            ("P\u{7}1", None),
            ("P\\1", None),
            (long.as_str(), None),
            ("P-1", Some("")),
            ("P-1", Some("H\n")),
        ] {
            let mut v = good.clone();
            v["subject"] = match issuer {
                None => serde_json::json!({ "id": id }),
                Some(i) => serde_json::json!({ "id": id, "issuer": i }),
            };
            let err = serde_json::from_value::<AuditEvent>(v.clone()).unwrap_err();
            assert!(err.to_string().contains("1 to 64 characters"), "{err}");
            // Built around the rule (as versions before it could): `check`
            // still refuses it.
            let bare = PatientId::danger_unchecked(id, issuer.map(str::to_owned));
            let e = sample("P-1");
            let built = AuditEvent::builder(
                e.event_type(),
                e.action(),
                e.actor().clone(),
                e.purpose(),
                e.lawful_basis().clone(),
                e.source().clone(),
            )
            .subject(bare)
            .build(e.recorded());
            assert!(matches!(
                built.check(),
                Err(Error::Core(gdpr_core::Error::InvalidIdentifier { .. }))
            ));
        }
        assert!(sample("P-1").check().is_ok());
        let max = "y".repeat(64);
        let mut v = good;
        v["subject"] = serde_json::json!({ "id": max });
        assert!(serde_json::from_value::<AuditEvent>(v).is_ok());
    }

    #[test]
    fn outcome_defaults_to_success() {
        let e = sample("P-2");
        let b = AuditEvent::builder(
            e.event_type(),
            e.action(),
            e.actor().clone(),
            e.purpose(),
            e.lawful_basis().clone(),
            e.source().clone(),
        )
        .build(e.recorded());
        assert_eq!(b.outcome(), Outcome::Success);
        assert!(b.subject().is_none());
    }
}
