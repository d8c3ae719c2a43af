//! Date shifting for the Retain Longitudinal Temporal Information with
//! Modified Dates option (PS3.15 E.3.6): every DA and the date part of every
//! DT of one patient move by the same whole number of days, so intervals
//! (also between dates and date-times) are preserved exactly; TM values are
//! unchanged because the shift is a whole number of days.

use jiff::ToSpan;
use jiff::civil::Date;

fn parse_ymd(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i16 = s.get(0..4)?.parse().ok()?;
    let m: i8 = s.get(4..6)?.parse().ok()?;
    let d: i8 = s.get(6..8)?.parse().ok()?;
    Date::new(y, m, d).ok()
}

fn fmt_ymd(d: Date) -> Option<String> {
    if !(1..=9999).contains(&d.year()) {
        return None;
    }
    Some(format!("{:04}{:02}{:02}", d.year(), d.month(), d.day()))
}

fn shift_date(d: Date, days: i64) -> Option<Date> {
    d.checked_add(days.days()).ok()
}

/// Applies `f` to each value of a multi-valued element (backslash
/// separated, trailing padding removed, each value trimmed); an empty value
/// stays empty. `None` when `f` fails on any value.
fn each_value(value: &str, f: impl Fn(&str) -> Option<String>) -> Option<String> {
    let parts: Option<Vec<String>> = value
        .trim_end_matches(['\0', ' '])
        .split('\\')
        .map(|v| {
            let v = v.trim();
            if v.is_empty() {
                Some(String::new())
            } else {
                f(v)
            }
        })
        .collect();
    parts.map(|p| p.join("\\"))
}

/// Shifts one DA value (single date, range `A-B`, or backslash-separated
/// list) by `days`. `None` when a component is not a valid date (the caller
/// then replaces the value with a dummy).
pub fn shift_da(value: &str, days: i64) -> Option<String> {
    // One end of a range, which may be open (empty).
    let end = |e: &str| {
        if e.is_empty() {
            Some(String::new())
        } else {
            shift_one_da(e, days)
        }
    };
    each_value(value, |v| match v.split_once('-') {
        Some((a, b)) => Some(format!("{}-{}", end(a)?, end(b)?)),
        None => shift_one_da(v, days),
    })
}

fn shift_one_da(v: &str, days: i64) -> Option<String> {
    // Legacy ACR-NEMA form "YYYY.MM.DD" is normalised.
    let compact: String = v.chars().filter(|c| *c != '.').collect();
    fmt_ymd(shift_date(parse_ymd(&compact)?, days)?)
}

/// Shifts the date part of one DT value (or list) by `days`, keeping the
/// time, fraction and UTC offset. Partial precision (YYYY or YYYYMM) is
/// shifted from the first day of the period and printed at the same
/// precision.
pub fn shift_dt(value: &str, days: i64) -> Option<String> {
    each_value(value, |v| {
        let digits = v.bytes().take_while(u8::is_ascii_digit).count();
        let (date_len, padded) = match digits {
            4 => (4, format!("{}0101", v.get(..4)?)),
            6..=7 => (6, format!("{}01", v.get(..6)?)),
            d if d >= 8 => (8, v.get(..8)?.to_owned()),
            _ => return None,
        };
        let shifted = fmt_ymd(shift_date(parse_ymd(&padded)?, days)?)?;
        Some(format!(
            "{}{}",
            shifted.get(..date_len)?,
            v.get(date_len..)?
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shifts_dates_ranges_and_datetimes() {
        assert_eq!(shift_da("20240301", -1).as_deref(), Some("20240229"));
        assert_eq!(
            shift_da("20240301\\20240302", -1).as_deref(),
            Some("20240229\\20240301")
        );
        assert_eq!(shift_da("20240301-", -1).as_deref(), Some("20240229-"));
        assert_eq!(shift_da("2024.03.01", -1).as_deref(), Some("20240229"));
        assert_eq!(shift_da("2024-13-01x", -1), None);
        assert_eq!(
            shift_dt("20240301120000.5+0100", -1).as_deref(),
            Some("20240229120000.5+0100")
        );
        assert_eq!(shift_dt("202403", -40).as_deref(), Some("202401"));
        assert_eq!(shift_dt("xx", -1), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn intervals_are_preserved(a in 0i64..40000, b in 0i64..40000, shift in -3652i64..0) {
            let base = Date::new(1920, 1, 1).unwrap();
            let da = base.checked_add(a.days()).unwrap();
            let db = base.checked_add(b.days()).unwrap();
            let sa = parse_ymd(&shift_da(&fmt_ymd(da).unwrap(), shift).unwrap()).unwrap();
            let sb = parse_ymd(&shift_da(&fmt_ymd(db).unwrap(), shift).unwrap()).unwrap();
            prop_assert_eq!(sa.until(sb).unwrap().get_days(), da.until(db).unwrap().get_days());
        }
    }
}
