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

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, Error as ValueError};

use super::stamp;
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

/// Declares, for one object, a module with the index of each of its keys
/// (constants, for `match`) and `KEYS`, its [`Key`]s in that order: the
/// order of its struct, as serde writes them.
macro_rules! keys {
    ($object:ident { $($index:ident = $name:literal),+ $(,)? }) => {
        mod $object {
            use super::{Key, key};
            /// The object's keys, in the order of its struct.
            pub(super) const KEYS: &[Key] = &[$(key($name)),+];
            keys!(@index 0usize; $($index)+);
        }
    };
    (@index $n:expr; $index:ident $($more:ident)*) => {
        pub(super) const $index: usize = $n;
        keys!(@index $n + 1; $($more)*);
    };
    (@index $n:expr;) => {};
}

keys!(line_keys {
    EVENT_TYPE = "event_type",
    ACTION = "action",
    OUTCOME = "outcome",
    RECORDED = "recorded",
    ACTOR = "actor",
    PURPOSE = "purpose",
    LAWFUL_BASIS = "lawful_basis",
    SUBJECT = "subject",
    OBJECT = "object",
    SOURCE = "source",
    TENANT = "tenant",
    CORRELATION_ID = "correlation_id",
    TEXT = "text",
});
keys!(actor_keys { ID = "id", ROLE = "role", SECRECY = "secrecy" });
keys!(secrecy_keys { KIND = "kind", SOURCE = "source" });
keys!(basis_keys { KIND = "kind", ART6 = "art6", ART9 = "art9", NATIONAL = "national" });
keys!(national_keys {
    JURISDICTION = "jurisdiction",
    CITATION = "citation",
    SUMMARY = "summary",
    PURPOSES = "purposes",
});
keys!(subject_keys { ID = "id", ISSUER = "issuer" });
keys!(object_keys { KIND = "kind", ID = "id" });

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

    /// Takes byte `b` (after whitespace) if it is next. `b` is never
    /// whitespace, so when it is the very next byte there is no whitespace
    /// to skip (the usual case: lines are mostly written without any).
    fn eat(&mut self, b: u8) -> bool {
        if self.bytes().get(self.i) == Some(&b) {
            self.i += 1;
            return true;
        }
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

    /// An object, `field` reading the value of each key, given by its
    /// index in `keys`. `keys` are the object's keys in the order they are
    /// usually written (that of the struct, as serde writes it): each is
    /// first looked for as it is, which spares searching for the key's end
    /// (any other key, or order, is read as any string). `None` for a key
    /// not in `keys` (serde refuses unknown fields).
    fn object(
        &mut self,
        keys: &[Key],
        mut field: impl FnMut(&mut Self, usize) -> Option<()>,
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

    /// A key, as its index in `keys`: one of `keys` written as it is,
    /// compared in place (tried first: `keys[*next]`), else any string
    /// without escapes: what [`Cursor::string`] reads either way, as a
    /// known key holds neither a quote nor a backslash. `None` for a key
    /// not in `keys`. `next` moves to the key after the one read.
    fn key(&mut self, keys: &[Key], next: &mut usize) -> Option<usize> {
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
                return Some(p);
            }
        }
        let key = self.string()?;
        let p = keys.iter().position(|k| k.name == key)?;
        *next = p + 1;
        Some(p)
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

    /// A timestamp: in its canonical shape without jiff's parser
    /// ([`stamp::canonical`]), any other by its own `Deserialize`.
    fn timestamp(&mut self) -> Option<Timestamp> {
        let s = self.string()?;
        stamp::canonical(s).or_else(|| typed(s))
    }

    fn line(&mut self) -> Option<LineRef<'a>> {
        let (mut event_type, mut action, mut outcome, mut purpose) = (None, None, None, None);
        let (mut actor, mut lawful_basis, mut source) = (None, None, None);
        let (mut recorded, mut subject, mut object) = (None, None, None);
        let (mut tenant, mut correlation_id, mut text) = (None, None, None);
        use line_keys::*;
        self.object(KEYS, |c, key| match key {
            EVENT_TYPE => set(&mut event_type, c.typed()?),
            ACTION => set(&mut action, c.typed()?),
            OUTCOME => set(&mut outcome, c.typed()?),
            PURPOSE => set(&mut purpose, c.typed()?),
            RECORDED => set(&mut recorded, c.opt(Self::timestamp)?),
            ACTOR => set(&mut actor, c.actor()?),
            LAWFUL_BASIS => set(&mut lawful_basis, c.basis()?),
            SUBJECT => set(&mut subject, c.opt(Self::subject)?),
            OBJECT => set(&mut object, c.opt(Self::object_ref)?),
            SOURCE => set(&mut source, c.str()?),
            TENANT => set(&mut tenant, c.opt(Self::str)?),
            CORRELATION_ID => set(&mut correlation_id, c.opt(Self::str)?),
            TEXT => set(&mut text, c.opt(Self::str)?),
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
        use actor_keys::*;
        self.object(KEYS, |c, key| match key {
            ID => set(&mut id, c.str()?),
            ROLE => set(&mut role, c.typed()?),
            SECRECY => set(&mut secrecy, c.secrecy()?),
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
        use secrecy_keys::*;
        self.object(KEYS, |c, key| match key {
            KIND => set(&mut kind, c.typed()?),
            SOURCE => set(&mut source, c.opt(Self::str)?),
            _ => None,
        })?;
        Some(SecrecyLine {
            kind: kind?,
            source: source.flatten(),
        })
    }

    fn basis(&mut self) -> Option<BasisLine<'a>> {
        let (mut kind, mut art6, mut art9, mut national) = (None, None, None, None);
        use basis_keys::*;
        self.object(KEYS, |c, key| match key {
            KIND => set(&mut kind, c.typed()?),
            ART6 => set(&mut art6, c.typed()?),
            ART9 => set(&mut art9, c.opt(Self::typed)?),
            NATIONAL => set(&mut national, c.array(Self::national)?),
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
        use national_keys::*;
        self.object(KEYS, |c, key| match key {
            JURISDICTION => set(&mut jurisdiction, c.str()?),
            CITATION => set(&mut citation, c.str()?),
            SUMMARY => set(&mut summary, c.str()?),
            PURPOSES => set(&mut purposes, c.array(Self::typed)?),
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
        use subject_keys::*;
        self.object(KEYS, |c, key| match key {
            ID => set(&mut id, c.str()?),
            ISSUER => set(&mut issuer, c.opt(Self::str)?),
            _ => None,
        })?;
        Some(SubjectLine {
            id: id?,
            issuer: issuer.flatten(),
        })
    }

    fn object_ref(&mut self) -> Option<ObjectLine<'a>> {
        let (mut kind, mut id) = (None, None);
        use object_keys::*;
        self.object(KEYS, |c, key| match key {
            KIND => set(&mut kind, c.typed()?),
            ID => set(&mut id, c.str()?),
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
