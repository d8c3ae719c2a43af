//! A [`LineRef`] read by a scanner of its own instead of serde_json (the
//! bulk path's most frequent work; issue 10, item 20).
//!
//! It reads only what it is sure serde_json reads the same way into
//! [`LineRef`]: objects, arrays, `null` and strings without escapes or
//! control characters, JSON whitespace between them, every key known and
//! none repeated, the enum values and the timestamp read by their own
//! `Deserialize`. On anything else it returns `None` and the line goes to
//! serde_json ([`LineRef::read`]), so what is accepted, and how an error
//! is worded, stays as it was (a test holds the two readers equal on every
//! one-byte change of sample lines).

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, Error as ValueError};

use super::{
    ActorLine, BasisLine, LineRef, NationalLine, ObjectLine, SecrecyLine, Str, SubjectLine,
};

/// Reads `text` as a [`LineRef`], or `None` (see the module docs).
pub(super) fn read(text: &str) -> Option<LineRef<'_>> {
    // A control character is whitespace (tab, line end) or an error in
    // JSON: lines with any are left to serde_json, so strings need only be
    // searched for their end and for escapes.
    if text.bytes().fold(false, |any, b| any | (b < 0x20)) {
        return None;
    }
    let mut c = Cursor { s: text, i: 0 };
    let line = c.line()?;
    c.ws();
    (c.i == text.len()).then_some(line)
}

/// A position in the line.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

/// A value read by its own `Deserialize` from a string.
fn typed<'a, T: Deserialize<'a>>(s: &'a str) -> Option<T> {
    T::deserialize(BorrowedStrDeserializer::<ValueError>::new(s)).ok()
}

/// Fills `slot` with `value`; `None` if the key was already read (serde
/// refuses a repeated field, `null` or not).
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

/// A known key and its 16 bytes as written, quoted (`"name"`), as a
/// little-endian number with the mask of the bytes it takes.
struct Key {
    name: &'static str,
    quoted: u128,
    mask: u128,
}

/// The [`Key`] of `name` (at most 14 bytes, so that it fits quoted).
const fn key(name: &'static str) -> Key {
    let b = name.as_bytes();
    assert!(b.len() <= 14, "a key of at most 14 bytes");
    let (mut quoted, mut mask, mut i) = (b'"' as u128, 0xff_u128, 0);
    while i < b.len() {
        quoted |= (b[i] as u128) << (8 * (i + 1));
        mask |= 0xff << (8 * (i + 1));
        i += 1;
    }
    quoted |= (b'"' as u128) << (8 * (b.len() + 1));
    mask |= 0xff << (8 * (b.len() + 1));
    Key { name, quoted, mask }
}

