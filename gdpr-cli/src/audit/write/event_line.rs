//! One input line of `gdpr audit append` read into an [`EventBatch`]:
//! typed fields (no `serde_json::Value` in between), unknown fields
//! refused, duplicate keys refused at every depth, `recorded` defaulting to
//! the time of the append.
//!
//! A line is first read in its common shape with its strings borrowed
//! ([`super::fast_line`]), where every object is a struct that refuses
//! unknown fields: serde then refuses any repeated key itself, so such a
//! line needs no scan for duplicates. Any other line is scanned for
//! duplicate keys and read with the full types into an [`AuditEvent`].

use gdpr_audit::action::{Action, EventType, Outcome};
use gdpr_audit::batch::EventBatch;
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::{CorrelationId, SourceSystem, TenantId};
use gdpr_audit::object::{FreeText, ObjectRef};
use gdpr_core::actor::Actor;
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use serde::Deserialize;

use super::fast_line::LineRef;

/// The serde form of [`AuditEvent`] with `recorded` optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventLine {
    event_type: EventType,
    action: Action,
    outcome: Outcome,
    #[serde(default)]
    recorded: Option<Timestamp>,
    actor: Actor,
    purpose: Purpose,
    lawful_basis: LawfulBasis,
    #[serde(default)]
    subject: Option<PatientId>,
    #[serde(default)]
    object: Option<ObjectRef>,
    source: SourceSystem,
    #[serde(default)]
    tenant: Option<TenantId>,
    #[serde(default)]
    correlation_id: Option<CorrelationId>,
    #[serde(default)]
    text: Option<FreeText>,
}

impl EventLine {
    fn into_event(self, now: impl FnOnce() -> Timestamp) -> AuditEvent {
        let mut b = AuditEvent::builder(
            self.event_type,
            self.action,
            self.actor,
            self.purpose,
            self.lawful_basis,
            self.source,
        )
        .outcome(self.outcome);
        if let Some(s) = self.subject {
            b = b.subject(s);
        }
        if let Some(o) = self.object {
            b = b.object(o);
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
    /// Reads one line into `batch`; `now` gives `recorded` when the line
    /// has none. A line in the common shape is read with its strings
    /// borrowed ([`LineRef`]); any other is read by [`EventParser::parse`].
    ///
    /// # Errors
    /// As [`EventParser::parse`] (the batch is then unchanged).
    pub(crate) fn parse_into(
        &mut self,
        line: &[u8],
        now: impl Fn() -> Timestamp,
        batch: &mut EventBatch,
    ) -> Result<(), LineFault> {
        // One UTF-8 check of the whole line, then the `&str` parser, which
        // does not check each string again.
        if let Ok(text) = std::str::from_utf8(line)
            && let Some(l) = LineRef::read(text)
            && l.push_to(batch, &now)
        {
            return Ok(());
        }
        let event = self.parse(line, now)?;
        // Invariant: the full types hold every rule `push` checks, so this
        // cannot fail; if it did, the line would be named.
        batch
            .push(&event)
            .map_err(|e| LineFault::Invalid(crate::audit::sanitize(&e.to_string())))
    }

    /// Parses one line into an event (scanning it for duplicate keys
    /// first); `now` gives `recorded` when the line has none.
    ///
    /// # Errors
    /// [`LineFault`] for a duplicate key, malformed JSON, an unknown or
    /// missing field or an invalid value.
    pub(crate) fn parse(
        &mut self,
        line: &[u8],
        now: impl FnOnce() -> Timestamp,
    ) -> Result<AuditEvent, LineFault> {
        if let Some(key) = self.duplicate_key(line) {
            let name = FIELD_NAMES.iter().copied().find(|n| n.as_bytes() == key);
            return Err(LineFault::DuplicateKey(name));
        }
        // The full types read it (or say what is wrong with it); a line
        // that is not UTF-8 takes the byte parser.
        let parsed = match std::str::from_utf8(line) {
            Ok(t) => serde_json::from_str::<EventLine>(t),
            Err(_) => serde_json::from_slice::<EventLine>(line),
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

    /// Reads `line` both ways, into a batch (the path of `gdpr audit
    /// append`) and into an event, and checks that they agree: the same
    /// error, or the same encoded event.
    fn parse(line: &str) -> Result<AuditEvent, LineFault> {
        let now = || Timestamp::UNIX_EPOCH;
        let mut batch = EventBatch::new();
        let bulk = EventParser::default().parse_into(line.as_bytes(), now, &mut batch);
        let event = EventParser::default().parse(line.as_bytes(), now);
        match (&bulk, &event) {
            (Ok(()), Ok(e)) => {
                let mut one = EventBatch::new();
                one.push(e).unwrap();
                assert!(one == batch, "{line}");
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                assert!(batch.is_empty());
            }
            _ => panic!("the bulk path and the event path disagree on {line}"),
        }
        event
    }

    /// Every sample line takes the borrowed path.
    #[test]
    fn sample_lines_are_read_borrowed() {
        let mut batch = EventBatch::new();
        for (i, line) in SAMPLE.lines().enumerate() {
            let l = LineRef::read(line).unwrap();
            assert!(l.push_to(&mut batch, || Timestamp::UNIX_EPOCH), "line {i}");
            parse(line).unwrap();
        }
        assert_eq!(batch.len(), SAMPLE.lines().count());
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
