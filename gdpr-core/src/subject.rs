//! Data subjects: patient identifiers that never print, and how identifiable
//! a data set is (Art. 4(5) pseudonymisation, Recital 26 anonymity).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::consent::Consent;
use crate::objection::Objection;
use crate::restriction::Restriction;

/// A patient identifier as a source system knows it (DICOM Patient ID, an EHR
/// MRN), with the optional issuer that scopes it (DICOM Issuer of Patient ID).
///
/// `Debug` and `Display` never show the value. Use [`PatientId::expose`] only
/// to talk to the system that issued it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawPatientId")]
pub struct PatientId {
    #[serde(rename = "id")]
    value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
}

impl PatientId {
    /// Parses a patient identifier: 1 to 64 characters (DICOM LO), no control
    /// characters and no backslash (the DICOM value separator).
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when the value breaks these rules.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        check_lo(&value, "patient id")?;
        Ok(Self {
            value,
            issuer: None,
        })
    }

    /// Whether [`PatientId::new`] (and, for an issuer,
    /// [`PatientId::with_issuer`]) accepts `value`: the one copy of the
    /// rule, for a bulk writer that checks borrowed text without
    /// allocating.
    pub fn is_valid(value: &str) -> bool {
        lo_chars_ok(value)
    }

    /// Scopes the identifier to an issuer (same rules as the value).
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when the issuer breaks the rules of
    /// [`PatientId::new`].
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Result<Self, Error> {
        let issuer = issuer.into();
        check_lo(&issuer, "issuer of patient id")?;
        self.issuer = Some(issuer);
        Ok(self)
    }

    /// Builds an identifier **without** checking the rules of
    /// [`PatientId::new`], for tests that reproduce records written before
    /// those rules were enforced (feature `danger-unchecked-ids`; never
    /// enable it in a product).
    #[cfg(feature = "danger-unchecked-ids")]
    pub fn danger_unchecked(value: impl Into<String>, issuer: Option<String>) -> Self {
        Self {
            value: value.into(),
            issuer,
        }
    }

    /// The identifier itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The issuer, if known. Never log it together with the value.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Whether a record that a system stored under `stored_id` (and
    /// `stored_issuer`) belongs to this subject. This is **the** matching
    /// rule of every adapter; a server's lookup or search is only a hint.
    ///
    /// - The value is compared byte for byte, case-sensitive, after removing
    ///   only the padding DICOM allows for LO values: leading and trailing
    ///   spaces, and trailing NULs ([`strip_lo_padding`]). `MRN-1` never
    ///   matches `mrn-1`, `MRN-10` or `MRN*`.
    /// - When either side has an issuer, both must have one and they are
    ///   compared the same way. A request without an issuer therefore does
    ///   not match records that carry one (name the issuer to reach them),
    ///   and a request with an issuer does not match records without one:
    ///   the rule errs towards touching nothing that is not certainly this
    ///   subject's. An issuer that is empty after padding counts as none.
    ///
    /// ```
    /// use gdpr_core::subject::PatientId;
    ///
    /// let id = PatientId::new("MRN-1")?;
    /// assert!(id.matches_stored("MRN-1 ", None));
    /// assert!(!id.matches_stored("mrn-1", None));
    /// assert!(!id.matches_stored("MRN-1", Some("HOSP-A")));
    /// # Ok::<(), gdpr_core::Error>(())
    /// ```
    pub fn matches_stored(&self, stored_id: &str, stored_issuer: Option<&str>) -> bool {
        strip_lo_padding(stored_id) == strip_lo_padding(&self.value)
            && issuer_of(stored_issuer) == issuer_of(self.issuer.as_deref())
    }
}

/// Removes the padding DICOM allows around an LO value (PS3.5 § 6.2):
/// leading and trailing spaces, and trailing NUL bytes. Nothing else
/// (no case folding, no other white space).
pub fn strip_lo_padding(value: &str) -> &str {
    value.trim_end_matches(['\0', ' ']).trim_start_matches(' ')
}

/// An issuer after padding removal; empty counts as absent.
fn issuer_of(issuer: Option<&str>) -> Option<&str> {
    issuer.map(strip_lo_padding).filter(|i| !i.is_empty())
}

/// The serde form of [`PatientId`] before its rules are checked, so that a
/// deserialised identifier obeys the same rules as [`PatientId::new`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatientId {
    id: String,
    #[serde(default)]
    issuer: Option<String>,
}

impl TryFrom<RawPatientId> for PatientId {
    type Error = Error;

    fn try_from(raw: RawPatientId) -> Result<Self, Error> {
        let id = Self::new(raw.id)?;
        match raw.issuer {
            Some(issuer) => id.with_issuer(issuer),
            None => Ok(id),
        }
    }
}

fn check_lo(value: &str, what: &'static str) -> Result<(), Error> {
    if !lo_chars_ok(value) {
        return Err(Error::InvalidIdentifier {
            what,
            rule: "1 to 64 characters, not blank, no control characters or backslash",
        });
    }
    Ok(())
}

