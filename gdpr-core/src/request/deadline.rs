//! The deadline of a request (GDPR Art. 12(3)), computed per Regulation
//! (EEC, Euratom) No 1182/71:
//!
//! - Art. 3(1): the day of receipt is not counted;
//! - Art. 3(2)(c): a period of months ends on the day of the last month with
//!   the same date as the day of receipt, or on the last day of that month
//!   when it has no such date (received 31 January → 28 or 29 February);
//! - Art. 3(4): a period ending on a Saturday, Sunday or public holiday ends
//!   at the end of the next working day ([`HolidayCalendar`]).
//!
//! One extension by up to two further months is allowed, decided and told
//! with its grounds within the first month.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::request::calendar::HolidayCalendar;
use crate::request::error::RequestError;
use crate::request::source::{self, Source, readings};

/// The controller's calendar: its time zone and its public holidays.
#[derive(Debug, Clone)]
pub struct Calendar {
    zone: TimeZone,
    holidays: HolidayCalendar,
}

impl Calendar {
    /// A calendar in `zone` with `holidays`.
    pub fn new(zone: TimeZone, holidays: HolidayCalendar) -> Self {
        Self { zone, holidays }
    }

    /// The time zone.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The public holidays.
    pub fn holidays(&self) -> &HolidayCalendar {
        &self.holidays
    }

    /// The calendar day of `at` in the controller's zone.
    pub fn day_of(&self, at: Timestamp) -> Date {
        self.zone.to_datetime(at).date()
    }

    /// The last day (inclusive) of a period of `months` months that runs from
    /// the day of `event`: Art. 3(1), 3(2)(c) and 3(4) of Regulation 1182/71.
    ///
    /// # Errors
    /// [`RequestError::CalendarNotCovering`] when the end falls in a year the
    /// holiday calendar does not cover; [`RequestError::DateOutOfRange`].
    pub fn period_end(&self, event: Timestamp, months: i8) -> Result<Date, RequestError> {
        let start = self.day_of(event);
        let nominal = start
            .checked_add(Span::new().months(months))
            .map_err(|_| RequestError::DateOutOfRange)?;
        self.holidays.working_day_from(nominal)
    }
}

/// Why an extension is needed: the two grounds of Art. 12(3).
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtensionGround {
    /// The complexity of the request(s).
    Complexity,
    /// The number of requests.
    NumberOfRequests,
}

impl ExtensionGround {
    /// The stable name, as in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Complexity => "complexity",
            Self::NumberOfRequests => "number-of-requests",
        }
    }

    /// The provision that names this ground.
    pub fn citation(self) -> crate::Citation {
        crate::Citation::from_static("GDPR Art. 12(3)")
    }
}

/// An extension of the deadline, as decided and told to the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Extension {
    months: u8,
    grounds: Vec<ExtensionGround>,
    told_at: Timestamp,
}

impl Extension {
    /// An extension by `months` (1 or 2) on `grounds`, told to the subject
    /// at `told_at`.
    ///
    /// # Errors
    /// [`RequestError::InvalidExtension`] for 0 or more than 2 months, or
    /// no ground.
    pub fn new(
        months: u8,
        grounds: Vec<ExtensionGround>,
        told_at: Timestamp,
    ) -> Result<Self, RequestError> {
        if !(1..=2).contains(&months) {
            return Err(RequestError::InvalidExtension {
                rule: "extend by 1 or 2 months (GDPR Art. 12(3): \"by two further months\")",
            });
        }
        if grounds.is_empty() {
            return Err(RequestError::InvalidExtension {
                rule: "name at least one ground: complexity or number of requests (GDPR Art. 12(3))",
            });
        }
        Ok(Self {
            months,
            grounds,
            told_at,
        })
    }

    /// The further months granted.
    pub fn months(&self) -> u8 {
        self.months
    }

    /// The grounds told.
    pub fn grounds(&self) -> &[ExtensionGround] {
        &self.grounds
    }

    /// When the subject was told.
    pub fn told_at(&self) -> Timestamp {
        self.told_at
    }
}

