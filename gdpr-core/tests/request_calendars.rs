//! The holiday files: every built-in one parses, names its source and
//! covers 2026-2028 at least; the Easter-dependent days land where the
//! published calendars put them; broken files are refused without echoing
//! their values.

use gdpr_core::request::{HolidayCalendar, RequestError};
use jiff::civil::date;

fn cal(region: &str) -> HolidayCalendar {
    HolidayCalendar::builtin(region).unwrap().unwrap()
}

fn names_in(c: &HolidayCalendar, year: i16) -> Vec<(jiff::civil::Date, String)> {
    c.holidays()
        .filter(|(d, _)| d.year() == year)
        .map(|(d, h)| (d, h.name().to_owned()))
        .collect()
}

#[test]
fn every_builtin_calendar_parses_names_its_source_and_covers_2026_to_2028() {
    let regions: Vec<_> = HolidayCalendar::builtin_regions().collect();
    assert_eq!(regions, ["AT", "DE", "DE-BY", "FR", "NL"]);
    for region in regions {
        let c = cal(region);
        assert_eq!(c.region(), region);
        assert!(!c.source().as_str().is_empty(), "{region}");
        let (first, last) = c.years_covered();
        assert!(first <= 2026 && last >= 2028, "{region}");
        for (_, h) in c.holidays() {
            assert!(!h.source().as_str().is_empty(), "{region} {}", h.name());
        }
    }
    assert_eq!(HolidayCalendar::builtin("XX"), Ok(None));
}

#[test]
fn germany_2026_known_answer() {
    // Easter Sunday 5 April 2026: Karfreitag 3 Apr, Ostermontag 6 Apr,
    // Himmelfahrt (+39) 14 May, Pfingstmontag (+50) 25 May.
    let got = names_in(&cal("DE"), 2026);
    let want = [
        (date(2026, 1, 1), "Neujahr"),
        (date(2026, 4, 3), "Karfreitag"),
        (date(2026, 4, 6), "Ostermontag"),
        (date(2026, 5, 1), "Tag der Arbeit"),
        (date(2026, 5, 14), "Christi Himmelfahrt"),
        (date(2026, 5, 25), "Pfingstmontag"),
        (date(2026, 10, 3), "Tag der Deutschen Einheit"),
        (date(2026, 12, 25), "1. Weihnachtstag"),
        (date(2026, 12, 26), "2. Weihnachtstag"),
    ];
    let want: Vec<_> = want.iter().map(|(d, n)| (*d, (*n).to_owned())).collect();
    assert_eq!(got, want);
    let unity = cal("DE")
        .holiday(date(2026, 10, 3))
        .unwrap()
        .unwrap()
        .source()
        .clone();
    assert_eq!(unity.as_str(), "Art. 2(2) Einigungsvertrag");
}

#[test]
fn bavaria_adds_its_days_to_germany() {
    // Easter 2027: 28 March → Fronleichnam (+60) 27 May 2027.
    let by = cal("DE-BY");
    for d in [
        date(2027, 1, 6),
        date(2027, 5, 27),
        date(2027, 11, 1),
        date(2027, 3, 26),
    ] {
        assert!(by.holiday(d).unwrap().is_some(), "{d}");
    }
    assert!(cal("DE").holiday(date(2027, 1, 6)).unwrap().is_none());
    assert_eq!(names_in(&by, 2027).len(), 12);
    assert_eq!(
        by.holiday(date(2027, 5, 27))
            .unwrap()
            .unwrap()
            .source()
            .as_str(),
        "Art. 1(1) FTG (Bayern)"
    );
}

#[test]
fn counts_per_year_match_the_laws_lists() {
    // DE 9, DE-BY 12, FR 11 (art. L3133-1), AT 13 (§ 7(2) ARG), NL 9
    // (art. 3(1), 3(2) Atw) in every year covered.
    for (region, n) in [("DE", 9), ("DE-BY", 12), ("FR", 11), ("AT", 13), ("NL", 9)] {
        let c = cal(region);
        for year in 2026..=2030 {
            assert_eq!(names_in(&c, year).len(), n, "{region} {year}");
        }
    }
}

