//! The FHIR R4 data types this crate reads: Identifier, Reference, Coding,
//! Meta (with security labels) and Period.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An `Identifier` (R4 §2.24.0.2): a business identifier such as a medical
/// record number. Only `system` and `value` are interpreted; `Debug`
/// never shows `value`.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Identifier {
    /// The namespace of the value (a URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The identifier itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Every other element (use, type, period, assigner, extensions).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identifier")
            .field("system", &self.system)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A `Reference` (R4 §2.3.0): a literal reference such as `Patient/123`,
/// or an identifier. `Debug` shows whether each part is present only.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Reference {
    /// A literal reference: relative (`Patient/123`), absolute, or
    /// `urn:uuid:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A logical reference by business identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    /// Every other element (type, display, extensions).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reference")
            .field("reference", &self.reference.as_ref().map(|_| "<redacted>"))
            .field("identifier", &self.identifier)
            .finish_non_exhaustive()
    }
}

/// A `Coding` (R4 §2.24.0.3): a code from a code system, as used in
/// security labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Coding {
    /// The code system (a URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Its display text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// Whether this coding is `code` in `system`, compared exactly.
    pub fn is(&self, system: &str, code: &str) -> bool {
        self.system.as_deref() == Some(system) && self.code.as_deref() == Some(code)
    }
}

/// A resource's `meta` (R4 §2.26.0.14): version and security labels.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// The server's version of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// When the server last changed the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Security labels (R4 §8.1.2 Security Labels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<Coding>,
    /// Every other element (profile, tag, source, extensions).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A `Period` (R4 §2.24.0.9): a start and an end, either open. `Debug`
/// never shows the dates.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Period {
    /// The start (a FHIR `dateTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The end (a FHIR `dateTime`); missing while ongoing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

impl fmt::Debug for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Period")
            .field("start", &self.start.as_ref().map(|_| "<redacted>"))
            .field("end", &self.end.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_elements_survive_a_round_trip() {
        let json = serde_json::json!({
            "use": "official", "system": "urn:x", "value": "CANARY-7",
            "period": {"start": "2020-01-01"}
        });
        let id: Identifier = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&id).unwrap(), json);
        assert!(!format!("{id:?}").contains("CANARY"));
    }

    #[test]
    fn references_and_periods_do_not_print_their_values() {
        let r: Reference =
            serde_json::from_value(serde_json::json!({"reference": "Patient/CANARY"})).unwrap();
        assert!(!format!("{r:?}").contains("CANARY"));
        let p: Period = serde_json::from_value(serde_json::json!({"start": "1970-01-01"})).unwrap();
        assert!(!format!("{p:?}").contains("1970"));
    }
}
