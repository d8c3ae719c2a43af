//! Events encoded ahead of appending: an [`EventBatch`] holds each event's
//! clear fields already in the canonical record encoding
//! ([`crate::record`]) and its personal fields as the plaintext that
//! sealing encrypts. [`crate::AuditLog::stage_encoded`] then only seals,
//! chains and writes them.
//!
//! A bulk importer fills a batch on one thread while the log writes the
//! previous one on another, and pushes events with their text fields
//! borrowed from its input ([`EventFields`]): no owned copy of each field
//! is made, and the buffers of a batch are reused after
//! [`EventBatch::clear`]. An [`AuditEvent`] is pushed with
//! [`EventBatch::push`]; the bytes are the same either way.
//!
//! ```
//! use gdpr_audit::batch::{EventBatch, EventFields, SecrecyRef};
//! # use gdpr_audit::action::{Action, EventType, Outcome};
//! # use gdpr_core::actor::Role;
//! # use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
//! # use gdpr_core::purpose::Purpose;
//! # fn main() -> Result<(), gdpr_audit::Error> {
//! let mut batch = EventBatch::with_capacity(1000);
//! let basis = LawfulBasis::SpecialCategory(HealthBasis::new(
//!     Art6Basis::Contract,
//!     Art9Condition::HealthCare,
//! ));
//! batch.push_fields(&EventFields {
//!     event_type: EventType::PatientRecord,
//!     action: Action::Read,
//!     outcome: Outcome::Success,
//!     recorded: "2026-11-25T10:00:00Z".parse().expect("a timestamp"),
//!     actor_id: "dr.house",
//!     role: Role::Physician,
//!     secrecy: SecrecyRef::Professional("§ 203(1) Nr. 1 StGB"),
//!     purpose: Purpose::Treatment,
//!     lawful_basis: &basis,
//!     subject: Some(("P-0042", None)),
//!     object: None,
//!     source: "EHR-1",
//!     tenant: None,
//!     correlation_id: None,
//!     text: None,
//! })?;
//! assert_eq!(batch.len(), 1);
//! # Ok(()) }
//! ```

use std::fmt;
use std::ops::Range;

use gdpr_core::actor::{ActorId, Role};
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use zeroize::{Zeroize, Zeroizing};

use crate::Error;
use crate::action::{Action, EventType, Outcome};
use crate::encoding::Writer;
use crate::event::AuditEvent;
use crate::label::check_label;
use crate::object::{FreeText, ObjectKind, check_free_text, check_object_id};
use crate::record::{Clear, check_basis};
use crate::seal::encode_personal;

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
/// the fields of [`AuditEvent`], checked by [`EventBatch::push_fields`]
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
    /// Free text (the rule of [`FreeText::new`]).
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

/// One event of a batch: where its bytes are, and what sealing needs.
#[derive(Clone, PartialEq, Eq)]
struct Item {
    /// Its clear fields in [`EventBatch::clear`].
    clear: Range<usize>,
    /// Its personal fields' plaintext in [`EventBatch::personal`], if it
    /// has personal fields.
    personal: Option<Range<usize>>,
    /// The subject whose key seals them.
    subject: Option<PatientId>,
    recorded: Timestamp,
}

/// Events encoded for [`crate::AuditLog::stage_encoded`] (see the module
/// docs). `Debug` shows only the number of events; the personal fields'
/// plaintext is zeroed when the batch is cleared or dropped.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct EventBatch {
    clear: Vec<u8>,
    personal: Zeroizing<Vec<u8>>,
    items: Vec<Item>,
}

impl fmt::Debug for EventBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBatch")
            .field("events", &self.items.len())
            .finish_non_exhaustive()
    }
}

/// The borrowed parts of one event's personal fields.
type Personal<'a> = (
    Option<(&'a str, Option<&'a str>)>,
    Option<&'a str>,
    Option<&'a str>,
);

