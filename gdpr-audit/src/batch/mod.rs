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

use jiff::Timestamp;
use zeroize::{Zeroize, Zeroizing};

use crate::Error;
use crate::encoding::Writer;
use crate::event::AuditEvent;
use crate::object::FreeText;
use crate::record::Clear;
use crate::seal::{KeyId, encode_personal};

mod fields;

pub use fields::{EventFields, SecrecyRef};

/// One event of a batch: where its bytes are, and what sealing needs.
#[derive(Clone, PartialEq, Eq)]
struct Item {
    /// Its clear fields in [`EventBatch::clear`].
    clear: Range<usize>,
    /// Its personal fields' plaintext in [`EventBatch::personal`], if it
    /// has personal fields.
    personal: Option<Range<usize>>,
    /// The subject whose key seals them: its id and issuer in the
    /// plaintext (no [`gdpr_core::subject::PatientId`] of its own).
    subject: Option<SubjectAt>,
    recorded: Timestamp,
}

/// Where a subject's id and issuer lie in [`EventBatch::personal`].
#[derive(Clone, PartialEq, Eq)]
struct SubjectAt {
    id: Range<usize>,
    issuer: Option<Range<usize>>,
}

impl SubjectAt {
    /// Where `encode_personal` puts the id and issuer of `subject` when
    /// the plaintext starts at `from` (tag byte, `u32` length, id; tag
    /// byte, `u32` length, issuer).
    fn of(from: usize, (id, issuer): (&str, Option<&str>)) -> Self {
        let id_at = from + 5;
        let after = id_at + id.len();
        Self {
            id: id_at..after,
            issuer: issuer.map(|i| after + 5..after + 5 + i.len()),
        }
    }
}

/// Events encoded for [`crate::AuditLog::stage_encoded`] (see the module
/// docs). `Debug` shows only the number of events; the personal fields'
/// plaintext is zeroed when the batch is cleared or dropped.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct EventBatch {
    clear: Vec<u8>,
    personal: Zeroizing<Vec<u8>>,
    items: Vec<Item>,
    /// The personal fields sealed ahead ([`crate::AuditLog::seal_batch`]).
    pub(crate) sealed: Sealed,
}

/// The sealed-fields parts of a batch's records, concatenated, and where
/// each ends; `by` names the key store that sealed them (its key for
/// events without a subject), `None` while the batch is not sealed.
#[derive(Default, Clone, PartialEq, Eq)]
pub(crate) struct Sealed {
    pub(crate) by: Option<KeyId>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) ends: Vec<usize>,
}

impl Sealed {
    /// Empties it, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.by = None;
        self.bytes.clear();
        self.ends.clear();
    }
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
            sealed: Sealed {
                by: None,
                bytes: Vec::with_capacity(events * 128),
                ends: Vec::with_capacity(events),
            },
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
        self.sealed.clear();
    }

    /// Whether [`crate::AuditLog::seal_batch`] sealed it (and nothing was
    /// pushed since).
    pub fn is_sealed(&self) -> bool {
        self.sealed.by.is_some()
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
        let personal = (
            event.subject().map(|s| (s.expose(), s.issuer())),
            event.object().map(|o| o.id.expose()),
            event.text().map(FreeText::expose),
        );
        self.add(&clear, personal);
        Ok(())
    }

    /// Appends the encoded fields of one event.
    fn add(&mut self, clear: &Clear<'_>, personal: Personal<'_>) {
        self.sealed.clear();
        let start = self.clear.len();
        let mut w = Writer::from_vec(std::mem::take(&mut self.clear));
        clear.encode(&mut w);
        self.clear = w.into_bytes();
        let (personal, subject) = match personal {
            (None, None, None) => (None, None),
            (subject, object_id, text) => {
                self.reserve_personal(personal_len(subject, object_id, text));
                let from = self.personal.len();
                let mut w = Writer::from_vec(std::mem::take(&mut *self.personal));
                encode_personal(&mut w, subject, object_id, text);
                *self.personal = w.into_bytes();
                let at = subject.map(|s| SubjectAt::of(from, s));
                (Some(from..self.personal.len()), at)
            }
        };
        self.items.push(Item {
            clear: start..self.clear.len(),
            personal,
            subject,
            recorded: clear.recorded,
        });
    }

    /// Makes room for `more` bytes of plaintext. A growing `Vec` would
    /// free its old buffer with the plaintext in it: the old buffer is
    /// zeroed here instead.
    fn reserve_personal(&mut self, more: usize) {
        let len = self.personal.len();
        if self.personal.capacity() - len >= more {
            return;
        }
        let mut bigger = Vec::with_capacity((len + more).max(2 * self.personal.capacity()));
        bigger.extend_from_slice(&self.personal);
        self.personal.zeroize();
        *self.personal = bigger;
    }

    /// The events, in order.
    pub(crate) fn events(&self) -> impl ExactSizeIterator<Item = Encoded<'_>> {
        self.items.iter().map(|item| Encoded {
            clear: self.clear.get(item.clear.clone()).unwrap_or_default(),
            personal: item
                .personal
                .clone()
                .map(|r| self.personal.get(r).unwrap_or_default()),
            recorded: item.recorded,
        })
    }
}

