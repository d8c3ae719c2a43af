//! Working days for the deadline arithmetic of Regulation (EEC, Euratom)
//! No 1182/71: weekends are built in, public holidays are data, one TOML
//! file per member state or region (`holidays/*.toml`, format in
//! docs/requests.md).
//!
//! "Public holidays" are those the member state where the action is taken
//! designates (Art. 2(1) of the Regulation), so the calendar is the
//! controller's. A date in a year the file does not cover is an error,
//! never silently a working day.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use serde::Deserialize;

use crate::Citation;
use crate::request::error::RequestError;

/// The built-in holiday files: region code and text.
const BUILTIN: [(&str, &str); 5] = [
    ("AT", include_str!("holidays/AT.toml")),
    ("DE", include_str!("holidays/DE.toml")),
    ("DE-BY", include_str!("holidays/DE-BY.toml")),
    ("FR", include_str!("holidays/FR.toml")),
    ("NL", include_str!("holidays/NL.toml")),
];

/// The one version of the holiday file format.
const FORMAT_VERSION: u32 = 1;

/// One public holiday on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    name: String,
    source: Citation,
}

impl Holiday {
    /// The holiday's name as the law calls it (`"Karfreitag"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provision (or the file's source) that designates it.
    pub fn source(&self) -> &Citation {
        &self.source
    }
}

/// The public holidays of one member state or region for a range of
/// years, with the source of the list; Saturdays and Sundays are never
/// working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    region: String,
    name: String,
    source: Citation,
    first_year: i16,
    last_year: i16,
    holidays: BTreeMap<Date, Holiday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    version: u32,
    region: String,
    base: Option<String>,
    name: String,
    source: String,
    first_year: i16,
    last_year: i16,
    #[serde(default, rename = "holiday")]
    holidays: Vec<HolidayFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    name: String,
    /// Every year on this month and day, `"MM-DD"`.
    date: Option<String>,
    /// Every year, this many days after Easter Sunday (negative: before).
    easter: Option<i16>,
    /// Once, on this date, `"YYYY-MM-DD"`.
    on: Option<Date>,
    /// The holiday's own source, when it differs from the file's.
    source: Option<String>,
}

fn invalid(detail: impl Into<String>) -> RequestError {
    RequestError::InvalidCalendar {
        detail: detail.into(),
    }
}

impl HolidayCalendar {
    /// The built-in calendar of `region` (`"DE"`, `"DE-BY"`, `"FR"`,
    /// `"NL"`, `"AT"`), `None` when there is none.
    ///
    /// # Errors
    /// [`RequestError::InvalidCalendar`] if a built-in file is broken (a
    /// test guards against it).
    pub fn builtin(region: &str) -> Result<Option<Self>, RequestError> {
        BUILTIN
            .iter()
            .find(|(code, _)| *code == region)
            .map(|(_, text)| Self::from_toml(text))
            .transpose()
    }

