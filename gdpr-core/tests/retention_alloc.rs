//! The per-record path of the retention engine does not allocate: parsing a
//! JSON line without escapes, deciding, and counting in the planner. This is
//! what keeps the planner fast and its memory flat; the benchmark measures
//! the speed, this test pins the cause.

use gdpr_core::retention::{Planner, RulePack, parse_record_line};
use jiff::civil::date;

const LINES: [(usize, &str); 9] = [
    (
        0,
        r#"{"id":"a","category":"imaging-examination","modality":"CT","birth_date":"2010-05-01","event_date":"2015-01-10","last_examination":"2015-01-10","holds":["litigation"]}"#,
    ),
    (
        0,
        r#"{"id":"b","category":["imaging-examination","radiotherapy"],"modality":"CT","birth_date":"1950-05-01","event_date":"2015-01-10","last_examination":"2015-01-10","treatment_end":"2015-02-01"}"#,
    ),
    (
        0,
        r#"{"id":"c","category":"imaging-examination","modality":"MR","event_date":"2015-01-10"}"#,
    ),
    (
        0,
        r#"{"id":"c2","subject":"p-1","category":"transfusion","facets":["traceability","documentation-only"],"event_date":"1990-01-10"}"#,
    ),
    (
        1,
        r#"{"id":"c3","category":"patient-record","setting":"practice","treatment_end":"2000-01-10"}"#,
    ),
    (
        2,
        r#"{"id":"d","category":"patient-record","birth_date":"2005-03-10","last_visit":"2008-01-01","death_date":"2009-01-01","suspended_days":20}"#,
    ),
    (
        3,
        r#"{"id":"e","category":"patient-record","last_change":"2080-02-29"}"#,
    ),
    (
        4,
        r#"{"id":"f","category":"imaging-examination","birth_date":"2000-05-01","treatment_end":"2018-04-30","last_visit":"2018-04-30"}"#,
    ),
    (
        5,
        r#"{"id":"g","category":"patient-record","setting":"hospital","treatment_end":"2018-04-30"}"#,
    ),
];

#[test]
fn parsing_deciding_and_planning_do_not_allocate() {
    let packs = RulePack::all_builtin().unwrap();
    let at = date(2026, 1, 1);
    let mut planners: Vec<Planner<'_>> = packs.iter().map(|p| Planner::new(p, at)).collect();

    let parse = allocation_counter::measure(|| {
        for (_, line) in LINES {
            std::hint::black_box(parse_record_line(line).unwrap());
        }
    });
    assert_eq!(parse.count_total, 0, "parsing allocated");

    let records: Vec<_> = LINES
        .iter()
        .map(|(p, l)| (*p, parse_record_line(l).unwrap().record))
        .collect();
    let mut statuses = Vec::with_capacity(records.len() * 100);
    let decide = allocation_counter::measure(|| {
        for _ in 0..100 {
            for (p, r) in &records {
                let d = planners[*p].observe(r);
                statuses.push(d.status());
                std::hint::black_box(d.rules().count());
                std::hint::black_box(d.governing());
                std::hint::black_box(d.undetermined());
                std::hint::black_box(d.keeps_for());
            }
        }
    });
    assert_eq!(decide.count_total, 0, "deciding allocated");
    // The loop really decided something of every kind it was given.
    assert_eq!(statuses.len(), 900);
    let names: std::collections::BTreeSet<_> = statuses.iter().map(|s| s.name()).collect();
    assert!(
        names.contains("held")
            && names.contains("undetermined")
            && names.contains("due")
            && names.contains("elimination-procedure")
            && names.contains("retain"),
        "{names:?}"
    );
}