#[test]
fn weekends_and_holidays_are_not_working_days() {
    let de = cal("DE");
    assert!(!de.is_working_day(date(2026, 2, 28)).unwrap(), "Saturday");
    assert!(!de.is_working_day(date(2026, 3, 1)).unwrap(), "Sunday");
    assert!(
        !de.is_working_day(date(2026, 5, 1)).unwrap(),
        "Tag der Arbeit"
    );
    assert!(de.is_working_day(date(2026, 3, 2)).unwrap());
    assert_eq!(
        de.working_day_from(date(2026, 12, 25)).unwrap(),
        date(2026, 12, 28)
    );
}

#[test]
fn a_region_is_added_with_a_file_on_a_base() {
    // Augsburg: Bavaria plus Mariä Himmelfahrt and the Friedensfest.
    let text = r#"
version = 1
region = "DE-BY-AUGSBURG"
base = "DE-BY"
name = "Augsburg"
source = "Art. 1(1) Nr. 2, Art. 1(2) FTG (Bayern)"
first_year = 2026
last_year = 2028

[[holiday]]
name = "Augsburger Friedensfest"
date = "08-08"

[[holiday]]
name = "Mariä Himmelfahrt"
date = "08-15"
"#;
    let c = HolidayCalendar::from_toml(text).unwrap();
    assert_eq!(c.region(), "DE-BY-AUGSBURG");
    assert!(c.holiday(date(2027, 8, 9)).unwrap().is_none());
    assert!(c.holiday(date(2027, 8, 8)).unwrap().is_some());
    assert!(c.holiday(date(2027, 1, 6)).unwrap().is_some(), "inherited");
    assert!(c.holiday(date(2029, 1, 1)).is_err(), "own years only");
}

#[test]
fn broken_files_are_refused_without_their_values() {
    let head = "version = 1\nregion = \"X\"\nname = \"x\"\nsource = \"s\"\nfirst_year = 2026\nlast_year = 2027\n";
    let cases = [
        (
            format!("{head}[[holiday]]\nname = \"CANARY\"\n"),
            "exactly one",
        ),
        (
            format!("{head}[[holiday]]\nname = \"a\"\ndate = \"02-30\"\n"),
            "MM-DD",
        ),
        (
            format!("{head}[[holiday]]\nname = \"a\"\ndate = \"02-29\"\n"),
            "every year",
        ),
        (
            format!("{head}[[holiday]]\nname = \"a\"\ndate = \"01-01\"\neaster = 1\n"),
            "exactly one",
        ),
        (
            format!("{head}[[holiday]]\nname = \"a\"\non = \"2029-01-01\"\n"),
            "outside",
        ),
        (
            format!(
                "{head}[[holiday]]\nname = \"a\"\ndate = \"01-01\"\n[[holiday]]\nname = \"a\"\ndate = \"01-02\"\n"
            ),
            "same `name`",
        ),
        (format!("{head}colour = \"CANARY\"\n"), "unknown field"),
        (
            format!("{head}[[holiday]]\nname = \"a\"\neaster = \"CANARY\"\n"),
            "line 9: invalid type: string (value)",
        ),
        (head.replace("2027", "2025"), "not after"),
        (format!("{head}base = \"CANARY\"\n"), "built-in"),
    ];
    for (text, want) in cases {
        let err = HolidayCalendar::from_toml(&text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(want), "{want}: {msg}");
        assert!(!msg.contains("CANARY"), "{msg}");
    }
    let v2 = head.replace("version = 1", "version = 2");
    assert_eq!(
        HolidayCalendar::from_toml(&v2),
        Err(RequestError::UnsupportedVersion {
            what: "holiday calendar",
            found: 2
        })
    );
}
