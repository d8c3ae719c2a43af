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
use crate::cause::Malformed;
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

/// Fields of the records parsed before, for [`RecordView::parse_seen`]:
/// in a log most names and labels repeat, and bytes identical to ones
/// already accepted need not be decoded and checked again. No `Debug`:
/// it holds staff ids.
#[derive(Default)]
pub(crate) struct Seen<'a> {
    event_type: Option<(&'a [u8], EventType)>,
    action: Option<(&'a [u8], Action)>,
    outcome: Option<(&'a [u8], Outcome)>,
    role: Option<(&'a [u8], Role)>,
    purpose: Option<(&'a [u8], Purpose)>,
    art6: Option<(&'a [u8], Art6Basis)>,
    art9: Option<(&'a [u8], Art9Condition)>,
    object_kind: Option<(&'a [u8], ObjectKind)>,
    actor_id: Option<&'a str>,
    secrecy_source: Option<&'a str>,
    source: Option<&'a str>,
    tenant: Option<&'a str>,
    correlation_id: Option<&'a str>,
}

/// A string field accepted by `ok` (else the error for `reason`),
/// skipping both the UTF-8 and the `ok` check when its bytes are `seen`'s.
fn checked_str<'a>(
    r: &mut Reader<'a>,
    seen: &mut Option<&'a str>,
    ok: impl Fn(&str) -> bool,
    reason: &'static str,
) -> Result<&'a str, Error> {
    if let Some(s) = r.str_seen(*seen) {
        return Ok(s);
    }
    let s = r.str()?;
    if !ok(s) {
        return Err(r.fail(reason));
    }
    *seen = Some(s);
    Ok(s)
}

/// `gdpr-core`'s actor-id rule (the one copy, [`ActorId::is_valid`]).
fn actor_id_ok(id: &str) -> bool {
    ActorId::is_valid(id)
}

fn label_ok(what: &'static str) -> impl Fn(&str) -> bool {
    move |s| check_label(s, what).is_ok()
}

/// Secrecy kind and citation (empty for kind 0).
fn secrecy<'a>(r: &mut Reader<'a>, seen: &mut Seen<'a>) -> Result<(u8, &'a str), Error> {
    let kind = r.u8()?;
    let source = match kind {
        0 => "",
        1..=3 => checked_str(r, &mut seen.secrecy_source, |_| true, "")?,
        _ => return Err(r.fail_as(Malformed::UnknownName, "unknown secrecy kind")),
    };
    Ok((kind, source))
}

/// A lawful basis as the view holds it: Art. 6 basis, Art. 9 condition
/// and national provisions.
type BasisParts<'a> = (
    Art6Basis,
    Option<Art9Condition>,
    Vec<(&'a str, &'a str, &'a str)>,
);

/// The lawful basis: kind 1 (Art. 6 only) or 2 (Art. 6 + Art. 9 with
/// national provisions).
fn lawful_basis<'a>(r: &mut Reader<'a>, seen: &mut Seen<'a>) -> Result<BasisParts<'a>, Error> {
    match r.u8()? {
        1 => Ok((
            r.name_seen("unknown Art. 6 basis", &mut seen.art6)?,
            None,
            Vec::new(),
        )),
        2 => {
            let art6 = r.name_seen("unknown Art. 6 basis", &mut seen.art6)?;
            let art9 = r.name_seen("unknown Art. 9 condition", &mut seen.art9)?;
            let n = r.u32()?;
            let mut national = Vec::new();
            for _ in 0..n {
                national.push((r.str()?, r.str()?, r.str()?));
            }
            Ok((art6, Some(art9), national))
        }
        _ => Err(r.fail_as(Malformed::UnknownName, "unknown lawful basis kind")),
    }
}

/// A tagged optional label (`what` names it for the label rule; `reason`
/// is the error when it breaks the rule).
fn optional_label<'a>(
    r: &mut Reader<'a>,
    seen: &mut Option<&'a str>,
    what: &'static str,
    reason: &'static str,
) -> Result<Option<&'a str>, Error> {
    if r.tag()? {
        Ok(Some(checked_str(r, seen, label_ok(what), reason)?))
    } else {
        Ok(None)
    }
}

/// Sealed fields as the view holds them: key id, nonce, ciphertext.
type SealedParts<'a> = ([u8; 16], [u8; 24], &'a [u8]);

/// The tagged sealed fields: key id, nonce, ciphertext (at least its tag).
fn sealed<'a>(r: &mut Reader<'a>) -> Result<Option<SealedParts<'a>>, Error> {
    if !r.tag()? {
        return Ok(None);
    }
    let key_id = r.array::<16>()?;
    let nonce = r.array::<24>()?;
    let ciphertext = r.bytes()?;
    if ciphertext.len() < 16 {
        return Err(r.fail("ciphertext shorter than its tag"));
    }
    Ok(Some((key_id, nonce, ciphertext)))
}

