//! Legal cases per built-in rule pack, as a table: a record (one JSON line),
//! a date, and the expected decision. Each case names the provision it
//! checks; the expected dates were worked out by hand from the provision
//! and the pack's date convention (see docs/retention.md).

use gdpr_core::retention::{Clause, Jurisdiction, RulePack, Status, parse_record_line};
use jiff::civil::Date;

struct Case {
    name: &'static str,
    pack: &'static str,
    record: &'static str,
    at: &'static str,
    status: Status,
    retain_until: Option<&'static str>,
    /// The rule that set `retain_until`, and through which clause.
    governing: Option<(&'static str, Clause)>,
    /// Every rule that applied.
    rules: &'static [&'static str],
    /// A piece of the undetermined reason, if one is expected.
    reason: Option<&'static str>,
}

const fn case(name: &'static str, pack: &'static str, record: &'static str) -> Case {
    Case {
        name,
        pack,
        record,
        at: "2026-01-01",
        status: Status::Retain,
        retain_until: None,
        governing: None,
        rules: &[],
        reason: None,
    }
}

impl Case {
    const fn at(mut self, at: &'static str) -> Self {
        self.at = at;
        self
    }
    const fn until(mut self, d: &'static str, rule: &'static str, clause: Clause) -> Self {
        self.retain_until = Some(d);
        self.governing = Some((rule, clause));
        self
    }
    const fn status(mut self, s: Status) -> Self {
        self.status = s;
        self
    }
    const fn rules(mut self, r: &'static [&'static str]) -> Self {
        self.rules = r;
        self
    }
    const fn undetermined(mut self, reason: &'static str) -> Self {
        self.status = Status::Undetermined;
        self.reason = Some(reason);
        self
    }
}

use Clause::{Death, Minors, Period};
use Status::{Due, Held, Retain};

const DE_PR: &[&str] = &["de-patient-record"];
const DE_IMG: &[&str] = &["de-imaging-ionising"];

