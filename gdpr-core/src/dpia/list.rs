//! National lists of processing that always needs a DPIA (Art. 35(4)), as
//! data. Germany's DSK "Muss-Liste" is built in
//! (`data/dpia/de-dsk.json`); other lists load with
//! [`Art35List::from_json`].

use serde::{Deserialize, Serialize};

use crate::Citation;

/// The DSK Muss-Liste, embedded at build time.
const DE_DSK: &str = include_str!("../../data/dpia/de-dsk.json");

/// One kind of processing on a national list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ListEntry {
    /// A stable code, unique across lists (e.g. `"dsk-sensors-central-body"`).
    pub code: String,
    /// The kind of processing.
    pub description: String,
}

/// A supervisory authority's list under Art. 35(4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Art35List {
    /// Jurisdiction code, e.g. `"DE"`.
    pub jurisdiction: String,
    /// The list's title and version.
    pub title: String,
    /// How a decision cites the list.
    pub citation: Citation,
    /// How the list is rendered here (paraphrase, selection), so a reader
    /// knows what to check against the original.
    pub reading: String,
    /// Its entries.
    pub entries: Vec<ListEntry>,
}

impl Art35List {
    /// The German DSK Muss-Liste (non-public sector), as far as it concerns
    /// health care.
    pub fn germany_dsk() -> Self {
        // Invariant: the embedded file is valid; `dsk_list_parses` checks
        // it in every test run.
        Self::from_json(DE_DSK).expect("embedded data/dpia/de-dsk.json is valid")
    }

    /// Loads a list from its JSON text.
    ///
    /// # Errors
    /// The `serde_json` error, which names the line, column and field.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The entry with `code`, if the list has it.
    pub fn entry(&self, code: &str) -> Option<&ListEntry> {
        self.entries.iter().find(|e| e.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsk_list_parses_with_unique_codes() {
        let l = Art35List::from_json(DE_DSK).unwrap();
        assert_eq!(l.jurisdiction, "DE");
        assert!(l.citation.as_str().contains("Art. 35(4)"));
        assert!(l.entry("dsk-sensors-central-body").is_some());
        let mut codes: Vec<_> = l.entries.iter().map(|e| &e.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), l.entries.len());
    }
}
