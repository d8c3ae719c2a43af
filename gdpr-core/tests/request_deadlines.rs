//! Known answers for the deadline of a data-subject request (GDPR
//! Art. 12(3)) computed per Regulation (EEC, Euratom) No 1182/71, and for
//! the holiday calendars it runs on. Every expected date is worked out by
//! hand in the comment beside it: the day of receipt is not counted
//! (Art. 3(1)); one month later on the same date, or the last day of a
//! shorter month (Art. 3(2)(c)); a Saturday, Sunday or public holiday moves
//! the end to the next working day (Art. 3(4)).

use gdpr_core::request::{
    Calendar, Deadline, Extension, ExtensionGround, HolidayCalendar, RequestError, easter_sunday,
};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

fn calendar(region: &str, zone: &str) -> Calendar {
    let holidays = HolidayCalendar::builtin(region).unwrap().unwrap();
    Calendar::new(TimeZone::get(zone).unwrap(), holidays)
}

fn de() -> Calendar {
    calendar("DE", "Europe/Berlin")
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn due(cal: &Calendar, received: &str) -> Date {
    Deadline::compute(cal, ts(received), None).unwrap().due
}

fn extended(months: u8, told: &str) -> Extension {
    Extension::new(months, vec![ExtensionGround::Complexity], ts(told)).unwrap()
}

#[test]
fn easter_known_answers() {
    // Published Easter Sundays (Gregorian): 2000-04-23, 2008-03-23,
    // 2019-04-21, 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28,
    // 2028-04-16, 2029-04-01, 2030-04-21, 2038-04-25 (the latest possible
    // date), 2285-03-22 (the earliest).
    for (y, m, d) in [
        (2000, 4, 23),
        (2008, 3, 23),
        (2019, 4, 21),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2028, 4, 16),
        (2029, 4, 1),
        (2030, 4, 21),
        (2038, 4, 25),
        (2285, 3, 22),
    ] {
        assert_eq!(easter_sunday(y), date(y, m, d), "{y}");
    }
}

#[test]
fn received_31_january_ends_on_the_last_day_of_february_or_the_next_working_day() {
    // 2026: 31 Jan (Sat) + 1 month → no 31 Feb → 28 Feb, a Saturday
    // → Art. 3(4): Monday 2 March.
    assert_eq!(due(&de(), "2026-01-31T10:00:00Z"), date(2026, 3, 2));
    // 2028 is a leap year: 31 Jan → 29 Feb 2028, a Tuesday: stays.
    assert_eq!(due(&de(), "2028-01-31T10:00:00Z"), date(2028, 2, 29));
    // 2027: 31 Jan → 28 Feb 2027, a Sunday → Monday 1 March.
    assert_eq!(due(&de(), "2027-01-31T10:00:00Z"), date(2027, 3, 1));
}

#[test]
fn the_same_date_one_month_later_when_it_is_a_working_day() {
    // 15 April 2026 (Wed) → 15 May 2026 (Fri), no holiday in DE.
    assert_eq!(due(&de(), "2026-04-15T08:00:00Z"), date(2026, 5, 15));
    // 30 January 2026 → 28 Feb (the last day, Sat) → Mon 2 March.
    assert_eq!(due(&de(), "2026-01-30T08:00:00Z"), date(2026, 3, 2));
}

#[test]
fn received_on_good_friday() {
    // Good Friday 3 April 2026 (Easter Sunday 5 April) → 3 May 2026, a
    // Sunday → Monday 4 May (1 May, Tag der Arbeit, lies before the end
    // and does not count).
    assert_eq!(due(&de(), "2026-04-03T09:00:00Z"), date(2026, 5, 4));
}

/// The due day for a request received at `received` under `region`'s
/// built-in calendar, in that region's zone.
fn due_in(region: &str, received: &str) -> Date {
    let zone = match region {
        "FR" => "Europe/Paris",
        "NL" => "Europe/Amsterdam",
        "AT" => "Europe/Vienna",
        _ => "Europe/Berlin",
    };
    due(&calendar(region, zone), received)
}

