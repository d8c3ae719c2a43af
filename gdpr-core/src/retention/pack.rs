//! Rule packs: the retention rules of one jurisdiction, with the date
//! convention they are counted in. Built-in packs are TOML files embedded in
//! the crate; a user pack (a string the caller read) may override rules by
//! id or add new ones.

use crate::category::RecordCategory;
use crate::retention::follows::Follower;
pub use crate::retention::jurisdiction::Jurisdiction;
use crate::retention::period::DateConvention;
use crate::retention::record::CategorySet;
use crate::retention::rule::Rule;
use crate::retention::schema::{self, PackFile};
use crate::{Citation, Error};

/// The most rules one pack may hold (decisions record the rules that applied
/// as bits of a `u128`).
pub const MAX_RULES: usize = 128;

/// The retention rules of one jurisdiction, indexed by record category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePack {
    jurisdiction: Jurisdiction,
    name: String,
    convention: DateConvention,
    convention_source: Citation,
    data_protection_law: Citation,
    rules: Vec<Rule>,
    followers: Vec<Follower>,
    /// For each record category (by declaration index), the bits of the
    /// rules that cover it.
    by_category: [u128; 16],
}

impl RulePack {
    /// The built-in pack of `jurisdiction`, or `None` when there is none. A
    /// Land variant (`DE-HH`) is its federal pack with the Land's rules
    /// merged in.
    ///
    /// # Errors
    ///
    /// Only if an embedded pack file is broken (a unit test parses each).
    pub fn builtin(jurisdiction: &Jurisdiction) -> Result<Option<RulePack>, Error> {
        let text = match jurisdiction.as_str() {
            "DE" => include_str!("packs/de.toml"),
            "DE-HH" => include_str!("packs/de-hh.toml"),
            "AT" => include_str!("packs/at.toml"),
            "FR" => include_str!("packs/fr.toml"),
            "NL" => include_str!("packs/nl.toml"),
            "UK-ENG" => include_str!("packs/uk-eng.toml"),
            _ => return Ok(None),
        };
        Self::from_toml(text).map(Some)
    }

    /// Every built-in pack, in the order of [`Jurisdiction::BUILTIN`].
    ///
    /// # Errors
    ///
    /// Only if an embedded pack file is broken.
    pub fn all_builtin() -> Result<Vec<RulePack>, Error> {
        Jurisdiction::BUILTIN
            .iter()
            .filter_map(|code| {
                code.parse::<Jurisdiction>()
                    .and_then(|j| Self::builtin(&j))
                    .transpose()
            })
            .collect()
    }

    /// A complete pack from TOML text (`jurisdiction`, `convention`,
    /// `convention_source` and `[[rule]]` tables).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRulePack`] naming the problem: TOML syntax, an unknown
    /// field or category, a rule without a source, a duplicate id, more than
    /// [`MAX_RULES`] rules, a missing header field.
    pub fn from_toml(text: &str) -> Result<RulePack, Error> {
        let file = schema::parse(text)?;
        if let Some(base) = &file.base {
            let base = base.parse::<Jurisdiction>()?;
            let pack = Self::builtin(&base)?.ok_or_else(|| Error::InvalidRulePack {
                detail: format!("`base = \"{base}\"`: there is no built-in pack to extend"),
            })?;
            return pack.into_variant(file);
        }
        let missing = |what: &str| Error::InvalidRulePack {
            detail: format!("a pack without a built-in base must set `{what}`"),
        };
        let jurisdiction = file
            .jurisdiction
            .as_deref()
            .ok_or_else(|| missing("jurisdiction"))?
            .parse()?;
        let mut pack = RulePack {
            jurisdiction,
            name: file.name.clone().unwrap_or_default(),
            convention: file.convention.ok_or_else(|| missing("convention"))?,
            convention_source: Citation::new(
                file.convention_source
                    .clone()
                    .ok_or_else(|| missing("convention_source"))?,
            ),
            data_protection_law: Citation::from_static("GDPR"),
            rules: Vec::new(),
            followers: Vec::new(),
            by_category: [0; 16],
        };
        pack.merge(file)?;
        Ok(pack)
    }

