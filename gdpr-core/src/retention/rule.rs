//! One retention rule: which records it covers, how long they must be kept,
//! from which event, with its minors and death clauses, and its source.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::category::RecordCategory;
use crate::retention::modality::Modality;
use crate::retention::period::{DateConvention, end_of_year};
use crate::retention::record::{Fact, RetentionRecord, Trigger};

/// How a minors clause ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AgeEnd {
    /// Kept until (and including) the birthday: "until the 25th birthday".
    Birthday,
    /// Kept until the end of the day before the birthday: "until completing
    /// the 28th year of life" (§ 187(2) sentence 2, § 188(2) BGB).
    DayBeforeBirthday,
}

/// A clause that keeps the records of young patients longer: the record is
/// kept at least until an age is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MinorsClause {
    /// The clause applies when the patient was younger than this on
    /// `age_at`; `None` when it applies to everyone (a floor).
    pub under_age: Option<u8>,
    /// The date on which the age is measured.
    pub age_at: Trigger,
    /// Keep until this age is reached (see `until`).
    pub until_age: u8,
    /// Whether `until_age` means the birthday or the day before it.
    pub until: AgeEnd,
    /// An exception: a patient exactly `age` years old on `age_at` is kept
    /// until `until_age` instead (NHS: "26th if 17 at the end of treatment").
    pub extension: Option<AgeExtension>,
}

/// An age-specific exception of a [`MinorsClause`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AgeExtension {
    /// The age on `age_at` that triggers the exception.
    pub age: u8,
    /// The age to keep the record until instead.
    pub until_age: u8,
}

/// A clause that *replaces* the period when the patient died soon after the
/// trigger (Art. R1112-7 CSP: death within 10 years of the last visit →
/// 10 years from death).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeathClause {
    /// The clause applies when death occurred at most this many years after
    /// the rule's trigger.
    pub within_years: u16,
    /// The period, counted from the date of death.
    pub years: u16,
}

/// Which part of a rule set its end date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Clause {
    /// The period after the trigger.
    Period,
    /// The minors clause (or its extension).
    Minors,
    /// The death clause.
    Death,
}

impl Clause {
    /// A short name for reasons and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Period => "period",
            Self::Minors => "minors clause",
            Self::Death => "death clause",
        }
    }
}

/// Why a rule could not compute its end date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Gap {
    /// A fact the rule needs is missing.
    Missing(Fact),
    /// Two facts contradict each other (`earlier` is after `later`).
    Inconsistent {
        /// The fact that should come first (e.g. the birth date).
        earlier: Fact,
        /// The fact that should come later.
        later: Fact,
    },
}

/// The end of one rule for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleEnd {
    /// The last day the record must be kept under this rule (inclusive).
    pub until: Date,
    /// Which clause set `until`.
    pub clause: Clause,
    /// The last day before which the record must be deleted or reviewed,
    /// when the rule has a maximum.
    pub review_by: Option<Date>,
}

/// A retention rule. Built from a rule pack; see
/// [`RulePack`](crate::retention::RulePack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub(crate) id: String,
    pub(crate) category: RecordCategory,
    pub(crate) modalities: Vec<Modality>,
    pub(crate) years: u16,
    pub(crate) from: Trigger,
    pub(crate) minors: Option<MinorsClause>,
    pub(crate) death: Option<DeathClause>,
    pub(crate) maximum_years: Option<u16>,
    pub(crate) round_up_to_year_end: bool,
    pub(crate) source: Citation,
    pub(crate) description: String,
}

impl Rule {
    /// The rule's id, unique in its pack (e.g. `"de-patient-record"`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The record category the rule covers.
    pub fn category(&self) -> RecordCategory {
        self.category
    }

    /// The modalities the rule is limited to; empty when it covers all.
    pub fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    /// The minimum period in years.
    pub fn years(&self) -> u16 {
        self.years
    }

    /// The event that starts the period.
    pub fn from(&self) -> Trigger {
        self.from
    }

