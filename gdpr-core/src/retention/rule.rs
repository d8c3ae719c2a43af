//! One retention rule: which records it covers, how long they must be kept,
//! from which event, with its minors and death clauses, and its source.

use jiff::civil::Date;

use crate::Citation;
use crate::category::RecordCategory;
use crate::retention::clause::{AgeEnd, Clause, DeathClause, DeathWhen, Expiry, MinorsClause};
use crate::retention::facet::{FacetSet, Setting};
use crate::retention::keeps::PurposeSet;
use crate::retention::modality::Modality;
use crate::retention::period::{DateConvention, add_days, end_of_year};
use crate::retention::record::{Fact, RetentionRecord, Trigger};

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
    pub(crate) facets: FacetSet,
    pub(crate) setting: Option<Setting>,
    pub(crate) years: u16,
    pub(crate) from: Trigger,
    pub(crate) minors: Option<MinorsClause>,
    pub(crate) death: Option<DeathClause>,
    pub(crate) maximum_years: Option<u16>,
    pub(crate) round_up_to_year_end: bool,
    pub(crate) suspensible: bool,
    pub(crate) on_expiry: Expiry,
    pub(crate) destroyable_on_request: bool,
    pub(crate) keeps_for: PurposeSet,
    pub(crate) replaces: Vec<String>,
    /// The pack's bits of the rules in `replaces` (set when merged).
    pub(crate) replaces_bits: u128,
    pub(crate) reading: Option<String>,
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

    /// The facets a record must carry for the rule to cover it.
    pub fn facets(&self) -> FacetSet {
        self.facets
    }

    /// The care setting the rule is limited to, if any. A record without a
    /// setting is undetermined under such a rule.
    pub fn setting(&self) -> Option<Setting> {
        self.setting
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

    /// Whether suspensions recorded on the record
    /// ([`RetentionRecord::suspended_days`]) extend the period (Art. R1112-7
    /// CSP). A hold only blocks; a suspension adds its length.
    pub fn is_suspensible(&self) -> bool {
        self.suspensible
    }

    /// What is due when the period has ended.
    pub fn on_expiry(&self) -> Expiry {
        self.on_expiry
    }

    /// Whether the patient may have the record destroyed before the period
    /// ends (Art. 7:455 BW); see
    /// [`RulePack::decide_destruction_request`](crate::retention::RulePack::decide_destruction_request).
    pub fn is_destroyable_on_request(&self) -> bool {
        self.destroyable_on_request
    }

    /// The purposes this retention duty keeps the record for (see
    /// [`PurposeSet`]): what the record may still be used for once only the
    /// duty keeps it.
    pub fn keeps_for(&self) -> PurposeSet {
        self.keeps_for
    }

    /// The ids of the rules this rule displaces where it covers a record (a
    /// Land rule over a federal one).
    pub fn replaces(&self) -> &[String] {
        &self.replaces
    }

    /// The reading of the law the rule rests on, with the alternative, where
    /// the text needs one.
    pub fn reading(&self) -> Option<&str> {
        self.reading.as_deref()
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
    /// the rule is limited to modalities or a setting and the record has
    /// none.
    pub fn covers(&self, record: &RetentionRecord) -> Result<bool, Gap> {
        if !record.categories().contains(self.category)
            || !record.facets().contains_all(self.facets)
        {
            return Ok(false);
        }
        if let Some(setting) = self.setting {
            match record.setting() {
                None => return Err(Gap::Missing(Fact::Setting)),
                Some(s) if s != setting => return Ok(false),
                Some(_) => {}
            }
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
        if let Some(d) = &self.death
            && let Some(end) = death_end(d, self.from.fact(), start, until, record, convention)?
        {
            until = end;
            clause = Clause::Death;
        }
        let mut review_by = self
            .maximum_years
            .map(|y| convention.period_end(start, y).max(until));
        if self.suspensible && record.suspended_days() > 0 {
            let days = record.suspended_days();
            until = add_days(until, days);
            review_by = review_by.map(|r| add_days(r, days));
        }
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

/// The end under the death clause, when it applies to this record.
fn death_end(
    d: &DeathClause,
    from: Fact,
    start: Date,
    until: Date,
    record: &RetentionRecord,
    convention: DateConvention,
) -> Result<Option<Date>, Gap> {
    let Some(death) = record.date(Fact::DeathDate) else {
        return Ok(None);
    };
    let after_death = convention.period_end(death, d.years);
    let applies = match d.when {
        DeathWhen::Within { years, exclusive } => {
            if death < start {
                return Err(Gap::Inconsistent {
                    earlier: from,
                    later: Fact::DeathDate,
                });
            }
            let limit = convention.period_end(start, years);
            if exclusive {
                death < limit
            } else {
                death <= limit
            }
        }
        DeathWhen::BeforeAge(age) => {
            let birth = fact(record, Fact::BirthDate)?;
            if death < birth {
                return Err(Gap::Inconsistent {
                    earlier: Fact::BirthDate,
                    later: Fact::DeathDate,
                });
            }
            death < convention.birthday(birth, age)
        }
        DeathWhen::IfSooner => after_death < until,
    };
    Ok(applies.then_some(after_death))
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
