//! Structured content: the content tree of a structured report (Content
//! Sequence (0040,A730), `D` in the basic profile, `C` under Clean
//! Structured Content, PS3.15 E.3.4).
//!
//! A dummy content tree would make the document meaningless, and free text
//! in it is kept by the table (Text Value (0040,A160) is not listed). So,
//! without the Clean Structured Content option, a file whose content tree
//! holds an item that could identify is **refused**, as burned-in suspects
//! are ([`structured_content_reason`]). Identifying items: TEXT (free
//! text), PNAME (a person), DATE, TIME, DATETIME and TCOORD with a date
//! (unless a longitudinal option says how dates are treated), CODE from a
//! private coding scheme (`99…`: a local code can be a staff or patient
//! number), and value types this module does not know. Kept as safe: NUM,
//! CONTAINER, IMAGE, COMPOSITE, WAVEFORM, SCOORD, SCOORD3D, TABLE, CODE
//! from a public scheme (DCM, SCT, LN, …) and UIDREF (its UID is replaced
//! by a keyed UID like every UID).
//!
//! With the option, Text Values and Code Meanings are cleaned
//! ([`TextPatterns`], used by the engine): the patient's names, IDs, birth date and year, and every person
//! name found anywhere in the file are masked, then dates in common written
//! forms and the custodian's own patterns. What cleaning cannot judge is
//! reported per file ([`Uncleaned`]).

use dicom_core::Tag;
use dicom_core::header::Header as _;
use dicom_object::InMemDicomObject;
use regex::Regex;

use super::options::{DeidOption, DeidOptions};
use crate::error::Error;

/// Content Sequence (0040,A730).
pub(crate) const CONTENT_SEQUENCE: Tag = Tag(0x0040, 0xA730);
/// Text Value (0040,A160).
pub(crate) const TEXT_VALUE: Tag = Tag(0x0040, 0xA160);
const VALUE_TYPE: Tag = Tag(0x0040, 0xA040);
const CONCEPT_CODE_SEQUENCE: Tag = Tag(0x0040, 0xA168);
const CODING_SCHEME_DESIGNATOR: Tag = Tag(0x0008, 0x0102);
const REFERENCED_DATETIME: Tag = Tag(0x0040, 0xA13A);

/// Dates as people write them in reports: ISO and DICOM forms, day-month-
/// year and month-day-year with `.`, `/` or `-`, and with English or German
/// month names.
const DATE_PATTERNS: &[&str] = &[
    r"\b\d{4}[-./]\d{1,2}[-./]\d{1,2}\b",
    r"\b\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\b",
    r"\b(?:1[89]|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b",
    r"(?i)\b\d{1,2}\.?\s*(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?,?\s*\d{2,4}\b",
    r"(?i)\b(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?\s+\d{1,2},?\s+\d{4}\b",
];

/// Why the content tree of `obj` cannot be passed on without the Clean
/// Structured Content option, or `None` when it holds nothing identifying
/// (see the module documentation for what counts).
pub fn structured_content_reason(
    obj: &InMemDicomObject,
    options: &DeidOptions,
) -> Option<&'static str> {
    let dates_identify = !(options.contains(DeidOption::RetainLongitudinalFullDates)
        || options.contains(DeidOption::RetainLongitudinalModifiedDates));
    let mut reason = None;
    for_each_content_item(obj, false, &mut |item| {
        if reason.is_none() {
            reason = item_reason(item, dates_identify);
        }
    });
    reason
}

/// Calls `f` on every content item (an item with a Value Type) inside a
/// Content Sequence, at any depth.
fn for_each_content_item(
    obj: &InMemDicomObject,
    inside: bool,
    f: &mut dyn FnMut(&InMemDicomObject),
) {
    for e in obj.iter() {
        let Some(items) = e.items() else { continue };
        let inside = inside || e.tag() == CONTENT_SEQUENCE;
        for item in items {
            if inside && item.get(VALUE_TYPE).is_some() {
                f(item);
            }
            for_each_content_item(item, inside, f);
        }
    }
}

fn text(obj: &InMemDicomObject, tag: Tag) -> String {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_owned())
        .unwrap_or_default()
}

fn private_code(item: &InMemDicomObject) -> bool {
    let Some(codes) = item.get(CONCEPT_CODE_SEQUENCE).and_then(|e| e.items()) else {
        return false;
    };
    codes.iter().any(|c| {
        let scheme = text(c, CODING_SCHEME_DESIGNATOR).to_ascii_uppercase();
        scheme.is_empty() || scheme.starts_with("99")
    })
}

fn item_reason(item: &InMemDicomObject, dates_identify: bool) -> Option<&'static str> {
    match text(item, VALUE_TYPE).to_ascii_uppercase().as_str() {
        "TEXT" if !text(item, TEXT_VALUE).is_empty() => {
            Some("the Content Sequence (0040,A730) holds free text (TEXT items)")
        }
        "PNAME" => Some("the Content Sequence (0040,A730) holds person names (PNAME items)"),
        "DATE" | "TIME" | "DATETIME" if dates_identify => Some(
            "the Content Sequence (0040,A730) holds dates or times (DATE, TIME, DATETIME items)",
        ),
        "TCOORD" if dates_identify && item.get(REFERENCED_DATETIME).is_some() => {
            Some("the Content Sequence (0040,A730) holds dates or times (TCOORD items)")
        }
        "CODE" if private_code(item) => Some(
            "the Content Sequence (0040,A730) holds codes of a private coding scheme (CODE items)",
        ),
        "TEXT" | "DATE" | "TIME" | "DATETIME" | "TCOORD" | "CODE" | "NUM" | "CONTAINER"
        | "IMAGE" | "COMPOSITE" | "WAVEFORM" | "SCOORD" | "SCOORD3D" | "TABLE" | "UIDREF" => None,
        _ => Some("the Content Sequence (0040,A730) holds items of a value type not judged here"),
    }
}

