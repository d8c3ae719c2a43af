//! One input line of `gdpr audit append` parsed straight into an
//! [`AuditEvent`]: typed fields (no `serde_json::Value` in between), unknown
//! fields refused, duplicate keys refused at every depth, `recorded`
//! defaulting to the time of the append.
//!
//! A line is first read in its common shape, where every object is a
//! struct that refuses unknown fields: serde then refuses any repeated key
//! itself, so such a line needs no scan for duplicates. Any other line is
//! scanned for duplicate keys and read with the full types.

use gdpr_audit::action::{Action, EventType, Outcome};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::{CorrelationId, SourceSystem, TenantId};
use gdpr_audit::object::{FreeText, ObjectId, ObjectKind, ObjectRef};
use gdpr_core::Citation;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis, NationalProvision};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use serde::Deserialize;

/// The serde form of [`AuditEvent`] with `recorded` optional.
///
/// `A`, `B` and `O` are the types `actor`, `lawful_basis` and `object` are
/// read as: [`Actor`], [`LawfulBasis`] and [`ObjectRef`] themselves, or
/// their strict forms [`StrictActor`], [`StrictBasis`] and
/// [`StrictObject`], which serde reads without buffering (an internally
/// tagged enum is first copied into a buffer of its own) and which refuse
/// unknown fields, so that serde refuses every repeated key.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "A: Deserialize<'de>, B: Deserialize<'de>, O: Deserialize<'de>")
)]
struct EventLine<A = Actor, B = LawfulBasis, O = ObjectRef> {
    event_type: EventType,
    action: Action,
    outcome: Outcome,
    #[serde(default)]
    recorded: Option<Timestamp>,
    actor: A,
    purpose: Purpose,
    lawful_basis: B,
    #[serde(default)]
    subject: Option<PatientId>,
    #[serde(default)]
    object: Option<O>,
    source: SourceSystem,
    #[serde(default)]
    tenant: Option<TenantId>,
    #[serde(default)]
    correlation_id: Option<CorrelationId>,
    #[serde(default)]
    text: Option<FreeText>,
}

impl<A: Into<Actor>, B: Into<LawfulBasis>, O: Into<ObjectRef>> EventLine<A, B, O> {
    fn into_event(self, now: impl FnOnce() -> Timestamp) -> AuditEvent {
        let mut b = AuditEvent::builder(
            self.event_type,
            self.action,
            self.actor.into(),
            self.purpose,
            self.lawful_basis.into(),
            self.source,
        )
        .outcome(self.outcome);
        if let Some(s) = self.subject {
            b = b.subject(s);
        }
        if let Some(o) = self.object {
            b = b.object(o.into());
        }
        if let Some(t) = self.tenant {
            b = b.tenant(t);
        }
        if let Some(c) = self.correlation_id {
            b = b.correlation_id(c);
        }
        if let Some(t) = self.text {
            b = b.text(t);
        }
        b.build(self.recorded.unwrap_or_else(now))
    }
}

/// The common shape of an actor, all fields required, nothing else
/// allowed. Whatever it refuses is read again as an [`Actor`], which
/// decides (and words any error).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictActor {
    id: ActorId,
    role: Role,
    secrecy: StrictSecrecy,
}

/// [`Secrecy`] with `kind` as a plain field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictSecrecy {
    kind: SecrecyKind,
    #[serde(default)]
    source: Option<Citation>,
}

/// The `kind` names of [`Secrecy`].
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SecrecyKind {
    None,
    Professional,
    UnderResponsibility,
    OtherLegalDuty,
}

/// [`LawfulBasis`] with `kind` as a plain field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictBasis {
    kind: BasisKind,
    art6: Art6Basis,
    #[serde(default)]
    art9: Option<Art9Condition>,
    #[serde(default)]
    national: Vec<StrictNational>,
}

/// [`NationalProvision`] refusing unknown fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictNational {
    jurisdiction: String,
    citation: Citation,
    summary: String,
    #[serde(default)]
    purposes: Vec<Purpose>,
}

impl From<StrictNational> for NationalProvision {
    fn from(n: StrictNational) -> Self {
        NationalProvision {
            jurisdiction: n.jurisdiction,
            citation: n.citation,
            summary: n.summary,
            purposes: n.purposes,
        }
    }
}

/// [`ObjectRef`] refusing unknown fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictObject {
    kind: ObjectKind,
    id: ObjectId,
}

impl From<StrictObject> for ObjectRef {
    fn from(o: StrictObject) -> Self {
        ObjectRef {
            kind: o.kind,
            id: o.id,
        }
    }
}

/// The `kind` names of [`LawfulBasis`].
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum BasisKind {
    Ordinary,
    SpecialCategory,
}