impl EventBatch {
    /// The subject (id and issuer) of each event that has personal
    /// fields, in order: whose key seals them.
    pub(crate) fn sealed_subjects(&self) -> impl Iterator<Item = Option<(&str, Option<&str>)>> {
        self.items
            .iter()
            .filter(|item| item.personal.is_some())
            .map(|item| {
                item.subject.as_ref().map(|s| {
                    (
                        self.text_at(s.id.clone()),
                        s.issuer.clone().map(|r| self.text_at(r)),
                    )
                })
            })
    }

    /// The text at `range` of the plaintext (a subject's id or issuer).
    fn text_at(&self, range: Range<usize>) -> &str {
        // Invariant: `range` is where `add` wrote a `&str`.
        std::str::from_utf8(self.personal.get(range).unwrap_or_default()).unwrap_or_default()
    }
}

/// The length of the plaintext [`encode_personal`] writes for these fields.
fn personal_len(
    subject: Option<(&str, Option<&str>)>,
    object_id: Option<&str>,
    text: Option<&str>,
) -> usize {
    let opt = |s: Option<&str>| s.map_or(1, |s| 5 + s.len());
    1 + subject.map_or(0, |(id, issuer)| 4 + id.len() + opt(issuer)) + opt(object_id) + opt(text)
}

/// One event of a batch, as [`crate::AuditLog::stage_encoded`] reads it.
/// No `Debug`: it holds personal fields in clear.
pub(crate) struct Encoded<'a> {
    /// The canonical bytes of its clear fields.
    pub(crate) clear: &'a [u8],
    /// The plaintext of its personal fields, if it has any.
    pub(crate) personal: Option<&'a [u8]>,
    /// When it was recorded.
    pub(crate) recorded: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;

    /// The plaintext of every push fits the room made for it (so the
    /// buffer never grows behind [`EventBatch::reserve_personal`]'s back).
    #[test]
    fn room_is_made_for_exactly_the_plaintext() {
        let mut batch = EventBatch::new();
        for i in 0..50 {
            let event = sample(&format!("P-{i}"));
            let before = batch.personal.len();
            batch.push(&event).unwrap();
            let subject = event.subject().map(|s| (s.expose(), s.issuer()));
            let object = event.object().map(|o| o.id.expose());
            let text = event.text().map(FreeText::expose);
            assert_eq!(
                batch.personal.len() - before,
                personal_len(subject, object, text)
            );
        }
    }

    /// The subject each event is sealed for is the one pushed.
    #[test]
    fn each_event_names_its_subject() {
        let mut batch = EventBatch::new();
        let mut want = Vec::new();
        for i in 0..20 {
            let event = sample(&format!("P-é{i}"));
            batch.push(&event).unwrap();
            let s = event
                .subject()
                .map(|s| (s.expose().to_owned(), s.issuer().map(str::to_owned)));
            want.push(s);
        }
        let got: Vec<_> = batch
            .sealed_subjects()
            .map(|s| s.map(|(id, issuer)| (id.to_owned(), issuer.map(str::to_owned))))
            .collect();
        assert_eq!(got, want);
        assert!(want.iter().all(Option::is_some));
    }

    #[test]
    fn debug_shows_no_personal_field() {
        let event = sample("CANARY-3");
        let mut batch = EventBatch::new();
        batch.push(&event).unwrap();
        let shown = format!("{batch:?} {:?}", fields::tests::fields(&event));
        assert!(
            !shown.contains("CANARY") && !shown.contains("dr.who"),
            "{shown}"
        );
        batch.clear();
        assert!(batch.is_empty() && batch.personal.is_empty());
    }
}
