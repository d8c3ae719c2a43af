//! The clauses of a retention rule: minors, death, and what happens when
//! the period ends.

use serde::{Deserialize, Serialize};

use crate::retention::record::Trigger;

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

/// When a [`DeathClause`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeathWhen {
    /// Death occurred within `years` of the rule's trigger: at most that
    /// long after it, or — `exclusive` — strictly less (Art. R1112-7 CSP:
    /// "moins de dix ans").
    Within {
        /// The window in years after the trigger.
        years: u16,
        /// Whether death on the last day of the window is outside it.
        exclusive: bool,
    },
    /// Death occurred before the patient reached this age (NHS: a child
    /// who died before the 18th birthday).
    BeforeAge(u8),
    /// Always, when the end counted from death is earlier than the other
    /// clauses' end (NHS: "or 8 years after death, if sooner").
    IfSooner,
}

/// A clause that *replaces* the period (and the minors clause) when the
/// patient died: the record is then kept `years` after the death.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeathClause {
    /// When the clause applies.
    pub when: DeathWhen,
    /// The period, counted from the date of death.
    pub years: u16,
}

/// What is due when every minimum of a rule has ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Expiry {
    /// Deletion (GDPR Art. 5(1)(e), Art. 17(1)(a)).
    #[default]
    Delete,
    /// A procedure that decides on the record's elimination (Art. R1112-7
    /// CSP: the decision after the opinion of the DIM physician, in public
    /// hospitals with the archives' visa, Art. L212-2 Code du patrimoine).
    EliminationProcedure,
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
