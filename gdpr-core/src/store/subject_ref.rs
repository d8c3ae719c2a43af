//! How a request names its subject on one system: a DICOM Patient ID (with
//! its issuer) for a PACS, a FHIR `identifier` (system|value) or the
//! Patient's logical id for an EHR. The operator gives it; no adapter ever
//! guesses a match from a name or a birth date.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::StoreError;
use crate::Error;
use crate::subject::PatientId;

/// The longest FHIR identifier system or value accepted (bytes). FHIR sets
/// no limit below 1 MB; identifiers in practice are far shorter, and a bound
/// keeps hostile input small.
const MAX_IDENTIFIER_PART: usize = 1024;

/// The subject of an operation, as the system acted on knows it.
///
/// `Debug` shows only which kind of reference it is, never the value.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SubjectRef {
    /// A DICOM Patient ID (0010,0020) with its optional Issuer of Patient ID
    /// (0010,0021), matched by [`PatientId::matches_stored`].
    Dicom(PatientId),
    /// A patient on a FHIR server.
    Fhir(FhirSubject),
}

impl SubjectRef {
    /// What kind of reference this is, in words, for messages
    /// (`"a DICOM Patient ID"`, `"a FHIR identifier"`, `"a FHIR logical id"`).
    pub const fn kind_name(&self) -> &'static str {
        match self {
            Self::Dicom(_) => "a DICOM Patient ID",
            Self::Fhir(FhirSubject::Identifier(_)) => "a FHIR identifier",
            Self::Fhir(FhirSubject::LogicalId(_)) => "a FHIR logical id",
        }
    }

    /// The DICOM Patient ID, for a system that knows its subjects by it.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedSubject`] when the subject is named another
    /// way.
    pub fn dicom(&self) -> Result<&PatientId, StoreError> {
        match self {
            Self::Dicom(id) => Ok(id),
            other => Err(StoreError::UnsupportedSubject {
                expected: "a DICOM Patient ID",
                given: other.kind_name(),
            }),
        }
    }

    /// The FHIR reference, for a system that knows its subjects by it.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedSubject`] when the subject is named another
    /// way.
    pub fn fhir(&self) -> Result<&FhirSubject, StoreError> {
        match self {
            Self::Fhir(subject) => Ok(subject),
            other => Err(StoreError::UnsupportedSubject {
                expected: "a FHIR identifier or logical id",
                given: other.kind_name(),
            }),
        }
    }
}

impl From<PatientId> for SubjectRef {
    fn from(id: PatientId) -> Self {
        Self::Dicom(id)
    }
}

impl From<FhirSubject> for SubjectRef {
    fn from(subject: FhirSubject) -> Self {
        Self::Fhir(subject)
    }
}

impl fmt::Debug for SubjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectRef(<{} redacted>)", self.kind_name())
    }
}

/// A patient on a FHIR server: by a business identifier or by the
/// Patient resource's logical id.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FhirSubject {
    /// The Patient whose `identifier` matches exactly
    /// ([`FhirIdentifier::matches`]).
    Identifier(FhirIdentifier),
    /// The Patient with this logical id (`Patient/{id}`).
    LogicalId(FhirId),
}

impl fmt::Debug for FhirSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Identifier(_) => f.write_str("FhirSubject::Identifier(<redacted>)"),
            Self::LogicalId(_) => f.write_str("FhirSubject::LogicalId(<redacted>)"),
        }
    }
}

/// A FHIR `Identifier` as a request names it: a system (a URI scoping the
/// value, e.g. a hospital's MRN namespace) and a value.
///
/// Written `system|value` as in FHIR token search; `|value` names an
/// identifier that has no system. A bare `value` is refused: it would match
/// the same value under any system, which is a guess.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawIdentifier", into = "RawIdentifier")]
pub struct FhirIdentifier {
    system: Option<String>,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    value: String,
}

