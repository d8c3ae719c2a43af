//! The subject across systems: for each configured system, the identifier
//! that system knows the subject by ([`SubjectRef`]), given by the operator
//! or read from a patient-index file. Nothing here ever guesses a match: a
//! system the request names no subject for is not acted on.
//!
//! The patient-index file (TOML, format version 1; docs/requests.md):
//!
//! ```toml
//! version = 1
//!
//! [systems.pacs]
//! dicom-patient-id = "MRN-1"
//! issuer = "HOSP-A"            # optional, DICOM only
//!
//! [systems.fhir]
//! fhir-identifier = "http://hospital.example/mrn|MRN-1"
//!
//! [systems.openemr]
//! fhir-id = "9f2c"
//! ```
//!
//! An optional top-level `birth-date = "1950-01-31"` gives the subject's
//! date of birth from the controller's own register, for the retention
//! rules that count from it ([`PatientIndex`]); it is never used to find
//! anyone.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::request::error::RequestError;
use crate::store::{FhirId, FhirIdentifier, FhirSubject, SubjectRef};
use crate::subject::PatientId;

/// The name a system has in the configuration (`systems.toml`): 1 to 64
/// characters from `a-z 0-9 _ -`. Not personal data, so it prints.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SystemName(String);

impl SystemName {
    /// Parses a system name.
    ///
    /// # Errors
    /// [`RequestError::InvalidSystemName`] when it breaks the rule.
    pub fn new(name: impl Into<String>) -> Result<Self, RequestError> {
        let name = name.into();
        if Self::is_valid(&name) {
            Ok(Self(name))
        } else {
            Err(RequestError::InvalidSystemName)
        }
    }

    fn is_valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SystemName {
    type Error = RequestError;
    fn try_from(value: String) -> Result<Self, RequestError> {
        Self::new(value)
    }
}

impl From<SystemName> for String {
    fn from(name: SystemName) -> String {
        name.0
    }
}

impl fmt::Display for SystemName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The subject as each system knows it. `Debug` shows the system names and
/// the kind of each reference, never a value. JSON: an object from system
/// name to [`SubjectRef`]; a system named twice is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SubjectMap(BTreeMap<SystemName, SubjectRef>);

impl<'de> Deserialize<'de> for SubjectMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SubjectMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from system name to subject reference")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SubjectMap, A::Error> {
                let mut out = SubjectMap::new();
                while let Some((system, subject)) = map.next_entry::<SystemName, SubjectRef>()? {
                    if out.insert(system, subject).is_some() {
                        return Err(serde::de::Error::custom(
                            "a system is named twice in `subjects`; name each once",
                        ));
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl SubjectMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the subject on `system`; replaces an earlier entry for it and
    /// returns that.
    pub fn insert(&mut self, system: SystemName, subject: SubjectRef) -> Option<SubjectRef> {
        self.0.insert(system, subject)
    }

    /// The subject on `system`.
    ///
    /// # Errors
    /// [`RequestError::NoSubjectFor`] when the request names none there.
    pub fn on(&self, system: &SystemName) -> Result<&SubjectRef, RequestError> {
        self.0
            .get(system)
            .ok_or_else(|| RequestError::NoSubjectFor {
                system: system.to_string(),
            })
    }

    /// Every system and its subject, by system name.
    pub fn iter(&self) -> impl Iterator<Item = (&SystemName, &SubjectRef)> {
        self.0.iter()
    }

    /// How many systems are named.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no system is named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The subject as the audit log names it (its events are sealed under
    /// this subject's key, which an erasure shreds), derived from the map
    /// by a fixed rule, never from a guess of identity:
    ///
    /// 1. the DICOM Patient ID (with its issuer) of the first system, by
    ///    name, that names the subject by one;
    /// 2. else the first FHIR identifier: its value as the id and its
    ///    `system` URI as the issuer (the derivation `gdpr_audit::Audited`
    ///    uses for a FHIR subject);
    /// 3. else the first FHIR logical id, with issuer `fhir:<system name>`
    ///    (a logical id is only unique on its server).
    ///
    /// # Errors
    /// [`RequestError::NoAuditSubject`] for an empty map, or when the
    /// chosen reference does not fit a patient id (over 64 characters).
    pub fn audit_subject(&self) -> Result<PatientId, RequestError> {
        use crate::store::FhirSubject;
        let long = |_| RequestError::NoAuditSubject {
            why: "the identifier or its issuer is longer than 64 characters",
        };
        if let Some(id) = self.0.values().find_map(|s| s.dicom().ok()) {
            return Ok(id.clone());
        }
        for subject in self.0.values() {
            if let SubjectRef::Fhir(FhirSubject::Identifier(id)) = subject {
                let p = PatientId::new(id.expose_value()).map_err(long)?;
                return match id.system() {
                    Some(system) => p.with_issuer(system).map_err(long),
                    None => Ok(p),
                };
            }
        }
        for (name, subject) in &self.0 {
            if let SubjectRef::Fhir(FhirSubject::LogicalId(id)) = subject {
                return PatientId::new(id.as_str())
                    .and_then(|p| p.with_issuer(format!("fhir:{name}")))
                    .map_err(long);
            }
        }
        Err(RequestError::NoAuditSubject {
            why: "the request names no system",
        })
    }

    /// Reads a patient-index file (format above).
    ///
    /// # Errors
    /// [`RequestError::InvalidIndex`]: TOML syntax (a key or table given
    /// twice included), an unknown key, a value of the wrong kind, a wrong
    /// version, an invalid system name, an entry with not exactly one
    /// identifier, `issuer` without `dicom-patient-id`, or an identifier
    /// that breaks its rule. The message names the line or the system,
    /// never a value.
    pub fn from_index_toml(text: &str) -> Result<Self, RequestError> {
        PatientIndex::from_toml(text).map(|index| index.subjects)
    }
}

/// A patient-index file read whole: the subject on each system and, when
/// the file gives it, the subject's date of birth. `Debug` shows neither
/// value (only whether a birth date is there).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatientIndex {
    /// The subject as each system knows it.
    pub subjects: SubjectMap,
    /// The subject's date of birth (`birth-date = "YYYY-MM-DD"`), from the
    /// controller's own register.
    pub birth_date: Option<jiff::civil::Date>,
}

impl fmt::Debug for PatientIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatientIndex")
            .field("subjects", &self.subjects)
            .field("birth_date", &self.birth_date.map(|_| "<redacted>"))
            .finish()
    }
}