impl EventBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for about `events` events.
    pub fn with_capacity(events: usize) -> Self {
        Self {
            clear: Vec::with_capacity(events * 192),
            personal: Zeroizing::new(Vec::with_capacity(events * 96)),
            items: Vec::with_capacity(events),
        }
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Empties the batch, keeping its buffers (the plaintext zeroed).
    pub fn clear(&mut self) {
        self.clear.clear();
        self.personal.zeroize();
        self.items.clear();
    }

    /// Adds `event`.
    ///
    /// # Errors
    /// As [`crate::AuditLog::append`] refuses an event: [`Error::Core`] if
    /// it breaks a rule of [`AuditEvent::check`], [`Error::InvalidField`]
    /// for a lawful basis or secrecy kind this version cannot encode. The
    /// batch is then unchanged.
    pub fn push(&mut self, event: &AuditEvent) -> Result<(), Error> {
        event.check()?;
        self.push_unchecked(event)
    }

    /// [`EventBatch::push`] without [`AuditEvent::check`] (tests write
    /// records the way versions before the check did).
    pub(crate) fn push_unchecked(&mut self, event: &AuditEvent) -> Result<(), Error> {
        let clear = Clear::of_event(event)?;
        let subject = event.subject();
        let personal = (
            subject.map(|s| (s.expose(), s.issuer())),
            event.object().map(|o| o.id.expose()),
            event.text().map(FreeText::expose),
        );
        self.add(&clear, personal, subject.cloned());
        Ok(())
    }

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
        let subject = match event.subject {
            None => None,
            Some((id, None)) => Some(PatientId::new(id)?),
            Some((id, Some(issuer))) => Some(PatientId::new(id)?.with_issuer(issuer)?),
        };
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
        self.add(&clear, personal, subject);
        Ok(())
    }

    /// Appends the encoded fields of one event.
    fn add(&mut self, clear: &Clear<'_>, personal: Personal<'_>, subject: Option<PatientId>) {
        let start = self.clear.len();
        let mut w = Writer::from_vec(std::mem::take(&mut self.clear));
        clear.encode(&mut w);
        self.clear = w.into_bytes();
        let personal = match personal {
            (None, None, None) => None,
            (subject, object_id, text) => {
                let from = self.personal.len();
                let mut w = Writer::from_vec(std::mem::take(&mut *self.personal));
                encode_personal(&mut w, subject, object_id, text);
                *self.personal = w.into_bytes();
                Some(from..self.personal.len())
            }
        };
        self.items.push(Item {
            clear: start..self.clear.len(),
            personal,
            subject,
            recorded: clear.recorded,
        });
    }

    /// The events, in order.
    pub(crate) fn events(&self) -> impl ExactSizeIterator<Item = Encoded<'_>> {
        self.items.iter().map(|item| Encoded {
            clear: self.clear.get(item.clear.clone()).unwrap_or_default(),
            personal: item
                .personal
                .clone()
                .map(|r| self.personal.get(r).unwrap_or_default()),
            subject: item.subject.as_ref(),
            recorded: item.recorded,
        })
    }
}

/// One event of a batch, as [`crate::AuditLog::stage_encoded`] reads it.
/// No `Debug`: it holds personal fields in clear.
pub(crate) struct Encoded<'a> {
    /// The canonical bytes of its clear fields.
    pub(crate) clear: &'a [u8],
    /// The plaintext of its personal fields, if it has any.
    pub(crate) personal: Option<&'a [u8]>,
    /// The data subject.
    pub(crate) subject: Option<&'a PatientId>,
    /// When it was recorded.
    pub(crate) recorded: Timestamp,
}

#[cfg(test)]
mod tests {
    use gdpr_core::actor::Secrecy;

    use super::*;
    use crate::event::tests::sample;

    /// The borrowed fields of `event`.
    fn fields(event: &AuditEvent) -> EventFields<'_> {
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

    #[test]
    fn debug_shows_no_personal_field() {
        let event = sample("CANARY-3");
        let mut batch = EventBatch::new();
        batch.push(&event).unwrap();
        let shown = format!("{batch:?} {:?}", fields(&event));
        assert!(
            !shown.contains("CANARY") && !shown.contains("dr.who"),
            "{shown}"
        );
        batch.clear();
        assert!(batch.is_empty() && batch.personal.is_empty());
    }
}
