//! The sealed record: an [`AuditEvent`] as it is stored and hashed — its
//! position in the log, the hash of the previous record, the clear fields,
//! and the personal fields encrypted ([`SealedFields`]).
//!
//! # Canonical encoding, version 1
//!
//! All integers big-endian; `str` = `u32` length + UTF-8; `opt` = tag byte
//! `0`/`1` + value; names are the kebab-case serde names.
//!
//! ```text
//! u8     version (1)
//! u64    position, 0-based
//! [32]   prev: RFC 9162 leaf hash of the previous record (zeros at 0)
//! i128   recorded, nanoseconds since the Unix epoch
//! str    event type · str action · str outcome
//! str    actor id · str actor role · u8 secrecy kind (0 none,
//!        1 professional, 2 under responsibility, 3 other legal duty)
//!        [+ str citation when kind != 0]
//! str    purpose
//! u8     basis kind (1 ordinary: str art6 | 2 special: str art6, str art9,
//!        u32 n, n × (str jurisdiction, str citation, str summary))
//! opt    str object kind
//! str    source · opt str tenant · opt str correlation id
//! opt    sealed: [16] key id, [24] nonce, bytes ciphertext
//! ```
//!
//! [`Record::decode`] accepts exactly the outputs of [`Record::encode`]:
//! every field is validated with its type's own rules and trailing bytes
//! are rejected.

use gdpr_core::Citation;
use gdpr_core::actor::{Actor, Role, Secrecy};
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use jiff::Timestamp;

use crate::Error;
use crate::action::{Action, EventType, Outcome};
use crate::encoding::Writer;
use crate::event::AuditEvent;
use crate::label::{CorrelationId, SourceSystem, TenantId};
use crate::object::ObjectKind;
use crate::seal::SealedFields;
use crate::view::RecordView;

/// The version byte of the canonical record encoding.
pub const RECORD_VERSION: u8 = 1;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// One stored audit record. Personal fields are only present encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    position: u64,
    prev: Hash,
    recorded: Timestamp,
    event_type: EventType,
    action: Action,
    outcome: Outcome,
    actor: Actor,
    purpose: Purpose,
    lawful_basis: LawfulBasis,
    object_kind: Option<ObjectKind>,
    source: SourceSystem,
    tenant: Option<TenantId>,
    correlation_id: Option<CorrelationId>,
    sealed: Option<SealedFields>,
}

impl Record {
    /// The record of `event` at `position`, linked to `prev`, with the
    /// event's personal fields already sealed into `sealed`.
    ///
    /// # Errors
    /// [`Error::InvalidField`] when the event holds a lawful basis or
    /// secrecy kind that this version cannot encode.
    pub fn new(
        event: &AuditEvent,
        position: u64,
        prev: Hash,
        sealed: Option<SealedFields>,
    ) -> Result<Self, Error> {
        check_basis(event.lawful_basis())?;
        secrecy_kind(&event.actor().secrecy)?;
        Ok(Self {
            position,
            prev,
            recorded: event.recorded(),
            event_type: event.event_type(),
            action: event.action(),
            outcome: event.outcome(),
            actor: event.actor().clone(),
            purpose: event.purpose(),
            lawful_basis: event.lawful_basis().clone(),
            object_kind: event.object().map(|o| o.kind),
            source: event.source().clone(),
            tenant: event.tenant().cloned(),
            correlation_id: event.correlation_id().cloned(),
            sealed,
        })
    }

    /// The 0-based position in the log.
    pub fn position(&self) -> u64 {
        self.position
    }
    /// The leaf hash of the previous record.
    pub fn prev(&self) -> &Hash {
        &self.prev
    }
    /// When the event was recorded.
    pub fn recorded(&self) -> Timestamp {
        self.recorded
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
    /// Who did it (the id redacts in `Debug`).
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
    /// The kind of the object acted on (its id is sealed).
    pub fn object_kind(&self) -> Option<ObjectKind> {
        self.object_kind
    }
    /// The reporting system.
    pub fn source(&self) -> &SourceSystem {
        &self.source
    }
    /// The tenant.
    pub fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }
    /// The correlation id.
    pub fn correlation_id(&self) -> Option<&CorrelationId> {
        self.correlation_id.as_ref()
    }
    /// The encrypted personal fields, if the event had any.
    pub fn sealed(&self) -> Option<&SealedFields> {
        self.sealed.as_ref()
    }

    /// The canonical bytes (the bytes that are hashed).
    pub fn encode(&self) -> Vec<u8> {
        let clear = Clear {
            recorded: self.recorded,
            event_type: self.event_type,
            action: self.action,
            outcome: self.outcome,
            actor_id: self.actor.id.expose(),
            role: self.actor.role,
            // Invariant: checked in `Record::new` / `decode`.
            secrecy_kind: secrecy_kind(&self.actor.secrecy).unwrap_or(0),
            secrecy_source: self.actor.secrecy.source().map(Citation::as_str),
            purpose: self.purpose,
            lawful_basis: &self.lawful_basis,
            object_kind: self.object_kind,
            source: self.source.as_str(),
            tenant: self.tenant.as_ref().map(TenantId::as_str),
            correlation_id: self.correlation_id.as_ref().map(CorrelationId::as_str),
        };
        encode_parts(self.position, &self.prev, &clear, self.sealed.as_ref())
    }

