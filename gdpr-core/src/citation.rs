//! Legal citations carried as data.
//!
//! Every rule in this crate names its source in a [`Citation`] — for example
//! `"GDPR Art. 9(2)(h)"` or `"§ 630f(3) BGB"` — so that a decision can show
//! *why*, not only *what*.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The source of a legal rule, as a human-readable citation.
///
/// Built-in rules use `&'static str` citations; rules loaded from data files
/// (national law packs, retention rules) own their text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Citation(Cow<'static, str>);

impl Citation {
    /// A citation of a built-in rule.
    pub const fn from_static(text: &'static str) -> Self {
        Self(Cow::Borrowed(text))
    }

    /// A citation loaded from data (a rule pack, a national provision).
    pub fn new(text: impl Into<String>) -> Self {
        Self(Cow::Owned(text.into()))
    }

    /// The citation text, e.g. `"GDPR Art. 17(3)(b)"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Citations are public law, never personal data: safe to print.
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_owned_compare_equal() {
        assert_eq!(
            Citation::from_static("GDPR Art. 5(1)(e)"),
            Citation::new("GDPR Art. 5(1)(e)")
        );
    }

    #[test]
    fn serialises_as_plain_string() {
        let json = serde_json::to_string(&Citation::from_static("§ 630f(3) BGB")).unwrap();
        assert_eq!(json, "\"§ 630f(3) BGB\"");
    }
}