    /// This pack extended by a user pack: a rule with an existing id
    /// replaces it, a new id is added. The user pack may also set the
    /// convention (then with its source) and the name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRulePack`] as for [`RulePack::from_toml`], and when
    /// the user pack names another jurisdiction.
    pub fn extended_with_toml(mut self, text: &str) -> Result<RulePack, Error> {
        let file = schema::parse(text)?;
        if file.base.is_some() {
            return Err(Error::InvalidRulePack {
                detail: "`base` belongs in a complete variant pack (RulePack::from_toml), \
                         not in a user pack"
                    .into(),
            });
        }
        if let Some(j) = &file.jurisdiction
            && j.parse::<Jurisdiction>()? != self.jurisdiction
        {
            return Err(Error::InvalidRulePack {
                detail: format!(
                    "the rules file is for jurisdiction {j}, not {}",
                    self.jurisdiction
                ),
            });
        }
        match (file.convention, &file.convention_source) {
            (Some(c), Some(src)) => {
                self.convention = c;
                self.convention_source = Citation::new(src.clone());
            }
            (None, None) => {}
            _ => {
                return Err(Error::InvalidRulePack {
                    detail: "set `convention` and `convention_source` together".into(),
                });
            }
        }
        if let Some(name) = &file.name {
            self.name.clone_from(name);
        }
        self.merge(file)?;
        Ok(self)
    }

    /// This federal pack turned into a variant (`DE` into `DE-HH`): the
    /// variant's rules are added, replace rules by id, or displace them
    /// where they cover a record (`replaces`).
    fn into_variant(mut self, file: PackFile) -> Result<RulePack, Error> {
        let code = file.jurisdiction.as_deref().unwrap_or_default();
        let prefix = format!("{}-", self.jurisdiction);
        if !code.to_ascii_uppercase().starts_with(&prefix) {
            return Err(Error::InvalidRulePack {
                detail: format!(
                    "a variant of {} must be named {prefix}…, e.g. {prefix}HH",
                    self.jurisdiction
                ),
            });
        }
        self.jurisdiction = code.parse()?;
        if let Some(name) = &file.name {
            self.name.clone_from(name);
        }
        if let (Some(c), Some(src)) = (file.convention, &file.convention_source) {
            self.convention = c;
            self.convention_source = Citation::new(src.clone());
        }
        self.merge(file)?;
        Ok(self)
    }