    /// The region codes of the built-in calendars.
    pub fn builtin_regions() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(code, _)| *code)
    }

    /// A calendar from a holiday file. A file with `base = "DE"` adds its
    /// holidays to the built-in `DE` calendar; the years covered are its
    /// own and must lie within the base's.
    ///
    /// # Errors
    /// [`RequestError::InvalidCalendar`]: TOML syntax, an unknown or
    /// missing key, a wrong version, a holiday with not exactly one of
    /// `date`, `easter`, `on`, an impossible date, two holidays of one
    /// name, a date outside the years covered, or an unknown base.
    pub fn from_toml(text: &str) -> Result<Self, RequestError> {
        let file: CalendarFile =
            toml::from_str(text).map_err(|e| invalid(crate::redact::toml_message(text, &e)))?;
        if file.version != FORMAT_VERSION {
            return Err(RequestError::UnsupportedVersion {
                what: "holiday calendar",
                found: file.version,
            });
        }
        if file.first_year > file.last_year || file.first_year < 1583 {
            return Err(invalid(
                "`first_year` must be a Gregorian year not after `last_year`",
            ));
        }
        let mut calendar = match &file.base {
            Some(base) => Self::base_for(base, &file)?,
            None => Self {
                region: String::new(),
                name: String::new(),
                source: Citation::new(""),
                first_year: file.first_year,
                last_year: file.last_year,
                holidays: BTreeMap::new(),
            },
        };
        calendar.region = file.region;
        calendar.name = file.name;
        calendar.source = Citation::new(file.source);
        calendar.first_year = file.first_year;
        calendar.last_year = file.last_year;
        calendar
            .holidays
            .retain(|d, _| (file.first_year..=file.last_year).contains(&d.year()));
        for holiday in file.holidays {
            calendar.add(holiday)?;
        }
        Ok(calendar)
    }

    fn base_for(base: &str, file: &CalendarFile) -> Result<Self, RequestError> {
        let calendar =
            Self::builtin(base)?.ok_or_else(|| invalid("`base` must name a built-in calendar"))?;
        if file.first_year < calendar.first_year || file.last_year > calendar.last_year {
            return Err(invalid(
                "the years covered must lie within those of the base calendar",
            ));
        }
        Ok(calendar)
    }

    /// Adds one holiday rule for every year covered.
    fn add(&mut self, h: HolidayFile) -> Result<(), RequestError> {
        let source = h.source.map_or_else(|| self.source.clone(), Citation::new);
        let dates: Vec<Date> = match (h.date, h.easter, h.on) {
            (Some(md), None, None) => {
                let (m, d) = parse_month_day(&md)?;
                self.years()
                    .map(|y| {
                        Date::new(y, m, d).map_err(|_| invalid("`date` must exist every year"))
                    })
                    .collect::<Result<_, _>>()?
            }
            (None, Some(offset), None) => self
                .years()
                .map(|y| {
                    easter_sunday(y)
                        .checked_add(jiff::Span::new().days(offset))
                        .map_err(|_| invalid("`easter` offset out of range"))
                })
                .collect::<Result<_, _>>()?,
            (None, None, Some(on)) if self.years().any(|y| y == on.year()) => vec![on],
            (None, None, Some(_)) => {
                return Err(invalid("an `on` date lies outside the years covered"));
            }
            _ => {
                return Err(invalid(
                    "each [[holiday]] sets exactly one of `date`, `easter`, `on`",
                ));
            }
        };
        if self.holidays.values().any(|known| known.name == h.name) {
            return Err(invalid("two [[holiday]] entries have the same `name`"));
        }
        for date in dates {
            // Two holidays can fall on one day (Ascension on 1 May in
            // 2008): the day is a holiday either way; the first is named.
            self.holidays.entry(date).or_insert_with(|| Holiday {
                name: h.name.clone(),
                source: source.clone(),
            });
        }
        Ok(())
    }

    fn years(&self) -> impl Iterator<Item = i16> {
        self.first_year..=self.last_year
    }

    /// The region code, e.g. `"DE-BY"`.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The calendar's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the list of holidays comes from.
    pub fn source(&self) -> &Citation {
        &self.source
    }

    /// The first and last year covered.
    pub fn years_covered(&self) -> (i16, i16) {
        (self.first_year, self.last_year)
    }

    /// The public holiday on `date`, if there is one.
    ///
    /// # Errors
    /// [`RequestError::CalendarNotCovering`] when the year is not covered.
    pub fn holiday(&self, date: Date) -> Result<Option<&Holiday>, RequestError> {
        if !self.years().any(|y| y == date.year()) {
            return Err(RequestError::CalendarNotCovering {
                region: self.region.clone(),
                year: date.year(),
            });
        }
        Ok(self.holidays.get(&date))
    }

    /// Every holiday covered, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = (Date, &Holiday)> {
        self.holidays.iter().map(|(d, h)| (*d, h))
    }

    /// Whether `date` is a working day: not a Saturday, a Sunday or a
    /// public holiday.
    ///
    /// # Errors
    /// [`RequestError::CalendarNotCovering`] when the year is not covered.
    pub fn is_working_day(&self, date: Date) -> Result<bool, RequestError> {
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        Ok(self.holiday(date)?.is_none() && !weekend)
    }

    /// `date` if it is a working day, else the next working day.
    ///
    /// # Errors
    /// [`RequestError::CalendarNotCovering`] when the search leaves the
    /// years covered.
    pub fn working_day_from(&self, mut date: Date) -> Result<Date, RequestError> {
        while !self.is_working_day(date)? {
            date = date.tomorrow().map_err(|_| RequestError::DateOutOfRange)?;
        }
        Ok(date)
    }
}

fn parse_month_day(text: &str) -> Result<(i8, i8), RequestError> {
    let bad = || invalid("`date` must be \"MM-DD\"");
    let (m, d) = text.split_once('-').ok_or_else(bad)?;
    let (m, d): (i8, i8) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    // Checked against a leap year so that 02-29 passes here and fails,
    // correctly, in the years without it.
    Date::new(2024, m, d).map_err(|_| bad())?;
    Ok((m, d))
}

/// Easter Sunday of the Gregorian `year` (1583 or later), by the anonymous
/// Gregorian algorithm (Meeus/Jones/Butcher, J. Meeus, *Astronomical
/// Algorithms*, 2nd ed., ch. 8).
///
/// ```
/// use gdpr_core::request::easter_sunday;
/// use jiff::civil::date;
///
/// assert_eq!(easter_sunday(2026), date(2026, 4, 5));
/// ```
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let (a, b, c) = (y % 19, y / 100, y % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    // n / 31 is 3 or 4 and n % 31 + 1 is at most 31: both fit an i8.
    jiff::civil::date(year, (n / 31) as i8, (n % 31 + 1) as i8)
}