impl FhirIdentifier {
    /// An identifier with a system, or without one (`None`).
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when a part is empty, longer than 1024
    /// bytes, has control characters or surrounding white space, or the
    /// system contains `|`. The message does not repeat the value.
    pub fn new(system: Option<String>, value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        check_part(&value, "fhir identifier value")?;
        if let Some(system) = &system {
            check_part(system, "fhir identifier system")?;
            if system.contains('|') {
                return Err(Error::InvalidIdentifier {
                    what: "fhir identifier system",
                    rule: "a URI without '|'",
                });
            }
        }
        Ok(Self { system, value })
    }

    /// Parses `system|value` (or `|value` for an identifier without system).
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] without a `|`, or when a part breaks the
    /// rules of [`FhirIdentifier::new`].
    pub fn parse(token: &str) -> Result<Self, Error> {
        let Some((system, value)) = token.split_once('|') else {
            return Err(Error::InvalidIdentifier {
                what: "fhir identifier",
                rule: "system|value (or |value for an identifier without system)",
            });
        };
        let system = (!system.is_empty()).then(|| system.to_owned());
        Self::new(system, value)
    }

    /// The system, if any. Never log it together with the value.
    pub fn system(&self) -> Option<&str> {
        self.system.as_deref()
    }

    /// The value. Never log it.
    pub fn expose_value(&self) -> &str {
        &self.value
    }

    /// Whether an identifier a server stored (`system`, `value`) is this
    /// one. This is **the** matching rule of every FHIR adapter; a server's
    /// search is only a hint. Both parts are compared byte for byte
    /// (FHIR strings have no padding rule), case-sensitive; a request with a
    /// system matches only that system, a request without one only stored
    /// identifiers without a system.
    ///
    /// ```
    /// use gdpr_core::store::FhirIdentifier;
    ///
    /// let mrn = FhirIdentifier::parse("urn:oid:1.2.3|MRN-1")?;
    /// assert!(mrn.matches(Some("urn:oid:1.2.3"), "MRN-1"));
    /// assert!(!mrn.matches(Some("urn:oid:1.2.3"), "mrn-1"));
    /// assert!(!mrn.matches(Some("urn:oid:1.2.4"), "MRN-1"));
    /// assert!(!mrn.matches(None, "MRN-1"));
    /// # Ok::<(), gdpr_core::Error>(())
    /// ```
    pub fn matches(&self, system: Option<&str>, value: &str) -> bool {
        self.value == value && self.system.as_deref() == system
    }

    /// The identifier as a FHIR token search parameter value
    /// (`system|value`, `|value` without system), with `\`, `|`, `,` and `$`
    /// in the parts escaped as FHIR search requires. Still to be
    /// percent-encoded by the HTTP client; never log it.
    pub fn search_token(&self) -> String {
        let system = self
            .system
            .as_deref()
            .map(escape_search)
            .unwrap_or_default();
        format!("{system}|{}", escape_search(&self.value))
    }
}

impl TryFrom<RawIdentifier> for FhirIdentifier {
    type Error = Error;
    fn try_from(raw: RawIdentifier) -> Result<Self, Error> {
        Self::new(raw.system, raw.value)
    }
}

impl From<FhirIdentifier> for RawIdentifier {
    fn from(id: FhirIdentifier) -> Self {
        Self {
            system: id.system,
            value: id.value,
        }
    }
}

impl fmt::Debug for FhirIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FhirIdentifier(<redacted>)")
    }
}

/// Escapes the characters FHIR search gives a meaning (`\ | , $`).
fn escape_search(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        if matches!(c, '\\' | '|' | ',' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn check_part(part: &str, what: &'static str) -> Result<(), Error> {
    let ok = !part.is_empty()
        && part.len() <= MAX_IDENTIFIER_PART
        && part.trim() == part
        && !part.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidIdentifier {
            what,
            rule: "1 to 1024 bytes, no control characters, no surrounding white space",
        })
    }
}

/// A FHIR logical id (the `id` of a resource): 1 to 64 characters from
/// `A-Z a-z 0-9 - .` (FHIR R4 `id` datatype). A Patient's logical id points
/// at a person, so `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FhirId(String);

