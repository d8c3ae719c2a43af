//! Where a subject's state (consents, restrictions, objections) comes
//! from: a trait the host implements against its consent management, and
//! a file-backed default.
//!
//! The file is JSON: `{"subjects": [{"patient": {"id": "…", "issuer":
//! "…"}, "state": {…gdpr-core SubjectState…}}]}`. A patient matches an
//! entry by gdpr-core's one matching rule (`PatientId::matches_stored`).

use std::path::Path;

use gdpr_core::subject::{PatientId, SubjectState};
use serde::Deserialize;

use crate::Error;

/// The source of subject states the gateway asks before each decision.
#[async_trait::async_trait]
pub trait SubjectStates: Send + Sync {
    /// The state of `patient` (the default state when nothing is known).
    ///
    /// # Errors
    /// [`Error`] when the source cannot answer; the request is then refused.
    async fn state_of(&self, patient: &PatientId) -> Result<SubjectState, Error>;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    patient: PatientId,
    state: SubjectState,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileText {
    subjects: Vec<Entry>,
}

/// The file-backed default, read once when opened.
pub struct FileSubjectStates {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for FileSubjectStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileSubjectStates({} subjects)", self.entries.len())
    }
}

impl FileSubjectStates {
    /// Parses the file's text.
    ///
    /// # Errors
    /// [`Error::SubjectStates`] naming the field path (no values).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let parsed: FileText =
            serde_path_to_error::deserialize(de).map_err(|e| Error::SubjectStates {
                detail: format!("invalid at `{}`", e.path()),
            })?;
        Ok(Self {
            entries: parsed.subjects,
        })
    }

    /// Reads the file at `path`.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::SubjectStates`].
    pub fn open(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            what: "subject-state file",
            source,
        })?;
        Self::from_json(&text)
    }

    /// No subject has any recorded state.
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

#[async_trait::async_trait]
impl SubjectStates for FileSubjectStates {
    async fn state_of(&self, patient: &PatientId) -> Result<SubjectState, Error> {
        let found = self
            .entries
            .iter()
            .find(|e| e.patient.matches_stored(patient.expose(), patient.issuer()));
        Ok(found.map(|e| e.state.clone()).unwrap_or_default())
    }
}