/// The keys of each object, in the order of its struct (as serde writes
/// them).
const LINE_KEYS: [Key; 13] = [
    key("event_type"),
    key("action"),
    key("outcome"),
    key("recorded"),
    key("actor"),
    key("purpose"),
    key("lawful_basis"),
    key("subject"),
    key("object"),
    key("source"),
    key("tenant"),
    key("correlation_id"),
    key("text"),
];
const ACTOR_KEYS: [Key; 3] = [key("id"), key("role"), key("secrecy")];
const SECRECY_KEYS: [Key; 2] = [key("kind"), key("source")];
const BASIS_KEYS: [Key; 4] = [key("kind"), key("art6"), key("art9"), key("national")];
const NATIONAL_KEYS: [Key; 4] = [
    key("jurisdiction"),
    key("citation"),
    key("summary"),
    key("purposes"),
];
const SUBJECT_KEYS: [Key; 2] = [key("id"), key("issuer")];
const OBJECT_KEYS: [Key; 2] = [key("kind"), key("id")];

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.i) {
            self.i += 1;
        }
    }

    /// Takes byte `b` (after whitespace) if it is next.
    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        let next = self.bytes().get(self.i) == Some(&b);
        if next {
            self.i += 1;
        }
        next
    }

    /// A string without escapes (the line has no control character).
    fn string(&mut self) -> Option<&'a str> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.i;
        let rest = self.bytes().get(start..)?;
        let len = memchr::memchr2(b'"', b'\\', rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.i = start + len + 1;
        self.s.get(start..start + len)
    }

    fn str(&mut self) -> Option<Str<'a>> {
        self.string().map(|s| Str(Cow::Borrowed(s)))
    }

    /// `null` if it is next.
    fn null(&mut self) -> bool {
        self.ws();
        let next = self.bytes().get(self.i..self.i + 4) == Some(b"null");
        if next {
            self.i += 4;
        }
        next
    }

    /// `None` for `null`, else the value `read` reads.
    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.null() {
            true => Some(None),
            false => read(self).map(Some),
        }
    }

    /// An object, `field` reading the value of each key. `keys` are the
    /// object's keys in the order they are usually written (that of the
    /// struct, as serde writes it): each is first looked for as it is,
    /// which spares searching for the key's end (any other key, or order,
    /// is read as any string).
    fn object(
        &mut self,
        keys: &[Key],
        mut field: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        let mut next = 0;
        loop {
            let key = self.key(keys, &mut next)?;
            if !self.eat(b':') {
                return None;
            }
            field(self, key)?;
            if self.eat(b'}') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// A key: one of `keys` written as it is, compared in place (tried
    /// first: `keys[*next]`), else any string without escapes: what
    /// [`Cursor::string`] reads either way, as a known key holds neither a
    /// quote nor a backslash. `next` moves to the key after the one read.
    fn key(&mut self, keys: &[Key], next: &mut usize) -> Option<&'a str> {
        self.ws();
        let window = self
            .bytes()
            .get(self.i..self.i + 16)
            .and_then(|w| <[u8; 16]>::try_from(w).ok())
            .map(u128::from_le_bytes);
        if let Some(window) = window {
            let here = |k: &Key| (window ^ k.quoted) & k.mask == 0;
            let found = match keys.get(*next) {
                Some(k) if here(k) => Some(*next),
                _ => keys.iter().position(here),
            };
            if let Some((p, k)) = found.and_then(|p| Some((p, keys.get(p)?))) {
                self.i += k.name.len() + 2;
                *next = p + 1;
                return Some(k.name);
            }
        }
        let key = self.string()?;
        *next = keys
            .iter()
            .position(|k| k.name == key)
            .map_or(keys.len(), |p| p + 1);
        Some(key)
    }

    /// An array, `item` reading each element.
    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        if !self.eat(b'[') {
            return None;
        }
        let mut items = Vec::new();
        if self.eat(b']') {
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(b']') {
                return Some(items);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn typed<T: Deserialize<'a>>(&mut self) -> Option<T> {
        typed(self.string()?)
    }

    fn line(&mut self) -> Option<LineRef<'a>> {
        let (mut event_type, mut action, mut outcome, mut purpose) = (None, None, None, None);
        let (mut actor, mut lawful_basis, mut source) = (None, None, None);
        let (mut recorded, mut subject, mut object) = (None, None, None);
        let (mut tenant, mut correlation_id, mut text) = (None, None, None);
        self.object(&LINE_KEYS, |c, key| match key {
            "event_type" => set(&mut event_type, c.typed()?),
            "action" => set(&mut action, c.typed()?),
            "outcome" => set(&mut outcome, c.typed()?),
            "purpose" => set(&mut purpose, c.typed()?),
            "recorded" => set(&mut recorded, c.opt(Self::typed)?),
            "actor" => set(&mut actor, c.actor()?),
            "lawful_basis" => set(&mut lawful_basis, c.basis()?),
            "subject" => set(&mut subject, c.opt(Self::subject)?),
            "object" => set(&mut object, c.opt(Self::object_ref)?),
            "source" => set(&mut source, c.str()?),
            "tenant" => set(&mut tenant, c.opt(Self::str)?),
            "correlation_id" => set(&mut correlation_id, c.opt(Self::str)?),
            "text" => set(&mut text, c.opt(Self::str)?),
            _ => None,
        })?;
        Some(LineRef {
            event_type: event_type?,
            action: action?,
            outcome: outcome?,
            recorded: recorded.flatten(),
            actor: actor?,
            purpose: purpose?,
            lawful_basis: lawful_basis?,
            subject: subject.flatten(),
            object: object.flatten(),
            source: source?,
            tenant: tenant.flatten(),
            correlation_id: correlation_id.flatten(),
            text: text.flatten(),
        })
    }

    fn actor(&mut self) -> Option<ActorLine<'a>> {
        let (mut id, mut role, mut secrecy) = (None, None, None);
        self.object(&ACTOR_KEYS, |c, key| match key {
            "id" => set(&mut id, c.str()?),
            "role" => set(&mut role, c.typed()?),
            "secrecy" => set(&mut secrecy, c.secrecy()?),
            _ => None,
        })?;
        Some(ActorLine {
            id: id?,
            role: role?,
            secrecy: secrecy?,
        })
    }

    fn secrecy(&mut self) -> Option<SecrecyLine<'a>> {
        let (mut kind, mut source) = (None, None);
        self.object(&SECRECY_KEYS, |c, key| match key {
            "kind" => set(&mut kind, c.typed()?),
            "source" => set(&mut source, c.opt(Self::str)?),
            _ => None,
        })?;
        Some(SecrecyLine {
            kind: kind?,
            source: source.flatten(),
        })
    }

    fn basis(&mut self) -> Option<BasisLine<'a>> {
        let (mut kind, mut art6, mut art9, mut national) = (None, None, None, None);
        self.object(&BASIS_KEYS, |c, key| match key {
            "kind" => set(&mut kind, c.typed()?),
            "art6" => set(&mut art6, c.typed()?),
            "art9" => set(&mut art9, c.opt(Self::typed)?),
            "national" => set(&mut national, c.array(Self::national)?),
            _ => None,
        })?;
        Some(BasisLine {
            kind: kind?,
            art6: art6?,
            art9: art9.flatten(),
            national: national.unwrap_or_default(),
        })
    }

    fn national(&mut self) -> Option<NationalLine<'a>> {
        let (mut jurisdiction, mut citation, mut summary) = (None, None, None);
        let mut purposes = None;
        self.object(&NATIONAL_KEYS, |c, key| match key {
            "jurisdiction" => set(&mut jurisdiction, c.str()?),
            "citation" => set(&mut citation, c.str()?),
            "summary" => set(&mut summary, c.str()?),
            "purposes" => set(&mut purposes, c.array(Self::typed)?),
            _ => None,
        })?;
        Some(NationalLine {
            jurisdiction: jurisdiction?,
            citation: citation?,
            summary: summary?,
            purposes: purposes.unwrap_or_default(),
        })
    }

    fn subject(&mut self) -> Option<SubjectLine<'a>> {
        let (mut id, mut issuer) = (None, None);
        self.object(&SUBJECT_KEYS, |c, key| match key {
            "id" => set(&mut id, c.str()?),
            "issuer" => set(&mut issuer, c.opt(Self::str)?),
            _ => None,
        })?;
        Some(SubjectLine {
            id: id?,
            issuer: issuer.flatten(),
        })
    }

    fn object_ref(&mut self) -> Option<ObjectLine<'a>> {
        let (mut kind, mut id) = (None, None);
        self.object(&OBJECT_KEYS, |c, key| match key {
            "kind" => set(&mut kind, c.typed()?),
            "id" => set(&mut id, c.str()?),
            _ => None,
        })?;
        Some(ObjectLine {
            kind: kind?,
            id: id?,
        })
    }
}