    /// The minors clause, if any.
    pub fn minors(&self) -> Option<&MinorsClause> {
        self.minors.as_ref()
    }

    /// The death clause, if any.
    pub fn death(&self) -> Option<&DeathClause> {
        self.death.as_ref()
    }

    /// The maximum in years after the trigger, if any (storage limitation:
    /// delete or review by then).
    pub fn maximum_years(&self) -> Option<u16> {
        self.maximum_years
    }

    /// Whether the end is rounded up to 31 December.
    pub fn rounds_up_to_year_end(&self) -> bool {
        self.round_up_to_year_end
    }

    /// The legal source, e.g. `"§ 630f(3) BGB"`.
    pub fn source(&self) -> &Citation {
        &self.source
    }

    /// A one-line description for listings.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whether the rule covers `record`. `Err` names the missing fact when
    /// the rule is limited to modalities and the record has none.
    pub fn covers(&self, record: &RetentionRecord) -> Result<bool, Gap> {
        if !record.categories().contains(self.category) {
            return Ok(false);
        }
        if self.modalities.is_empty() {
            return Ok(true);
        }
        match record.modality() {
            Some(m) => Ok(self.modalities.contains(&m)),
            None => Err(Gap::Missing(Fact::Modality)),
        }
    }

    /// The end of this rule for a record it covers, under `convention`.
    ///
    /// # Errors
    ///
    /// A [`Gap`] when a fact the rule needs for *this* record is missing or
    /// contradicts another; the caller must not delete the record then.
    pub fn end(
        &self,
        record: &RetentionRecord,
        convention: DateConvention,
    ) -> Result<RuleEnd, Gap> {
        let start = fact(record, self.from.fact())?;
        let mut until = convention.period_end(start, self.years);
        let mut clause = Clause::Period;
        if let Some(m) = &self.minors {
            let birth = fact(record, Fact::BirthDate)?;
            let minors_end = minors_end(m, birth, record, convention)?;
            if let Some(end) = minors_end
                && end > until
            {
                until = end;
                clause = Clause::Minors;
            }
        }
        if let (Some(d), Some(death)) = (&self.death, record.date(Fact::DeathDate)) {
            if death < start {
                return Err(Gap::Inconsistent {
                    earlier: self.from.fact(),
                    later: Fact::DeathDate,
                });
            }
            if death <= convention.period_end(start, d.within_years) {
                until = convention.period_end(death, d.years);
                clause = Clause::Death;
            }
        }
        let mut review_by = self
            .maximum_years
            .map(|y| convention.period_end(start, y).max(until));
        if self.round_up_to_year_end {
            until = end_of_year(until);
            review_by = review_by.map(end_of_year);
        }
        Ok(RuleEnd {
            until,
            clause,
            review_by,
        })
    }
}

fn fact(record: &RetentionRecord, fact: Fact) -> Result<Date, Gap> {
    record.date(fact).ok_or(Gap::Missing(fact))
}

fn minors_end(
    m: &MinorsClause,
    birth: Date,
    record: &RetentionRecord,
    convention: DateConvention,
) -> Result<Option<Date>, Gap> {
    let mut until_age = m.until_age;
    if m.under_age.is_some() || m.extension.is_some() {
        let at = fact(record, m.age_at.fact())?;
        let age = convention.age_on(birth, at).ok_or(Gap::Inconsistent {
            earlier: Fact::BirthDate,
            later: m.age_at.fact(),
        })?;
        if m.under_age.is_some_and(|limit| age >= u16::from(limit)) {
            return Ok(None);
        }
        if let Some(ext) = m.extension
            && age == u16::from(ext.age)
        {
            until_age = ext.until_age;
        }
    }
    Ok(Some(match m.until {
        AgeEnd::Birthday => convention.birthday(birth, until_age),
        AgeEnd::DayBeforeBirthday => convention.completes_year_of_life(birth, until_age),
    }))
}
