//! What the retention engine knows about one record: its categories, its
//! modality, and the dates that start or bound its retention periods.
//!
//! A [`RetentionRecord`] is `Copy` and holds no heap data, so deciding on it
//! never allocates. Its `Debug` output never shows a date (a birth date is
//! identifying).

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::category::RecordCategory;
pub use crate::retention::category_set::CategorySet;
use crate::retention::facet::{Facet, FacetSet, Setting};
use crate::retention::hold::{HoldSet, LegalHold};
use crate::retention::modality::Modality;

/// The event that starts a retention period: one of the record's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Trigger {
    /// The examination, application or other event the record documents.
    EventDate,
    /// The end of the treatment (§ 630f(3) BGB "Abschluss der Behandlung").
    TreatmentEnd,
    /// The last stay, consultation or contact ("last seen").
    LastVisit,
    /// The last change to the file (Art. 7:454(3) BW).
    LastChange,
    /// The patient's last examination of the same kind ("nach der letzten
    /// Untersuchung", § 85(2) S. 1 Nr. 2 StrlSchG): the latest `event_date`
    /// among the patient's records, found by grouping by subject
    /// ([`LatestExaminations`](crate::retention::LatestExaminations)).
    LastExamination,
}

impl Trigger {
    /// The JSON field name, e.g. `"treatment_end"`.
    pub const fn name(self) -> &'static str {
        self.fact().name()
    }

    /// The fact this trigger reads.
    pub const fn fact(self) -> Fact {
        match self {
            Self::EventDate => Fact::EventDate,
            Self::TreatmentEnd => Fact::TreatmentEnd,
            Self::LastVisit => Fact::LastVisit,
            Self::LastChange => Fact::LastChange,
            Self::LastExamination => Fact::LastExamination,
        }
    }
}

/// A fact about a record that a rule may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fact {
    /// The patient's date of birth.
    BirthDate,
    /// The patient's date of death.
    DeathDate,
    /// The date of the examination or application.
    EventDate,
    /// The end of the treatment.
    TreatmentEnd,
    /// The last stay or consultation.
    LastVisit,
    /// The last change to the file.
    LastChange,
    /// The imaging modality.
    Modality,
    /// The patient's last examination of the same kind.
    LastExamination,
    /// The care setting (hospital, practice).
    Setting,
}

impl Fact {
    /// The JSON field name of the fact, e.g. `"birth_date"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::BirthDate => "birth_date",
            Self::DeathDate => "death_date",
            Self::EventDate => "event_date",
            Self::TreatmentEnd => "treatment_end",
            Self::LastVisit => "last_visit",
            Self::LastChange => "last_change",
            Self::Modality => "modality",
            Self::LastExamination => "last_examination",
            Self::Setting => "setting",
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The facts about one record that retention rules read. Build it with
/// [`RetentionRecord::new`] and the `with_*` methods; only the facts a rule
/// needs are required, and a missing one makes the decision
/// [`Status::Undetermined`](crate::retention::Status::Undetermined), never a
/// guess.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RetentionRecord {
    categories: CategorySet,
    modality: Option<Modality>,
    setting: Option<Setting>,
    facets: FacetSet,
    suspended_days: u32,
    dates: [Option<Date>; DATE_FACTS.len()],
    holds: HoldSet,
}

/// The date facts, in slot order.
const DATE_FACTS: [Fact; 7] = [
    Fact::BirthDate,
    Fact::DeathDate,
    Fact::EventDate,
    Fact::TreatmentEnd,
    Fact::LastVisit,
    Fact::LastChange,
    Fact::LastExamination,
];

impl RetentionRecord {
    /// A record of `category` with no dates yet.
    pub const fn new(category: RecordCategory) -> Self {
        Self::with_categories(CategorySet::of(category))
    }

    /// A record belonging to several categories.
    pub const fn with_categories(categories: CategorySet) -> Self {
        Self {
            categories,
            modality: None,
            setting: None,
            facets: FacetSet::EMPTY,
            suspended_days: 0,
            dates: [None; DATE_FACTS.len()],
            holds: HoldSet::EMPTY,
        }
    }

    /// Adds a category.
    #[must_use]
    pub fn with_category(mut self, category: RecordCategory) -> Self {
        self.categories.insert(category);
        self
    }

    /// Sets the modality.
    #[must_use]
    pub fn with_modality(mut self, modality: Modality) -> Self {
        self.modality = Some(modality);
        self
    }

    /// Sets a date fact. Setting [`Fact::Modality`] or [`Fact::Setting`] has no effect.
    #[must_use]
    pub fn with_date(mut self, fact: Fact, date: Date) -> Self {
        self.set_date(fact, Some(date));
        self
    }

    /// Sets the date of birth.
    #[must_use]
    pub fn with_birth_date(self, date: Date) -> Self {
        self.with_date(Fact::BirthDate, date)
    }

    /// Sets the date of death.
    #[must_use]
    pub fn with_death_date(self, date: Date) -> Self {
        self.with_date(Fact::DeathDate, date)
    }

    /// Sets the date of the examination or application.
    #[must_use]
    pub fn with_event_date(self, date: Date) -> Self {
        self.with_date(Fact::EventDate, date)
    }

