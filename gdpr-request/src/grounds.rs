//! The controller's grounds against an objection (GDPR Art. 21(1)), kept
//! in the objection request's directory in `grounds.json`: the ground with
//! its citation, the purposes covered, where the assessment is kept, who
//! demonstrated them and when — and the free-text reason **sealed** under
//! the request's key ([`crate::sealing`]), as findings' reasons are. The
//! register carries the grounds on the objection
//! ([`CompellingGrounds`](gdpr_core::objection::CompellingGrounds)), without
//! the reason.

use gdpr_core::Citation;
use gdpr_core::actor::ActorId;
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{GroundsFile, RequestId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::request_dir::RequestDir;
use crate::sealing::Sealed;

/// The grounds file in an objection request's directory.
pub const GROUNDS_FILE: &str = "grounds.json";
/// Its format version.
pub const GROUNDS_FORMAT_VERSION: u32 = 1;

/// Grounds as recorded: everything but the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub struct RecordedGrounds {
    /// The ground's stable name (`compelling-legitimate-grounds`,
    /// `legal-claims`).
    pub ground: String,
    /// The provision (`GDPR Art. 21(1)`).
    pub citation: Citation,
    /// The purposes covered (empty: every purpose objected to).
    pub purposes: Vec<Purpose>,
    /// Where the controller's assessment is kept.
    pub assessment: String,
    /// Who demonstrated them.
    pub by: ActorId,
    /// From when they override.
    pub recorded_at: Timestamp,
}

impl RecordedGrounds {
    /// The grounds of `file`, recorded at `at`.
    pub fn of(file: &GroundsFile, at: Timestamp) -> Self {
        Self {
            ground: file.ground.name().to_owned(),
            citation: file.ground.citation(),
            purposes: file.purposes.clone(),
            assessment: file.assessment.clone(),
            by: file.by.clone(),
            recorded_at: at,
        }
    }

    /// Whether `file` says the same (its reason aside) as these grounds.
    pub fn same_as(&self, file: &GroundsFile) -> bool {
        *self == Self::of(file, self.recorded_at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Stored {
    version: u32,
    grounds: RecordedGrounds,
    reason_sealed: Sealed,
}

impl RequestDir {
    /// Writes `grounds` with the reason of `file` sealed under the
    /// request's key, atomically, and reads the recorded part back.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Shredded`] after shredding;
    /// [`Error::Damaged`] when it does not read back as written.
    pub(crate) fn save_grounds(
        &self,
        grounds: &RecordedGrounds,
        file: &GroundsFile,
        id: &RequestId,
    ) -> Result<(), Error> {
        let stored = Stored {
            version: GROUNDS_FORMAT_VERSION,
            grounds: grounds.clone(),
            reason_sealed: self.keys().seal(id, file.reason.expose().as_bytes())?,
        };
        self.save(GROUNDS_FILE, &stored, "write grounds.json")?;
        if self.load_grounds()?.as_ref() != Some(grounds) {
            return Err(Error::Damaged {
                what: "grounds.json (read back differs)",
                line: 1,
            });
        }
        Ok(())
    }

    /// The grounds recorded on the request's objection, without their
    /// reason (none when none were recorded).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Format`].
    pub fn load_grounds(&self) -> Result<Option<RecordedGrounds>, Error> {
        if !self.path().join(GROUNDS_FILE).exists() {
            return Ok(None);
        }
        let stored: Stored = self.load(GROUNDS_FILE, "grounds.json")?;
        if stored.version != GROUNDS_FORMAT_VERSION {
            return Err(Error::Request(Box::new(
                gdpr_core::request::RequestError::UnsupportedVersion {
                    what: "grounds.json",
                    found: stored.version,
                },
            )));
        }
        Ok(Some(stored.grounds))
    }
}