    /// The canonical bytes of `Record::new(event, position, prev, sealed)`
    /// without building the record (no copy of the event's fields).
    ///
    /// # Errors
    /// As [`Record::new`].
    #[cfg(test)]
    pub(crate) fn encode_event(
        event: &AuditEvent,
        position: u64,
        prev: &Hash,
        sealed: Option<&SealedFields>,
    ) -> Result<Vec<u8>, Error> {
        let clear = Clear::of_event(event)?;
        Ok(encode_parts(position, prev, &clear, sealed))
    }

    /// Decodes canonical bytes.
    ///
    /// # Errors
    /// [`Error::NonCanonical`] for anything [`Record::encode`] would not
    /// have produced.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        RecordView::parse(bytes)?.to_record()
    }

    pub(crate) fn from_parts(p: Parts) -> Self {
        Self {
            position: p.position,
            prev: p.prev,
            recorded: p.recorded,
            event_type: p.event_type,
            action: p.action,
            outcome: p.outcome,
            actor: p.actor,
            purpose: p.purpose,
            lawful_basis: p.lawful_basis,
            object_kind: p.object_kind,
            source: p.source,
            tenant: p.tenant,
            correlation_id: p.correlation_id,
            sealed: p.sealed,
        }
    }
}

/// The fields of a record, for [`Record::from_parts`].
pub(crate) struct Parts {
    pub(crate) position: u64,
    pub(crate) prev: Hash,
    pub(crate) recorded: Timestamp,
    pub(crate) event_type: EventType,
    pub(crate) action: Action,
    pub(crate) outcome: Outcome,
    pub(crate) actor: Actor,
    pub(crate) purpose: Purpose,
    pub(crate) lawful_basis: LawfulBasis,
    pub(crate) object_kind: Option<ObjectKind>,
    pub(crate) source: SourceSystem,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) correlation_id: Option<CorrelationId>,
    pub(crate) sealed: Option<SealedFields>,
}

/// The bytes of a record from `recorded` to the correlation id: the
/// fields stored in clear, borrowed. [`crate::batch::EventBatch`] encodes
/// them when an event is pushed, ahead of the position, the previous hash
/// and the sealed fields ([`header`], [`Clear::encode`], [`sealed_tail`]).
pub(crate) struct Clear<'a> {
    pub(crate) recorded: Timestamp,
    pub(crate) event_type: EventType,
    pub(crate) action: Action,
    pub(crate) outcome: Outcome,
    pub(crate) actor_id: &'a str,
    pub(crate) role: Role,
    /// 0 none, 1 professional, 2 under responsibility, 3 other legal duty.
    pub(crate) secrecy_kind: u8,
    /// The citation of a secrecy kind other than 0.
    pub(crate) secrecy_source: Option<&'a str>,
    pub(crate) purpose: Purpose,
    pub(crate) lawful_basis: &'a LawfulBasis,
    pub(crate) object_kind: Option<ObjectKind>,
    pub(crate) source: &'a str,
    pub(crate) tenant: Option<&'a str>,
    pub(crate) correlation_id: Option<&'a str>,
}

impl<'a> Clear<'a> {
    /// The clear fields of `event`.
    ///
    /// # Errors
    /// As [`Record::new`].
    pub(crate) fn of_event(event: &'a AuditEvent) -> Result<Self, Error> {
        check_basis(event.lawful_basis())?;
        let actor = event.actor();
        Ok(Self {
            recorded: event.recorded(),
            event_type: event.event_type(),
            action: event.action(),
            outcome: event.outcome(),
            actor_id: actor.id.expose(),
            role: actor.role,
            secrecy_kind: secrecy_kind(&actor.secrecy)?,
            secrecy_source: actor.secrecy.source().map(Citation::as_str),
            purpose: event.purpose(),
            lawful_basis: event.lawful_basis(),
            object_kind: event.object().map(|o| o.kind),
            source: event.source().as_str(),
            tenant: event.tenant().map(TenantId::as_str),
            correlation_id: event.correlation_id().map(CorrelationId::as_str),
        })
    }

