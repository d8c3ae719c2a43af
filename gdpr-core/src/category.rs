//! Data categories: the special categories of Art. 9(1), and the record
//! categories that the other crates classify data into (imaging studies,
//! diagnoses, lab results, …) for authorization and retention.

use serde::{Deserialize, Serialize};

use crate::Citation;

/// A special category of personal data under GDPR Art. 9(1).
///
/// Complete by law, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpecialCategory {
    /// Racial or ethnic origin.
    RacialOrEthnicOrigin,
    /// Political opinions.
    PoliticalOpinions,
    /// Religious or philosophical beliefs.
    ReligiousOrPhilosophicalBeliefs,
    /// Trade union membership.
    TradeUnionMembership,
    /// Genetic data (Art. 4(13)).
    Genetic,
    /// Biometric data for the purpose of uniquely identifying a person
    /// (Art. 4(14)).
    Biometric,
    /// Data concerning health (Art. 4(15)).
    Health,
    /// Data concerning a person's sex life or sexual orientation.
    SexLifeOrOrientation,
}

impl SpecialCategory {
    /// The provision that makes this category special.
    pub const fn citation(self) -> Citation {
        Citation::from_static(match self {
            Self::Genetic => "GDPR Art. 9(1), Art. 4(13)",
            Self::Biometric => "GDPR Art. 9(1), Art. 4(14)",
            Self::Health => "GDPR Art. 9(1), Art. 4(15)",
            _ => "GDPR Art. 9(1)",
        })
    }
}

/// The kind of record a piece of health data belongs to. Retention rules and
/// authorization requests name these; the DICOM and EHR crates classify their
/// objects into them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RecordCategory {
    /// The patient record as a whole (documentation of treatment, § 630f BGB).
    PatientRecord,
    /// An imaging examination: images and their report (X-ray, CT, MR, US,
    /// nuclear medicine, …).
    ImagingExamination,
    /// Radiotherapy planning and treatment records.
    Radiotherapy,
    /// Records of blood products and their application.
    Transfusion,
    /// Organ and tissue donation and transplantation records.
    OrganTissue,
    /// A diagnosis or problem-list entry.
    Diagnosis,
    /// Medication orders, dispensing and administration.
    Medication,
    /// A laboratory result.
    LabResult,
    /// A free-text clinical note or letter.
    ClinicalNote,
    /// A genetic test and its result.
    GeneticTest,
    /// Administrative identity and contact data of a patient.
    Demographics,
    /// Billing and reimbursement records.
    Billing,
    /// The trial master file of a clinical trial (Regulation (EU) No
    /// 536/2014 Art. 57, 58): the sponsor's and investigator's essential
    /// documents, not the participants' own medical records.
    TrialMasterFile,
}

impl RecordCategory {
    /// Every record category, for listings and property tests.
    pub const ALL: [RecordCategory; 13] = [
        Self::PatientRecord,
        Self::ImagingExamination,
        Self::Radiotherapy,
        Self::Transfusion,
        Self::OrganTissue,
        Self::Diagnosis,
        Self::Medication,
        Self::LabResult,
        Self::ClinicalNote,
        Self::GeneticTest,
        Self::Demographics,
        Self::Billing,
        Self::TrialMasterFile,
    ];

    /// The stable kebab-case name used in JSON and rule packs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PatientRecord => "patient-record",
            Self::ImagingExamination => "imaging-examination",
            Self::Radiotherapy => "radiotherapy",
            Self::Transfusion => "transfusion",
            Self::OrganTissue => "organ-tissue",
            Self::Diagnosis => "diagnosis",
            Self::Medication => "medication",
            Self::LabResult => "lab-result",
            Self::ClinicalNote => "clinical-note",
            Self::GeneticTest => "genetic-test",
            Self::Demographics => "demographics",
            Self::Billing => "billing",
            Self::TrialMasterFile => "trial-master-file",
        }
    }

    /// The Art. 9(1) categories a record of this kind contains. Empty for
    /// records that hold no special-category data by themselves.
    ///
    /// Billing records reveal that care took place and are treated as health
    /// data (Art. 4(15), Recital 35); demographics alone are ordinary
    /// personal data.
    pub const fn special_categories(self) -> &'static [SpecialCategory] {
        match self {
            Self::Demographics => &[],
            Self::GeneticTest => &[SpecialCategory::Health, SpecialCategory::Genetic],
            _ => &[SpecialCategory::Health],
        }
    }
}

display_and_parse_by_name!(
    RecordCategory,
    "record category",
    "patient-record, imaging-examination, radiotherapy, transfusion, \
                           organ-tissue, diagnosis, medication, lab-result, clinical-note, \
                           genetic-test, demographics, billing, trial-master-file"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in RecordCategory::ALL {
            assert_eq!(c.name().parse::<RecordCategory>().unwrap(), c);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = "x-ray".parse::<RecordCategory>().unwrap_err();
        assert!(err.to_string().contains("imaging-examination"), "{err}");
    }

    #[test]
    fn genetic_tests_are_genetic_and_health() {
        assert!(
            RecordCategory::GeneticTest
                .special_categories()
                .contains(&SpecialCategory::Genetic)
        );
    }
}
