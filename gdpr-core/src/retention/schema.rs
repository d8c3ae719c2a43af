//! The TOML schema of rule pack files, and its translation into [`Rule`]s.
//! See `docs/retention.md` for the format.

use serde::Deserialize;

use crate::category::RecordCategory;
use crate::purpose::Purpose;
use crate::retention::clause::{
    AgeEnd, AgeExtension, DeathClause, DeathWhen, Expiry, MinorsClause,
};
use crate::retention::facet::{Facet, Setting};
use crate::retention::keeps::PurposeSet;
use crate::retention::modality::Modality;
use crate::retention::period::DateConvention;
use crate::retention::record::Trigger;
use crate::retention::rule::Rule;
use crate::{Citation, Error};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackFile {
    pub(crate) jurisdiction: Option<String>,
    /// For a variant pack (`DE-HH`): the pack it extends (`DE`).
    pub(crate) base: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) convention: Option<DateConvention>,
    pub(crate) convention_source: Option<String>,
    /// The data-protection law decisions cite ("GDPR" unless set).
    pub(crate) data_protection_law: Option<String>,
    #[serde(default, rename = "rule")]
    pub(crate) rules: Vec<RuleFile>,
    /// Categories kept while the subject's other records are
    /// ([`crate::retention::follows`]).
    #[serde(default, rename = "follows")]
    pub(crate) follows: Vec<crate::retention::follows::FollowsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    id: String,
    category: RecordCategory,
    #[serde(default)]
    modalities: Vec<String>,
    #[serde(default)]
    facets: Vec<Facet>,
    setting: Option<Setting>,
    years: u16,
    from: Trigger,
    minors: Option<MinorsFile>,
    death: Option<DeathFile>,
    maximum_years: Option<u16>,
    #[serde(default)]
    round_up_to_year_end: bool,
    #[serde(default)]
    suspensible: bool,
    #[serde(default)]
    on_expiry: Expiry,
    #[serde(default)]
    destroyable_on_request: bool,
    keeps_for: Option<Vec<Purpose>>,
    #[serde(default)]
    replaces: Vec<String>,
    reading: Option<String>,
    source: String,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MinorsFile {
    under_age: Option<u8>,
    age_at: Trigger,
    until_age: u8,
    until: AgeEnd,
    extension: Option<ExtensionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionFile {
    age: u8,
    until_age: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeathFile {
    within_years: Option<u16>,
    #[serde(default)]
    exclusive: bool,
    before_age: Option<u8>,
    #[serde(default)]
    if_sooner: bool,
    years: u16,
}

impl DeathFile {
    fn into_clause(self, id: &str) -> Result<DeathClause, Error> {
        let when = match (self.within_years, self.before_age, self.if_sooner) {
            (Some(years), None, false) => DeathWhen::Within {
                years,
                exclusive: self.exclusive,
            },
            (None, Some(age), false) if !self.exclusive => DeathWhen::BeforeAge(age),
            (None, None, true) if !self.exclusive => DeathWhen::IfSooner,
            _ => {
                return Err(invalid(format!(
                    "rule {id}: [rule.death] needs exactly one of `within_years` \
                     (optionally with `exclusive`), `before_age` or `if_sooner = true`"
                )));
            }
        };
        Ok(DeathClause {
            when,
            years: self.years,
        })
    }
}

pub(crate) fn parse(text: &str) -> Result<PackFile, Error> {
    toml::from_str(text).map_err(|e| Error::InvalidRulePack {
        detail: crate::redact::toml_message(text, &e),
    })
}

/// The purposes of a rule: `legal-obligation` alone when unsaid, never an
/// empty list.
fn keeps_for(id: &str, list: Option<Vec<Purpose>>) -> Result<PurposeSet, Error> {
    match list {
        None => Ok(PurposeSet::DUTY_ONLY),
        Some(list) if list.is_empty() => Err(invalid(format!(
            "rule {id}: `keeps_for` is empty; a retention duty keeps a record \
             at least for `legal-obligation`"
        ))),
        Some(list) => Ok(list.into_iter().collect()),
    }
}

fn invalid(detail: String) -> Error {
    Error::InvalidRulePack { detail }
}

impl RuleFile {
    pub(crate) fn into_rule(self) -> Result<Rule, Error> {
        self.check()?;
        let modalities = self
            .modalities
            .iter()
            .map(|m| m.parse::<Modality>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("rule {}: {e}", self.id)))?;
        let minors = self.minors.map(|m| MinorsClause {
            under_age: m.under_age,
            age_at: m.age_at,
            until_age: m.until_age,
            until: m.until,
            extension: m.extension.map(|e| AgeExtension {
                age: e.age,
                until_age: e.until_age,
            }),
        });
        let death = self.death.map(|d| d.into_clause(&self.id)).transpose()?;
        let keeps_for = keeps_for(&self.id, self.keeps_for)?;
        Ok(Rule {
            id: self.id,
            category: self.category,
            modalities,
            facets: self.facets.into_iter().collect(),
            setting: self.setting,
            years: self.years,
            from: self.from,
            minors,
            death,
            maximum_years: self.maximum_years,
            round_up_to_year_end: self.round_up_to_year_end,
            suspensible: self.suspensible,
            on_expiry: self.on_expiry,
            destroyable_on_request: self.destroyable_on_request,
            keeps_for,
            replaces: self.replaces,
            replaces_bits: 0,
            reading: self.reading,
            source: Citation::new(self.source),
            description: self.description,
        })
    }

    /// The checks that need no conversion: id, source, maximum, reading.
    fn check(&self) -> Result<(), Error> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(invalid(format!(
                "rule id {:?} must be 1 to 64 lower-case letters, digits or '-'",
                self.id
            )));
        }
        if self.source.trim().is_empty() {
            return Err(invalid(format!(
                "rule {} has no source: every rule must cite its legal basis",
                self.id
            )));
        }
        if let Some(max) = self.maximum_years
            && max < self.years
        {
            return Err(invalid(format!(
                "rule {}: maximum_years ({max}) is shorter than years ({})",
                self.id, self.years
            )));
        }
        if self.reading.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(invalid(format!(
                "rule {}: `reading` is empty; name the reading and its alternative",
                self.id
            )));
        }
        Ok(())
    }
}
