//! One record as a line of JSON (the format of `gdpr retention evaluate`):
//!
//! ```json
//! {"id": "r1", "category": "imaging-examination", "modality": "CT",
//!  "birth_date": "2010-05-01", "event_date": "2015-01-10", "holds": ["litigation"]}
//! ```
//!
//! `category` is a name or a list of names. Optional: `subject` (the
//! patient's key, for grouping by subject), `last_examination`, `setting`
//! (`hospital`, `practice`), `facets` (a list of names) and `suspended_days`
//! (a whole number). Only `id` and `category` are
//! always required; the dates a rule needs are checked when deciding.
//! Unknown fields are errors (a typo such as `hold` for `holds` must not turn
//! a legal hold off), and so are duplicate fields and anything after the
//! object. Parsing borrows from the line and does not
//! allocate (unless the `id` contains JSON escapes; dates and modality codes
//! must not contain any); error messages never repeat a value from the line.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::Error;
use crate::category::RecordCategory;
use crate::retention::facet::{Facet, FacetSet, Setting};
use crate::retention::hold::{HoldSet, LegalHold};
use crate::retention::period::parse_date;
use crate::retention::record::{CategorySet, Fact, RetentionRecord};

/// A parsed line: the caller's id and the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLine<'a> {
    /// The caller's identifier of the record, echoed in the output.
    pub id: Cow<'a, str>,
    /// The patient's key, when given: records with the same subject are
    /// grouped ([`LatestExaminations`](crate::retention::LatestExaminations)).
    pub subject: Option<Cow<'a, str>>,
    /// The record.
    pub record: RetentionRecord,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
/// Dates and the modality are borrowed `&str` (a JSON escape in them is an
/// error); `Option<Cow<str>>` would always allocate.
struct Wire<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    category: Categories,
    #[serde(borrow, default)]
    modality: Option<&'a str>,
    #[serde(borrow, default)]
    birth_date: Option<&'a str>,
    #[serde(borrow, default)]
    death_date: Option<&'a str>,
    #[serde(borrow, default)]
    event_date: Option<&'a str>,
    #[serde(borrow, default)]
    treatment_end: Option<&'a str>,
    #[serde(borrow, default)]
    last_visit: Option<&'a str>,
    #[serde(borrow, default)]
    last_change: Option<&'a str>,
    #[serde(borrow, default)]
    last_examination: Option<&'a str>,
    #[serde(borrow, default)]
    subject: Option<Key<'a>>,
    #[serde(borrow, default)]
    setting: Option<&'a str>,
    #[serde(default)]
    facets: Option<Facets>,
    #[serde(default)]
    suspended_days: Option<u32>,
    #[serde(default)]
    holds: Option<Holds>,
}

/// Parses one JSON line into a record.
///
/// # Errors
///
/// [`Error::InvalidRecord`] naming the problem and its column (malformed
/// JSON, a missing `id` or `category`, an unknown or duplicate field, an
/// unknown category or hold, a modality that is not a DICOM code, a date
/// that is not `YYYY-MM-DD`). The message never contains a value from the
/// line; it names the field and lists the allowed values.
pub fn parse_record_line(line: &str) -> Result<RecordLine<'_>, Error> {
    let wire: Wire<'_> = serde_json::from_str(line).map_err(|e| Error::InvalidRecord {
        detail: crate::redact::serde_message(&e.to_string())
            .replace(" at line 1 column ", " at column "),
    })?;
    let invalid = |e: Error| Error::InvalidRecord {
        detail: e.to_string(),
    };
    let mut record = RetentionRecord::with_categories(wire.category.0);
    if let Some(m) = wire.modality {
        record.set_modality(Some(m.parse().map_err(invalid)?));
    }
    let dates = [
        (Fact::BirthDate, wire.birth_date),
        (Fact::DeathDate, wire.death_date),
        (Fact::EventDate, wire.event_date),
        (Fact::TreatmentEnd, wire.treatment_end),
        (Fact::LastVisit, wire.last_visit),
        (Fact::LastChange, wire.last_change),
        (Fact::LastExamination, wire.last_examination),
    ];
    for (fact, text) in dates {
        if let Some(text) = text {
            record.set_date(fact, Some(parse_date(text, fact.name()).map_err(invalid)?));
        }
    }
    if let Some(s) = wire.setting {
        record.set_setting(Some(s.parse::<Setting>().map_err(invalid)?));
    }
    if let Some(Facets(f)) = wire.facets {
        record.set_facets(f);
    }
    if let Some(days) = wire.suspended_days {
        record = record.with_suspended_days(days);
    }
    if let Some(Holds(h)) = wire.holds {
        record = record.with_holds(h);
    }
    Ok(RecordLine {
        id: wire.id,
        subject: wire.subject.map(|k| k.0),
        record,
    })
}

/// A string borrowed from the line when it has no escapes (then parsing
/// does not allocate), owned otherwise. `Option<Cow<str>>` would always own.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

struct Categories(CategorySet);
struct Holds(HoldSet);
struct Facets(FacetSet);

struct NameVisitor<T>(PhantomData<T>);

impl<T: FromStr<Err = Error>> NameVisitor<T> {
    fn parse<E: de::Error>(v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

struct Name<T>(T);

impl<T: FromStr<Err = Error>> Visitor<'_> for NameVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Self::parse(v)
    }
}

impl<'de, T: FromStr<Err = Error>> Deserialize<'de> for Name<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(NameVisitor(PhantomData)).map(Name)
    }
}

