//! On-the-fly pseudonymisation for research callers, with the project's
//! keyed pseudonyms: the same UIDs and patient pseudonyms as gdpr-dicom's
//! batch de-identifier under the same project key (it *is* that
//! de-identifier for whole instances), consistent across requests.
//!
//! A research client asks for studies by their pseudonymised UIDs, so the
//! gateway keeps the pseudonym → original map it learns while answering.
//! **That map is the re-identification capability** the library otherwise
//! keeps behind `danger_…` names: it lives in this process only, is
//! bounded ([`MAX_MAP`] entries, then forgotten), never logged, never
//! persisted and exposed through no API (docs/gateway.md, "Research roles").

mod burned;
mod json;
mod multipart;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use gdpr_dicom::deid::{DeidOptions, Deidentifier, ProjectKey};

pub(crate) use burned::withheld_reason;
pub(crate) use json::{allowed_query, pseudonymise_json};
pub(crate) use multipart::{boundary_of, deidentify_multipart};

/// The most pseudonyms remembered; beyond it the map starts again (a
/// research client then gets 404 for pseudonyms it has not seen again).
pub const MAX_MAP: usize = 1_000_000;

/// The pseudonymiser and the learned map.
pub struct Pseudonyms {
    deid: Deidentifier,
    map: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms(<map redacted>)")
    }
}

impl Pseudonyms {
    /// The basic-profile de-identifier under `key`.
    pub fn new(key: &ProjectKey) -> Self {
        Self {
            deid: Deidentifier::new(key, DeidOptions::basic()),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The de-identifier (for whole instances).
    pub(crate) fn deidentifier(&self) -> &Deidentifier {
        &self.deid
    }

    /// The pseudonym of UID `original`, remembered for the way back.
    pub(crate) fn uid(&self, original: &str) -> String {
        let pseudonym = self.deid.pseudonymiser().uid(original);
        self.learn(&pseudonym, original);
        pseudonym
    }

    pub(crate) fn learn(&self, pseudonym: &str, original: &str) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_MAP && !map.contains_key(pseudonym) {
            map.clear();
        }
        map.insert(pseudonym.to_owned(), original.to_owned());
    }

    /// The original of a pseudonymised UID this gateway has answered with.
    pub(crate) fn original(&self, pseudonym: &str) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(pseudonym).cloned()
    }

    /// The patient pseudonym (as the batch de-identifier derives it).
    pub(crate) fn patient(&self, issuer: &str, id: &str) -> String {
        self.deid.pseudonymiser().patient_pseudonym(issuer, id)
    }
}