impl FhirId {
    /// Parses a logical id.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when the value breaks the FHIR `id`
    /// rule; the message does not repeat the value.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !ok {
            return Err(Error::InvalidIdentifier {
                what: "fhir logical id",
                rule: "1 to 64 characters from A-Z a-z 0-9 - . (FHIR R4 id)",
            });
        }
        Ok(Self(value))
    }

    /// The id itself, for the server's URLs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FhirId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl From<FhirId> for String {
    fn from(id: FhirId) -> String {
        id.0
    }
}

impl fmt::Debug for FhirId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FhirId(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_parse_system_and_value_and_refuse_guesses() {
        let with = FhirIdentifier::parse("urn:oid:1.2|A-1").unwrap();
        assert_eq!(with.system(), Some("urn:oid:1.2"));
        assert_eq!(with.expose_value(), "A-1");
        let without = FhirIdentifier::parse("|A-1").unwrap();
        assert_eq!(without.system(), None);
        assert!(without.matches(None, "A-1"));
        assert!(!without.matches(Some("urn:oid:1.2"), "A-1"));
        for bad in ["A-1", "sys|", "sys| A-1", "sys|A\n1", "|"] {
            assert!(FhirIdentifier::parse(bad).is_err(), "{bad:?}");
        }
        // The value may hold '|' (only the first separates the system).
        let piped = FhirIdentifier::parse("s|a|b").unwrap();
        assert_eq!(piped.expose_value(), "a|b");
        assert_eq!(piped.search_token(), r"s|a\|b");
    }

    #[test]
    fn matching_is_exact() {
        let id = FhirIdentifier::parse("http://h.example/mrn|MRN-7").unwrap();
        assert!(id.matches(Some("http://h.example/mrn"), "MRN-7"));
        for (system, value) in [
            (Some("http://h.example/mrn"), "mrn-7"),
            (Some("http://h.example/mrn"), "MRN-7 "),
            (Some("http://h.example/mrn"), "MRN-70"),
            (Some("http://H.example/mrn"), "MRN-7"),
            (None, "MRN-7"),
        ] {
            assert!(!id.matches(system, value), "{system:?} {value:?}");
        }
    }

    #[test]
    fn nothing_identifying_in_debug_and_serde_checks_rules() {
        let id = FhirIdentifier::parse("urn:x|CANARY-42").unwrap();
        let subject = SubjectRef::from(FhirSubject::Identifier(id.clone()));
        let logical = SubjectRef::from(FhirSubject::LogicalId(FhirId::new("CANARY7").unwrap()));
        let dicom = SubjectRef::from(PatientId::new("CANARY-9").unwrap());
        let printed = format!("{subject:?}{logical:?}{dicom:?}{id:?}");
        assert!(!printed.contains("CANARY"), "{printed}");
        let json = serde_json::to_string(&subject).unwrap();
        assert_eq!(serde_json::from_str::<SubjectRef>(&json).unwrap(), subject);
        assert!(
            serde_json::from_str::<SubjectRef>(r#"{"fhir":{"identifier":{"value":" x"}}}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<SubjectRef>(r#"{"fhir":{"logical-id":"a/b"}}"#).is_err());
    }

    #[test]
    fn a_system_refuses_the_wrong_kind_of_subject() {
        let fhir = SubjectRef::from(FhirSubject::LogicalId(FhirId::new("p1").unwrap()));
        let err = fhir.dicom().unwrap_err();
        assert!(matches!(
            err,
            StoreError::UnsupportedSubject {
                given: "a FHIR logical id",
                ..
            }
        ));
        let dicom = SubjectRef::from(PatientId::new("MRN-1").unwrap());
        assert!(dicom.dicom().is_ok());
        assert!(dicom.fhir().is_err());
    }

    #[test]
    fn logical_ids_follow_the_fhir_id_rule() {
        assert!(FhirId::new("abc-1.2").is_ok());
        for bad in ["", "a/b", "a b", "a_b", &"x".repeat(65)] {
            assert!(FhirId::new(bad).is_err(), "{bad:?}");
        }
    }
}
