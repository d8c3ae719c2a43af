//! A borrowed, validated view of a canonical record: what strict
//! verification needs, without allocating. [`RecordView::parse`] accepts
//! exactly the bytes [`crate::record::Record::decode`] accepts (a property
//! test holds them equal); [`RecordView::to_record`] builds the owned form.

use gdpr_core::Citation;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis, NationalProvision};
use gdpr_core::purpose::Purpose;
use jiff::Timestamp;

use crate::Error;
use crate::action::{Action, EventType, Outcome};
use crate::encoding::Reader;
use crate::label::{CorrelationId, SourceSystem, TenantId, check_label};
use crate::object::ObjectKind;
use crate::record::{Hash, RECORD_VERSION, Record};
use crate::seal::{KeyId, SealedFields};

/// The fields of a record, borrowed from its canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Position in the log.
    pub position: u64,
    /// Leaf hash of the previous record.
    pub prev: Hash,
    /// Recorded time.
    pub recorded: Timestamp,
    /// Event type.
    pub event_type: EventType,
    /// Action.
    pub action: Action,
    /// Outcome.
    pub outcome: Outcome,
    /// Actor id (personal data of staff; do not log).
    pub actor_id: &'a str,
    /// Actor role.
    pub role: Role,
    /// Secrecy kind (0 none, 1 professional, 2 under responsibility, 3 other).
    pub secrecy_kind: u8,
    /// Secrecy citation (empty for kind 0).
    pub secrecy_source: &'a str,
    /// Purpose.
    pub purpose: Purpose,
    /// Art. 6 basis.
    pub art6: Art6Basis,
    /// Art. 9 condition, for special-category data.
    pub art9: Option<Art9Condition>,
    /// National provisions (jurisdiction, citation, summary).
    pub national: Vec<(&'a str, &'a str, &'a str)>,
    /// Object kind.
    pub object_kind: Option<ObjectKind>,
    /// Source system.
    pub source: &'a str,
    /// Tenant.
    pub tenant: Option<&'a str>,
    /// Correlation id.
    pub correlation_id: Option<&'a str>,
    /// Sealed fields: key id, nonce, ciphertext.
    pub sealed: Option<([u8; 16], [u8; 24], &'a [u8])>,
}

fn actor_id_ok(id: &str) -> bool {
    // gdpr_core::actor::ActorId::new's rule.
    !id.is_empty() && id.len() <= 256 && !id.chars().any(char::is_control)
}

impl<'a> RecordView<'a> {
    /// Parses and validates canonical record bytes.
    ///
    /// # Errors
    /// [`Error::NonCanonical`] for anything the encoder would not produce.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "record");
        if r.u8()? != RECORD_VERSION {
            return Err(r.fail("unknown record version"));
        }
        let position = r.u64()?;
        let prev = r.array::<32>()?;
        let recorded =
            Timestamp::from_nanosecond(r.i128()?).map_err(|_| r.fail("timestamp out of range"))?;
        let event_type = r.name("unknown event type")?;
        let action = r.name("unknown action")?;
        let outcome = r.name("unknown outcome")?;
        let actor_id = r.str()?;
        if !actor_id_ok(actor_id) {
            return Err(r.fail("invalid actor id"));
        }
        let role = r.name("unknown role")?;
        let secrecy_kind = r.u8()?;
        let secrecy_source = match secrecy_kind {
            0 => "",
            1..=3 => r.str()?,
            _ => return Err(r.fail("unknown secrecy kind")),
        };
        let purpose = r.name("unknown purpose")?;
        let (art6, art9, national) = match r.u8()? {
            1 => (r.name("unknown Art. 6 basis")?, None, Vec::new()),
            2 => {
                let art6 = r.name("unknown Art. 6 basis")?;
                let art9 = r.name("unknown Art. 9 condition")?;
                let n = r.u32()?;
                let mut national = Vec::new();
                for _ in 0..n {
                    national.push((r.str()?, r.str()?, r.str()?));
                }
                (art6, Some(art9), national)
            }
            _ => return Err(r.fail("unknown lawful basis kind")),
        };
        let object_kind = if r.tag()? {
            Some(r.name("unknown object kind")?)
        } else {
            None
        };
        let source = r.str()?;
        check_label(source, "source system").map_err(|_| r.fail("invalid source system"))?;
        let tenant = r.opt_str()?;
        if let Some(t) = tenant {
            check_label(t, "tenant id").map_err(|_| r.fail("invalid tenant"))?;
        }
        let correlation_id = r.opt_str()?;
        if let Some(c) = correlation_id {
            check_label(c, "correlation id").map_err(|_| r.fail("invalid correlation id"))?;
        }
        let sealed = if r.tag()? {
            let key_id = r.array::<16>()?;
            let nonce = r.array::<24>()?;
            let ciphertext = r.bytes()?;
            if ciphertext.len() < 16 {
                return Err(r.fail("ciphertext shorter than its tag"));
            }
            Some((key_id, nonce, ciphertext))
        } else {
            None
        };
        r.finish()?;
        Ok(Self {
            position,
            prev,
            recorded,
            event_type,
            action,
            outcome,
            actor_id,
            role,
            secrecy_kind,
            secrecy_source,
            purpose,
            art6,
            art9,
            national,
            object_kind,
            source,
            tenant,
            correlation_id,
            sealed,
        })
    }

    /// The owned record.
    ///
    /// # Errors
    /// [`Error::NonCanonical`] if a field breaks its owning type's rule.
    pub fn to_record(&self) -> Result<Record, Error> {
        let bad = |reason| Error::NonCanonical {
            what: "record",
            offset: 0,
            reason,
        };
        let source = || Citation::new(self.secrecy_source);
        let secrecy = match self.secrecy_kind {
            0 => Secrecy::None,
            1 => Secrecy::Professional { source: source() },
            2 => Secrecy::UnderResponsibility { source: source() },
            _ => Secrecy::OtherLegalDuty { source: source() },
        };
        let actor = Actor {
            id: ActorId::new(self.actor_id).map_err(|_| bad("invalid actor id"))?,
            role: self.role,
            secrecy,
        };
        let lawful_basis = match self.art9 {
            None => LawfulBasis::Ordinary { art6: self.art6 },
            Some(art9) => LawfulBasis::SpecialCategory(
                self.national
                    .iter()
                    .fold(HealthBasis::new(self.art6, art9), |pair, (j, c, s)| {
                        pair.with_national(NationalProvision::new(*j, *c, *s))
                    }),
            ),
        };
        let sealed = self
            .sealed
            .map(|(k, n, c)| SealedFields::from_parts(KeyId::from_bytes(k), n, c.to_vec()))
            .transpose()?;
        Ok(Record::from_parts(crate::record::Parts {
            position: self.position,
            prev: self.prev,
            recorded: self.recorded,
            event_type: self.event_type,
            action: self.action,
            outcome: self.outcome,
            actor,
            purpose: self.purpose,
            lawful_basis,
            object_kind: self.object_kind,
            source: SourceSystem::new(self.source)?,
            tenant: self.tenant.map(TenantId::new).transpose()?,
            correlation_id: self.correlation_id.map(CorrelationId::new).transpose()?,
            sealed,
        }))
    }
}