#[cfg(test)]
mod tests {
    use gdpr_audit::batch::EventBatch;
    use jiff::Timestamp;

    use super::*;

    const SAMPLE: &str = include_str!("../../../../../docs/samples/audit-events.jsonl");

    /// A line of `scripts/bench_audit_append.sh`, and one with every
    /// optional field `null`, national provisions and spaces between the
    /// tokens.
    const MORE: [&str; 2] = [
        r#"{"event_type":"dicom-instances-accessed","action":"read","outcome":"success","recorded":"2026-11-25T08:00:00.000Z","actor":{"id":"staff-00","role":"physician","secrecy":{"kind":"professional","source":"§ 203(1) Nr. 1 StGB"}},"purpose":"diagnosis","lawful_basis":{"kind":"special-category","art6":"contract","art9":"health-care"},"subject":{"id":"PID-00000","issuer":"HOSPITAL-A"},"source":"PACS-1","tenant":"hospital-a","correlation_id":"req-000000","object":{"kind":"study","id":"1.2.276.0.7230010.3.1.2.0"},"text":"follow-up reading 0"}"#,
        " { \"event_type\" : \"query\",   \"action\":\"query\",\"outcome\":\"success\",\"recorded\":null,\"actor\":{\"id\":\"qa\",\"role\":\"system\",\"secrecy\":{\"kind\":\"none\",\"source\":null}},\"purpose\":\"quality-assurance\",\"lawful_basis\":{\"kind\":\"special-category\",\"art6\":\"contract\",\"art9\":\"health-care\",\"national\":[{\"jurisdiction\":\"DE\",\"citation\":\"c\",\"summary\":\"s\",\"purposes\":[\"diagnosis\",\"treatment\"]}]},\"subject\":{\"id\":\"P-1\",\"issuer\":null},\"object\":null,\"source\":\"Q\",\"tenant\":null,\"correlation_id\":null,\"text\":null} ",
    ];

