//! Date arithmetic for retention periods: "N years after an event",
//! birthdays, "completing the Nth year of life", and rounding up to the end
//! of a calendar year.
//!
//! Every rule pack names the [`DateConvention`] it uses and the provision it
//! rests on. The conventions differ only where the corresponding day does
//! not exist, i.e. for periods or lives that start on 29 February.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Error;

/// How a pack finds "the same date N years later" when that date does not
/// exist (a start on 29 February, an end in a common year).
///
/// In every convention a period of years started by an event ends at the
/// end of the day whose date corresponds to the event's date in the final
/// year (§ 187(1), § 188(2) first alternative BGB; § 902(2) ABGB;
/// Art. 641 CPC), so the returned end date is *inclusive*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DateConvention {
    /// A missing corresponding day is replaced by the last day of that month
    /// (28 February). § 188(3) BGB; § 902(2) ABGB; Art. 641 CPC.
    MonthEnd,
    /// A missing corresponding day is replaced by the following day
    /// (1 March). Used where no statute settles the question: it keeps a
    /// record one day longer rather than deleting it one day too early.
    NextDay,
}

impl DateConvention {
    /// The kebab-case name used in pack files.
    pub const fn name(self) -> &'static str {
        match self {
            Self::MonthEnd => "month-end",
            Self::NextDay => "next-day",
        }
    }

    /// The date that corresponds to `start` `years` years later. Saturates
    /// at [`Date::MAX`] (keeping a record forever is never too early).
    pub fn anniversary(self, start: Date, years: u16) -> Date {
        let year = i32::from(start.year()) + i32::from(years);
        let Ok(year) = i16::try_from(year) else {
            return Date::MAX;
        };
        if year > Date::MAX.year() {
            return Date::MAX;
        }
        let (month, day) = (start.month(), start.day());
        if month == 2 && day == 29 && !is_leap(year) {
            return match self {
                Self::MonthEnd => Date::constant(year, 2, 28),
                Self::NextDay => Date::constant(year, 3, 1),
            };
        }
        // The month and day come from a valid date and the year is in
        // range; only 29 February can be invalid, handled above.
        Date::new(year, month, day).unwrap_or(Date::MAX)
    }

    /// The last day (inclusive) of a period of `years` years started by an
    /// event on `start`.
    pub fn period_end(self, start: Date, years: u16) -> Date {
        self.anniversary(start, years)
    }

    /// The day on which a person born on `birth` reaches `age`: the day
    /// after the `age`-th year of life is completed. For a person born on
    /// 29 February that is 1 March in a common year, under both
    /// conventions (§ 187(2) S. 2, § 188(2), (3) BGB: the year of life ends
    /// at the end of 28 February; England: the cautious house policy).
    pub fn birthday(self, birth: Date, age: u8) -> Date {
        if birth.month() != 2 || birth.day() != 29 {
            // The day after the day before the anniversary: the anniversary.
            return self.anniversary(birth, u16::from(age));
        }
        let completed = self.completes_year_of_life(birth, age);
        if completed == Date::MAX {
            return Date::MAX;
        }
        completed.tomorrow().unwrap_or(Date::MAX)
    }

    /// The last day of the `n`-th year of life: the day before the `n`-th
    /// birthday (§ 187(2) sentence 2, § 188(2) second alternative BGB). For
    /// a person born on 29 February the year of life ends on 28 February in
    /// a common year (§ 188(3) BGB: the corresponding day, 29 February, is
    /// missing, so the period ends on the last day of the month) — not on
    /// 27 February.
    pub fn completes_year_of_life(self, birth: Date, n: u8) -> Date {
        if birth.month() == 2 && birth.day() == 29 {
            let year = i32::from(birth.year()) + i32::from(n);
            // In a leap year the day before 29 February, in a common year
            // the last day of February: 28 February either way.
            return match i16::try_from(year) {
                Ok(y) if y <= Date::MAX.year() => Date::constant(y, 2, 28),
                _ => Date::MAX,
            };
        }
        let anniversary = self.anniversary(birth, u16::from(n));
        if anniversary == Date::MAX {
            return Date::MAX;
        }
        anniversary.yesterday().unwrap_or(Date::MIN)
    }

    /// The age in completed years on `on` (the day of birth counts as a full
    /// day, § 187(2) BGB: a person is 18 from the start of the 18th
    /// birthday). `None` when `on` is before `birth`.
    pub fn age_on(self, birth: Date, on: Date) -> Option<u16> {
        if on < birth {
            return None;
        }
        let years = u16::try_from(on.year() - birth.year()).ok()?;
        let Ok(age) = u8::try_from(years) else {
            // Over 255 years: only reachable with synthetic dates.
            return Some(years);
        };
        if self.birthday(birth, age) > on {
            Some(years.saturating_sub(1))
        } else {
            Some(years)
        }
    }
}

/// `date` plus `days` days; saturates at [`Date::MAX`].
pub fn add_days(date: Date, days: u32) -> Date {
    i32::try_from(days)
        .ok()
        .and_then(|d| date.checked_add(jiff::Span::new().days(d)).ok())
        .unwrap_or(Date::MAX)
}

/// The last day of `date`'s calendar year (31 December).
pub fn end_of_year(date: Date) -> Date {
    date.last_of_year()
}

