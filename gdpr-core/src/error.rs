//! The one error type of `gdpr-core`.

/// Everything that can go wrong in `gdpr-core`. Messages never contain the
/// offending identifying value, only what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An identifier (patient id, actor id, …) broke its format rule.
    #[error("invalid {what}: expected {rule}")]
    InvalidIdentifier {
        /// Which identifier.
        what: &'static str,
        /// The rule it must follow.
        rule: &'static str,
    },
    /// A name did not match any known value of an enumeration.
    #[error("unknown {what}: expected one of {expected}")]
    UnknownName {
        /// Which kind of name.
        what: &'static str,
        /// The valid names.
        expected: &'static str,
    },
    /// A date was not a valid `YYYY-MM-DD` calendar date.
    #[error("invalid {what}: expected a calendar date YYYY-MM-DD that exists")]
    InvalidDate {
        /// Which date field.
        what: &'static str,
    },
    /// A retention rule pack could not be parsed or is inconsistent.
    #[error("invalid retention rule pack: {detail}; fix the pack file and retry")]
    InvalidRulePack {
        /// What is wrong, with the TOML position when there is one.
        detail: String,
    },
    /// A retention record (one JSON line) could not be parsed. The detail
    /// names the field and position, never the value.
    #[error("invalid retention record: {detail}")]
    InvalidRecord {
        /// What is wrong.
        detail: String,
    },
    /// A consent broke a rule of Art. 7 / Art. 9(2)(a).
    #[error("invalid consent: {rule}")]
    InvalidConsent {
        /// The rule and how to fix it.
        rule: &'static str,
    },
    /// A restriction of processing (Art. 18) was inconsistent.
    #[error("invalid restriction: {rule}")]
    InvalidRestriction {
        /// The rule and how to fix it.
        rule: &'static str,
    },
    /// A processing activity was incomplete or lacked the Art. 6 + Art. 9
    /// pair for the special categories it processes.
    #[error("invalid processing activity: {rule}")]
    InvalidActivity {
        /// The rule and how to fix it.
        rule: &'static str,
    },
    /// A retention phase of an authorization request named no duty or no
    /// purpose.
    #[error("invalid retention phase: {rule}")]
    InvalidRetentionPhase {
        /// The rule and how to fix it.
        rule: &'static str,
    },
    /// A DPIA screening named an Art. 35(4) list entry that no loaded list
    /// has.
    #[error(
        "unknown Art. 35(4) list entry `{code}`: use a code of a loaded list \
         (the DSK Muss-Liste codes start with `dsk-`, see data/dpia/de-dsk.json)"
    )]
    UnknownListEntry {
        /// The code as given.
        code: String,
    },
    /// A record of processing lacks fields that Art. 30(1) requires.
    #[error(
        "record of processing incomplete; fill in: {}",
        crate::ropa::MissingField::list(missing)
    )]
    IncompleteRecord {
        /// Every missing field, with its Art. 30(1) letter.
        missing: Vec<crate::ropa::MissingField>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<Error>() <= 48);
    }
}
