//! What else a rule may need to know about a record beyond its category:
//! the care [`Setting`] it was made in, and [`Facet`]s that narrow a
//! category to the part a statute names (the § 14(2) TFG traceability data
//! of a transfusion record, tissue rather than organs, a research exposure).

use serde::{Deserialize, Serialize};

/// The setting a record was made in. Some laws set different periods for
/// hospitals and for practices (§ 10(1) Z 3 KAKuG against § 51(3) ÄrzteG);
/// there is no default: a rule limited to a setting makes a record without
/// one undetermined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Setting {
    /// A hospital (Krankenanstalt, Krankenhaus), inpatient or outpatient.
    Hospital,
    /// A physician's practice or other office-based care.
    Practice,
}

impl Setting {
    /// Every setting.
    pub const ALL: [Setting; 2] = [Self::Hospital, Self::Practice];

    /// The kebab-case name used in JSON and rule packs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hospital => "hospital",
            Self::Practice => "practice",
        }
    }
}

display_and_parse_by_name!(Setting, "setting", "hospital, practice");

/// A property that narrows a record category to what a rule names. A rule
/// with facets covers only records that carry all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Facet {
    /// The record holds traceability data: the product, its batch, the
    /// patient and the date of application (§ 14(2) TFG).
    Traceability,
    /// The record holds the rest of the transfusion documentation and no
    /// traceability data (§ 14(1) TFG only).
    DocumentationOnly,
    /// Tissue (TPG Gewebe), as opposed to organs.
    Tissue,
    /// An organ, as opposed to tissue.
    Organ,
    /// An exposure for medical research (§ 140 StrlSchV, UK IRMER research
    /// exposures).
    ResearchExposure,
    /// Maternity (obstetric) records.
    Maternity,
    /// Mental-health records.
    MentalHealth,
    /// Oncology records.
    Oncology,
}

impl Facet {
    /// Every facet, in bit order.
    pub const ALL: [Facet; 8] = [
        Self::Traceability,
        Self::DocumentationOnly,
        Self::Tissue,
        Self::Organ,
        Self::ResearchExposure,
        Self::Maternity,
        Self::MentalHealth,
        Self::Oncology,
    ];

    /// The kebab-case name used in JSON and rule packs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Traceability => "traceability",
            Self::DocumentationOnly => "documentation-only",
            Self::Tissue => "tissue",
            Self::Organ => "organ",
            Self::ResearchExposure => "research-exposure",
            Self::Maternity => "maternity",
            Self::MentalHealth => "mental-health",
            Self::Oncology => "oncology",
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

display_and_parse_by_name!(
    Facet,
    "facet",
    "traceability, documentation-only, tissue, organ, \
                           research-exposure, maternity, mental-health, oncology"
);

/// A set of facets, stored as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FacetSet(u16);

impl FacetSet {
    /// No facet.
    pub const EMPTY: FacetSet = FacetSet(0);

    /// Adds a facet.
    pub fn insert(&mut self, facet: Facet) {
        self.0 |= facet.bit();
    }

    /// This set with `facet` added.
    #[must_use]
    pub fn with(mut self, facet: Facet) -> Self {
        self.insert(facet);
        self
    }

    /// Whether `facet` is in the set.
    pub const fn contains(self, facet: Facet) -> bool {
        self.0 & facet.bit() != 0
    }

    /// Whether every facet of `other` is in this set.
    pub const fn contains_all(self, other: FacetSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The facets in the set, in the order of [`Facet::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Facet> {
        Facet::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl FromIterator<Facet> for FacetSet {
    fn from_iter<I: IntoIterator<Item = Facet>>(iter: I) -> Self {
        let mut set = FacetSet::EMPTY;
        for f in iter {
            set.insert(f);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bits_are_distinct() {
        let mut all = FacetSet::EMPTY;
        for f in Facet::ALL {
            assert_eq!(f.name().parse::<Facet>().unwrap(), f);
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{f}\""));
            assert!(!all.contains(f));
            all.insert(f);
        }
        assert_eq!(all.iter().count(), Facet::ALL.len());
        for s in Setting::ALL {
            assert_eq!(s.name().parse::<Setting>().unwrap(), s);
        }
        assert!("clinic".parse::<Setting>().is_err());
    }

    #[test]
    fn contains_all_needs_every_facet() {
        let t = FacetSet::EMPTY.with(Facet::Traceability);
        let both = t.with(Facet::Tissue);
        assert!(both.contains_all(t));
        assert!(!t.contains_all(both));
        assert!(t.contains_all(FacetSet::EMPTY));
    }
}