/// A strict form that is not the value its full type would read (a
/// field missing or out of place): the line is read again with the full
/// types.
struct NotStrict;

impl TryFrom<StrictActor> for Actor {
    type Error = NotStrict;
    fn try_from(a: StrictActor) -> Result<Self, NotStrict> {
        let secrecy = match (a.secrecy.kind, a.secrecy.source) {
            (SecrecyKind::None, None) => Secrecy::None,
            (SecrecyKind::Professional, Some(source)) => Secrecy::Professional { source },
            (SecrecyKind::UnderResponsibility, Some(source)) => {
                Secrecy::UnderResponsibility { source }
            }
            (SecrecyKind::OtherLegalDuty, Some(source)) => Secrecy::OtherLegalDuty { source },
            _ => return Err(NotStrict),
        };
        Ok(Actor {
            id: a.id,
            role: a.role,
            secrecy,
        })
    }
}

impl TryFrom<StrictBasis> for LawfulBasis {
    type Error = NotStrict;
    fn try_from(b: StrictBasis) -> Result<Self, NotStrict> {
        match (b.kind, b.art9) {
            (BasisKind::Ordinary, None) if b.national.is_empty() => {
                Ok(LawfulBasis::Ordinary { art6: b.art6 })
            }
            (BasisKind::SpecialCategory, Some(art9)) => Ok(LawfulBasis::SpecialCategory(
                b.national
                    .into_iter()
                    .map(NationalProvision::from)
                    .fold(HealthBasis::new(b.art6, art9), HealthBasis::with_national),
            )),
            _ => Err(NotStrict),
        }
    }
}

impl EventLine<StrictActor, StrictBasis, StrictObject> {
    /// The line with the full types, if the strict forms hold their values.
    fn widen(self) -> Result<EventLine, NotStrict> {
        Ok(EventLine {
            event_type: self.event_type,
            action: self.action,
            outcome: self.outcome,
            recorded: self.recorded,
            actor: self.actor.try_into()?,
            purpose: self.purpose,
            lawful_basis: self.lawful_basis.try_into()?,
            subject: self.subject,
            object: self.object.map(ObjectRef::from),
            source: self.source,
            tenant: self.tenant,
            correlation_id: self.correlation_id,
            text: self.text,
        })
    }
}

/// The keys an audit event's JSON form uses, at any depth: a duplicate of
/// one of them is named in the error; any other key is not (it could be a
/// value typed in the wrong place).
const FIELD_NAMES: &[&str] = &[
    "event_type",
    "action",
    "outcome",
    "recorded",
    "actor",
    "purpose",
    "lawful_basis",
    "subject",
    "object",
    "source",
    "tenant",
    "correlation_id",
    "text",
    "id",
    "role",
    "secrecy",
    "kind",
    "art6",
    "art9",
    "national",
    "jurisdiction",
    "citation",
    "summary",
    "issuer",
];

/// Why a line is not an event. Its `Display` never shows input values.
#[derive(Debug)]
pub(crate) enum LineFault {
    /// The same key twice in one object (its name if it is a field name).
    DuplicateKey(Option<&'static str>),
    /// Not the JSON form of an event (the parser's message, quoted
    /// fragments removed).
    Invalid(String),
}

impl std::fmt::Display for LineFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DuplicateKey(Some(name)) => write!(f, "duplicate key `{name}`"),
            Self::DuplicateKey(None) => {
                f.write_str("duplicate key (not a field name of an event, so not shown)")
            }
            Self::Invalid(msg) => f.write_str(msg),
        }
    }
}

/// Parses lines into events, reusing its scratch space between lines.
#[derive(Default)]
pub(crate) struct EventParser {
    objects: Vec<usize>,
    keys: Vec<(usize, usize)>,
}

impl EventParser {
    /// Parses one line; `now` gives `recorded` when the line has none.
    ///
    /// # Errors
    /// [`LineFault`] for a duplicate key, malformed JSON, an unknown or
    /// missing field or an invalid value.
    pub(crate) fn parse(
        &mut self,
        line: &[u8],
        now: impl FnOnce() -> Timestamp,
    ) -> Result<AuditEvent, LineFault> {
        // One UTF-8 check of the whole line, then the `&str` parser, which
        // does not check each string again.
        let text = std::str::from_utf8(line).ok();
        // The common shape: every object refuses unknown fields, so serde
        // has refused any repeated key (see the module's documentation).
        if let Some(l) = text
            .and_then(|t| {
                serde_json::from_str::<EventLine<StrictActor, StrictBasis, StrictObject>>(t).ok()
            })
            .and_then(|l| l.widen().ok())
        {
            return Ok(l.into_event(now));
        }
        if let Some(key) = self.duplicate_key(line) {
            let name = FIELD_NAMES.iter().copied().find(|n| n.as_bytes() == key);
            return Err(LineFault::DuplicateKey(name));
        }
        // Not the common shape: the full types read it (or say what is
        // wrong with it); a line that is not UTF-8 takes the byte parser.
        let parsed = match text {
            Some(t) => serde_json::from_str::<EventLine>(t),
            None => serde_json::from_slice::<EventLine>(line),
        };
        match parsed {
            Ok(e) => Ok(e.into_event(now)),
            Err(e) => Err(fault(&e.to_string())),
        }
    }