#[test]
fn a_period_ending_on_good_friday_depends_on_the_member_state() {
    // Received Friday 26 February 2027 → 26 March 2027 = Good Friday
    // (Easter Sunday 28 March). DE and NL: Good Friday, Sat 27, Sun 28,
    // Easter Monday 29 → Tue 30. FR and AT: a working day → 26 March.
    let received = "2027-02-26T09:00:00Z";
    for (region, want) in [
        ("DE", date(2027, 3, 30)),
        ("NL", date(2027, 3, 30)),
        ("FR", date(2027, 3, 26)),
        ("AT", date(2027, 3, 26)),
    ] {
        assert_eq!(due_in(region, received), want, "{region}");
    }
}

#[test]
fn regional_and_national_holidays() {
    let cases = [
        // 6 Dec 2026 → 6 Jan 2027 (Wed), Epiphany: a holiday in Bavaria and
        // Austria (→ Thu 7 Jan), not nationwide in Germany (→ 6 Jan).
        ("DE", "2026-12-06T10:00:00Z", date(2027, 1, 6)),
        ("DE-BY", "2026-12-06T10:00:00Z", date(2027, 1, 7)),
        ("AT", "2026-12-06T10:00:00Z", date(2027, 1, 7)),
        // 8 Nov 2026 → 8 Dec 2026 (Tue), Mariä Empfängnis in Austria → 9 Dec.
        ("AT", "2026-11-08T10:00:00Z", date(2026, 12, 9)),
        // 14 Jun 2026 → 14 Jul 2026 (Tue), fête nationale → 15 Jul.
        ("FR", "2026-06-14T10:00:00Z", date(2026, 7, 15)),
        // 27 Mar 2026 → 27 Apr 2026 (Mon), Koningsdag → 28 Apr.
        ("NL", "2026-03-27T10:00:00Z", date(2026, 4, 28)),
        // 25 Nov 2026 → 25 Dec (Fri), Christmas; Sat 26, Sun 27 → Mon 28.
        ("DE", "2026-11-25T10:00:00Z", date(2026, 12, 28)),
        ("FR", "2026-11-25T10:00:00Z", date(2026, 12, 28)),
    ];
    for (region, received, want) in cases {
        assert_eq!(due_in(region, received), want, "{region} {received}");
    }
}

#[test]
fn the_day_of_receipt_is_the_day_in_the_controllers_zone() {
    // 30 June 2026 22:30 UTC is 1 July 00:30 in Berlin (CEST, UTC+2): the
    // request arrived on 1 July → 1 Aug 2026 (Sat) → Mon 3 Aug. Read in
    // UTC it would be 30 June → 30 July (Thu).
    assert_eq!(due(&de(), "2026-06-30T22:30:00Z"), date(2026, 8, 3));
    let utc = Calendar::new(
        TimeZone::UTC,
        HolidayCalendar::builtin("DE").unwrap().unwrap(),
    );
    assert_eq!(due(&utc, "2026-06-30T22:30:00Z"), date(2026, 7, 30));
}

#[test]
fn an_extension_runs_from_receipt_as_one_period() {
    let cal = de();
    // Received Fri 30 Jan 2026; extended by 2 months, told 20 Feb:
    // 30 Jan + 3 months = 30 April 2026 (Thu), a working day.
    let d = Deadline::compute(
        &cal,
        ts("2026-01-30T09:00:00Z"),
        Some(&extended(2, "2026-02-20T09:00:00Z")),
    )
    .unwrap();
    assert_eq!(d.first_period_ends, date(2026, 3, 2));
    assert_eq!(d.due, date(2026, 4, 30));
    assert_eq!(d.extended_by, Some(2));
    assert!(
        d.sources
            .iter()
            .any(|s| s.reading_id() == Some("extension-as-one-period"))
    );
    // Received Sun 1 Feb 2026, + 3 months = Fri 1 May 2026, Tag der Arbeit;
    // Sat 2, Sun 3 → Mon 4 May. By one month only: 1 April (Wed).
    let two = Deadline::compute(
        &cal,
        ts("2026-02-01T09:00:00Z"),
        Some(&extended(2, "2026-02-10T09:00:00Z")),
    );
    assert_eq!(two.unwrap().due, date(2026, 5, 4));
    let one = Deadline::compute(
        &cal,
        ts("2026-02-01T09:00:00Z"),
        Some(&extended(1, "2026-02-10T09:00:00Z")),
    );
    assert_eq!(one.unwrap().due, date(2026, 4, 1));
}

