//! Member-state law as data: catalogues of national provisions that specify
//! an Art. 9(2) condition or impose the secrecy duty of Art. 9(3).
//!
//! A catalogue is a JSON document (`data/national/de.json` for Germany is
//! built in); other jurisdictions load their own with
//! [`Catalogue::from_json`]. Nothing in the authorization branches on a
//! country: the provisions travel inside a [`HealthBasis`] and an actor's
//! [`Secrecy`].
//!
//! ```
//! use gdpr_core::actor::Role;
//! use gdpr_core::basis::Art9Condition;
//! use gdpr_core::national::Catalogue;
//!
//! let de = Catalogue::germany();
//! let care = de.specifying(Art9Condition::HealthCare).next().unwrap();
//! assert_eq!(care.citation.as_str(), "§ 22(1) Nr. 1 b BDSG");
//! let secrecy = de.secrecy_for(Role::Physician);
//! assert_eq!(secrecy.source().unwrap().as_str(), "§ 203(1) Nr. 1 StGB");
//! ```
//!
//! [`HealthBasis`]: crate::basis::HealthBasis

use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::actor::{Role, Secrecy};
use crate::basis::{Art9Condition, NationalProvision};

/// The German catalogue, embedded at build time.
const GERMANY: &str = include_str!("../data/national/de.json");

/// The kind of secrecy duty a provision imposes (Art. 9(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SecrecyKind {
    /// The professional's own duty.
    Professional,
    /// The duty of those acting under a professional's responsibility.
    UnderResponsibility,
    /// Another duty of secrecy under Union or member-state law.
    OtherLegalDuty,
}

/// What a national provision does in the GDPR's scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Effect {
    /// It specifies an Art. 9(2) condition (Art. 9(2)(b), (g)–(j), 9(4)).
    SpecifiesCondition {
        /// The condition it specifies.
        art9: Art9Condition,
    },
    /// It imposes a secrecy duty on the listed roles (Art. 9(3)).
    Secrecy {
        /// Which kind of duty.
        secrecy: SecrecyKind,
        /// The roles it binds.
        roles: Vec<Role>,
    },
}

/// One provision of a catalogue and its effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Entry {
    /// The citation, e.g. `"§ 27 BDSG"`.
    pub citation: Citation,
    /// What the provision does, in a sentence.
    pub summary: String,
    /// Its effect.
    pub effect: Effect,
}

/// A jurisdiction's catalogue of provisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Catalogue {
    /// Jurisdiction code, e.g. `"DE"`.
    pub jurisdiction: String,
    /// The provisions.
    pub entries: Vec<Entry>,
}

impl Catalogue {
    /// The built-in German catalogue: § 22(1) Nr. 1 b BDSG, § 27 BDSG,
    /// § 203(1) Nr. 1 and § 203(3) StGB.
    pub fn germany() -> Self {
        // Invariant: the embedded file is valid; `germany_catalogue_parses`
        // checks it in every test run.
        Self::from_json(GERMANY).expect("embedded data/national/de.json is valid")
    }

    /// Loads a catalogue from its JSON text.
    ///
    /// # Errors
    /// The `serde_json` error, which names the line, column and field.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The provision with this citation, if the catalogue has it.
    pub fn find(&self, citation: &str) -> Option<NationalProvision> {
        self.entries
            .iter()
            .find(|e| e.citation.as_str() == citation)
            .map(|e| self.provision(e))
    }

    /// The provisions that specify `art9`, in catalogue order.
    pub fn specifying(&self, art9: Art9Condition) -> impl Iterator<Item = NationalProvision> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.effect == Effect::SpecifiesCondition { art9 })
            .map(|e| self.provision(e))
    }

    /// The secrecy duty that binds `role` under this catalogue, or
    /// [`Secrecy::None`] if none does.
    pub fn secrecy_for(&self, role: Role) -> Secrecy {
        for e in &self.entries {
            if let Effect::Secrecy { secrecy, roles } = &e.effect
                && roles.contains(&role)
            {
                let source = e.citation.clone();
                return match secrecy {
                    SecrecyKind::Professional => Secrecy::Professional { source },
                    SecrecyKind::UnderResponsibility => Secrecy::UnderResponsibility { source },
                    SecrecyKind::OtherLegalDuty => Secrecy::OtherLegalDuty { source },
                };
            }
        }
        Secrecy::None
    }

    fn provision(&self, e: &Entry) -> NationalProvision {
        NationalProvision::new(
            self.jurisdiction.clone(),
            e.citation.as_str(),
            e.summary.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn germany_catalogue_parses() {
        let de = Catalogue::from_json(GERMANY).unwrap();
        assert_eq!(de.jurisdiction, "DE");
        for c in [
            "§ 22(1) Nr. 1 b BDSG",
            "§ 27 BDSG",
            "§ 203(1) Nr. 1 StGB",
            "§ 203(3) StGB",
        ] {
            assert!(de.find(c).is_some(), "{c} missing");
        }
    }

    #[test]
    fn research_is_specified_by_section_27() {
        let de = Catalogue::germany();
        let p: Vec<_> = de
            .specifying(Art9Condition::ResearchArchivingStatistics)
            .collect();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].citation.as_str(), "§ 27 BDSG");
    }

    #[test]
    fn secrecy_follows_the_data() {
        let de = Catalogue::germany();
        assert!(matches!(
            de.secrecy_for(Role::MedicalAssistant),
            Secrecy::UnderResponsibility { .. }
        ));
        assert_eq!(de.secrecy_for(Role::Researcher), Secrecy::None);
        assert_eq!(de.secrecy_for(Role::Administration), Secrecy::None);
    }

    #[test]
    fn unknown_effect_is_rejected_with_its_name() {
        let err = Catalogue::from_json(
            r#"{"jurisdiction":"AT","entries":[{"citation":"x","summary":"y",
                "effect":{"kind":"magic"}}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
    }
}