    /// Appends the canonical bytes of these fields.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.i128(self.recorded.as_nanosecond());
        w.str(self.event_type.name());
        w.str(self.action.name());
        w.str(self.outcome.name());
        w.str(self.actor_id);
        w.str(crate::names::role(self.role));
        w.u8(self.secrecy_kind);
        if let Some(source) = self.secrecy_source {
            w.str(source);
        }
        w.str(self.purpose.name());
        match self.lawful_basis {
            LawfulBasis::Ordinary { art6 } => {
                w.u8(1);
                w.str(crate::names::art6(*art6));
            }
            LawfulBasis::SpecialCategory(pair) => {
                w.u8(2);
                w.str(crate::names::art6(pair.art6()));
                w.str(crate::names::art9(pair.art9()));
                w.u32(u32::try_from(pair.national().len()).unwrap_or(u32::MAX));
                for p in pair.national() {
                    w.str(&p.jurisdiction);
                    w.str(p.citation.as_str());
                    w.str(&p.summary);
                }
            }
            // Invariant: `check_basis` rejected every other kind.
            _ => w.u8(0),
        }
        w.opt_str(self.object_kind.map(ObjectKind::name));
        w.str(self.source);
        w.opt_str(self.tenant);
        w.opt_str(self.correlation_id);
    }
}

/// The bytes of a record before its clear fields: version, position and
/// the previous record's leaf hash.
pub(crate) fn header(w: &mut Writer, position: u64, prev: &Hash) {
    w.u8(RECORD_VERSION);
    w.u64(position);
    w.fixed(prev);
}

/// The last field of a record: the sealed fields, if any.
pub(crate) fn sealed_tail(w: &mut Writer, sealed: Option<&SealedFields>) {
    match sealed {
        None => w.u8(0),
        Some(s) => {
            w.u8(1);
            w.fixed(s.key_id().as_bytes());
            w.fixed(s.nonce());
            w.bytes(s.ciphertext());
        }
    }
}

/// The canonical bytes of a whole record.
fn encode_parts(
    position: u64,
    prev: &Hash,
    clear: &Clear<'_>,
    sealed: Option<&SealedFields>,
) -> Vec<u8> {
    let mut w = Writer::with_capacity(384);
    header(&mut w, position, prev);
    clear.encode(&mut w);
    sealed_tail(&mut w, sealed);
    w.into_bytes()
}

/// The secrecy kind byte of `secrecy`.
///
/// # Errors
/// [`Error::InvalidField`] for a kind this version cannot encode.
pub(crate) fn secrecy_kind(secrecy: &Secrecy) -> Result<u8, Error> {
    match secrecy {
        Secrecy::None => Ok(0),
        Secrecy::Professional { .. } => Ok(1),
        Secrecy::UnderResponsibility { .. } => Ok(2),
        Secrecy::OtherLegalDuty { .. } => Ok(3),
        _ => Err(Error::InvalidField {
            what: "actor secrecy",
            rule: "a secrecy kind this version of gdpr-audit can encode",
        }),
    }
}

/// Refuses a lawful basis kind this version cannot encode.
///
/// # Errors
/// [`Error::InvalidField`].
pub(crate) fn check_basis(basis: &LawfulBasis) -> Result<(), Error> {
    match basis {
        LawfulBasis::Ordinary { .. } | LawfulBasis::SpecialCategory(_) => Ok(()),
        _ => Err(Error::InvalidField {
            what: "lawful basis",
            rule: "a basis kind this version of gdpr-audit can encode",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;
    use crate::seal::KeyId;

    #[test]
    fn encode_decode_round_trip() {
        let event = sample("P-9");
        let sealed =
            SealedFields::from_parts(KeyId::from_bytes([7; 16]), [9; 24], vec![1; 40]).unwrap();
        let rec = Record::new(&event, 42, [3; 32], Some(sealed)).unwrap();
        let bytes = rec.encode();
        let back = Record::decode(&bytes).unwrap();
        assert_eq!(back, rec);
        assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn encode_event_is_the_encoding_of_the_record() {
        let event = sample("P-9");
        let sealed =
            SealedFields::from_parts(KeyId::from_bytes([7; 16]), [9; 24], vec![1; 40]).unwrap();
        let rec = Record::new(&event, 42, [3; 32], Some(sealed.clone())).unwrap();
        let direct = Record::encode_event(&event, 42, &[3; 32], Some(&sealed)).unwrap();
        assert_eq!(direct, rec.encode());
    }

    #[test]
    fn every_truncation_and_extension_is_rejected() {
        let rec = Record::new(&sample("P-9"), 1, [0; 32], None).unwrap();
        let bytes = rec.encode();
        for n in 0..bytes.len() {
            assert!(Record::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Record::decode(&longer).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the decoder accepts re-encodes to the same bytes: a
        /// mutated record is either rejected or canonical.
        #[test]
        fn accepted_bytes_are_canonical(at in 0usize..400, byte in proptest::prelude::any::<u8>(), op in 0u8..3) {
            let sealed = SealedFields::from_parts(KeyId::from_bytes([7; 16]), [9; 24], vec![1; 40]).unwrap();
            let mut bytes = Record::new(&sample("P-1"), 3, [4; 32], Some(sealed)).unwrap().encode();
            let i = at % bytes.len();
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
            let view = RecordView::parse(&bytes);
            let decoded = Record::decode(&bytes);
            proptest::prop_assert_eq!(view.is_ok(), decoded.is_ok());
            if let Ok(r) = decoded {
                proptest::prop_assert_eq!(r.encode(), bytes);
            }
        }
    }
}