    fn merge(&mut self, file: PackFile) -> Result<(), Error> {
        if let Some(law) = &file.data_protection_law {
            self.data_protection_law = Citation::new(law.clone());
        }
        crate::retention::follows::merge(&mut self.followers, file.follows)?;
        let mut seen = std::collections::HashSet::new();
        for rule in file.rules {
            let rule = rule.into_rule()?;
            if !seen.insert(rule.id.clone()) {
                return Err(Error::InvalidRulePack {
                    detail: format!("rule id {} appears twice in one file", rule.id),
                });
            }
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => *existing = rule,
                None => self.rules.push(rule),
            }
        }
        if self.rules.len() > MAX_RULES {
            return Err(Error::InvalidRulePack {
                detail: format!(
                    "{} rules; a pack holds at most {MAX_RULES}",
                    self.rules.len()
                ),
            });
        }
        self.by_category = [0; 16];
        for (i, rule) in self.rules.iter().enumerate() {
            self.by_category[CategorySet::index(rule.category)] |= 1u128 << i;
        }
        self.resolve_replaces()
    }

    fn resolve_replaces(&mut self) -> Result<(), Error> {
        let ids: Vec<String> = self.rules.iter().map(|r| r.id.clone()).collect();
        for rule in &mut self.rules {
            rule.replaces_bits = 0;
            for id in &rule.replaces {
                let Some(i) = ids.iter().position(|x| x == id) else {
                    return Err(Error::InvalidRulePack {
                        detail: format!("rule {} replaces {id}, which the pack lacks", rule.id),
                    });
                };
                if ids[i] == rule.id {
                    return Err(Error::InvalidRulePack {
                        detail: format!("rule {} replaces itself", rule.id),
                    });
                }
                rule.replaces_bits |= 1u128 << i;
            }
        }
        Ok(())
    }

    /// The follows rule of `category`: records of it are kept while the
    /// subject's other records on the same system are
    /// ([`crate::retention::follows`]).
    pub fn follower(&self, category: RecordCategory) -> Option<&Follower> {
        self.followers.iter().find(|f| f.category() == category)
    }

    /// The jurisdiction.
    pub fn jurisdiction(&self) -> &Jurisdiction {
        &self.jurisdiction
    }

    /// The pack's human-readable name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How periods are counted.
    pub fn convention(&self) -> DateConvention {
        self.convention
    }

    /// The provision (or practice) the convention rests on.
    pub fn convention_source(&self) -> &Citation {
        &self.convention_source
    }

    /// The data-protection law whose storage limitation and erasure
    /// provisions the decisions rest on: `"GDPR"`, or `"UK GDPR"` in
    /// England.
    pub fn data_protection_law(&self) -> &Citation {
        &self.data_protection_law
    }

    /// The rules, in pack order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with `id`.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The bits of the rules covering any category in `categories`.
    pub(crate) fn candidates(&self, categories: CategorySet) -> u128 {
        let mut bits = categories.bits();
        let mut mask = 0;
        while bits != 0 {
            mask |= self.by_category[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        mask
    }

    /// The record categories this pack has rules for.
    pub fn categories(&self) -> CategorySet {
        let mut set = CategorySet::EMPTY;
        for c in RecordCategory::ALL {
            if self.by_category[CategorySet::index(c)] != 0 {
                set.insert(c);
            }
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_pack_parses_and_cites_every_rule() {
        let packs = RulePack::all_builtin().unwrap();
        assert_eq!(packs.len(), 6);
        for pack in &packs {
            assert!(!pack.rules().is_empty(), "{}", pack.jurisdiction());
            assert!(!pack.convention_source().as_str().is_empty());
            for rule in pack.rules() {
                assert!(!rule.source().as_str().is_empty(), "{}", rule.id());
            }
        }
    }

    #[test]
    fn unknown_jurisdiction_has_no_builtin() {
        let ch: Jurisdiction = "ch".parse().unwrap();
        assert_eq!(ch.as_str(), "CH");
        assert!(RulePack::builtin(&ch).unwrap().is_none());
    }

    #[test]
    fn a_user_pack_overrides_by_id_and_extends() {
        let de = RulePack::builtin(&"DE".parse().unwrap()).unwrap().unwrap();
        let n = de.rules().len();
        let de = de
            .extended_with_toml(
                r#"
                [[rule]]
                id = "de-patient-record"
                category = "patient-record"
                years = 12
                from = "treatment_end"
                source = "house rule on top of § 630f(3) BGB"

                [[rule]]
                id = "house-lab"
                category = "lab-result"
                years = 10
                from = "event_date"
                source = "§ 630f(3) BGB"
                "#,
            )
            .unwrap();
        assert_eq!(de.rules().len(), n + 1);
        assert_eq!(de.rule("de-patient-record").unwrap().years(), 12);
        assert!(de.categories().contains(RecordCategory::LabResult));
    }

    #[test]
    fn broken_packs_say_what_is_wrong() {
        let de = || RulePack::builtin(&"DE".parse().unwrap()).unwrap().unwrap();
        let cases = [
            (
                "[[rule]]\nid = \"x\"\ncategory = \"x-ray\"\nyears = 1\nfrom = \"event_date\"\nsource = \"s\"",
                // The line and the allowed values; the value itself is not echoed.
                "line 3: unknown variant (value), expected one of `patient-record`",
            ),
            (
                "[[rule]]\nid = \"x\"\ncategory = \"billing\"\nyears = 1\nfrom = \"event_date\"\nsource = \" \"",
                "source",
            ),
            (
                "[[rule]]\nid = \"x\"\ncategory = \"billing\"\nyears = 1\nfrom = \"event_date\"\nsource = \"s\"\nyeers = 2",
                "yeers",
            ),
            ("jurisdiction = \"FR\"", "jurisdiction FR"),
            (
                "[[rule]]\nid = \"x\"\ncategory = \"billing\"\nyears = 5\nmaximum_years = 2\nfrom = \"event_date\"\nsource = \"s\"",
                "maximum_years",
            ),
        ];
        for (text, needle) in cases {
            let err = de().extended_with_toml(text).unwrap_err();
            assert!(err.to_string().contains(needle), "{needle}: {err}");
        }
        let err = RulePack::from_toml("[[rule]]").unwrap_err();
        assert!(matches!(err, Error::InvalidRulePack { .. }));
    }
}
