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
//! // Billing staff contribute to the physicians' work: § 203(4) S. 1 StGB.
//! let billing = de.secrecy_for(Role::Administration);
//! assert_eq!(billing.source().unwrap().as_str(), "§ 203(4) S. 1 StGB");
//! ```
//!
//! [`HealthBasis`]: crate::basis::HealthBasis

use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::actor::{Role, Secrecy};
use crate::basis::{Art9Condition, NationalProvision};
use crate::purpose::Purpose;

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

/// Which controllers a provision binds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Bodies {
    /// Every controller (the default).
    #[default]
    All,
    /// Only public bodies (e.g. a public-law hospital), whose staff are
    /// officials or specially obliged for the public service.
    Public,
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
        /// The purposes it specifies the condition for; empty means every
        /// purpose the condition covers (e.g. § 27 BDSG for research and
        /// statistics, § 28 BDSG for archiving).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        purposes: Vec<Purpose>,
    },
    /// It imposes a secrecy duty on the listed roles (Art. 9(3)).
    Secrecy {
        /// Which kind of duty.
        secrecy: SecrecyKind,
        /// The roles it binds.
        roles: Vec<Role>,
        /// Which controllers' staff it binds.
        #[serde(default, skip_serializing_if = "is_all")]
        bodies: Bodies,
    },
    /// It permits a secrecy holder to disclose to the listed roles as far as
    /// their work requires (e.g. § 203(3) StGB). It does **not** bind them.
    PermitsDisclosure {
        /// The roles disclosure to whom is permitted.
        roles: Vec<Role>,
    },
    /// It makes the secrecy holder answerable for obliging the listed
    /// contributors to secrecy (e.g. § 203(4) S. 2 Nr. 1 StGB): a safeguard
    /// to record.
    ObligesContributors {
        /// The contributors to oblige.
        roles: Vec<Role>,
    },
}

