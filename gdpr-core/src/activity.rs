//! A processing activity: what the controller does with which data, for
//! which purpose, on which lawful basis (GDPR Art. 5(1)(b), Art. 6, Art. 9,
//! Art. 30(1)).

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::basis::{LawfulBasis, NationalProvision};
use crate::category::RecordCategory;
use crate::purpose::Purpose;
use crate::subject::Identifiability;

/// Why a research activity needs identified data, recorded for Art. 89(1)
/// ("where those purposes can be fulfilled by further processing which does
/// not permit … identification …, those purposes shall be fulfilled in that
/// manner").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdentificationNecessity(String);

impl IdentificationNecessity {
    /// Records the reason: at least 10 characters of explanation (for
    /// example "follow-up contact for incidental findings, ethics vote
    /// 2026-014").
    ///
    /// # Errors
    /// [`Error::InvalidActivity`] when the reason is shorter than that.
    pub fn new(reason: impl Into<String>) -> Result<Self, Error> {
        let reason = reason.into();
        if reason.trim().chars().count() < 10 {
            return Err(Error::InvalidActivity {
                rule: "`identification-necessity` must explain in words (10 characters or \
                       more) why the research needs identified data (GDPR Art. 89(1))",
            });
        }
        Ok(Self(reason))
    }

    /// The recorded reason.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdentificationNecessity {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl From<IdentificationNecessity> for String {
    fn from(n: IdentificationNecessity) -> Self {
        n.0
    }
}

/// A processing activity, checked once when built: when any of its record
/// categories holds special-category data, its basis is the Art. 6 + Art. 9
/// pair ([`LawfulBasis::SpecialCategory`]).
///
/// ```
/// use gdpr_core::activity::ProcessingActivity;
/// use gdpr_core::basis::{Art6Basis, LawfulBasis};
/// use gdpr_core::category::RecordCategory;
/// use gdpr_core::purpose::Purpose;
/// use gdpr_core::subject::Identifiability;
///
/// // Diagnoses are health data: an Art. 6 basis alone is refused.
/// let refused = ProcessingActivity::new(
///     "Tumour board",
///     Purpose::CareCoordination,
///     LawfulBasis::Ordinary { art6: Art6Basis::Contract },
///     vec![RecordCategory::Diagnosis],
///     Identifiability::Identified,
/// );
/// assert!(refused.is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ActivityDraft", rename_all = "kebab-case")]
pub struct ProcessingActivity {
    name: String,
    purpose: Purpose,
    basis: LawfulBasis,
    categories: Vec<RecordCategory>,
    identifiability: Identifiability,
    #[serde(skip_serializing_if = "Option::is_none")]
    identification_necessity: Option<IdentificationNecessity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    national: Vec<NationalProvision>,
}