/// What cleaning left in a content tree because it cannot judge it: the
/// output was written, and a human should check these items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Uncleaned {
    /// Free text still holds a number of five or more digits (a possible
    /// identifier that is not one of the file's own).
    LongNumber,
    /// Free text still holds a `Family^Given` name form.
    NameForm,
    /// A CODE item from a private coding scheme (its meaning is kept).
    PrivateCode,
}

impl std::fmt::Display for Uncleaned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Uncleaned::LongNumber => "free text still holds a number of 5 or more digits",
            Uncleaned::NameForm => "free text still holds a Family^Given name form",
            Uncleaned::PrivateCode => "a CODE item uses a private coding scheme",
        })
    }
}

/// What cleaning left in the de-identified content tree `out`, each kind
/// once, in a fixed order.
pub(crate) fn uncleaned(out: &InMemDicomObject) -> Vec<Uncleaned> {
    let mut found = std::collections::BTreeSet::new();
    for_each_content_item(out, false, &mut |item| {
        let value = text(item, TEXT_VALUE);
        let digits = value
            .split(|c: char| !c.is_ascii_digit())
            .any(|run| run.len() >= 5);
        if digits {
            found.insert(Uncleaned::LongNumber);
        }
        let name_form = value.split('^').count() > 1
            && value
                .split('^')
                .zip(value.split('^').skip(1))
                .any(|(a, b)| {
                    a.ends_with(char::is_alphabetic) && b.starts_with(char::is_alphabetic)
                });
        if name_form {
            found.insert(Uncleaned::NameForm);
        }
        if private_code(item) {
            found.insert(Uncleaned::PrivateCode);
        }
    });
    found.into_iter().collect()
}

/// The patterns masked in free text under Clean Structured Content: the
/// built-in date forms and the custodian's own (regular expressions,
/// `regex` crate syntax). `Debug` shows only how many there are (a
/// pattern may hold a name).
#[derive(Clone)]
pub struct TextPatterns {
    patterns: Vec<Regex>,
}

impl std::fmt::Debug for TextPatterns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TextPatterns({} patterns)", self.patterns.len())
    }
}

impl Default for TextPatterns {
    fn default() -> Self {
        Self::with_custom::<&str>(&[]).unwrap_or(Self {
            patterns: Vec::new(),
        })
    }
}

impl TextPatterns {
    /// The built-in date forms plus `custom` patterns.
    ///
    /// # Errors
    /// [`Error::InvalidPattern`] naming the 1-based number of the first
    /// custom pattern that is not a valid regular expression.
    pub fn with_custom<S: AsRef<str>>(custom: &[S]) -> Result<Self, Error> {
        let mut patterns = Vec::with_capacity(DATE_PATTERNS.len() + custom.len());
        for p in DATE_PATTERNS {
            // The built-in patterns are tested below; a failure would be a
            // bug, reported like a bad custom pattern (number 0).
            patterns.push(Regex::new(p).map_err(|_| Error::InvalidPattern { number: 0 })?);
        }
        for (i, p) in custom.iter().enumerate() {
            patterns
                .push(Regex::new(p.as_ref()).map_err(|_| Error::InvalidPattern { number: i + 1 })?);
        }
        Ok(Self { patterns })
    }

    /// Masks every match with `*`, one per character.
    pub(crate) fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for re in &self.patterns {
            if re.is_match(&out) {
                out = re
                    .replace_all(&out, |c: &regex::Captures<'_>| {
                        "*".repeat(c.get(0).map_or(0, |m| m.as_str().chars().count()))
                    })
                    .into_owned();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_common_written_forms_are_masked() {
        let p = TextPatterns::with_custom(&[r"(?i)MRN-\d+"]).unwrap();
        for (input, kept) in [
            ("seen 2024-06-11 and 11.06.2024", "seen  and "),
            ("on 06/11/24, DA 20240611", "on , DA "),
            ("am 7. März 1961, on March 7, 1961", "am , on "),
            ("id mrn-123 ok", "id  ok"),
            ("3 mm lesion, 12.5 cm", "3 mm lesion, 12.5 cm"),
        ] {
            let masked = p.mask(input);
            assert_eq!(masked.replace('*', ""), kept, "{input}");
            assert_eq!(masked.chars().count(), input.chars().count());
        }
        assert!(matches!(
            TextPatterns::with_custom(&["ok", "(unclosed"]),
            Err(Error::InvalidPattern { number: 2 })
        ));
        assert_eq!(
            format!("{:?}", TextPatterns::with_custom(&["DOE"]).unwrap()),
            "TextPatterns(6 patterns)"
        );
    }
}
