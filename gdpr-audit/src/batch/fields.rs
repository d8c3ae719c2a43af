//! An event with its text fields borrowed ([`EventFields`]), checked with
//! the rules of the owned types as it is pushed into an [`EventBatch`].

use std::fmt;

use gdpr_core::actor::{ActorId, Role};
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;

use super::EventBatch;
use crate::Error;
use crate::action::{Action, EventType, Outcome};
use crate::label::check_label;
use crate::object::{ObjectKind, check_free_text, check_object_id};
use crate::record::{Clear, check_basis};

/// The secrecy duty of an actor with its citation borrowed (the borrowed
/// form of [`gdpr_core::actor::Secrecy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecrecyRef<'a> {
    /// No secrecy duty.
    None,
    /// Professional secrecy, with its source (`§ 203 StGB`).
    Professional(&'a str),
    /// Acting under the responsibility of a professional, with its source.
    UnderResponsibility(&'a str),
    /// Another legal duty of secrecy, with its source.
    OtherLegalDuty(&'a str),
}

impl<'a> SecrecyRef<'a> {
    /// The kind byte and citation of record encoding v1.
    fn parts(self) -> (u8, Option<&'a str>) {
        match self {
            Self::None => (0, None),
            Self::Professional(s) => (1, Some(s)),
            Self::UnderResponsibility(s) => (2, Some(s)),
            Self::OtherLegalDuty(s) => (3, Some(s)),
        }
    }
}

/// An audit event with its text fields borrowed (from an input line, say):
/// the fields of [`AuditEvent`](crate::AuditEvent), checked by [`EventBatch::push_fields`]
/// with the rules of their owned types (actor id, patient id, object id,
/// free text, labels).
///
/// `Debug` never shows the actor, the subject, the object id or the text.
#[derive(Clone, Copy)]
pub struct EventFields<'a> {
    /// The kind of event.
    pub event_type: EventType,
    /// What was done.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
    /// When it was recorded.
    pub recorded: Timestamp,
    /// The actor's id (the rule of [`ActorId::new`]).
    pub actor_id: &'a str,
    /// The actor's role.
    pub role: Role,
    /// The actor's secrecy duty.
    pub secrecy: SecrecyRef<'a>,
    /// Why.
    pub purpose: Purpose,
    /// On which lawful basis.
    pub lawful_basis: &'a LawfulBasis,
    /// The data subject's id and its issuer (the rules of
    /// [`PatientId::new`] and [`PatientId::with_issuer`]).
    pub subject: Option<(&'a str, Option<&'a str>)>,
    /// The object's kind and id (the rule of [`crate::object::ObjectId::new`]).
    pub object: Option<(ObjectKind, &'a str)>,
    /// The reporting system (a label: [`crate::label::SourceSystem`]).
    pub source: &'a str,
    /// The tenant (a label: [`crate::label::TenantId`]).
    pub tenant: Option<&'a str>,
    /// The correlation id (a label: [`crate::label::CorrelationId`]).
    pub correlation_id: Option<&'a str>,
    /// Free text (the rule of [`FreeText::new`](crate::object::FreeText::new)).
    pub text: Option<&'a str>,
}

impl fmt::Debug for EventFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventFields")
            .field("event_type", &self.event_type)
            .field("action", &self.action)
            .field("recorded", &self.recorded)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl EventBatch {
    /// Adds an event given by its borrowed fields, checked with the rules
    /// of their owned types; the bytes are those [`EventBatch::push`]
    /// gives the same event.
    ///
    /// # Errors
    /// [`Error::InvalidField`] or [`Error::Core`] for the first field that
    /// breaks its rule (the same variant its owned type's constructor
    /// returns). The batch is then unchanged.
    pub fn push_fields(&mut self, event: &EventFields<'_>) -> Result<(), Error> {
        if !ActorId::is_valid(event.actor_id) {
            // The owned type's own error.
            ActorId::new(event.actor_id)?;
        }
        check_basis(event.lawful_basis)?;
        if let Some((id, issuer)) = event.subject
            && !(PatientId::is_valid(id) && issuer.is_none_or(PatientId::is_valid))
        {
            // The owned type's own error (no `PatientId` is kept: the
            // batch reads the subject from the plaintext).
            let id = PatientId::new(id)?;
            issuer.map(|i| id.with_issuer(i)).transpose()?;
        }
        if let Some((_, id)) = event.object {
            check_object_id(id)?;
        }
        event.text.map(check_free_text).transpose()?;
        check_label(event.source, "source system")?;
        event
            .tenant
            .map(|t| check_label(t, "tenant id"))
            .transpose()?;
        event
            .correlation_id
            .map(|c| check_label(c, "correlation id"))
            .transpose()?;
        let (secrecy_kind, secrecy_source) = event.secrecy.parts();
        let clear = Clear {
            recorded: event.recorded,
            event_type: event.event_type,
            action: event.action,
            outcome: event.outcome,
            actor_id: event.actor_id,
            role: event.role,
            secrecy_kind,
            secrecy_source,
            purpose: event.purpose,
            lawful_basis: event.lawful_basis,
            object_kind: event.object.map(|(kind, _)| kind),
            source: event.source,
            tenant: event.tenant,
            correlation_id: event.correlation_id,
        };
        let personal = (event.subject, event.object.map(|(_, id)| id), event.text);
        self.add(&clear, personal);
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use gdpr_core::actor::Secrecy;

    use super::*;
    use crate::event::AuditEvent;
    use crate::event::tests::sample;
    use crate::object::FreeText;

    /// The borrowed fields of `event`.
    pub(in crate::batch) fn fields(event: &AuditEvent) -> EventFields<'_> {
        let actor = event.actor();
        EventFields {
            event_type: event.event_type(),
            action: event.action(),
            outcome: event.outcome(),
            recorded: event.recorded(),
            actor_id: actor.id.expose(),
            role: actor.role,
            secrecy: match &actor.secrecy {
                Secrecy::Professional { source } => SecrecyRef::Professional(source.as_str()),
                _ => SecrecyRef::None,
            },
            purpose: event.purpose(),
            lawful_basis: event.lawful_basis(),
            subject: event.subject().map(|s| (s.expose(), s.issuer())),
            object: event.object().map(|o| (o.kind, o.id.expose())),
            source: event.source().as_str(),
            tenant: event.tenant().map(|t| t.as_str()),
            correlation_id: event.correlation_id().map(|c| c.as_str()),
            text: event.text().map(FreeText::expose),
        }
    }

    #[test]
    fn borrowed_fields_encode_as_the_event_does() {
        let event = sample("P-9");
        let mut owned = EventBatch::new();
        owned.push(&event).unwrap();
        let mut borrowed = EventBatch::new();
        borrowed.push_fields(&fields(&event)).unwrap();
        assert!(owned == borrowed);
        let e = owned.events().next().unwrap();
        let record = crate::record::Record::new(&event, 5, [1; 32], None)
            .unwrap()
            .encode();
        // Version, position, prev; the clear fields; no sealed fields.
        assert_eq!(e.clear, &record[41..record.len() - 1]);
    }

    #[test]
    fn each_rule_of_the_owned_types_is_kept() {
        let event = sample("P-9");
        let long = "x".repeat(300);
        let mut batch = EventBatch::new();
        for case in 0..8 {
            let mut f = fields(&event);
            match case {
                0 => f.actor_id = "",
                1 => f.subject = Some(("", None)),
                2 => f.subject = Some(("P-1", Some("\n"))),
                3 => f.object = Some((ObjectKind::Study, &long)),
                4 => f.text = Some(""),
                5 => f.source = " PACS",
                6 => f.tenant = Some(""),
                _ => f.correlation_id = Some("a\tb"),
            }
            assert!(batch.push_fields(&f).is_err(), "case {case}");
            assert!(batch.is_empty());
        }
    }
}