    /// The first key (raw bytes between its quotes) that occurs twice in
    /// one object, if any. Malformed JSON is left to the parser.
    fn duplicate_key<'a>(&mut self, line: &'a [u8]) -> Option<&'a [u8]> {
        // `objects`: for each open container, where its keys start in
        // `keys` (usize::MAX for an array); `expect_key`: the next string
        // of the innermost object is a key.
        self.objects.clear();
        self.keys.clear();
        let mut expect_key = false;
        let mut i = 0;
        while let Some(&b) = line.get(i) {
            match b {
                b'{' => {
                    self.objects.push(self.keys.len());
                    expect_key = true;
                }
                b'[' => {
                    self.objects.push(usize::MAX);
                    expect_key = false;
                }
                b'}' | b']' => {
                    if let Some(start) = self.objects.pop()
                        && start != usize::MAX
                    {
                        self.keys.truncate(start);
                    }
                    expect_key = false;
                }
                b',' => expect_key = self.objects.last().is_some_and(|&s| s != usize::MAX),
                b'"' => {
                    let start = i + 1;
                    i = string_end(line, start);
                    if expect_key && let Some(&first) = self.objects.last() {
                        let key = line.get(start..i).unwrap_or_default();
                        let seen = self.keys.get(first..).unwrap_or_default();
                        if seen.iter().any(|&(a, z)| line.get(a..z) == Some(key)) {
                            return Some(key);
                        }
                        self.keys.push((start, i));
                    }
                    expect_key = false;
                }
                _ => {}
            }
            i += 1;
        }
        None
    }
}

/// The index of the quote closing the string that starts at `start` (or
/// the line's length if it is unterminated).
fn string_end(line: &[u8], start: usize) -> usize {
    let mut i = start;
    while let Some(&b) = line.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    line.len()
}