fn is_leap(year: i16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Parses an ISO 8601 calendar date `YYYY-MM-DD` without allocating.
///
/// # Errors
///
/// [`Error::InvalidDate`] naming `what` (never the value) when the text is
/// not ten characters of the form `YYYY-MM-DD` or names a day that does not
/// exist.
pub fn parse_date(text: &str, what: &'static str) -> Result<Date, Error> {
    let err = Error::InvalidDate { what };
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(err);
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i16> {
        b[range].iter().try_fold(0i16, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i16::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return Err(err);
    };
    // m and d are at most 99, so they fit an i8.
    Date::new(y, m as i8, d as i8).map_err(|_| err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn ten_years_after_an_event_end_on_the_corresponding_day() {
        let c = DateConvention::MonthEnd;
        assert_eq!(c.period_end(date(2015, 1, 10), 10), date(2025, 1, 10));
    }

    #[test]
    fn a_29_february_start_ends_on_28_february_under_the_bgb() {
        let c = DateConvention::MonthEnd;
        assert_eq!(c.period_end(date(2016, 2, 29), 10), date(2026, 2, 28));
        assert_eq!(c.period_end(date(2016, 2, 29), 8), date(2024, 2, 29));
    }

    #[test]
    fn a_29_february_start_ends_on_1_march_under_next_day() {
        let c = DateConvention::NextDay;
        assert_eq!(c.period_end(date(2016, 2, 29), 10), date(2026, 3, 1));
    }

    #[test]
    fn completing_the_28th_year_of_life_is_the_day_before_the_birthday() {
        let c = DateConvention::MonthEnd;
        assert_eq!(
            c.completes_year_of_life(date(2000, 5, 1), 28),
            date(2028, 4, 30)
        );
        assert_eq!(
            c.completes_year_of_life(date(2000, 1, 1), 28),
            date(2027, 12, 31)
        );
        // Born on 29 February, 28th birthday in a leap year.
        assert_eq!(
            c.completes_year_of_life(date(2000, 2, 29), 28),
            date(2028, 2, 28)
        );
        // ... and in a common year: 2025 has no 29 February, so the 25th
        // year of life ends on the last day of February (§ 188(3) BGB):
        // 28 Feb 2025, not 27 Feb.
        assert_eq!(
            c.completes_year_of_life(date(2000, 2, 29), 25),
            date(2025, 2, 28)
        );
        // The same under the next-day convention: only the birthday differs
        // from a period end.
        assert_eq!(
            DateConvention::NextDay.completes_year_of_life(date(2000, 2, 29), 25),
            date(2025, 2, 28)
        );
    }

    #[test]
    fn age_counts_the_birthday_itself() {
        let c = DateConvention::MonthEnd;
        let birth = date(2000, 5, 1);
        assert_eq!(c.age_on(birth, date(2018, 4, 30)), Some(17));
        assert_eq!(c.age_on(birth, date(2018, 5, 1)), Some(18));
        assert_eq!(c.age_on(birth, date(1999, 1, 1)), None);
        assert_eq!(c.age_on(birth, birth), Some(0));
    }

    #[test]
    fn leap_day_birthdays_reach_an_age_on_1_march_in_a_common_year() {
        let birth = date(2000, 2, 29);
        // The 18th year of life ends at the end of 28 Feb 2018; the person
        // is 18 from the start of 1 Mar 2018, under both conventions.
        assert_eq!(
            DateConvention::MonthEnd.age_on(birth, date(2018, 2, 28)),
            Some(17)
        );
        assert_eq!(
            DateConvention::MonthEnd.age_on(birth, date(2018, 3, 1)),
            Some(18)
        );
        assert_eq!(
            DateConvention::MonthEnd.birthday(birth, 25),
            date(2025, 3, 1)
        );
        // In a leap year the birthday is the day itself.
        assert_eq!(
            DateConvention::MonthEnd.birthday(birth, 28),
            date(2028, 2, 29)
        );
        assert_eq!(
            DateConvention::MonthEnd.age_on(birth, date(2028, 2, 29)),
            Some(28)
        );
        assert_eq!(
            DateConvention::NextDay.age_on(birth, date(2018, 2, 28)),
            Some(17)
        );
        assert_eq!(
            DateConvention::NextDay.age_on(birth, date(2018, 3, 1)),
            Some(18)
        );
    }

    #[test]
    fn far_future_saturates_instead_of_wrapping() {
        let c = DateConvention::MonthEnd;
        assert_eq!(c.period_end(date(9990, 6, 1), 30), Date::MAX);
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(parse_date("2010-05-01", "x").unwrap(), date(2010, 5, 1));
        for bad in [
            "2010-5-01",
            "2010-02-30",
            "20100501xx",
            "2010/05/01",
            "",
            "2010-13-01",
        ] {
            let err = parse_date(bad, "birth_date").unwrap_err();
            assert!(err.to_string().contains("birth_date"), "{err}");
            assert!(!bad.is_empty() && !err.to_string().contains(bad) || bad.is_empty());
        }
    }

    #[test]
    fn adding_days_crosses_months_and_saturates() {
        // 28 Feb 2046 + 1 day = 1 Mar 2046 (2046 is common).
        assert_eq!(add_days(date(2046, 2, 28), 1), date(2046, 3, 1));
        // 1 Jan 2030 + 365 days = 1 Jan 2031.
        assert_eq!(add_days(date(2030, 1, 1), 365), date(2031, 1, 1));
        assert_eq!(add_days(date(9999, 12, 1), 100), Date::MAX);
    }

    #[test]
    fn year_end_rounding() {
        assert_eq!(end_of_year(date(2025, 1, 10)), date(2025, 12, 31));
    }
}