fn is_all(b: &Bodies) -> bool {
    *b == Bodies::All
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
    /// The built-in German catalogue: § 22(1) Nr. 1 b BDSG, § 27 and § 28
    /// BDSG, § 203(1) Nr. 1, (2), (3) and (4) StGB, and the DPO's duty of
    /// confidentiality (§ 6(5) S. 2, § 38(2) BDSG).
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
            .filter(move |e| matches!(&e.effect, Effect::SpecifiesCondition { art9: a, .. } if *a == art9))
            .map(|e| self.provision(e))
    }

    /// The provisions that specify `art9` for `purpose`: those listing the
    /// purpose and those not narrowed to purposes (e.g. for archiving under
    /// Art. 9(2)(j) in Germany § 28 BDSG, not § 27 BDSG).
    pub fn specifying_for(
        &self,
        art9: Art9Condition,
        purpose: Purpose,
    ) -> impl Iterator<Item = NationalProvision> + '_ {
        self.entries
            .iter()
            .filter(move |e| match &e.effect {
                Effect::SpecifiesCondition { art9: a, purposes } => {
                    *a == art9 && (purposes.is_empty() || purposes.contains(&purpose))
                }
                _ => false,
            })
            .map(|e| self.provision(e))
    }

    /// The secrecy duty that binds `role` under this catalogue at a
    /// controller that is not a public body, or [`Secrecy::None`] if none
    /// does.
    pub fn secrecy_for(&self, role: Role) -> Secrecy {
        self.secrecy_where(role, |b| b == Bodies::All)
    }

    /// The secrecy duty that binds `role` at a public body (a public-law
    /// hospital): a duty for public bodies first (e.g. § 203(2) StGB for
    /// administration staff), else the general one.
    pub fn secrecy_for_public_body(&self, role: Role) -> Secrecy {
        match self.secrecy_where(role, |b| b == Bodies::Public) {
            Secrecy::None => self.secrecy_for(role),
            found => found,
        }
    }

    /// The provisions that make a professional answerable for obliging
    /// `role` to secrecy (a safeguard to record), in catalogue order.
    pub fn obligation_for(&self, role: Role) -> impl Iterator<Item = &Citation> + '_ {
        self.entries.iter().filter_map(move |e| match &e.effect {
            Effect::ObligesContributors { roles } if roles.contains(&role) => Some(&e.citation),
            _ => None,
        })
    }

    fn secrecy_where(&self, role: Role, bodies: impl Fn(Bodies) -> bool) -> Secrecy {
        for e in &self.entries {
            if let Effect::Secrecy {
                secrecy,
                roles,
                bodies: b,
            } = &e.effect
                && roles.contains(&role)
                && bodies(*b)
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
        let p = NationalProvision::new(
            self.jurisdiction.clone(),
            e.citation.as_str(),
            e.summary.clone(),
        );
        match &e.effect {
            Effect::SpecifiesCondition { purposes, .. } => p.with_purposes(purposes.clone()),
            _ => p,
        }
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
            "§ 28 BDSG",
            "§ 203(1) Nr. 1 StGB",
            "§ 203(2) S. 1 Nr. 1, 2 StGB",
            "§ 203(3) StGB",
            "§ 203(4) S. 1 StGB",
            "§ 203(4) S. 2 Nr. 1 StGB",
        ] {
            assert!(de.find(c).is_some(), "{c} missing");
        }
    }

    #[test]
    fn research_is_section_27_and_archiving_section_28() {
        let de = Catalogue::germany();
        let j = Art9Condition::ResearchArchivingStatistics;
        let cites = |p: Purpose| -> Vec<String> {
            de.specifying_for(j, p)
                .map(|n| n.citation.to_string())
                .collect()
        };
        assert_eq!(cites(Purpose::Research), ["§ 27 BDSG"]);
        assert_eq!(cites(Purpose::Statistics), ["§ 27 BDSG"]);
        assert_eq!(cites(Purpose::Archiving), ["§ 28 BDSG"]);
        assert_eq!(de.specifying(j).count(), 2);
    }

    #[test]
    fn section_27_requires_anonymisation_as_soon_as_possible() {
        let s27 = Catalogue::germany().find("§ 27 BDSG").unwrap();
        assert!(
            s27.summary.contains("anonymised as soon as"),
            "{}",
            s27.summary
        );
        assert!(s27.summary.contains("§ 27(3)"), "{}", s27.summary);
    }

    #[test]
    fn contributors_are_bound_by_section_203_4_not_203_3() {
        let de = Catalogue::germany();
        for role in [
            Role::MedicalAssistant,
            Role::ItAdministrator,
            Role::Administration,
        ] {
            let s = de.secrecy_for(role);
            assert!(matches!(s, Secrecy::UnderResponsibility { .. }), "{role:?}");
            assert_eq!(s.source().unwrap().as_str(), "§ 203(4) S. 1 StGB");
            let o: Vec<_> = de.obligation_for(role).map(Citation::as_str).collect();
            assert_eq!(o, ["§ 203(4) S. 2 Nr. 1 StGB"], "{role:?}");
        }
        assert_eq!(de.obligation_for(Role::Physician).count(), 0);
        // § 203(3) only permits disclosure: it binds no one.
        let s203_3 = de
            .entries
            .iter()
            .find(|e| e.citation.as_str() == "§ 203(3) StGB");
        assert!(matches!(
            s203_3.unwrap().effect,
            Effect::PermitsDisclosure { .. }
        ));
    }

    #[test]
    fn dpo_is_bound_by_stgb_and_bdsg() {
        let s = Catalogue::germany().secrecy_for(Role::DataProtectionOfficer);
        assert!(matches!(s, Secrecy::OtherLegalDuty { .. }));
        let src = s.source().unwrap().as_str();
        for part in ["§ 203(4) S. 1 StGB", "§ 6(5) S. 2 BDSG", "§ 38(2) BDSG"] {
            assert!(src.contains(part), "{src}");
        }
    }

    #[test]
    fn administration_of_a_public_hospital_are_officials() {
        let de = Catalogue::germany();
        let s = de.secrecy_for_public_body(Role::Administration);
        assert!(matches!(s, Secrecy::OtherLegalDuty { .. }));
        assert_eq!(s.source().unwrap().as_str(), "§ 203(2) S. 1 Nr. 1, 2 StGB");
        // Others keep their general duty at a public body.
        assert_eq!(
            de.secrecy_for_public_body(Role::Physician),
            de.secrecy_for(Role::Physician)
        );
        assert_eq!(de.secrecy_for(Role::Researcher), Secrecy::None);
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
