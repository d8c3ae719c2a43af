//! **Re-identification** (feature `danger-reidentify`, off by default).
//!
//! Keyed pseudonyms are one-way: nobody, not even the key holder, can invert
//! them. Where a data custodian must be able to re-identify (GDPR Art. 89(1)
//! safeguards; e.g. an incidental finding that must reach the patient), it
//! keeps a mapping from new identifiers to original ones. This module records
//! that mapping. The mapping is identifying data: store it apart from the
//! research copy, under the custodian's access control.

use std::collections::HashMap;
use std::sync::Mutex;

/// New identifier (UID or patient pseudonym) → original value. `Debug`
/// shows only the number of entries.
#[derive(Default)]
pub struct ReidentificationMap {
    entries: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for ReidentificationMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "ReidentificationMap({n} entries)")
    }
}

impl ReidentificationMap {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn record(&self, new: &str, original: &str) {
        if new.is_empty() || original.is_empty() {
            return;
        }
        if let Ok(mut m) = self.entries.lock() {
            m.insert(new.to_owned(), original.to_owned());
        }
    }

    /// The original value behind a new UID or patient pseudonym, if this
    /// mapping recorded it. Returns identifying data.
    pub fn danger_reidentify(&self, new: &str) -> Option<String> {
        self.entries.lock().ok()?.get(new).cloned()
    }

    /// The number of recorded identifiers.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