    /// Sets the end of the treatment.
    #[must_use]
    pub fn with_treatment_end(self, date: Date) -> Self {
        self.with_date(Fact::TreatmentEnd, date)
    }

    /// Sets the last stay or consultation.
    #[must_use]
    pub fn with_last_visit(self, date: Date) -> Self {
        self.with_date(Fact::LastVisit, date)
    }

    /// Sets the last change to the file.
    #[must_use]
    pub fn with_last_change(self, date: Date) -> Self {
        self.with_date(Fact::LastChange, date)
    }

    /// Sets the patient's last examination of the same kind.
    #[must_use]
    pub fn with_last_examination(self, date: Date) -> Self {
        self.with_date(Fact::LastExamination, date)
    }

    /// Sets the care setting.
    #[must_use]
    pub fn with_setting(mut self, setting: Setting) -> Self {
        self.setting = Some(setting);
        self
    }

    /// Adds a facet.
    #[must_use]
    pub fn with_facet(mut self, facet: Facet) -> Self {
        self.facets.insert(facet);
        self
    }

    /// Sets the total number of days for which the periods were suspended
    /// (Art. R1112-7 CSP: a claim against the institution suspends them;
    /// count each ended suspension from its start to its end). A claim
    /// still open is a [`LegalHold::Litigation`], not a suspension.
    #[must_use]
    pub fn with_suspended_days(mut self, days: u32) -> Self {
        self.suspended_days = days;
        self
    }

    /// Adds a legal hold.
    #[must_use]
    pub fn with_hold(mut self, hold: LegalHold) -> Self {
        self.holds.insert(hold);
        self
    }

    /// Replaces the legal holds.
    #[must_use]
    pub fn with_holds(mut self, holds: HoldSet) -> Self {
        self.holds = holds;
        self
    }

    pub(crate) fn set_date(&mut self, fact: Fact, date: Option<Date>) {
        if let Some(i) = Self::slot(fact) {
            self.dates[i] = date;
        }
    }

    pub(crate) fn set_modality(&mut self, modality: Option<Modality>) {
        self.modality = modality;
    }

    pub(crate) fn set_setting(&mut self, setting: Option<Setting>) {
        self.setting = setting;
    }

    pub(crate) fn set_facets(&mut self, facets: FacetSet) {
        self.facets = facets;
    }

    const fn slot(fact: Fact) -> Option<usize> {
        match fact {
            Fact::BirthDate => Some(0),
            Fact::DeathDate => Some(1),
            Fact::EventDate => Some(2),
            Fact::TreatmentEnd => Some(3),
            Fact::LastVisit => Some(4),
            Fact::LastChange => Some(5),
            Fact::LastExamination => Some(6),
            Fact::Modality | Fact::Setting => None,
        }
    }

    /// The record's categories.
    pub const fn categories(&self) -> CategorySet {
        self.categories
    }

    /// The modality, if known.
    pub const fn modality(&self) -> Option<Modality> {
        self.modality
    }

    /// The care setting, if known.
    pub const fn setting(&self) -> Option<Setting> {
        self.setting
    }

    /// The record's facets.
    pub const fn facets(&self) -> FacetSet {
        self.facets
    }

    /// The days for which the periods were suspended.
    pub const fn suspended_days(&self) -> u32 {
        self.suspended_days
    }

    /// A date fact, if known (`None` for [`Fact::Modality`] and
    /// [`Fact::Setting`]).
    pub const fn date(&self, fact: Fact) -> Option<Date> {
        match Self::slot(fact) {
            Some(i) => self.dates[i],
            None => None,
        }
    }

    /// The legal holds on the record.
    pub const fn holds(&self) -> HoldSet {
        self.holds
    }
}

impl fmt::Debug for RetentionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Dates (a birth date above all) are identifying: show only which
        // facts are present.
        let present: Vec<&str> = DATE_FACTS
            .into_iter()
            .filter(|fact| self.date(*fact).is_some())
            .map(Fact::name)
            .collect();
        f.debug_struct("RetentionRecord")
            .field("categories", &self.categories)
            .field("modality", &self.modality)
            .field("setting", &self.setting)
            .field("facets", &self.facets)
            .field("suspended_days", &self.suspended_days)
            .field("dates_present", &present)
            .field("holds", &self.holds)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn every_category_fits_the_bit_set() {
        assert!(RecordCategory::ALL.len() <= 16);
        for (i, c) in RecordCategory::ALL.into_iter().enumerate() {
            assert_eq!(
                CategorySet::index(c),
                i,
                "ALL must follow declaration order"
            );
            let set = CategorySet::of(c);
            assert_eq!(set.iter().collect::<Vec<_>>(), vec![c]);
        }
    }

    #[test]
    fn debug_never_shows_a_date() {
        let r = RetentionRecord::new(RecordCategory::ImagingExamination)
            .with_birth_date(date(1987, 6, 5))
            .with_event_date(date(2015, 1, 10));
        let text = format!("{r:?}");
        assert!(!text.contains("1987") && !text.contains("2015"), "{text}");
        assert!(text.contains("birth_date"), "{text}");
    }
}
