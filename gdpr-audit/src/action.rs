//! What happened: the event type, the action and its outcome, with their
//! codes in FHIR R4 `AuditEvent` (IHE BALP) and in the DICOM audit message
//! (PS3.15 A.5, event IDs from PS3.16 CID 400).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of event (DICOM PS3.16 CID 400 "Audit Event ID", which IHE BALP
/// and FHIR R4 `AuditEvent.type` reuse), plus FHIR's RESTful operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EventType {
    /// Application started or stopped (DCM 110100).
    ApplicationActivity,
    /// The audit log itself was read, exported, pruned (DCM 110101).
    AuditLogUsed,
    /// DICOM instances were created, read, updated or deleted (DCM 110103).
    DicomInstancesAccessed,
    /// DICOM instances were sent or received (DCM 110104).
    DicomInstancesTransferred,
    /// A DICOM study was deleted (DCM 110105).
    DicomStudyDeleted,
    /// Data left the organisation's control (DCM 110106).
    Export,
    /// Data entered the organisation's control (DCM 110107).
    Import,
    /// A patient record was accessed or changed (DCM 110110).
    PatientRecord,
    /// A query was run (DCM 110112).
    Query,
    /// A security-relevant event (DCM 110113).
    SecurityAlert,
    /// A user logged in or out (DCM 110114).
    UserAuthentication,
    /// A FHIR RESTful operation (terminology.hl7.org audit-event-type `rest`).
    RestOperation,
}

/// A coded concept: system, code and display text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code system URI.
    pub system: &'static str,
    /// The code.
    pub code: &'static str,
    /// The human-readable display text.
    pub display: &'static str,
}

/// The DICOM Controlled Terminology code system.
pub const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";

impl EventType {
    /// Every event type, for listings and property tests.
    pub const ALL: [EventType; 12] = [
        Self::ApplicationActivity,
        Self::AuditLogUsed,
        Self::DicomInstancesAccessed,
        Self::DicomInstancesTransferred,
        Self::DicomStudyDeleted,
        Self::Export,
        Self::Import,
        Self::PatientRecord,
        Self::Query,
        Self::SecurityAlert,
        Self::UserAuthentication,
        Self::RestOperation,
    ];

    /// The coded event type (DCM code, or FHIR `rest`).
    pub const fn code(self) -> Code {
        let (code, display) = match self {
            Self::ApplicationActivity => ("110100", "Application Activity"),
            Self::AuditLogUsed => ("110101", "Audit Log Used"),
            Self::DicomInstancesAccessed => ("110103", "DICOM Instances Accessed"),
            Self::DicomInstancesTransferred => ("110104", "DICOM Instances Transferred"),
            Self::DicomStudyDeleted => ("110105", "DICOM Study Deleted"),
            Self::Export => ("110106", "Export"),
            Self::Import => ("110107", "Import"),
            Self::PatientRecord => ("110110", "Patient Record"),
            Self::Query => ("110112", "Query"),
            Self::SecurityAlert => ("110113", "Security Alert"),
            Self::UserAuthentication => ("110114", "User Authentication"),
            Self::RestOperation => {
                return Code {
                    system: "http://terminology.hl7.org/CodeSystem/audit-event-type",
                    code: "rest",
                    display: "RESTful Operation",
                };
            }
        };
        Code {
            system: DCM,
            code,
            display,
        }
    }

    /// The stable kebab-case name used in JSON and in the canonical encoding.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ApplicationActivity => "application-activity",
            Self::AuditLogUsed => "audit-log-used",
            Self::DicomInstancesAccessed => "dicom-instances-accessed",
            Self::DicomInstancesTransferred => "dicom-instances-transferred",
            Self::DicomStudyDeleted => "dicom-study-deleted",
            Self::Export => "export",
            Self::Import => "import",
            Self::PatientRecord => "patient-record",
            Self::Query => "query",
            Self::SecurityAlert => "security-alert",
            Self::UserAuthentication => "user-authentication",
            Self::RestOperation => "rest-operation",
        }
    }
}

/// What the actor did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Action {
    /// Created data.
    Create,
    /// Read or viewed data.
    Read,
    /// Changed data.
    Update,
    /// Deleted data (ordinary deletion, e.g. at the end of retention).
    Delete,
    /// Ran an operation (a job, a transformation, a de-identification).
    Execute,
    /// Searched for data.
    Query,
    /// Handed data out (a file, a CD, a research extract).
    Export,
    /// Took data in.
    Import,
    /// Erased data on a data subject's request (GDPR Art. 17).
    Erasure,
    /// Disclosed data to a recipient (GDPR Art. 15(1)(c), Art. 30(1)(d)).
    Disclosure,
}

impl Action {
    /// Every action, for listings and property tests.
    pub const ALL: [Action; 10] = [
        Self::Create,
        Self::Read,
        Self::Update,
        Self::Delete,
        Self::Execute,
        Self::Query,
        Self::Export,
        Self::Import,
        Self::Erasure,
        Self::Disclosure,
    ];

    /// The stable kebab-case name used in JSON and in the canonical encoding.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Execute => "execute",
            Self::Query => "query",
            Self::Export => "export",
            Self::Import => "import",
            Self::Erasure => "erasure",
            Self::Disclosure => "disclosure",
        }
    }

    /// The CRUDE action code shared by FHIR R4 `AuditEvent.action` and the
    /// DICOM `EventActionCode` (PS3.15 A.5.1): `C`, `R`, `U`, `D` or `E`.
    /// Queries and runs are `E`; exports and disclosures `R` (the data are
    /// read to be handed out); imports `C`; erasures `D`.
    pub const fn crude_code(self) -> &'static str {
        match self {
            Self::Create | Self::Import => "C",
            Self::Read | Self::Export | Self::Disclosure => "R",
            Self::Update => "U",
            Self::Delete | Self::Erasure => "D",
            Self::Execute | Self::Query => "E",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the action ended (FHIR R4 `AuditEvent.outcome`, DICOM
/// `EventOutcomeIndicator`: 0, 4, 8, 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Outcome {
    /// Success (0).
    Success,
    /// Minor failure: the action was restarted (4).
    MinorFailure,
    /// Serious failure: the action was terminated prematurely (8).
    SeriousFailure,
    /// Major failure: the action was made unavailable (12).
    MajorFailure,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 4] = [
        Self::Success,
        Self::MinorFailure,
        Self::SeriousFailure,
        Self::MajorFailure,
    ];

    /// The numeric code shared by FHIR R4 and DICOM.
    pub const fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::MinorFailure => 4,
            Self::SeriousFailure => 8,
            Self::MajorFailure => 12,
        }
    }

    /// The stable kebab-case name used in JSON and in the canonical encoding.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::MinorFailure => "minor-failure",
            Self::SeriousFailure => "serious-failure",
            Self::MajorFailure => "major-failure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde() {
        for a in Action::ALL {
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.name())
            );
        }
        for t in EventType::ALL {
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.name())
            );
        }
        for o in Outcome::ALL {
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.name())
            );
        }
    }

    #[test]
    fn erasure_is_a_deletion_in_crude_terms() {
        assert_eq!(Action::Erasure.crude_code(), "D");
        assert_eq!(Action::Query.crude_code(), "E");
        assert_eq!(EventType::PatientRecord.code().code, "110110");
    }
}