impl<'de> Deserialize<'de> for Categories {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CategorySet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a record category or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CategorySet, E> {
                NameVisitor::<RecordCategory>::parse(v).map(CategorySet::of)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CategorySet, A::Error> {
                let mut set = CategorySet::EMPTY;
                while let Some(Name(c)) = seq.next_element::<Name<RecordCategory>>()? {
                    set.insert(c);
                }
                if set.is_empty() {
                    return Err(de::Error::custom("category: the list is empty"));
                }
                Ok(set)
            }
        }
        d.deserialize_any(V).map(Categories)
    }
}

impl<'de> Deserialize<'de> for Holds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HoldSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of legal holds")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HoldSet, A::Error> {
                let mut set = HoldSet::EMPTY;
                while let Some(Name(h)) = seq.next_element::<Name<LegalHold>>()? {
                    set.insert(h);
                }
                Ok(set)
            }
        }
        d.deserialize_seq(V).map(Holds)
    }
}

impl<'de> Deserialize<'de> for Facets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FacetSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of facets")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FacetSet, A::Error> {
                let mut set = FacetSet::EMPTY;
                while let Some(Name(f)) = seq.next_element::<Name<Facet>>()? {
                    set.insert(f);
                }
                Ok(set)
            }
        }
        d.deserialize_seq(V).map(Facets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_issue_example_parses() {
        let line = r#"{"id": "r1", "category": "imaging-examination", "modality": "CT", "birth_date": "2010-05-01", "event_date": "2015-01-10", "holds": ["litigation"]}"#;
        let parsed = parse_record_line(line).unwrap();
        assert_eq!(parsed.id, "r1");
        assert!(matches!(parsed.id, Cow::Borrowed(_)));
        let r = parsed.record;
        assert!(r.categories().contains(RecordCategory::ImagingExamination));
        assert_eq!(r.modality().unwrap().as_str(), "CT");
        assert_eq!(r.date(Fact::BirthDate), Some(date(2010, 5, 1)));
        assert_eq!(r.date(Fact::EventDate), Some(date(2015, 1, 10)));
        assert!(r.holds().contains(LegalHold::Litigation));
    }

    #[test]
    fn subject_setting_facets_and_suspension_parse() {
        let line = r#"{"id":"r2","subject":"p-7","category":"transfusion","setting":"hospital","facets":["traceability"],"suspended_days":40,"last_examination":"2020-02-29"}"#;
        let parsed = parse_record_line(line).unwrap();
        assert_eq!(parsed.subject.as_deref(), Some("p-7"));
        let r = parsed.record;
        assert_eq!(r.setting(), Some(Setting::Hospital));
        assert!(r.facets().contains(Facet::Traceability));
        assert_eq!(r.suspended_days(), 40);
        assert_eq!(r.date(Fact::LastExamination), Some(date(2020, 2, 29)));
        for bad in [
            r#"{"id":"x","category":"transfusion","setting":"clinic-1987"}"#,
            r#"{"id":"x","category":"transfusion","facets":["blood-1987"]}"#,
            r#"{"id":"x","category":"transfusion","suspended_days":-1987}"#,
        ] {
            let err = parse_record_line(bad).unwrap_err().to_string();
            assert!(!err.contains("1987"), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_fields_are_errors_that_name_the_field() {
        let line = r#"{"id":"r1","category":"imaging-examination","hold":["litigation"]}"#;
        let err = parse_record_line(line).unwrap_err().to_string();
        assert!(err.contains("unknown field `hold`"), "{err}");
        assert!(err.contains("`holds`"), "{err}");
        let line = r#"{"id":"r1","category":"imaging-examination","Doe-1987":1}"#;
        let err = parse_record_line(line).unwrap_err().to_string();
        assert!(
            err.contains("unknown field") && !err.contains("1987"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_fields_and_trailing_text_are_errors() {
        for line in [
            r#"{"id":"a","id":"b","category":"patient-record"}"#,
            r#"{"id":"a","category":"patient-record"} {}"#,
        ] {
            assert!(parse_record_line(line).is_err(), "{line}");
        }
    }

    #[test]
    fn a_list_of_categories_and_nulls_are_accepted() {
        let line =
            r#"{"id":"x","category":["imaging-examination","radiotherapy"],"death_date":null}"#;
        let r = parse_record_line(line).unwrap().record;
        assert!(r.categories().contains(RecordCategory::Radiotherapy));
        assert_eq!(r.date(Fact::DeathDate), None);
    }

    #[test]
    fn errors_name_the_problem_but_never_the_value() {
        let cases = [
            (
                r#"{"id":"x","category":"patient-record","birth_date":19870605}"#,
                "column",
            ),
            (
                r#"{"id":"x","category":"patient-record","birth_date":"1987-02-30"}"#,
                "birth_date",
            ),
            (r#"{"id":"x","category":"x-ray-1987"}"#, "patient-record"),
            (
                r#"{"id":"x","category":"patient-record","holds":["vacation-1987"]}"#,
                "litigation",
            ),
            (r#"{"category":"patient-record"}"#, "id"),
            (r#"{"id":"x","category":"patient-record","#, "EOF"),
        ];
        for (line, needle) in cases {
            let err = parse_record_line(line).unwrap_err().to_string();
            assert!(err.contains(needle), "{line}: {err}");
            assert!(!err.contains("1987"), "{line}: {err}");
        }
    }
}
