//! The ten options of PS3.15 Table E.1-1, their command-line names and their
//! CID 7050 codes (De-identification Method Code Sequence).

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::error::Error;

/// An option of the Application Level Confidentiality Profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DeidOption {
    /// Retain Safe Private Option (PS3.15 E.3.10).
    RetainSafePrivate,
    /// Retain UIDs Option (E.3.9).
    RetainUids,
    /// Retain Device Identity Option (E.3.8).
    RetainDeviceIdentity,
    /// Retain Institution Identity Option (E.3.11).
    RetainInstitutionIdentity,
    /// Retain Patient Characteristics Option (E.3.7).
    RetainPatientCharacteristics,
    /// Retain Longitudinal Temporal Information with Full Dates (E.3.6).
    RetainLongitudinalFullDates,
    /// Retain Longitudinal Temporal Information with Modified Dates (E.3.6).
    RetainLongitudinalModifiedDates,
    /// Clean Descriptors Option (E.3.5).
    CleanDescriptors,
    /// Clean Structured Content Option (E.3.4).
    CleanStructuredContent,
    /// Clean Graphics Option (E.3.3).
    CleanGraphics,
}

impl DeidOption {
    /// All options, in the column order of Table E.1-1.
    pub const ALL: [DeidOption; 10] = [
        DeidOption::RetainSafePrivate,
        DeidOption::RetainUids,
        DeidOption::RetainDeviceIdentity,
        DeidOption::RetainInstitutionIdentity,
        DeidOption::RetainPatientCharacteristics,
        DeidOption::RetainLongitudinalFullDates,
        DeidOption::RetainLongitudinalModifiedDates,
        DeidOption::CleanDescriptors,
        DeidOption::CleanStructuredContent,
        DeidOption::CleanGraphics,
    ];

    pub(crate) fn column(self) -> usize {
        self as usize
    }

    /// The command-line name (`retain-safe-private`, …).
    pub fn cli_name(self) -> &'static str {
        match self {
            DeidOption::RetainSafePrivate => "retain-safe-private",
            DeidOption::RetainUids => "retain-uids",
            DeidOption::RetainDeviceIdentity => "retain-device-identity",
            DeidOption::RetainInstitutionIdentity => "retain-institution-identity",
            DeidOption::RetainPatientCharacteristics => "retain-patient-characteristics",
            DeidOption::RetainLongitudinalFullDates => "retain-longitudinal-full-dates",
            DeidOption::RetainLongitudinalModifiedDates => "retain-longitudinal-modified-dates",
            DeidOption::CleanDescriptors => "clean-descriptors",
            DeidOption::CleanStructuredContent => "clean-structured-content",
            DeidOption::CleanGraphics => "clean-graphics",
        }
    }

    /// The section of the standard that defines the option.
    pub fn source(self) -> &'static str {
        match self {
            DeidOption::RetainSafePrivate => "DICOM PS3.15 E.3.10 (2024b)",
            DeidOption::RetainUids => "DICOM PS3.15 E.3.9 (2024b)",
            DeidOption::RetainDeviceIdentity => "DICOM PS3.15 E.3.8 (2024b)",
            DeidOption::RetainInstitutionIdentity => "DICOM PS3.15 E.3.11 (2024b)",
            DeidOption::RetainPatientCharacteristics => "DICOM PS3.15 E.3.7 (2024b)",
            DeidOption::RetainLongitudinalFullDates
            | DeidOption::RetainLongitudinalModifiedDates => "DICOM PS3.15 E.3.6 (2024b)",
            DeidOption::CleanDescriptors => "DICOM PS3.15 E.3.5 (2024b)",
            DeidOption::CleanStructuredContent => "DICOM PS3.15 E.3.4 (2024b)",
            DeidOption::CleanGraphics => "DICOM PS3.15 E.3.3 (2024b)",
        }
    }

    /// The CID 7050 code value and meaning (coding scheme "DCM").
    pub fn cid7050(self) -> (&'static str, &'static str) {
        match self {
            DeidOption::RetainSafePrivate => ("113111", "Retain Safe Private Option"),
            DeidOption::RetainUids => ("113110", "Retain UIDs Option"),
            DeidOption::RetainDeviceIdentity => ("113109", "Retain Device Identity Option"),
            DeidOption::RetainInstitutionIdentity => {
                ("113112", "Retain Institution Identity Option")
            }
            DeidOption::RetainPatientCharacteristics => {
                ("113108", "Retain Patient Characteristics Option")
            }
            DeidOption::RetainLongitudinalFullDates => (
                "113106",
                "Retain Longitudinal Temporal Information Full Dates Option",
            ),
            DeidOption::RetainLongitudinalModifiedDates => (
                "113107",
                "Retain Longitudinal Temporal Information Modified Dates Option",
            ),
            DeidOption::CleanDescriptors => ("113105", "Clean Descriptors Option"),
            DeidOption::CleanStructuredContent => ("113104", "Clean Structured Content Option"),
            DeidOption::CleanGraphics => ("113103", "Clean Graphics Option"),
        }
    }
}

/// The CID 7050 code of the profile itself.
pub const BASIC_PROFILE_CODE: (&str, &str) =
    ("113100", "Basic Application Confidentiality Profile");

impl FromStr for DeidOption {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        DeidOption::ALL
            .into_iter()
            .find(|o| o.cli_name() == s)
            .ok_or(Error::UnknownOption)
    }
}

impl std::fmt::Display for DeidOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.cli_name())
    }
}

/// A consistent set of selected options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeidOptions {
    set: BTreeSet<DeidOption>,
}

impl DeidOptions {
    /// The basic profile without options.
    pub fn basic() -> Self {
        Self::default()
    }

    /// A set of options.
    ///
    /// # Errors
    /// [`Error::ConflictingOptions`] when both longitudinal options are chosen
    /// (full dates and modified dates exclude each other).
    pub fn new(options: impl IntoIterator<Item = DeidOption>) -> Result<Self, Error> {
        let set: BTreeSet<_> = options.into_iter().collect();
        if set.contains(&DeidOption::RetainLongitudinalFullDates)
            && set.contains(&DeidOption::RetainLongitudinalModifiedDates)
        {
            return Err(Error::ConflictingOptions);
        }
        Ok(Self { set })
    }

    /// Whether `option` is selected.
    pub fn contains(&self, option: DeidOption) -> bool {
        self.set.contains(&option)
    }

    /// The selected options in table order.
    pub fn iter(&self) -> impl Iterator<Item = DeidOption> + '_ {
        self.set.iter().copied()
    }

    /// Whether dates are shifted by the per-patient keyed offset.
    pub fn shifts_dates(&self) -> bool {
        self.contains(DeidOption::RetainLongitudinalModifiedDates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_codes_are_distinct() {
        let mut codes = BTreeSet::new();
        for o in DeidOption::ALL {
            assert_eq!(o.cli_name().parse::<DeidOption>().ok(), Some(o));
            assert!(codes.insert(o.cid7050().0));
        }
        assert!(!codes.contains(BASIC_PROFILE_CODE.0));
        assert!("retain-everything".parse::<DeidOption>().is_err());
    }

    #[test]
    fn longitudinal_options_conflict() {
        let both = [
            DeidOption::RetainLongitudinalFullDates,
            DeidOption::RetainLongitudinalModifiedDates,
        ];
        assert!(matches!(
            DeidOptions::new(both),
            Err(Error::ConflictingOptions)
        ));
    }
}