impl<'a> RecordView<'a> {
    /// Parses and validates canonical record bytes.
    ///
    /// # Errors
    /// [`Error::NonCanonical`] for anything the encoder would not produce.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::parse_seen(bytes, &mut Seen::default())
    }

    /// [`RecordView::parse`], reusing what `seen` holds of records parsed
    /// before (same verdict, same view, same errors).
    pub(crate) fn parse_seen(bytes: &'a [u8], seen: &mut Seen<'a>) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "record");
        if r.u8()? != RECORD_VERSION {
            return Err(r.fail_as(Malformed::UnknownVersion, "unknown record version"));
        }
        let position = r.u64()?;
        let prev = r.array::<32>()?;
        let recorded =
            Timestamp::from_nanosecond(r.i128()?).map_err(|_| r.fail("timestamp out of range"))?;
        let event_type = r.name_seen("unknown event type", &mut seen.event_type)?;
        let action = r.name_seen("unknown action", &mut seen.action)?;
        let outcome = r.name_seen("unknown outcome", &mut seen.outcome)?;
        let actor_id = checked_str(&mut r, &mut seen.actor_id, actor_id_ok, "invalid actor id")?;
        let role = r.name_seen("unknown role", &mut seen.role)?;
        let (secrecy_kind, secrecy_source) = secrecy(&mut r, seen)?;
        let purpose = r.name_seen("unknown purpose", &mut seen.purpose)?;
        let (art6, art9, national) = lawful_basis(&mut r, seen)?;
        let object_kind = if r.tag()? {
            Some(r.name_seen("unknown object kind", &mut seen.object_kind)?)
        } else {
            None
        };
        let source = checked_str(
            &mut r,
            &mut seen.source,
            label_ok("source system"),
            "invalid source system",
        )?;
        let tenant = optional_label(&mut r, &mut seen.tenant, "tenant id", "invalid tenant")?;
        let correlation_id = optional_label(
            &mut r,
            &mut seen.correlation_id,
            "correlation id",
            "invalid correlation id",
        )?;
        let sealed = sealed(&mut r)?;
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
        let bad = |detail| Error::NonCanonical {
            what: "record",
            offset: 0,
            cause: Malformed::InvalidField,
            detail,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;
    use crate::record::Record;
    use crate::seal::{KeyId, SealedFields};

    fn shown(r: Result<RecordView<'_>, Error>) -> Result<RecordView<'_>, String> {
        r.map_err(|e| e.to_string())
    }

    /// The base record (with and without optional fields) and every
    /// one-byte edit of it, each with the text of its verdict.
    fn verdicts() -> String {
        let sealed =
            SealedFields::from_parts(KeyId::from_bytes([7; 16]), [9; 24], vec![1; 40]).unwrap();
        let full = Record::new(&sample("P-1"), 3, [4; 32], Some(sealed)).unwrap();
        let e = sample("P-2");
        let sparse = crate::event::AuditEvent::builder(
            e.event_type(),
            e.action(),
            e.actor().clone(),
            e.purpose(),
            gdpr_core::basis::LawfulBasis::Ordinary {
                art6: Art6Basis::LegalObligation,
            },
            e.source().clone(),
        )
        .build(e.recorded());
        let sparse = Record::new(&sparse, 0, [0; 32], None).unwrap();
        let mut out = String::new();
        for base in [full.encode(), sparse.encode()] {
            for i in 0..=base.len() {
                for (op, byte) in [(0, 0x00), (0, 0x02), (0, 0xff), (1, 0x01), (2, 0)] {
                    let mut bytes = base.clone();
                    match op {
                        0 if i < bytes.len() => bytes[i] = byte,
                        1 => bytes.insert(i, byte),
                        2 if i < bytes.len() => {
                            bytes.remove(i);
                        }
                        _ => {}
                    }
                    let mut seen = Seen::default();
                    let fresh = shown(RecordView::parse(&bytes));
                    assert!(RecordView::parse_seen(&base, &mut seen).is_ok());
                    assert_eq!(shown(RecordView::parse_seen(&bytes, &mut seen)), fresh);
                    out.push_str(&format!("{i} {op} {byte}: {fresh:?}\n"));
                }
            }
        }
        out
    }

    /// Pins what parsing makes of the canonical bytes and of every one-byte
    /// edit of them. `GDPR_BLESS=1` rewrites the expected file.
    #[test]
    fn parse_verdicts_are_pinned() {
        let got = verdicts();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/testdata/record-view.golden");
        if std::env::var_os("GDPR_BLESS").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap();
        assert!(
            got == want,
            "parse changed; diff {} against the output",
            path.display()
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Parsing with what earlier records left in `Seen` gives exactly
        /// the result of parsing alone (the same view or the same error),
        /// whatever mix of intact and mutated records came before.
        #[test]
        fn parsing_after_other_records_changes_nothing(
            edits in proptest::collection::vec((0usize..400, proptest::prelude::any::<u8>(), 0u8..4), 1..12)
        ) {
            let sealed = SealedFields::from_parts(KeyId::from_bytes([7; 16]), [9; 24], vec![1; 40]).unwrap();
            let base = Record::new(&sample("P-1"), 3, [4; 32], Some(sealed)).unwrap().encode();
            let records: Vec<Vec<u8>> = edits
                .iter()
                .map(|&(at, byte, op)| {
                    let mut bytes = base.clone();
                    let i = at % bytes.len();
                    match op {
                        0 => bytes[i] = byte,
                        1 => bytes.insert(i, byte),
                        2 => { bytes.remove(i); }
                        _ => {} // intact
                    }
                    bytes
                })
                .collect();
            let mut seen = Seen::default();
            for bytes in &records {
                proptest::prop_assert_eq!(
                    shown(RecordView::parse_seen(bytes, &mut seen)),
                    shown(RecordView::parse(bytes))
                );
            }
        }
    }
}
