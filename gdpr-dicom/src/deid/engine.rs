//! The de-identification of one data set (in memory, header only): every
//! element gets the action of Table E.1-1 under the selected options, every
//! sequence is de-identified recursively at any depth (listed or not), and
//! private attributes follow the private rule.

use std::collections::{HashMap, HashSet};

use dicom_core::header::Header as _;
use dicom_core::value::{DataSetSequence, Value};
use dicom_core::{DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;

use super::action::{Action, resolve_in};
use super::attr_type::{IodFamily, PRESENT_ONLY_WITH};
use super::dates::{shift_da, shift_dt};
use super::dummy::{DUMMY_DATE, DUMMY_DATETIME, DUMMY_TIME, dummy_value, is_bulk, is_free_text};
use super::key::Pseudonymiser;
use super::options::{DeidOption, DeidOptions};
use super::private::is_safe;
use super::structured::{TEXT_VALUE, TextPatterns};

const PATIENT_NAME: Tag = Tag(0x0010, 0x0010);
const PATIENT_ID: Tag = Tag(0x0010, 0x0020);
const ISSUER_OF_PATIENT_ID: Tag = Tag(0x0010, 0x0021);
const STUDY_INSTANCE_UID: Tag = Tag(0x0020, 0x000D);
const CODE_MEANING: Tag = Tag(0x0008, 0x0104);

/// Attributes whose values are scrubbed from free text when cleaning.
const SCRUB_SOURCES: &[Tag] = &[
    PATIENT_NAME,
    PATIENT_ID,
    Tag(0x0010, 0x1000), // Other Patient IDs
    Tag(0x0010, 0x1001), // Other Patient Names
    Tag(0x0010, 0x1005), // Patient's Birth Name
    Tag(0x0010, 0x1060), // Patient's Mother's Birth Name
    Tag(0x0010, 0x0030), // Patient's Birth Date
    Tag(0x0010, 0x1040), // Patient's Address
    Tag(0x0008, 0x0050), // Accession Number
    Tag(0x0008, 0x0090), // Referring Physician's Name
    Tag(0x0008, 0x1050), // Performing Physician's Name
    Tag(0x0008, 0x1070), // Operators' Name
    Tag(0x0020, 0x0010), // Study ID
];

/// The per-file state: the keyed values of the file's patient.
pub(crate) struct FileContext<'a> {
    p: &'a Pseudonymiser,
    options: &'a DeidOptions,
    pseudonym: String,
    shift_days: Option<i64>,
    scrub: Vec<String>,
    family: IodFamily,
    patterns: &'a TextPatterns,
}

fn text_of(obj: &InMemDicomObject, tag: Tag) -> String {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).trim().to_owned())
        .unwrap_or_default()
}

impl<'a> FileContext<'a> {
    /// Prepares the context from the original top-level data set.
    pub(crate) fn new(
        p: &'a Pseudonymiser,
        options: &'a DeidOptions,
        top: &InMemDicomObject,
        patterns: &'a TextPatterns,
    ) -> Self {
        let issuer = text_of(top, ISSUER_OF_PATIENT_ID);
        let mut id = text_of(top, PATIENT_ID);
        let mut ns = issuer;
        if id.is_empty() {
            // No Patient ID: fall back to the name, then to the study, so
            // that at least one study stays internally consistent.
            id = text_of(top, PATIENT_NAME);
            ns = "name:".into();
            if id.is_empty() {
                id = text_of(top, STUDY_INSTANCE_UID);
                ns = "study:".into();
            }
        }
        let pseudonym = p.patient_pseudonym(&ns, &id);
        let shift_days = options.shifts_dates().then(|| p.date_shift_days(&ns, &id));
        let scrub = scrub_tokens(top);
        let family = IodFamily::of_sop_class(&text_of(top, Tag(0x0008, 0x0016)));
        Self {
            p,
            options,
            pseudonym,
            shift_days,
            scrub,
            family,
            patterns,
        }
    }

    /// The patient pseudonym of this file.
    #[cfg_attr(not(feature = "danger-reidentify"), allow(dead_code))]
    pub(crate) fn pseudonym(&self) -> &str {
        &self.pseudonym
    }

    /// Whether dates were shifted.
    pub(crate) fn shifted(&self) -> bool {
        self.shift_days.is_some()
    }