impl PatientIndex {
    /// Reads a patient-index file (format in the module docs).
    ///
    /// # Errors
    /// As [`SubjectMap::from_index_toml`]; also a `birth-date` that is not
    /// a date `YYYY-MM-DD` (quoted), named without its value.
    pub fn from_toml(text: &str) -> Result<Self, RequestError> {
        let file: IndexFile = toml::from_str(text).map_err(|e| RequestError::InvalidIndex {
            detail: crate::redact::toml_message(text, &e),
        })?;
        if file.version != 1 {
            return Err(RequestError::UnsupportedVersion {
                what: "patient index",
                found: file.version,
            });
        }
        let mut map = SubjectMap::new();
        for (name, entry) in file.systems {
            let system = SystemName::new(name).map_err(|_| {
                index_error("a system name breaks its rule (1 to 64 of a-z 0-9 _ -)".into())
            })?;
            let subject = entry
                .into_subject()
                .map_err(|why| index_error(format!("system {system}: {why}")))?;
            map.insert(system, subject);
        }
        let birth_date = file
            .birth_date
            .map(|d| d.parse::<jiff::civil::Date>())
            .transpose()
            .map_err(|_| index_error("`birth-date`: expected a date \"YYYY-MM-DD\"".into()))?;
        Ok(Self {
            subjects: map,
            birth_date,
        })
    }
}

