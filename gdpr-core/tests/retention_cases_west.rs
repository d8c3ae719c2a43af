//! Legal cases of the FR, NL and UK-ENG packs, and of records decided under
//! several packs, as a table. The arithmetic behind each expected date is
//! written next to the case.

mod retention_support;

use gdpr_core::retention::{Clause, Status, parse_record_line};
use retention_support::{Case, case, day, pack, run};

use Clause::{Death, Minors, Period};
use Status::{Due, EliminationProcedure, Held};

const FR: &[&str] = &["fr-patient-record"];
const UK_PR: &[&str] = &["uk-eng-patient-record"];
const UK_IMG: &[&str] = &["uk-eng-imaging"];

#[rustfmt::skip]
fn fr_cases() -> Vec<Case> {
    vec![
        // 2010-06-15 + 20 y = 2030-06-15; the 28th birthday (1988) is earlier.
        case("FR adult: 20 y after the last visit", "FR",
             r#"{"id":"22","category":"patient-record","birth_date":"1960-01-01","last_visit":"2010-06-15"}"#)
            .until("2030-06-15", "fr-patient-record", Period).rules(FR),
        // 2008-01-01 + 20 y = 2028-01-01 < 28th birthday 2033-03-10.
        case("FR child: until the 28th birthday", "FR",
             r#"{"id":"23","category":"patient-record","birth_date":"2005-03-10","last_visit":"2008-01-01"}"#)
            .until("2033-03-10", "fr-patient-record", Minors).rules(FR),
        // death 2015-02-01 < 2010-06-15 + 10 y: 2015-02-01 + 10 y = 2025-02-01,
        // past on 2026-01-01: the elimination procedure, not deletion.
        case("FR death within 10 y: 10 y from death, then the elimination procedure", "FR",
             r#"{"id":"24","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2015-02-01"}"#)
            .status(EliminationProcedure).until("2025-02-01", "fr-patient-record", Death).rules(FR),
        // death on 2020-06-15 = exactly 10 y after the last visit: not "less
        // than ten years" → 2010-06-15 + 20 y = 2030-06-15.
        case("FR death exactly 10 y after the last visit: the 20 y apply", "FR",
             r#"{"id":"25","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2020-06-15"}"#)
            .until("2030-06-15", "fr-patient-record", Period).rules(FR),
        // one day earlier, 2020-06-14: less than 10 y → 2020-06-14 + 10 y.
        case("FR death the day before the 10th anniversary: death clause", "FR",
             r#"{"id":"25b","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2020-06-14"}"#)
            .until("2030-06-14", "fr-patient-record", Death).rules(FR),
        case("FR death after 10 y: the 20 y apply", "FR",
             r#"{"id":"26","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2021-01-01"}"#)
            .until("2030-06-15", "fr-patient-record", Period).rules(FR),
        // child died 2009-01-01: replaces the 28th birthday; 2009 + 10 y.
        case("FR death of a child: death clause applies in all cases", "FR",
             r#"{"id":"27","category":"patient-record","birth_date":"2005-03-10","last_visit":"2008-01-01","death_date":"2009-01-01"}"#)
            .status(EliminationProcedure).until("2019-01-01", "fr-patient-record", Death).rules(FR),
        // born 2072-02-29: the 28th year of life ends 28 Feb 2100 (common),
        // so the 28th birthday is 1 Mar 2100; 2075-01-01 + 20 y = 2095-01-01.
        case("FR child born 29 Feb: 28th birthday on 1 March of a common year", "FR",
             r#"{"id":"27b","category":"patient-record","birth_date":"2072-02-29","last_visit":"2075-01-01"}"#)
            .until("2100-03-01", "fr-patient-record", Minors).rules(FR),
        case("FR without birth date: the 28th-birthday floor is undecidable", "FR",
             r#"{"id":"28","category":"patient-record","last_visit":"2000-01-01"}"#)
            .undetermined("needs birth_date"),
        case("FR death before the last visit: inconsistent", "FR",
             r#"{"id":"29","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2009-01-01"}"#)
            .undetermined("last_visit is after death_date"),
        // --- suspension (recours gracieux ou contentieux) ----------------------
        // 2000-01-10 + 20 y = 2020-01-10; + 400 suspended days: to 2021-01-10
        // is 366 days (2020 is leap), 34 more: 2021-01-31 (+21), 2021-02-13 (+13).
        case("FR suspension adds 400 days: 2021-02-13, last day", "FR",
             r#"{"id":"s1","category":"patient-record","birth_date":"1960-01-01","last_visit":"2000-01-10","suspended_days":400}"#)
            .at("2021-02-13").until("2021-02-13", "fr-patient-record", Period).rules(FR),
        case("FR suspension: the elimination procedure the day after", "FR",
             r#"{"id":"s2","category":"patient-record","birth_date":"1960-01-01","last_visit":"2000-01-10","suspended_days":400}"#)
            .at("2021-02-14").status(EliminationProcedure).until("2021-02-13", "fr-patient-record", Period).rules(FR),
        // A hold blocks but adds nothing: retain_until stays 2020-01-10.
        case("FR hold instead of a suspension: the date does not move", "FR",
             r#"{"id":"s3","category":"patient-record","birth_date":"1960-01-01","last_visit":"2000-01-10","holds":["litigation"]}"#)
            .at("2021-02-14").status(Held).until("2020-01-10", "fr-patient-record", Period).rules(FR),
        // death clause 2015-02-01 + 10 y = 2025-02-01, + 30 days: February
        // 2025 has 28 days → 2025-03-01 is +28, 2025-03-03 is +30.
        case("FR suspension extends the death clause too", "FR",
             r#"{"id":"s4","category":"patient-record","birth_date":"1950-01-01","last_visit":"2010-06-15","death_date":"2015-02-01","suspended_days":30}"#)
            .at("2025-03-03").until("2025-03-03", "fr-patient-record", Death).rules(FR),
        // CTR: 2000-01-01 + 25 y = 2025-01-01 → due (deletion, not elimination).
        case("FR trial master file: CTR 25 y, then due", "FR",
             r#"{"id":"t","category":"trial-master-file","event_date":"2000-01-01"}"#)
            .status(Due).until("2025-01-01", "eu-ctr-trial-master-file", Period).rules(&["eu-ctr-trial-master-file"]),
    ]
}

#[rustfmt::skip]
fn nl_cases() -> Vec<Case> {
    vec![
        // 2005-05-05 + 20 y = 2025-05-05.
        case("NL: 20 y after the last change", "NL",
             r#"{"id":"30","category":"patient-record","last_change":"2005-05-05"}"#)
            .status(Due).until("2025-05-05", "nl-patient-record", Period).rules(&["nl-patient-record"]),
        // 2080-02-29 + 20 y = 2100-02-29, missing (2100 common) → next day.
        case("NL: 29 Feb start into a common year ends 1 March (next-day)", "NL",
             r#"{"id":"31","category":"patient-record","last_change":"2080-02-29"}"#)
            .until("2100-03-01", "nl-patient-record", Period).rules(&["nl-patient-record"]),
        case("NL: the last visit is not the last change", "NL",
             r#"{"id":"32","category":"patient-record","last_visit":"2005-05-05"}"#)
            .undetermined("needs last_change"),
        case("NL: a public-health hold", "NL",
             r#"{"id":"33","category":"patient-record","last_change":"1990-01-01","holds":["public-health","litigation"]}"#)
            .status(Held).until("2010-01-01", "nl-patient-record", Period).rules(&["nl-patient-record"]),
    ]
}

#[rustfmt::skip]
fn uk_cases() -> Vec<Case> {
    vec![
        // radiology: 2015-03-01 + 8 y = 2023-03-01.
        case("UK imaging adult: 8 y after last seen", "UK-ENG",
             r#"{"id":"34","category":"imaging-examination","modality":"MR","birth_date":"1970-01-01","treatment_end":"2015-03-01","last_visit":"2015-03-01"}"#)
            .status(Due).until("2023-03-01", "uk-eng-imaging", Period).rules(UK_IMG),
        // 17 y 364 d at the end: 26th birthday 2026-05-01.
        case("UK 17 at end of treatment (17 y 364 d): until the 26th birthday", "UK-ENG",
             r#"{"id":"35","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2018-04-30","last_visit":"2018-04-30"}"#)
            .until("2026-05-01", "uk-eng-imaging", Minors).rules(UK_IMG),
        case("UK 18 at end of treatment: adult, 8 y", "UK-ENG",
             r#"{"id":"36","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2018-05-01","last_visit":"2018-05-01"}"#)
            .until("2026-05-01", "uk-eng-imaging", Period).rules(UK_IMG),
        case("UK 16 at end of treatment: until the 25th birthday", "UK-ENG",
             r#"{"id":"37","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2016-06-01","last_visit":"2016-06-01"}"#)
            .at("2025-05-02").status(Due).until("2025-05-01", "uk-eng-imaging", Minors).rules(UK_IMG),
        // last seen 2020-01-01 + 8 y = 2028-01-01 > 25th birthday 2025-05-01.
        case("UK child seen again as adult: the later end wins", "UK-ENG",
             r#"{"id":"38","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2010-06-01","last_visit":"2020-01-01"}"#)
            .until("2028-01-01", "uk-eng-imaging", Period).rules(UK_IMG),
        // 26th birthday of a 29-Feb child in 2026 (common): 1 March.
        case("UK born 29 Feb, 17 at end: 26th birthday on 1 March", "UK-ENG",
             r#"{"id":"39","category":"imaging-examination","birth_date":"2000-02-29","treatment_end":"2017-06-01","last_visit":"2017-06-01"}"#)
            .until("2026-03-01", "uk-eng-imaging", Minors).rules(UK_IMG),
        case("UK without end of treatment: undetermined", "UK-ENG",
             r#"{"id":"40","category":"imaging-examination","birth_date":"2000-05-01","last_visit":"2018-04-30"}"#)
            .undetermined("needs treatment_end"),
        case("UK legal-obligation hold", "UK-ENG",
             r#"{"id":"41","category":"imaging-examination","birth_date":"1950-01-01","treatment_end":"2000-01-01","last_visit":"2000-01-01","holds":["legal-obligation"]}"#)
            .status(Held).until("2008-01-01", "uk-eng-imaging", Period).rules(UK_IMG),
        // --- health records: adults, children, deaths --------------------------
        // adult: 2015-03-01 + 8 y = 2023-03-01.
        case("UK adult record: 8 y after the conclusion of treatment", "UK-ENG",
             r#"{"id":"42","category":"patient-record","birth_date":"1970-01-01","treatment_end":"2015-03-01"}"#)
            .status(Due).until("2023-03-01", "uk-eng-patient-record", Period).rules(UK_PR),
        case("UK record without the end of treatment: undetermined", "UK-ENG",
             r#"{"id":"42b","category":"patient-record","last_visit":"2000-01-01"}"#)
            .undetermined("needs treatment_end"),
        // 16 at the end (2016-06-01): 25th birthday 2025-05-01 > 2024-06-01.
        case("UK child record: until the 25th birthday", "UK-ENG",
             r#"{"id":"43","category":"patient-record","birth_date":"2000-05-01","treatment_end":"2016-06-01"}"#)
            .at("2025-05-01").until("2025-05-01", "uk-eng-patient-record", Minors).rules(UK_PR),
        // died at 10 (2020-02-01), before the 18th birthday: 2020-02-01 + 8 y
        // = 2028-02-01 replaces the 25th birthday 2035-01-01.
        case("UK child died before 18: 8 y after death", "UK-ENG",
             r#"{"id":"44","category":"patient-record","birth_date":"2010-01-01","treatment_end":"2020-01-01","death_date":"2020-02-01"}"#)
            .until("2028-02-01", "uk-eng-patient-record", Death).rules(UK_PR),
        // died at 30: the children's death clause does not apply; 2010 + 8 y.
        case("UK adult died: 8 y after the conclusion of treatment", "UK-ENG",
             r#"{"id":"44b","category":"patient-record","birth_date":"1980-01-01","treatment_end":"2010-01-01","death_date":"2010-01-01"}"#)
            .status(Due).until("2018-01-01", "uk-eng-patient-record", Period).rules(UK_PR),
        // born 2000-02-29, 16 at the end: the 25th year of life ends
        // 2025-02-28 (2025 common), the 25th birthday is 2025-03-01.
        case("UK child born 29 Feb: 25th birthday on 1 March", "UK-ENG",
             r#"{"id":"45","category":"patient-record","birth_date":"2000-02-29","treatment_end":"2016-06-01"}"#)
            .at("2025-03-01").until("2025-03-01", "uk-eng-patient-record", Minors).rules(UK_PR),
        case("UK child death without birth date: undetermined", "UK-ENG",
             r#"{"id":"45b","category":"patient-record","treatment_end":"2016-06-01","death_date":"2016-07-01"}"#)
            .undetermined("needs birth_date"),
        // --- maternity, mental health, oncology, transfusion, transplant -------
        // birth of the last child 2005-04-04 + 25 y = 2030-04-04 > 2013-04-10.
        case("UK maternity: 25 y after the birth of the last child", "UK-ENG",
             r#"{"id":"46","category":"patient-record","facets":["maternity"],"birth_date":"1980-01-01","event_date":"2005-04-04","treatment_end":"2005-04-10"}"#)
            .until("2030-04-04", "uk-eng-maternity", Period).rules(&["uk-eng-patient-record", "uk-eng-maternity"]),
        // 2010-01-01 + 20 y = 2030-01-01.
        case("UK mental health: 20 y", "UK-ENG",
             r#"{"id":"47","category":"patient-record","facets":["mental-health"],"birth_date":"1980-01-01","treatment_end":"2010-01-01"}"#)
            .until("2030-01-01", "uk-eng-mental-health", Period).rules(&["uk-eng-patient-record", "uk-eng-mental-health"]),
        // death 2012-05-05 + 8 y = 2020-05-05 < 2030-01-01: sooner, applies;
        // still later than the general 2010-01-01 + 8 y = 2018-01-01.
        case("UK mental health, died: 8 y after death if sooner", "UK-ENG",
             r#"{"id":"47b","category":"patient-record","facets":["mental-health"],"birth_date":"1980-01-01","treatment_end":"2010-01-01","death_date":"2012-05-05"}"#)
            .status(Due).until("2020-05-05", "uk-eng-mental-health", Death).rules(&["uk-eng-patient-record", "uk-eng-mental-health"]),
        // diagnosis 2001-09-09 + 30 y = 2031-09-09; death 2003-01-01 + 8 y =
        // 2011-01-01 sooner; the general rule 2002-12-01 + 8 y = 2010-12-01.
        case("UK oncology, died: 8 y after death", "UK-ENG",
             r#"{"id":"48","category":"patient-record","facets":["oncology"],"birth_date":"1950-01-01","event_date":"2001-09-09","treatment_end":"2002-12-01","death_date":"2003-01-01"}"#)
            .status(Due).until("2011-01-01", "uk-eng-oncology", Death).rules(&["uk-eng-patient-record", "uk-eng-oncology"]),
        // death 2025-01-01 + 8 y = 2033-01-01 is not sooner than 2031-09-09.
        case("UK oncology, died late: 30 y from the diagnosis", "UK-ENG",
             r#"{"id":"48b","category":"patient-record","facets":["oncology"],"birth_date":"1950-01-01","event_date":"2001-09-09","treatment_end":"2002-12-01","death_date":"2025-01-01"}"#)
            .until("2031-09-09", "uk-eng-oncology", Period).rules(&["uk-eng-patient-record", "uk-eng-oncology"]),
        // 2016-02-29 + 30 y: 2046-02-29 missing → house policy 1 March.
        case("UK transfusion on 29 Feb: 30 y, to 1 March", "UK-ENG",
             r#"{"id":"49","category":"transfusion","event_date":"2016-02-29"}"#)
            .until("2046-03-01", "uk-eng-transfusion", Period).rules(&["uk-eng-transfusion"]),
        // 1990-10-10 + 30 y = 2020-10-10.
        case("UK transplant: 30 y", "UK-ENG",
             r#"{"id":"50","category":"organ-tissue","event_date":"1990-10-10"}"#)
            .status(Due).until("2020-10-10", "uk-eng-transplant", Period).rules(&["uk-eng-transplant"]),
        case("UK trial master file: no EU rule", "UK-ENG",
             r#"{"id":"51","category":"trial-master-file","event_date":"2020-01-01"}"#)
            .undetermined("no rule"),
    ]
}

#[test]
fn french_cases() {
    run(fr_cases());
}

#[test]
fn dutch_cases() {
    run(nl_cases());
}

#[test]
fn english_cases() {
    run(uk_cases());
}

#[test]
fn one_record_under_several_packs() {
    // A transfusion on 29 Feb 2016, traceability data. 30 years end on
    // 2046-02-29, which does not exist: DE (§ 188(3) BGB) 28 Feb; UK-ENG
    // (house policy) 1 March. NL and FR have no transfusion rule.
    let line = r#"{"id":"x","category":"transfusion","facets":["traceability"],"event_date":"2016-02-29"}"#;
    let r = parse_record_line(line).unwrap().record;
    let at = day("2026-01-01");
    assert_eq!(
        pack("DE").decide(&r, at).retain_until(),
        Some(day("2046-02-28"))
    );
    assert_eq!(
        pack("UK-ENG").decide(&r, at).retain_until(),
        Some(day("2046-03-01"))
    );
    for j in ["FR", "NL"] {
        assert_eq!(pack(j).decide(&r, at).status(), Status::Undetermined, "{j}");
    }
    // A patient record that is also a trial master file: the national rule
    // and CTR Art. 58 both apply, the longer wins. NL: last change
    // 2010-01-01 + 20 y = 2030-01-01 < end of trial 2010-01-01 + 25 y.
    let line = r#"{"id":"y","category":["patient-record","trial-master-file"],"birth_date":"1970-01-01","event_date":"2010-01-01","treatment_end":"2010-01-01","last_visit":"2010-01-01","last_change":"2010-01-01","setting":"hospital"}"#;
    let r = parse_record_line(line).unwrap().record;
    let ends = [
        ("DE", "2035-01-01", "eu-ctr-trial-master-file"), // 10 y < 25 y
        ("DE-HH", "2040-01-01", "de-hh-hospital-record"), // 30 y > 25 y
        ("AT", "2040-01-01", "at-hospital-record"),       // 30 y > 25 y
        ("FR", "2035-01-01", "eu-ctr-trial-master-file"), // 20 y < 25 y
        ("NL", "2035-01-01", "eu-ctr-trial-master-file"), // 20 y < 25 y
        ("UK-ENG", "2018-01-01", "uk-eng-patient-record"), // no CTR: 8 y
    ];
    for (j, until, rule) in ends {
        let p = pack(j);
        let d = p.decide(&r, at);
        assert_eq!(d.retain_until(), Some(day(until)), "{j}");
        assert_eq!(d.governing().unwrap().0.id(), rule, "{j}");
    }
}