/// The deadline of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Deadline {
    /// The day of receipt (not counted).
    pub received_on: Date,
    /// The last day of the first month, after Art. 3(4).
    pub first_period_ends: Date,
    /// The last day to answer (inclusive), extension included.
    pub due: Date,
    /// The further months of an extension, if one was granted.
    pub extended_by: Option<u8>,
    /// The provisions and readings the computation applied.
    pub sources: Vec<Source>,
}

impl Deadline {
    /// The deadline of a request received at `received`, with an optional
    /// extension.
    ///
    /// # Errors
    /// [`RequestError::ExtensionTooLate`] when the extension was told after
    /// the first period (or before receipt); the errors of
    /// [`Calendar::period_end`].
    pub fn compute(
        calendar: &Calendar,
        received: Timestamp,
        extension: Option<&Extension>,
    ) -> Result<Self, RequestError> {
        let first = calendar.period_end(received, 1)?;
        let mut sources = vec![
            Source::provision(source::ART_12_3),
            Source::provision(source::REG_1182_3_1),
            readings::RECEIPT_DAY,
            Source::provision(source::REG_1182_3_2_C),
            Source::provision(source::REG_1182_3_4),
        ];
        let due = match extension {
            None => first,
            Some(ext) => {
                if ext.told_at < received || calendar.day_of(ext.told_at) > first {
                    return Err(RequestError::ExtensionTooLate);
                }
                sources.push(readings::TOLD_WITHIN_FIRST_PERIOD);
                sources.push(readings::EXTENSION_AS_ONE_PERIOD);
                // months is 1 or 2 (checked in Extension::new), so 1 + months fits.
                calendar.period_end(received, 1 + ext.months as i8)?
            }
        };
        Ok(Self {
            received_on: calendar.day_of(received),
            first_period_ends: first,
            due,
            extended_by: extension.map(Extension::months),
            sources,
        })
    }

    /// Where the request stands at `now`: overdue once the due day has
    /// ended in the controller's zone.
    pub fn status(&self, calendar: &Calendar, now: Timestamp) -> DeadlineStatus {
        let today = calendar.day_of(now);
        let days_left = (self.due - today).get_days();
        DeadlineStatus {
            due: self.due,
            days_left,
            overdue: today > self.due,
        }
    }
}

/// The deadline seen from one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DeadlineStatus {
    /// The last day to answer (inclusive).
    pub due: Date,
    /// Calendar days from today to the due day (negative when overdue).
    pub days_left: i32,
    /// Whether the due day has ended.
    pub overdue: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn berlin() -> Calendar {
        let de = HolidayCalendar::builtin("DE").unwrap().unwrap();
        Calendar::new(TimeZone::get("Europe/Berlin").unwrap(), de)
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn extension_needs_one_or_two_months_and_a_ground() {
        let at = ts("2026-02-01T10:00:00Z");
        assert!(Extension::new(0, vec![ExtensionGround::Complexity], at).is_err());
        assert!(Extension::new(3, vec![ExtensionGround::Complexity], at).is_err());
        assert!(Extension::new(2, vec![], at).is_err());
        assert!(Extension::new(2, vec![ExtensionGround::NumberOfRequests], at).is_ok());
    }

    #[test]
    fn overdue_after_the_last_hour_of_the_due_day_in_the_zone() {
        // Received Fri 30 January 2026 → 28 February (Sat) → Mon 2 March.
        let cal = berlin();
        let d = Deadline::compute(&cal, ts("2026-01-30T09:00:00Z"), None).unwrap();
        assert_eq!(d.due, date(2026, 3, 2));
        // 23:59:59 CET on 2 March is 22:59:59 UTC: still in time.
        let last = d.status(&cal, ts("2026-03-02T22:59:59Z"));
        assert!(!last.overdue);
        assert_eq!(last.days_left, 0);
        let late = d.status(&cal, ts("2026-03-02T23:00:00Z"));
        assert!(late.overdue);
        assert_eq!(late.days_left, -1);
    }
}
