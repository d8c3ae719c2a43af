//! One entry of `systems.toml`, dispatched on its `kind`: the PACS kinds to
//! gdpr-dicom's own entry type, the EHR kinds to this crate's.

use gdpr_connect::{Section, SystemEntry};
use gdpr_core::store::{StoreError, SubjectStore};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::ehr::{FhirKeys, OpenEmrKeys, open_fhir, open_openemr};

/// The PACS entry type of gdpr-dicom.
type DicomConfig = gdpr_dicom::store::SystemConfig;

/// Every value of `kind`, for messages.
const KINDS: &[&str] = &[
    "folder", "orthanc", "dicomweb", "dcm4chee", "fhir", "openemr",
];

/// One system's entry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SystemConfig {
    /// A PACS or a folder of DICOM files (`kind` = `folder`, `orthanc`,
    /// `dicomweb` or `dcm4chee`), read by gdpr-dicom.
    Dicom(DicomConfig),
    /// Any FHIR R4 server (`kind = "fhir"`).
    Fhir(Section<FhirKeys>),
    /// One OpenEMR site (`kind = "openemr"`).
    OpenEmr(Section<OpenEmrKeys>),
}

impl SystemConfig {
    /// The entry's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Dicom(DicomConfig::Folder { .. }) => "folder",
            Self::Dicom(DicomConfig::Orthanc(_)) => "orthanc",
            Self::Dicom(DicomConfig::Dicomweb(_)) => "dicomweb",
            Self::Dicom(DicomConfig::Dcm4chee(_)) => "dcm4chee",
            Self::Dicom(_) => "dicom",
            Self::Fhir(_) => "fhir",
            Self::OpenEmr(_) => "openemr",
        }
    }
}

impl SystemEntry for SystemConfig {
    fn open(&self, name: &str) -> Result<Box<dyn SubjectStore>, StoreError> {
        match self {
            Self::Dicom(entry) => entry.open(name),
            Self::Fhir(section) => open_fhir(name, section),
            Self::OpenEmr(section) => open_openemr(name, section),
        }
    }
}

impl<'de> Deserialize<'de> for SystemConfig {
    /// Buffers the entry, reads `kind` and hands the entry to the type of
    /// that kind. Errors inside an entry are reported at its header's line
    /// (as gdpr-dicom's, whose entries are buffered by their tag too).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(d)?;
        let kind = match table.get("kind") {
            Some(toml::Value::String(kind)) => kind.clone(),
            Some(_) => {
                return Err(D::Error::custom(format!(
                    "`kind` is a string, one of {}",
                    quoted(KINDS)
                )));
            }
            None => return Err(D::Error::missing_field("kind")),
        };
        let inner = |e: toml::de::Error| D::Error::custom(e.message().trim());
        if DicomConfig::KINDS.contains(&kind.as_str()) {
            return DicomConfig::deserialize(toml::Value::Table(table))
                .map(Self::Dicom)
                .map_err(inner);
        }
        table.remove("kind");
        let entry = toml::Value::Table(table);
        match kind.as_str() {
            "fhir" => Section::deserialize(entry).map(Self::Fhir).map_err(inner),
            "openemr" => Section::deserialize(entry)
                .map(Self::OpenEmr)
                .map_err(inner),
            other => Err(D::Error::unknown_variant(other, KINDS)),
        }
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