fn cases() -> Vec<Case> {
    vec![
        // --- DE: § 630f(3) BGB, §§ 187-188 BGB -------------------------------
        case("DE record: 10 y after treatment end, last day inclusive", "DE",
             r#"{"id":"1","category":"patient-record","treatment_end":"2015-01-10"}"#)
            .at("2025-01-10").until("2025-01-10", "de-patient-record", Period).rules(DE_PR),
        case("DE record: due the day after", "DE",
             r#"{"id":"2","category":"patient-record","treatment_end":"2015-01-10"}"#)
            .at("2025-01-11").status(Due).until("2025-01-10", "de-patient-record", Period).rules(DE_PR),
        case("DE record: 29 Feb start ends 28 Feb (§ 188(3) BGB)", "DE",
             r#"{"id":"3","category":"patient-record","treatment_end":"2016-02-29"}"#)
            .at("2026-03-01").status(Due).until("2026-02-28", "de-patient-record", Period).rules(DE_PR),
        case("DE record: no treatment end is undetermined", "DE",
             r#"{"id":"4","category":"patient-record","event_date":"2015-01-10"}"#)
            .undetermined("needs treatment_end"),
        // --- DE: § 85(2) Nr. 2 StrlSchG --------------------------------------
        case("DE CT adult: 10 y after the examination", "DE",
             r#"{"id":"5","category":"imaging-examination","modality":"CT","birth_date":"1980-01-01","event_date":"2015-01-10"}"#)
            .status(Due).until("2025-01-10", "de-imaging-ionising", Period).rules(DE_IMG),
        case("DE CT child of 7: until completing the 28th year of life", "DE",
             r#"{"id":"6","category":"imaging-examination","modality":"CT","birth_date":"2000-05-01","event_date":"2008-03-01"}"#)
            .until("2028-04-30", "de-imaging-ionising", Minors).rules(DE_IMG),
        case("DE X-ray at 17 y 364 d: minor; both ends fall on the same day", "DE",
             r#"{"id":"7","category":"imaging-examination","modality":"DX","birth_date":"2000-05-01","event_date":"2018-04-30"}"#)
            .until("2028-04-30", "de-imaging-ionising", Period).rules(DE_IMG),
        case("DE X-ray on the 18th birthday: adult, 10 y", "DE",
             r#"{"id":"8","category":"imaging-examination","modality":"DX","birth_date":"2000-05-01","event_date":"2018-05-01"}"#)
            .until("2028-05-01", "de-imaging-ionising", Period).rules(DE_IMG),
        case("DE NM child born 29 Feb: 28th year ends 28 Feb 2032", "DE",
             r#"{"id":"9","category":"imaging-examination","modality":"NM","birth_date":"2004-02-29","event_date":"2010-01-01"}"#)
            .until("2032-02-28", "de-imaging-ionising", Minors).rules(DE_IMG),
        case("DE CT without birth date: minors rule undecidable", "DE",
             r#"{"id":"10","category":"imaging-examination","modality":"CT","event_date":"2015-01-10"}"#)
            .undetermined("needs birth_date"),
        case("DE imaging without modality: undetermined", "DE",
             r#"{"id":"11","category":"imaging-examination","birth_date":"1980-01-01","event_date":"2015-01-10"}"#)
            .undetermined("needs modality"),
        case("DE MR (no ionising radiation): no rule", "DE",
             r#"{"id":"12","category":"imaging-examination","modality":"MR","birth_date":"1980-01-01","event_date":"2015-01-10"}"#)
            .undetermined("no rule"),
        case("DE CT before birth: inconsistent", "DE",
             r#"{"id":"13","category":"imaging-examination","modality":"CT","birth_date":"2015-01-11","event_date":"2015-01-10"}"#)
            .undetermined("birth_date is after event_date"),
        // --- DE: StrlSchG Nr. 1, TFG, TPG; overlap; holds ---------------------
        case("DE radiotherapy: 30 y after the last treatment", "DE",
             r#"{"id":"14","category":"radiotherapy","treatment_end":"2000-03-15"}"#)
            .until("2030-03-15", "de-radiotherapy", Period).rules(&["de-radiotherapy"]),
        case("DE transfusion on 29 Feb: 30 y, ends 28 Feb", "DE",
             r#"{"id":"15","category":"transfusion","event_date":"2016-02-29"}"#)
            .until("2046-02-28", "de-transfusion", Period).rules(&["de-transfusion"]),
        case("DE organ donation: 30 y", "DE",
             r#"{"id":"16","category":"organ-tissue","event_date":"1995-07-01"}"#)
            .status(Due).until("2025-07-01", "de-organ-tissue", Period).rules(&["de-organ-tissue"]),
        case("DE planning CT is imaging and radiotherapy: longest minimum wins", "DE",
             r#"{"id":"17","category":["imaging-examination","radiotherapy"],"modality":"CT","birth_date":"1970-01-01","event_date":"2010-06-01","treatment_end":"2010-08-01"}"#)
            .until("2040-08-01", "de-radiotherapy", Period).rules(&["de-imaging-ionising", "de-radiotherapy"]),
        case("DE held by litigation although due", "DE",
             r#"{"id":"18","category":"patient-record","treatment_end":"2000-01-10","holds":["litigation"]}"#)
            .status(Held).until("2010-01-10", "de-patient-record", Period).rules(DE_PR),
        case("DE hold beats a missing fact", "DE",
             r#"{"id":"19","category":"imaging-examination","modality":"CT","event_date":"2000-01-10","holds":["research-freeze"]}"#)
            .status(Held),
        // --- AT: § 51(3) ÄrzteG, § 902(2) ABGB ------------------------------
        case("AT record: 10 y, 29 Feb ends 28 Feb", "AT",
             r#"{"id":"20","category":"patient-record","treatment_end":"2016-02-29"}"#)
            .at("2026-03-01").status(Due).until("2026-02-28", "at-patient-record", Period).rules(&["at-patient-record"]),
        case("AT held by an open erasure request", "AT",
             r#"{"id":"21","category":"patient-record","treatment_end":"2000-01-01","holds":["erasure-request"]}"#)
            .status(Held).until("2010-01-01", "at-patient-record", Period).rules(&["at-patient-record"]),
        // --- FR: Art. R1112-7 CSP -------------------------------------------
        case("FR adult: 20 y after the last visit", "FR",
             r#"{"id":"22","category":"patient-record","birth_date":"1960-01-01","last_visit":"2010-06-15"}"#)
            .until("2030-06-15", "fr-patient-record", Period).rules(&["fr-patient-record"]),
        case("FR child: until the 28th birthday", "FR",
             r#"{"id":"23","category":"patient-record","birth_date":"2005-03-10","last_visit":"2008-01-01"}"#)
            .until("2033-03-10", "fr-patient-record", Minors).rules(&["fr-patient-record"]),
        case("FR death within 10 y of the last visit: 10 y from death", "FR",
             r#"{"id":"24","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2015-02-01"}"#)
            .status(Due).until("2025-02-01", "fr-patient-record", Death).rules(&["fr-patient-record"]),
        case("FR death exactly 10 y after the last visit still counts", "FR",
             r#"{"id":"25","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2020-06-15"}"#)
            .until("2030-06-15", "fr-patient-record", Death).rules(&["fr-patient-record"]),
        case("FR death after 10 y: the 20 y apply", "FR",
             r#"{"id":"26","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2021-01-01"}"#)
            .until("2030-06-15", "fr-patient-record", Period).rules(&["fr-patient-record"]),
        case("FR death of a child: death clause applies in all cases", "FR",
             r#"{"id":"27","category":"patient-record","birth_date":"2005-03-10","last_visit":"2008-01-01","death_date":"2009-01-01"}"#)
            .status(Due).until("2019-01-01", "fr-patient-record", Death).rules(&["fr-patient-record"]),
        case("FR without birth date: the 28th-birthday floor is undecidable", "FR",
             r#"{"id":"28","category":"patient-record","last_visit":"2000-01-01"}"#)
            .undetermined("needs birth_date"),
        case("FR death before the last visit: inconsistent", "FR",
             r#"{"id":"29","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2009-01-01"}"#)
            .undetermined("last_visit is after death_date"),
        // --- NL: Art. 7:454(3) BW -------------------------------------------
        case("NL: 20 y after the last change", "NL",
             r#"{"id":"30","category":"patient-record","last_change":"2005-05-05"}"#)
            .status(Due).until("2025-05-05", "nl-patient-record", Period).rules(&["nl-patient-record"]),
        case("NL: 29 Feb start into a common year ends 1 March (next-day)", "NL",
             r#"{"id":"31","category":"patient-record","last_change":"2080-02-29"}"#)
            .until("2100-03-01", "nl-patient-record", Period).rules(&["nl-patient-record"]),
        case("NL: the last visit is not the last change", "NL",
             r#"{"id":"32","category":"patient-record","last_visit":"2005-05-05"}"#)
            .undetermined("needs last_change"),
        case("NL: a public-health hold", "NL",
             r#"{"id":"33","category":"patient-record","last_change":"1990-01-01","holds":["public-health","litigation"]}"#)
            .status(Held).until("2010-01-01", "nl-patient-record", Period).rules(&["nl-patient-record"]),
        // --- UK-ENG: NHS Records Management Code ----------------------------
        case("UK adult: 8 y after last seen", "UK-ENG",
             r#"{"id":"34","category":"imaging-examination","modality":"MR","birth_date":"1970-01-01","treatment_end":"2015-03-01","last_visit":"2015-03-01"}"#)
            .status(Due).until("2023-03-01", "uk-eng-imaging", Period).rules(&["uk-eng-imaging"]),
        case("UK 17 at end of treatment (17 y 364 d): until the 26th birthday", "UK-ENG",
             r#"{"id":"35","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2018-04-30","last_visit":"2018-04-30"}"#)
            .until("2026-05-01", "uk-eng-imaging", Minors).rules(&["uk-eng-imaging"]),
        case("UK 18 at end of treatment: adult, 8 y", "UK-ENG",
             r#"{"id":"36","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2018-05-01","last_visit":"2018-05-01"}"#)
            .until("2026-05-01", "uk-eng-imaging", Period).rules(&["uk-eng-imaging"]),
        case("UK 16 at end of treatment: until the 25th birthday", "UK-ENG",
             r#"{"id":"37","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2016-06-01","last_visit":"2016-06-01"}"#)
            .at("2025-05-02").status(Due).until("2025-05-01", "uk-eng-imaging", Minors).rules(&["uk-eng-imaging"]),
        case("UK child seen again as adult: the later end wins", "UK-ENG",
             r#"{"id":"38","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2010-06-01","last_visit":"2020-01-01"}"#)
            .until("2028-01-01", "uk-eng-imaging", Period).rules(&["uk-eng-imaging"]),
        case("UK born 29 Feb, 17 at end: 26th birthday on 1 March", "UK-ENG",
             r#"{"id":"39","category":"imaging-examination","birth_date":"2000-02-29","treatment_end":"2017-06-01","last_visit":"2017-06-01"}"#)
            .until("2026-03-01", "uk-eng-imaging", Minors).rules(&["uk-eng-imaging"]),
        case("UK without end of treatment: undetermined", "UK-ENG",
             r#"{"id":"40","category":"imaging-examination","birth_date":"2000-05-01","last_visit":"2018-04-30"}"#)
            .undetermined("needs treatment_end"),
        case("UK legal-obligation hold", "UK-ENG",
             r#"{"id":"41","category":"imaging-examination","birth_date":"1950-01-01","treatment_end":"2000-01-01","last_visit":"2000-01-01","holds":["legal-obligation"]}"#)
            .status(Held).until("2008-01-01", "uk-eng-imaging", Period).rules(&["uk-eng-imaging"]),
        case("UK has no patient-record rule", "UK-ENG",
             r#"{"id":"42","category":"patient-record","last_visit":"2000-01-01"}"#)
            .undetermined("no rule"),
    ]
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn legal_cases_per_pack() {
    let mut failures = Vec::new();
    let mut packs_seen = std::collections::BTreeSet::new();
    for c in cases() {
        let j: Jurisdiction = c.pack.parse().unwrap();
        let pack = RulePack::builtin(&j).unwrap().unwrap();
        packs_seen.insert(c.pack);
        let record = parse_record_line(c.record).unwrap().record;
        let d = pack.decide(&record, day(c.at));
        let got_rules: Vec<&str> = d.rules().map(|r| r.id()).collect();
        let got_governing = d.governing().map(|(r, clause)| (r.id(), clause));
        let reason = d.undetermined().map(|u| u.to_string());
        let mut problems = Vec::new();
        if d.status() != c.status {
            problems.push(format!("status {:?}, expected {:?}", d.status(), c.status));
        }
        if d.retain_until() != c.retain_until.map(day) {
            problems.push(format!(
                "retain_until {:?}, expected {:?}",
                d.retain_until(),
                c.retain_until
            ));
        }
        if got_governing != c.governing {
            problems.push(format!(
                "governing {got_governing:?}, expected {:?}",
                c.governing
            ));
        }
        if c.status != Status::Undetermined && c.retain_until.is_some() && got_rules != c.rules {
            problems.push(format!("rules {got_rules:?}, expected {:?}", c.rules));
        }
        match (&reason, c.reason) {
            (Some(r), Some(want)) if !r.contains(want) => {
                problems.push(format!("reason {r:?} lacks {want:?}"))
            }
            (None, Some(want)) => problems.push(format!("no reason, expected {want:?}")),
            _ => {}
        }
        if c.status == Held && !d.holds().iter().any(|_| true) {
            problems.push("held without a named hold".into());
        }
        // Every rule that applied shows its legal source.
        for r in d.rules() {
            if r.source().as_str().is_empty() {
                problems.push(format!("rule {} without source", r.id()));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", c.name, problems.join("; ")));
        }
    }
    assert_eq!(packs_seen.len(), 5, "every built-in pack has cases");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn sources_are_the_ones_the_law_names() {
    let expect = [
        ("DE", "de-patient-record", "§ 630f(3) BGB"),
        ("DE", "de-imaging-ionising", "§ 85(2) Nr. 2 StrlSchG"),
        ("DE", "de-radiotherapy", "§ 85(2) Nr. 1 StrlSchG"),
        ("DE", "de-transfusion", "§ 14(3) TFG"),
        ("DE", "de-organ-tissue", "§ 15 TPG"),
        ("AT", "at-patient-record", "§ 51(3) ÄrzteG"),
        ("FR", "fr-patient-record", "Art. R1112-7 CSP"),
        ("NL", "nl-patient-record", "Art. 7:454(3) BW"),
    ];
    for (j, id, source) in expect {
        let pack = RulePack::builtin(&j.parse().unwrap()).unwrap().unwrap();
        assert_eq!(pack.rule(id).unwrap().source().as_str(), source);
    }
    let uk = RulePack::builtin(&"UK-ENG".parse().unwrap())
        .unwrap()
        .unwrap();
    assert!(
        uk.rule("uk-eng-imaging")
            .unwrap()
            .source()
            .as_str()
            .contains("NHS Records Management Code")
    );
}

#[test]
fn year_end_rounding_and_maximum_from_a_user_pack() {
    let de = RulePack::builtin(&"DE".parse().unwrap()).unwrap().unwrap();
    let de = de
        .extended_with_toml(
            r#"
            [[rule]]
            id = "house-billing"
            category = "billing"
            years = 10
            maximum_years = 12
            round_up_to_year_end = true
            from = "event_date"
            source = "§ 147(3) AO"
            "#,
        )
        .unwrap();
    let r = parse_record_line(r#"{"id":"b","category":"billing","event_date":"2010-03-05"}"#)
        .unwrap()
        .record;
    let d = de.decide(&r, day("2020-12-31"));
    assert_eq!(d.retain_until(), Some(day("2020-12-31")));
    assert_eq!(d.status(), Status::Retain);
    assert_eq!(de.decide(&r, day("2021-01-01")).status(), Status::Due);
    assert_eq!(de.decide(&r, day("2022-12-31")).status(), Status::Due);
    assert_eq!(de.decide(&r, day("2023-01-01")).status(), Status::Review);
    assert_eq!(d.review_by(), Some(day("2022-12-31")));
    let _ = Retain;
}