/// 1 to 64 characters, not blank, no control character or backslash. In
/// ASCII (most identifiers) a character is a byte and the white space is
/// the space and control characters, so byte tests say the same as the
/// `char` ones (bulk audit import checks every event's identifier).
fn lo_chars_ok(value: &str) -> bool {
    let bytes = value.as_bytes();
    if value.is_ascii() {
        return bytes.len() <= 64
            && !bytes.iter().any(|&b| b < 0x20 || b == 0x7f || b == b'\\')
            && bytes.iter().any(|&b| b != b' ');
    }
    !value.trim().is_empty()
        && value.chars().count() <= 64
        && !value.chars().any(|c| c.is_control() || c == '\\')
}

impl fmt::Debug for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatientId(<redacted>)")
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted patient>")
    }
}

/// How identifiable the data in a processing operation are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Identifiability {
    /// Directly identifying data (names, identifiers, full dates).
    Identified,
    /// Pseudonymised data (Art. 4(5)): still personal data, but attributable
    /// to a person only with additional information kept separately.
    Pseudonymised,
    /// Anonymised data (Recital 26): no longer personal data.
    Anonymised,
}

/// What is known about one data subject's wishes when a decision is made:
/// consents (Art. 7, 9(2)(a)), restrictions (Art. 18) and objections
/// (Art. 21). Each entry carries its own times; the decision compares them
/// with the instant it is asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SubjectState {
    /// Consents given, including withdrawn ones.
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// Restrictions of processing, including lifted ones.
    #[serde(default)]
    pub restrictions: Vec<Restriction>,
    /// Objections lodged.
    #[serde(default)]
    pub objections: Vec<Objection>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `is_valid` says what `new` and `with_issuer` do.
    #[test]
    fn is_valid_is_the_rule_of_new_and_with_issuer() {
        let long = "x".repeat(65);
        for v in [
            "P-1",
            "",
            " ",
            "a\\b",
            "a\nb",
            "é",
            &long,
            &long[1..],
            " x ",
        ] {
            assert_eq!(PatientId::is_valid(v), PatientId::new(v).is_ok(), "{v:?}");
            let scoped = PatientId::new("P").unwrap().with_issuer(v);
            assert_eq!(PatientId::is_valid(v), scoped.is_ok(), "{v:?}");
        }
    }

    /// The byte tests of ASCII identifiers say what the `char` rule says,
    /// for every ASCII byte in every place, and at the length limit.
    #[test]
    fn ascii_identifiers_are_judged_as_by_the_char_rule() {
        let by_chars = |v: &str| {
            !v.trim().is_empty()
                && v.chars().count() <= 64
                && !v.chars().any(|c| c.is_control() || c == '\\')
        };
        gdpr_test_support::ascii::assert_fast_path_agrees(
            lo_chars_ok,
            by_chars,
            &[
                "",
                "   ",
                &"x".repeat(64),
                &"x".repeat(65),
                &"é".repeat(64),
                "\u{a0}",
            ],
        );
    }

    #[test]
    fn patient_id_never_prints() {
        let id = PatientId::new("CANARY-PID-0042")
            .unwrap()
            .with_issuer("HOSPITAL-A")
            .unwrap();
        assert!(!format!("{id:?}").contains("CANARY"));
        assert!(!format!("{id}").contains("CANARY"));
        assert_eq!(id.expose(), "CANARY-PID-0042");
        assert_eq!(id.issuer(), Some("HOSPITAL-A"));
    }

    #[test]
    fn matching_is_exact_up_to_lo_padding() {
        let id = PatientId::new("MRN-3001").unwrap();
        for same in [
            "MRN-3001",
            " MRN-3001",
            "MRN-3001 ",
            "MRN-3001\0",
            "MRN-3001 \0\0",
        ] {
            assert!(id.matches_stored(same, None), "{same:?}");
            assert!(id.matches_stored(same, Some(" ")), "empty issuer is none");
        }
        for other in [
            "Mrn-3001",
            "mrn-3001",
            "MRN-30010",
            "MRN-300",
            "MRN*",
            "MRN-3001\t",
            "\0MRN-3001",
            "",
        ] {
            assert!(!id.matches_stored(other, None), "{other:?}");
        }
        assert!(!id.matches_stored("MRN-3001", Some("HOSP-A")));
        let scoped = id.clone().with_issuer("HOSP-A").unwrap();
        assert!(scoped.matches_stored("MRN-3001", Some("HOSP-A ")));
        assert!(!scoped.matches_stored("MRN-3001", Some("hosp-a")));
        assert!(!scoped.matches_stored("MRN-3001", None));
    }

    #[test]
    fn deserialised_ids_obey_the_same_rules() {
        let ok: PatientId = serde_json::from_str(r#"{"id":"MRN-1","issuer":"H"}"#).unwrap();
        assert_eq!((ok.expose(), ok.issuer()), ("MRN-1", Some("H")));
        for bad in [
            r#"{"id":""}"#,
            r#"{"id":"CANARY\u0007"}"#,
            r#"{"id":"CANARY","issuer":" "}"#,
            r#"{"id":"CANARY","isuer":"H"}"#,
        ] {
            let err = serde_json::from_str::<PatientId>(bad).unwrap_err();
            assert!(!err.to_string().contains("CANARY"), "{err}");
        }
    }

    #[test]
    fn bad_ids_are_rejected_without_echoing_them() {
        for bad in ["", "   ", "a\\b", "x\n", &"9".repeat(65)] {
            let err = PatientId::new(bad).unwrap_err();
            assert!(err.to_string().contains("patient id"));
        }
    }
}