    /// De-identifies a data set (top level or a sequence item).
    pub(crate) fn deidentify(&self, obj: InMemDicomObject) -> InMemDicomObject {
        let creators: HashMap<(u16, u8), String> = obj
            .iter()
            .filter(|e| e.tag().group() % 2 == 1 && (0x10..=0xFF).contains(&e.tag().element()))
            .filter_map(|e| {
                let t = e.tag();
                let creator = e.to_str().ok()?.trim_end_matches(['\0', ' ']).to_owned();
                Some(((t.group(), (t.element() & 0xFF) as u8), creator))
            })
            .collect();
        let safe_private = self.options.contains(DeidOption::RetainSafePrivate);
        let is_safe_elem = |t: Tag| {
            safe_private
                && t.element() >= 0x1000
                && creators
                    .get(&(t.group(), (t.element() >> 8) as u8))
                    .is_some_and(|c| is_safe(c, t.group(), (t.element() & 0xFF) as u8))
        };
        let kept_blocks: HashSet<(u16, u8)> = obj
            .iter()
            .map(|e| e.tag())
            .filter(|t| t.group() % 2 == 1 && is_safe_elem(*t))
            .map(|t| (t.group(), (t.element() >> 8) as u8))
            .collect();
        let elems: Vec<InMemElement> = obj
            .into_iter()
            .filter_map(|e| {
                let t = e.tag();
                if t.element() == 0x0000 {
                    // Group lengths are deprecated and would be stale.
                    return None;
                }
                if t.group() % 2 == 1 {
                    let keep = if (0x10..=0xFF).contains(&t.element()) {
                        kept_blocks.contains(&(t.group(), (t.element() & 0xFF) as u8))
                    } else {
                        is_safe_elem(t)
                    };
                    return keep.then(|| self.keep(e));
                }
                self.apply(e)
            })
            .collect();
        let mut out = InMemDicomObject::from_element_iter(elems);
        for (dependent, condition) in PRESENT_ONLY_WITH {
            if out.get(*condition).is_none() {
                out.remove_element(*dependent);
            }
        }
        remove_orphan_overlays(&mut out);
        out
    }

    fn apply(&self, e: InMemElement) -> Option<InMemElement> {
        let tag = e.tag();
        let vr = e.vr();
        if (tag == TEXT_VALUE || tag == CODE_MEANING)
            && self.options.contains(DeidOption::CleanStructuredContent)
        {
            // Unlisted in Table E.1-1, so otherwise kept: cleaned here (a
            // local code's meaning can name a person).
            let v = scrub(&string(&e), &self.scrub);
            return Some(text_elem(tag, vr, &self.patterns.mask(&v)));
        }
        let (action, row) = resolve_in(tag, self.options, self.family);
        match action {
            Action::Remove => None,
            Action::Empty => {
                if vr == VR::SQ {
                    Some(DataElement::new(tag, VR::SQ, empty_sequence()))
                } else if tag == PATIENT_NAME {
                    // Z allows a dummy: the pseudonym keeps research useful.
                    Some(text_elem(tag, vr, &format!("{}^", self.pseudonym)))
                } else {
                    Some(DataElement::empty(tag, vr))
                }
            }
            Action::Dummy => Some(self.dummy(e)),
            Action::Keep => {
                // Unlisted dates follow the shift too, so that no true date
                // survives in a shifted file.
                if row.is_none() && self.shift_days.is_some() && matches!(vr, VR::DA | VR::DT) {
                    return Some(self.shift(e));
                }
                Some(self.keep(e))
            }
            Action::Clean => self.clean(e),
            Action::ReplaceUid | Action::KeepReplacingUids => {
                if vr == VR::SQ {
                    Some(self.keep(e))
                } else {
                    Some(self.replace_uids(e))
                }
            }
        }
    }

    /// Keeps an element; a sequence is de-identified item by item.
    fn keep(&self, e: InMemElement) -> InMemElement {
        let (header, value) = e.into_parts();
        match value {
            Value::Sequence(seq) => {
                let items: Vec<InMemDicomObject> = seq
                    .into_items()
                    .into_iter()
                    .map(|i| self.deidentify(i))
                    .collect();
                DataElement::new(
                    header.tag,
                    VR::SQ,
                    Value::from(DataSetSequence::new(items, Length::UNDEFINED)),
                )
            }
            other => DataElement::new(header.tag, header.vr, other),
        }
    }

    fn dummy(&self, e: InMemElement) -> InMemElement {
        let tag = e.tag();
        let vr = e.vr();
        match vr {
            VR::SQ => self.keep(e),
            VR::UI => self.replace_uids(e),
            VR::AT => e,
            _ if tag == PATIENT_ID => text_elem(tag, vr, &self.pseudonym),
            _ => match dummy_value(vr) {
                Some(v) => DataElement::new(tag, vr, v),
                None => DataElement::empty(tag, vr),
            },
        }
    }

    fn clean(&self, e: InMemElement) -> Option<InMemElement> {
        let tag = e.tag();
        let vr = e.vr();
        Some(match vr {
            VR::SQ => self.keep(e),
            VR::DA | VR::DT => self.shift(e),
            VR::TM if self.shift_days.is_some() => e,
            VR::TM => text_elem(tag, vr, DUMMY_TIME),
            VR::UI => self.replace_uids(e),
            VR::AE => {
                let v = string(&e);
                if v.is_empty() {
                    e
                } else {
                    text_elem(tag, vr, &self.p.token("ae", &v, "AE"))
                }
            }
            _ if is_free_text(vr) => {
                let v = string(&e);
                text_elem(tag, vr, &scrub(&v, &self.scrub))
            }
            // Bitmaps (overlays, curves) and other binary data cannot be
            // cleaned without decoding: removal is the conservative choice.
            _ if is_bulk(vr) => return None,
            _ => e,
        })
    }

