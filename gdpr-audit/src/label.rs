//! Non-personal labels of an audit event: the source system, the tenant and
//! the correlation id. They are stored in clear, so they must never carry a
//! patient identifier; put such values in the encrypted fields instead.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

pub(crate) fn check_label(value: &str, what: &'static str) -> Result<(), Error> {
    if value.is_empty() || value.len() > 128 || !label_chars_ok(value) {
        return Err(Error::InvalidField {
            what,
            rule: "1 to 128 bytes, no control characters, no leading or trailing space",
        });
    }
    Ok(())
}

/// No control character, no white space but the space, and no space at
/// either end. In ASCII (most labels) the white space other than the space
/// is all control characters, so a byte test says the same as the `char`
/// one.
fn label_chars_ok(value: &str) -> bool {
    let bytes = value.as_bytes();
    if value.is_ascii() {
        return !bytes.iter().any(|&b| b < 0x20 || b == 0x7f)
            && bytes.first() != Some(&b' ')
            && bytes.last() != Some(&b' ');
    }
    !value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() && c != ' ')
        && value.trim() == value
}

macro_rules! label {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Parses a ", $what, ": 1 to 128 bytes, no control characters,")]
            /// no leading or trailing space.
            ///
            /// # Errors
            /// [`Error::InvalidField`] when the value breaks these rules.
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let value = value.into();
                check_label(&value, $what)?;
                Ok(Self(value))
            }

            /// The label text (not personal data; safe to print).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(label: $name) -> Self {
                label.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

label!(
    /// The system that reported the event (a PACS AE title, an EHR instance
    /// name): DICOM `AuditSourceID`, FHIR `AuditEvent.source.observer`.
    SourceSystem,
    "source system"
);
label!(
    /// The tenant (hospital, department, research site) whose data were
    /// processed, in a log shared by several controllers.
    TenantId,
    "tenant id"
);
label!(
    /// An identifier that links events of one transaction or request
    /// (a request id, a DICOM association id). Must not be patient-derived.
    CorrelationId,
    "correlation id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_reject_control_characters_and_padding() {
        assert!(SourceSystem::new("PACS-1").is_ok());
        assert!(SourceSystem::new("").is_err());
        assert!(TenantId::new(" a").is_err());
        assert!(CorrelationId::new("a\nb").is_err());
        assert!(CorrelationId::new("x".repeat(129)).is_err());
    }

    /// The byte test of ASCII labels says what the `char` rule says, for
    /// every ASCII byte at the start, in the middle and at the end.
    #[test]
    fn ascii_labels_are_judged_as_by_the_char_rule() {
        let by_chars = |v: &str| {
            !v.chars()
                .any(|c| c.is_control() || c.is_whitespace() && c != ' ')
                && v.trim() == v
        };
        gdpr_test_support::ascii::assert_fast_path_agrees(
            label_chars_ok,
            by_chars,
            &["a\u{a0}", "\u{85}a", "é b", "\u{2003}"],
        );
    }

    #[test]
    fn labels_round_trip_through_json() {
        let t = TenantId::new("hospital-a").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"hospital-a\"");
        assert_eq!(serde_json::from_str::<TenantId>(&json).unwrap(), t);
        assert!(serde_json::from_str::<TenantId>("\"\"").is_err());
    }
}