impl ProcessingActivity {
    /// An activity named `name` for `purpose` on `basis`, processing
    /// `categories` of records with the given identifiability.
    ///
    /// # Errors
    /// [`Error::InvalidActivity`] when the name is blank, no category is
    /// listed, or a category holds special-category data and `basis` is an
    /// Art. 6 basis alone.
    pub fn new(
        name: impl Into<String>,
        purpose: Purpose,
        basis: LawfulBasis,
        categories: Vec<RecordCategory>,
        identifiability: Identifiability,
    ) -> Result<Self, Error> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(Error::InvalidActivity {
                rule: "`name` must name the activity (e.g. \"Radiology reporting\")",
            });
        }
        if categories.is_empty() {
            return Err(Error::InvalidActivity {
                rule: "`categories` must list the record categories the activity processes",
            });
        }
        let special = categories
            .iter()
            .any(|c| !c.special_categories().is_empty());
        if special && basis.art9().is_none() {
            return Err(Error::InvalidActivity {
                rule: "the activity processes special-category data (GDPR Art. 9(1)), so \
                       `basis` must be an Art. 6 + Art. 9 pair: \
                       {\"kind\": \"special-category\", \"art6\": …, \"art9\": …}",
            });
        }
        Ok(Self {
            name,
            purpose,
            basis,
            categories,
            identifiability,
            identification_necessity: None,
            national: Vec::new(),
        })
    }

    /// Adds a provision of Union or member-state law the activity rests on
    /// (Art. 6(3)), for an activity on an ordinary basis; a special-category
    /// basis carries its provisions itself ([`crate::basis::HealthBasis::with_national`]).
    #[must_use]
    pub fn with_national(mut self, provision: NationalProvision) -> Self {
        self.national.push(provision);
        self
    }

    /// The provisions added with [`ProcessingActivity::with_national`].
    pub fn national(&self) -> &[NationalProvision] {
        &self.national
    }

    /// Records why the activity needs identified data for research
    /// (Art. 89(1)).
    #[must_use]
    pub fn with_identification_necessity(mut self, necessity: IdentificationNecessity) -> Self {
        self.identification_necessity = Some(necessity);
        self
    }

    /// The activity's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The purpose the data were collected for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The lawful basis; the Art. 6 + Art. 9 pair whenever a category is
    /// special.
    pub fn basis(&self) -> &LawfulBasis {
        &self.basis
    }

    /// The record categories the activity processes.
    pub fn categories(&self) -> &[RecordCategory] {
        &self.categories
    }

    /// How identifiable the activity's data are.
    pub fn identifiability(&self) -> Identifiability {
        self.identifiability
    }

    /// The recorded necessity for identified research data, if any.
    pub fn identification_necessity(&self) -> Option<&IdentificationNecessity> {
        self.identification_necessity.as_ref()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ActivityDraft {
    name: String,
    purpose: Purpose,
    basis: LawfulBasis,
    categories: Vec<RecordCategory>,
    identifiability: Identifiability,
    #[serde(default)]
    identification_necessity: Option<IdentificationNecessity>,
    #[serde(default)]
    national: Vec<NationalProvision>,
}

impl TryFrom<ActivityDraft> for ProcessingActivity {
    type Error = Error;
    fn try_from(d: ActivityDraft) -> Result<Self, Error> {
        let mut activity =
            ProcessingActivity::new(d.name, d.purpose, d.basis, d.categories, d.identifiability)?;
        activity.national = d.national;
        Ok(match d.identification_necessity {
            Some(n) => activity.with_identification_necessity(n),
            None => activity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basis::{Art6Basis, Art9Condition, HealthBasis};

    #[test]
    fn ordinary_basis_is_enough_for_demographics_only() {
        let a = ProcessingActivity::new(
            "Appointment reminders",
            Purpose::CareCoordination,
            LawfulBasis::Ordinary {
                art6: Art6Basis::Contract,
            },
            vec![RecordCategory::Demographics],
            Identifiability::Identified,
        );
        assert!(a.is_ok());
    }

    #[test]
    fn special_categories_need_the_pair_also_in_json() {
        let json = r#"{"name":"Lab","purpose":"diagnosis",
            "basis":{"kind":"ordinary","art6":"contract"},
            "categories":["lab-result"],"identifiability":"identified"}"#;
        let err = serde_json::from_str::<ProcessingActivity>(json).unwrap_err();
        assert!(err.to_string().contains("Art. 9"), "{err}");

        let ok = ProcessingActivity::new(
            "Lab",
            Purpose::Diagnosis,
            LawfulBasis::SpecialCategory(HealthBasis::new(
                Art6Basis::Contract,
                Art9Condition::HealthCare,
            )),
            vec![RecordCategory::LabResult],
            Identifiability::Identified,
        )
        .unwrap();
        let back: ProcessingActivity =
            serde_json::from_str(&serde_json::to_string(&ok).unwrap()).unwrap();
        assert_eq!(back, ok);
    }

    #[test]
    fn necessity_must_be_explained() {
        assert!(IdentificationNecessity::new("because").is_err());
        assert!(IdentificationNecessity::new("re-contact for incidental findings").is_ok());
    }
}
