//! Jurisdiction codes of rule packs.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A jurisdiction code: upper-case letters, digits and `-`, 2 to 12
/// characters (`DE`, `AT`, `FR`, `NL`, `UK-ENG`, and Land variants such as
/// `DE-HH`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jurisdiction(String);

impl Jurisdiction {
    /// The codes of the built-in packs.
    pub const BUILTIN: [&'static str; 6] = ["DE", "AT", "FR", "NL", "UK-ENG", "DE-HH"];

    /// The code, e.g. `"UK-ENG"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Jurisdiction {
    type Err = Error;

    /// Parses a code; lower-case letters are upper-cased.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (2..=12).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(Error::InvalidIdentifier {
                what: "jurisdiction",
                rule: "2 to 12 letters, digits or '-' (DE, AT, FR, NL, UK-ENG)",
            });
        }
        Ok(Self(s.to_ascii_uppercase()))
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