    /// Shifts a DA or DT value by the patient's offset; without a shift (or
    /// when the value is not a valid date) the dummy replaces it.
    fn shift(&self, e: InMemElement) -> InMemElement {
        let tag = e.tag();
        let vr = e.vr();
        let v = string(&e);
        if v.is_empty() {
            return e;
        }
        let shifted = self.shift_days.and_then(|d| match vr {
            VR::DA => shift_da(&v, d),
            _ => shift_dt(&v, d),
        });
        let dummy = if vr == VR::DA {
            DUMMY_DATE
        } else {
            DUMMY_DATETIME
        };
        text_elem(tag, vr, shifted.as_deref().unwrap_or(dummy))
    }

    fn replace_uids(&self, e: InMemElement) -> InMemElement {
        let tag = e.tag();
        let v = string(&e);
        if v.is_empty() {
            return DataElement::empty(tag, VR::UI);
        }
        let mapped: Vec<String> = v.split('\\').map(|u| self.p.uid(u.trim())).collect();
        DataElement::new(tag, VR::UI, PrimitiveValue::Strs(mapped.into()))
    }
}

/// The values masked in free text: tokens (3 characters or more) of the
/// file's identifying attributes, of every person name anywhere in the file
/// (observers, names in the content tree, nested patient names) and the
/// patient's year of birth; longest first.
fn scrub_tokens(top: &InMemDicomObject) -> Vec<String> {
    let mut values: Vec<String> = SCRUB_SOURCES.iter().map(|t| text_of(top, *t)).collect();
    let birth = text_of(top, Tag(0x0010, 0x0030));
    if let Some(year) = birth
        .get(..4)
        .filter(|y| y.bytes().all(|b| b.is_ascii_digit()))
    {
        values.push(year.to_owned());
    }
    collect_names(top, &mut values, 0);
    let mut scrub: Vec<String> = Vec::new();
    for v in &values {
        for token in v.split(['^', ' ', '=', '\\', ',']) {
            let token = token.trim().to_ascii_uppercase();
            if token.chars().count() >= 3 && !scrub.contains(&token) {
                scrub.push(token);
            }
        }
    }
    scrub.sort_by_key(|t| std::cmp::Reverse(t.len()));
    scrub
}

/// Every PN value and nested Patient ID at any depth (the reader bounds the
/// depth already; `depth` guards data sets built in memory).
fn collect_names(obj: &InMemDicomObject, out: &mut Vec<String>, depth: usize) {
    if depth > crate::reader::MAX_DEPTH {
        return;
    }
    for e in obj.iter() {
        if let Some(items) = e.items() {
            for item in items {
                collect_names(item, out, depth + 1);
            }
        } else if (e.vr() == VR::PN || (depth > 0 && e.tag() == PATIENT_ID))
            && let Ok(v) = e.to_str()
        {
            out.push(v.trim_end_matches(['\0', ' ']).to_owned());
        }
    }
}

/// An overlay plane whose Overlay Data (60xx,3000) was removed would be an
/// invalid module (the data is Type 1): the whole group goes with it.
fn remove_orphan_overlays(out: &mut InMemDicomObject) {
    let orphans: Vec<Tag> = out
        .tags()
        .filter(|t| t.group() & 0xFF01 == 0x6000)
        .filter(|t| out.get(Tag(t.group(), 0x3000)).is_none())
        .collect();
    for t in orphans {
        out.remove_element(t);
    }
}

fn empty_sequence() -> Value<InMemDicomObject> {
    Value::from(DataSetSequence::new(
        Vec::<InMemDicomObject>::new(),
        Length::UNDEFINED,
    ))
}

fn text_elem(tag: Tag, vr: VR, text: &str) -> InMemElement {
    DataElement::new(tag, vr, PrimitiveValue::from(text))
}

fn string(e: &InMemElement) -> String {
    e.to_str()
        .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
        .unwrap_or_default()
}

/// Replaces every (ASCII case-insensitive) occurrence of a token by `*`s.
fn scrub(text: &str, tokens: &[String]) -> String {
    let mut out = text.to_owned();
    let mut upper = text.to_ascii_uppercase();
    for t in tokens {
        while let Some(pos) = upper.find(t.as_str()) {
            let stars = "*".repeat(t.len());
            out.replace_range(pos..pos + t.len(), &stars);
            upper.replace_range(pos..pos + t.len(), &stars);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_tokens_case_insensitively() {
        let tokens = vec!["MUSTERMANN".to_owned(), "12345".to_owned()];
        assert_eq!(
            scrub("CT of Mustermann, id 12345", &tokens),
            "CT of **********, id *****"
        );
        assert_eq!(scrub("nothing here", &tokens), "nothing here");
    }
}