fn index_error(detail: String) -> RequestError {
    RequestError::InvalidIndex { detail }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct IndexFile {
    version: u32,
    #[serde(default)]
    birth_date: Option<String>,
    #[serde(default)]
    systems: BTreeMap<String, IndexEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct IndexEntry {
    dicom_patient_id: Option<String>,
    issuer: Option<String>,
    fhir_identifier: Option<String>,
    fhir_id: Option<String>,
}

impl IndexEntry {
    /// The reference, or what is wrong (no value in the message).
    fn into_subject(self) -> Result<SubjectRef, String> {
        let rule = |e: crate::Error| e.to_string();
        match (self.dicom_patient_id, self.fhir_identifier, self.fhir_id) {
            (Some(id), None, None) => {
                let id = PatientId::new(id).map_err(rule)?;
                let id = match self.issuer {
                    Some(issuer) => id.with_issuer(issuer).map_err(rule)?,
                    None => id,
                };
                Ok(SubjectRef::Dicom(id))
            }
            _ if self.issuer.is_some() => Err("`issuer` goes only with `dicom-patient-id`".into()),
            (None, Some(token), None) => Ok(SubjectRef::Fhir(FhirSubject::Identifier(
                FhirIdentifier::parse(&token).map_err(rule)?,
            ))),
            (None, None, Some(id)) => Ok(SubjectRef::Fhir(FhirSubject::LogicalId(
                FhirId::new(id).map_err(rule)?,
            ))),
            _ => Err("give exactly one of `dicom-patient-id`, `fhir-identifier`, `fhir-id`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(toml: &str) -> SubjectMap {
        SubjectMap::from_index_toml(&format!("version = 1\n{toml}")).unwrap()
    }

    #[test]
    fn the_audit_subject_prefers_dicom_then_fhir_identifier_then_logical_id() {
        let both = map("[systems.a-fhir]\nfhir-identifier = \"urn:mrn|M-1\"\n\
             [systems.z-pacs]\ndicom-patient-id = \"P-1\"\nissuer = \"H\"\n");
        let s = both.audit_subject().unwrap();
        assert_eq!((s.expose(), s.issuer()), ("P-1", Some("H")));
        let fhir = map(
            "[systems.a]\nfhir-id = \"9f2c\"\n[systems.b]\nfhir-identifier = \"urn:mrn|M-1\"\n",
        );
        let s = fhir.audit_subject().unwrap();
        assert_eq!((s.expose(), s.issuer()), ("M-1", Some("urn:mrn")));
        let logical = map("[systems.ehr]\nfhir-id = \"9f2c\"\n");
        let s = logical.audit_subject().unwrap();
        assert_eq!((s.expose(), s.issuer()), ("9f2c", Some("fhir:ehr")));
    }

    #[test]
    fn no_audit_subject_from_an_empty_map_or_an_overlong_issuer() {
        assert!(matches!(
            SubjectMap::new().audit_subject(),
            Err(RequestError::NoAuditSubject { .. })
        ));
        let long = format!("urn:{}|M-1", "x".repeat(70));
        let m = map(&format!("[systems.b]\nfhir-identifier = \"{long}\"\n"));
        let err = m.audit_subject().unwrap_err();
        assert!(!err.to_string().contains("M-1"), "{err}");
    }

    #[test]
    fn an_index_may_give_the_birth_date_which_debug_never_shows() {
        let text = "version = 1\nbirth-date = \"1950-01-31\"\n\
                    [systems.pacs]\ndicom-patient-id = \"P-1\"\n";
        let index = PatientIndex::from_toml(text).unwrap();
        assert_eq!(index.birth_date, Some(jiff::civil::date(1950, 1, 31)));
        assert_eq!(index.subjects, SubjectMap::from_index_toml(text).unwrap());
        let debug = format!("{index:?}");
        assert!(!debug.contains("1950") && !debug.contains("P-1"), "{debug}");
        let none = PatientIndex::from_toml("version = 1\n[systems.a]\nfhir-id = \"x1\"\n");
        assert_eq!(none.unwrap().birth_date, None);
    }

    #[test]
    fn a_bad_birth_date_is_refused_without_its_value() {
        for bad in ["\"1950-02-30\"", "\"31.01.1950\"", "1950-01-31"] {
            let text = format!("version = 1\nbirth-date = {bad}\n");
            let err = PatientIndex::from_toml(&text).unwrap_err().to_string();
            assert!(
                err.contains("birth-date") || err.contains("line 2"),
                "{err}"
            );
            assert!(!err.contains("1950"), "{err}");
        }
    }
}