    /// What a reader makes of `text`: `None`, or the batch `push_to`
    /// fills (with whether it accepted the values).
    fn outcome(line: Option<LineRef<'_>>) -> Option<(bool, EventBatch)> {
        let mut batch = EventBatch::new();
        line.map(|l| (l.push_to(&mut batch, || Timestamp::UNIX_EPOCH), batch))
    }

    /// The scanner reads a line as serde_json does, or leaves it to it.
    fn check(text: &str) {
        if let Some(scanned) = outcome(read(text)) {
            let serde = outcome(serde_json::from_str(text).ok());
            assert!(serde == Some(scanned), "readers differ on {text:?}");
        }
    }

    fn lines() -> Vec<&'static str> {
        SAMPLE.lines().chain(MORE).collect()
    }

    #[test]
    fn sample_lines_are_scanned() {
        for line in lines() {
            let (accepted, batch) = outcome(read(line)).expect("scanned");
            assert!(accepted && batch.len() == 1, "{line}");
            check(line);
        }
    }

    /// Every one-character deletion, insertion and replacement of the
    /// sample lines (broken JSON, escapes, control characters, numbers,
    /// repeated and unknown keys, other types) is read alike or left.
    #[test]
    fn every_one_character_change_is_read_as_serde_json_reads_it() {
        let pieces = [
            "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\t", "\n", "\u{1}", "\u{7f}", "n", "1",
            "é", "x", "-",
        ];
        for line in lines() {
            for (i, ch) in line.char_indices() {
                let (head, tail) = line.split_at(i);
                check(&format!("{head}{}", &tail[ch.len_utf8()..]));
                for p in pieces {
                    check(&format!("{head}{p}{tail}"));
                    check(&format!("{head}{p}{}", &tail[ch.len_utf8()..]));
                }
            }
        }
    }

    /// Keys in another order than the struct's (here sorted, as
    /// `serde_json::Value` writes them) are found all the same.
    #[test]
    fn keys_in_any_order_are_read_as_serde_json_reads_them() {
        for line in lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let sorted = value.to_string();
            assert!(read(&sorted).is_some(), "{sorted}");
            check(&sorted);
        }
    }

    /// Repeated keys (`null` or not), unknown keys, other value types and
    /// trailing content are left to serde_json.
    #[test]
    fn repeated_unknown_and_mistyped_keys_are_left() {
        let line = MORE[0].trim_end_matches('}');
        for extra in [
            r#","tenant":null"#,
            r#","text":"again""#,
            r#","event_type":"query""#,
            r#","extra":1"#,
            r#","recorded":1"#,
            r#","subject":[]"#,
            r#","object":{"kind":"study","id":"x","id":"y"}"#,
        ] {
            let text = format!("{line}{extra}}}");
            assert!(read(&text).is_none(), "{text}");
            check(&text);
        }
        for tail in ["}x", "}}", "},", "} {}"] {
            let text = format!("{line}{tail}");
            assert!(read(&text).is_none(), "{text}");
        }
    }
}