/// A parser message without input values; serde's duplicate-field message
/// keeps the field name (one of the schema's own).
fn fault(msg: &str) -> LineFault {
    if let Some(rest) = msg.strip_prefix("duplicate field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        let name = FIELD_NAMES.iter().copied().find(|n| *n == name);
        return LineFault::DuplicateKey(name);
    }
    LineFault::Invalid(crate::audit::sanitize(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../../docs/samples/audit-events.jsonl");

    fn parse(line: &str) -> Result<AuditEvent, LineFault> {
        EventParser::default().parse(line.as_bytes(), || Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn parses_like_the_serde_form_of_audit_event() {
        for line in SAMPLE.lines() {
            let ours = parse(line).unwrap();
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v.as_object_mut()
                .unwrap()
                .entry("recorded")
                .or_insert_with(|| Timestamp::UNIX_EPOCH.to_string().into());
            let theirs: AuditEvent = serde_json::from_value(v).unwrap();
            assert_eq!(ours, theirs);
        }
    }

    /// Every key of every sample line, duplicated in place (at any depth),
    /// is refused and named.
    #[test]
    fn every_duplicated_key_is_refused_and_named() {
        let mut tried = 0;
        for line in SAMPLE.lines() {
            for (at, _) in line.match_indices("\":") {
                let start = line[..at].rfind('"').unwrap();
                let key = &line[start + 1..at];
                let value_end = line[at..].find([',', '}']).unwrap() + at;
                // `"key":value,` inserted again right after the first one.
                let pair = &line[start..value_end];
                let dup = format!("{},{}", &line[..value_end], &line[start..]);
                if !pair.contains(['{', '[']) {
                    let err = parse(&dup).unwrap_err();
                    assert!(
                        matches!(err, LineFault::DuplicateKey(Some(n)) if n == key),
                        "{key}: {err}"
                    );
                    tried += 1;
                }
            }
        }
        assert!(tried > 20, "{tried}");
    }

    #[test]
    fn a_duplicate_spelled_with_an_escape_is_refused_too() {
        let line = SAMPLE.lines().nth(2).unwrap();
        let dup = line.replacen(
            "{\"event_type\"",
            "{\"purpose\":\"treatment\",\"event_typ\\u0065\"",
            1,
        );
        let dup = dup.replacen(
            "\"purpose\":\"quality-assurance\"",
            "\"purpos\\u0065\":\"quality-assurance\"",
            1,
        );
        assert!(matches!(
            parse(&dup),
            Err(LineFault::DuplicateKey(Some("purpose")))
        ));
    }

    /// Lines the common shape refuses still have their duplicates found:
    /// an unknown key inside `object`, once or twice, and a duplicate
    /// `kind` inside `object`.
    #[test]
    fn keys_in_objects_are_checked_on_every_path() {
        let line = SAMPLE.lines().find(|l| l.contains("\"object\":{")).unwrap();
        let extra = line.replacen("\"object\":{", "\"object\":{\"extra\":1,", 1);
        assert!(matches!(parse(&extra), Err(LineFault::Invalid(_))));
        let twice = line.replacen("\"object\":{", "\"object\":{\"extra\":1,\"extra\":1,", 1);
        assert!(matches!(parse(&twice), Err(LineFault::DuplicateKey(None))));
        let kind = line.replacen("\"object\":{", "\"object\":{\"kind\":\"study\",", 1);
        assert!(matches!(
            parse(&kind),
            Err(LineFault::DuplicateKey(Some("kind")))
        ));
    }

    #[test]
    fn an_unknown_duplicate_key_is_not_shown() {
        let line = r#"{"CANARY-7":1,"CANARY-7":2}"#;
        let err = parse(line).unwrap_err();
        assert!(matches!(err, LineFault::DuplicateKey(None)));
        assert!(!err.to_string().contains("CANARY"));
    }

    #[test]
    fn keys_inside_strings_and_arrays_are_not_keys() {
        let line = SAMPLE.lines().next().unwrap();
        // Two national entries with the same keys are two objects.
        let two = line.replace(
            "\"national\":[{",
            "\"national\":[{\"jurisdiction\":\"DE\",\"citation\":\"x\",\"summary\":\"y\"},{",
        );
        parse(&two).unwrap();
        assert!(
            EventParser::default()
                .duplicate_key(br#"{"a":"\"a\":","b":["a","a"]}"#)
                .is_none()
        );
    }

    /// Shapes the strict forms refuse or read differently are read by the
    /// full types, with their values and their errors.
    #[test]
    fn odd_shapes_read_as_the_full_types_read_them() {
        // A line without `national` (the inserted keys are no duplicates).
        let line = SAMPLE.lines().nth(1).unwrap();
        assert!(!line.contains("national"));
        let full = |l: &str| {
            serde_json::from_str::<EventLine>(l)
                .map(|e| e.into_event(|| Timestamp::UNIX_EPOCH))
                .map_err(|e| fault(&e.to_string()).to_string())
        };
        let basis_at = line.find("\"lawful_basis\":").unwrap();
        let actor_at = line.find("\"actor\":").unwrap();
        let odd = [
            line.replacen("\"lawful_basis\":{", "\"lawful_basis\":{\"extra\":1,", 1),
            line.replacen(
                "\"lawful_basis\":{",
                "\"lawful_basis\":{\"national\":null,",
                1,
            ),
            format!(
                "{}\"lawful_basis\":{{\"kind\":\"ordinary\",\"art6\":\"contract\",\"art9\":null,\"national\":[]}},{}",
                &line[..basis_at],
                &line[line[basis_at..].find("},").unwrap() + basis_at + 2..]
            ),
            line.replacen("\"actor\":{", "\"actor\":{\"extra\":1,", 1),
            format!(
                "{}\"actor\":{{\"id\":\"a\",\"role\":\"nurse\",\"secrecy\":{{\"kind\":\"none\",\"source\":\"x\"}}}},{}",
                &line[..actor_at],
                &line[line[actor_at..].find("}},").unwrap() + actor_at + 3..]
            ),
            format!(
                "{}\"lawful_basis\":{{\"kind\":\"ordinary\",\"art6\":\"contract\",\"art9\":\"health-care\"}},{}",
                &line[..basis_at],
                &line[line[basis_at..].find("},").unwrap() + basis_at + 2..]
            ),
        ];
        for l in &odd {
            let ours = parse(l).map_err(|e| e.to_string());
            assert_eq!(ours, full(l), "{l}");
        }
    }

    #[test]
    fn errors_show_no_values() {
        let line = SAMPLE
            .lines()
            .next()
            .unwrap()
            .replace("\"read\"", "\"CANARY-9\"");
        let err = parse(&line).unwrap_err().to_string();
        assert!(!err.contains("CANARY"), "{err}");
    }
}
