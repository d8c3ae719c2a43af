//! The TOML schema of rule pack files, and its translation into [`Rule`]s.
//! See `docs/retention.md` for the format.

use serde::Deserialize;

use crate::category::RecordCategory;
use crate::retention::modality::Modality;
use crate::retention::period::DateConvention;
use crate::retention::record::Trigger;
use crate::retention::rule::{AgeEnd, AgeExtension, DeathClause, MinorsClause, Rule};
use crate::{Citation, Error};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackFile {
    pub(crate) jurisdiction: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) convention: Option<DateConvention>,
    pub(crate) convention_source: Option<String>,
    #[serde(default, rename = "rule")]
    pub(crate) rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    id: String,
    category: RecordCategory,
    #[serde(default)]
    modalities: Vec<String>,
    years: u16,
    from: Trigger,
    minors: Option<MinorsFile>,
    death: Option<DeathFile>,
    maximum_years: Option<u16>,
    #[serde(default)]
    round_up_to_year_end: bool,
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
    within_years: u16,
    years: u16,
}

pub(crate) fn parse(text: &str) -> Result<PackFile, Error> {
    // The line is named, never quoted, and values are hidden: the message
    // must not echo whatever was pasted into the file.
    toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(String::new(), |span| {
            let end = span.start.min(text.len());
            let n = text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            format!("line {}: ", n + 1)
        });
        let why = crate::redact::serde_message(e.message().trim()).replace('\n', " ");
        Error::InvalidRulePack {
            detail: format!("{line}{why}"),
        }
    })
}

fn invalid(detail: String) -> Error {
    Error::InvalidRulePack { detail }
}

impl RuleFile {
    pub(crate) fn into_rule(self) -> Result<Rule, Error> {
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
        let modalities = self
            .modalities
            .iter()
            .map(|m| m.parse::<Modality>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("rule {}: {e}", self.id)))?;
        if let Some(max) = self.maximum_years
            && max < self.years
        {
            return Err(invalid(format!(
                "rule {}: maximum_years ({max}) is shorter than years ({})",
                self.id, self.years
            )));
        }
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
        let death = self.death.map(|d| DeathClause {
            within_years: d.within_years,
            years: d.years,
        });
        Ok(Rule {
            id: self.id,
            category: self.category,
            modalities,
            years: self.years,
            from: self.from,
            minors,
            death,
            maximum_years: self.maximum_years,
            round_up_to_year_end: self.round_up_to_year_end,
            source: Citation::new(self.source),
            description: self.description,
        })
    }
}