#[test]
fn an_extension_must_be_told_within_the_first_period() {
    let cal = de();
    // Received 30 Jan 2026: the first period ends Mon 2 March (after
    // Art. 3(4)). Told on 2 March 23:30 Berlin (22:30 UTC): in time; told
    // on 3 March: too late.
    let received = ts("2026-01-30T09:00:00Z");
    let in_time = extended(2, "2026-03-02T22:30:00Z");
    assert!(Deadline::compute(&cal, received, Some(&in_time)).is_ok());
    let late = extended(2, "2026-03-02T23:00:00Z");
    assert_eq!(
        Deadline::compute(&cal, received, Some(&late)),
        Err(RequestError::ExtensionTooLate)
    );
}

#[test]
fn a_year_the_calendar_does_not_cover_is_an_error_not_a_working_day() {
    // 15 Dec 2030 → 15 Jan 2031: the built-in files cover 2026-2030.
    let err = Deadline::compute(&de(), ts("2030-12-15T10:00:00Z"), None).unwrap_err();
    assert_eq!(
        err,
        RequestError::CalendarNotCovering {
            region: "DE".into(),
            year: 2031
        }
    );
    assert!(err.to_string().contains("Adding a region"), "{err}");
}

#[test]
fn every_deadline_names_its_sources() {
    let d = Deadline::compute(&de(), ts("2026-04-15T08:00:00Z"), None).unwrap();
    let cited: Vec<_> = d.sources.iter().map(|s| s.citation().as_str()).collect();
    for c in [
        "GDPR Art. 12(3)",
        "Regulation (EEC, Euratom) No 1182/71 Art. 3(1)",
        "Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c)",
        "Regulation (EEC, Euratom) No 1182/71 Art. 3(4)",
    ] {
        assert!(cited.contains(&c), "{c} missing from {cited:?}");
    }
    assert!(
        d.sources
            .iter()
            .any(|s| s.reading_id() == Some("receipt-day-in-controller-zone"))
    );
}

/// The JSON of a deadline (shown by hosts, kept with the request's record):
/// provisions and named readings, pinned.
const PINNED: &str = r#"{"received-on":"2026-01-30","first-period-ends":"2026-03-02","due":"2026-04-30","extended-by":2,"sources":[{"kind":"provision","citation":"GDPR Art. 12(3)"},{"kind":"provision","citation":"Regulation (EEC, Euratom) No 1182/71 Art. 3(1)"},{"kind":"reading","id":"receipt-day-in-controller-zone","of":"Regulation (EEC, Euratom) No 1182/71 Art. 3(1)","text":"the day of receipt is the calendar day in the controller's time zone (the place where the action is taken, Art. 2(1) of the Regulation)"},{"kind":"provision","citation":"Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c)"},{"kind":"provision","citation":"Regulation (EEC, Euratom) No 1182/71 Art. 3(4)"},{"kind":"reading","id":"extension-told-within-first-period","of":"GDPR Art. 12(3)","text":"\"within one month of receipt\" is the first period itself, including its Art. 3(4) shift to the next working day"},{"kind":"reading","id":"extension-as-one-period","of":"GDPR Art. 12(3)","text":"an extension by N months gives one period of 1 + N months counted from the day of receipt (not N months added to the first deadline after its Art. 3(4) shift), so a weekend at the end of the first month never lengthens the extended one"}]}"#;

#[test]
fn pinned_deadline_json() {
    let d = Deadline::compute(
        &de(),
        ts("2026-01-30T09:00:00Z"),
        Some(&extended(2, "2026-02-20T09:00:00Z")),
    )
    .unwrap();
    assert_eq!(serde_json::to_string(&d).unwrap(), PINNED);
    assert_eq!(serde_json::from_str::<Deadline>(PINNED).unwrap(), d);
}
