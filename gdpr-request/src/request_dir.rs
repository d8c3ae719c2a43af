//! A request's directory: `request.json` (the request and its history),
//! `assessment.json` with the controller's `findings.json`, `outcome.json`,
//! the journal, and the export package.
//!
//! `request.json` holds the subject's identifiers only sealed
//! ([`crate::sealing`]): `subjects` is replaced by `systems` (the names)
//! and `subjects-sealed` (the subject map's JSON, encrypted under the
//! request's key). A request whose key was shredded loads with an empty
//! subject map. A `request.json` with clear `subjects` (written before
//! sealing) is still read, and sealed when next saved.

use std::path::{Path, PathBuf};

use gdpr_core::request::{Assessment, DataSubjectRequest, FindingId, FindingsFile, RequestId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::findings::{CertifiedFinding, FINDINGS_FILE};
use crate::sealing::{RequestKeys, Sealed};
use crate::{Error, fsio};

/// The request file.
pub const REQUEST_FILE: &str = "request.json";
/// The assessment file.
pub const ASSESSMENT_FILE: &str = "assessment.json";
/// The execution outcome file (per system).
pub const OUTCOME_FILE: &str = "outcome.json";
/// The field of `request.json` holding the sealed subjects.
const SEALED: &str = "subjects-sealed";

/// The directory of one request, under a root holding every request.
#[derive(Debug, Clone)]
pub struct RequestDir {
    path: PathBuf,
}

/// The request's directory name: its id, except `.` and `..` (valid ids
/// that name no directory of their own).
fn dir_of(root: &Path, id: &RequestId) -> Result<PathBuf, Error> {
    match id.as_str() {
        "." | ".." => Err(Error::ReservedId),
        name => Ok(root.join(name)),
    }
}

impl RequestDir {
    /// Creates `root/<request id>` and writes the request into it.
    ///
    /// # Errors
    /// [`Error::Io`], also when the request already has a directory (the
    /// same request delivered twice is not created twice).
    pub fn create(root: &Path, request: &DataSubjectRequest) -> Result<Self, Error> {
        std::fs::create_dir_all(root).map_err(Error::io("create the requests directory"))?;
        let path = dir_of(root, request.id())?;
        std::fs::create_dir(&path).map_err(Error::io("create the request's directory"))?;
        fsio::sync_dir(root)?;
        let dir = Self { path };
        dir.save_request(request)?;
        Ok(dir)
    }

    /// The existing directory of request `id` under `root`.
    ///
    /// # Errors
    /// [`Error::Io`] when it does not exist.
    pub fn open(root: &Path, id: &RequestId) -> Result<Self, Error> {
        let path = dir_of(root, id)?;
        std::fs::metadata(path.join(REQUEST_FILE)).map_err(Error::io("find the request"))?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the request (its history replayed and checked), unsealing
    /// its subjects; after shredding, with an empty subject map.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Format`], [`Error::Damaged`].
    pub fn load_request(&self) -> Result<DataSubjectRequest, Error> {
        self.load_with(true)
    }

    /// Whether the request's key was shredded (its identifiers are gone).
    ///
    /// # Errors
    /// As [`Self::load_request`].
    pub fn is_shredded(&self) -> Result<bool, Error> {
        let value: serde_json::Value = self.load(REQUEST_FILE, "request.json")?;
        let Some(sealed) = value.get(SEALED) else {
            return Ok(false);
        };
        let sealed: Sealed =
            serde_json::from_value(sealed.clone()).map_err(Error::format("request.json"))?;
        match self.keys().unseal(&self.id_of(&value)?, &sealed) {
            Err(Error::Shredded) => Ok(true),
            other => other.map(|_| false),
        }
    }

    /// When the request was answered (completed, partially completed or
    /// refused), read without unsealing.
    ///
    /// # Errors
    /// As [`Self::load_request`].
    pub fn answered_at(&self) -> Result<Option<jiff::Timestamp>, Error> {
        let r = self.load_with(false)?;
        Ok(r.stage()
            .is_answered()
            .then(|| r.history().transitions().last().map(|t| t.at))
            .flatten())
    }

    pub(crate) fn keys(&self) -> RequestKeys {
        RequestKeys::at(self.path.parent().unwrap_or(Path::new(".")))
    }

    fn id_of(&self, value: &serde_json::Value) -> Result<RequestId, Error> {
        serde_json::from_value(value.get("id").cloned().unwrap_or_default())
            .map_err(Error::format("request.json"))
    }

    fn load_with(&self, unseal: bool) -> Result<DataSubjectRequest, Error> {
        let mut value: serde_json::Value = self.load(REQUEST_FILE, "request.json")?;
        if let Some(obj) = value.as_object_mut()
            && let Some(sealed) = obj.remove(SEALED)
        {
            obj.remove("systems");
            let id = self.id_of(&serde_json::Value::Object(obj.clone()))?;
            let sealed: Sealed =
                serde_json::from_value(sealed).map_err(Error::format("request.json"))?;
            let subjects = match unseal.then(|| self.keys().unseal(&id, &sealed)) {
                Some(Ok(plain)) => {
                    serde_json::from_slice(&plain).map_err(Error::format("sealed subjects"))?
                }
                None | Some(Err(Error::Shredded)) => serde_json::json!({}),
                Some(Err(e)) => return Err(e),
            };
            obj.insert("subjects".into(), subjects);
        }
        serde_json::from_value(value).map_err(Error::format("request.json"))
    }

    /// Replaces the request file atomically, its subjects sealed under the
    /// request's key.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Shredded`] after shredding.
    pub fn save_request(&self, request: &DataSubjectRequest) -> Result<(), Error> {
        let mut value =
            serde_json::to_value(request).map_err(Error::format("write request.json"))?;
        let obj = value.as_object_mut().ok_or(Error::Damaged {
            what: "request.json",
            line: 0,
        })?;
        let subjects = obj.remove("subjects").unwrap_or_default();
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&subjects).map_err(Error::format("write request.json"))?,
        );
        let sealed = self.keys().seal(request.id(), &plain)?;
        let systems: Vec<&str> = request.subjects().iter().map(|(n, _)| n.as_str()).collect();
        obj.insert("systems".into(), serde_json::json!(systems));
        obj.insert(
            SEALED.into(),
            serde_json::to_value(sealed).map_err(Error::format("write request.json"))?,
        );
        self.save(REQUEST_FILE, &value, "write request.json")
    }

    /// Reads the assessment, if one was made.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Format`].
    pub fn load_assessment(&self) -> Result<Option<Assessment>, Error> {
        if !self.path.join(ASSESSMENT_FILE).exists() {
            return Ok(None);
        }
        self.load(ASSESSMENT_FILE, "assessment.json").map(Some)
    }

    /// Writes the assessment atomically.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save_assessment(&self, assessment: &Assessment) -> Result<(), Error> {
        self.save(ASSESSMENT_FILE, assessment, "write assessment.json")
    }

    /// Writes the controller's findings of the assessment atomically, each
    /// reason sealed under the request's key
    /// ([`crate::findings::FINDINGS_FILE`]); no findings remove the file.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Shredded`] after shredding.
    pub fn save_findings(&self, findings: &FindingsFile, id: &RequestId) -> Result<(), Error> {
        let path = self.path.join(FINDINGS_FILE);
        if findings.findings.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io("remove findings.json")(e))
                }
                _ => fsio::sync_dir(&self.path),
            };
        }
        let value = crate::findings::seal(findings, &self.keys(), id)?;
        self.save(FINDINGS_FILE, &value, "write findings.json")
    }

    /// The controller's findings of the assessment, without their reasons
    /// (none when the assessment had none).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Format`].
    pub fn load_findings(&self) -> Result<Vec<CertifiedFinding>, Error> {
        if !self.path.join(FINDINGS_FILE).exists() {
            return Ok(Vec::new());
        }
        crate::findings::certified(self.load(FINDINGS_FILE, "findings.json")?)
    }

    /// The findings' reasons, unsealed, by finding id: for the controller's
    /// own reading. They may hold health data: never print or log them.
    ///
    /// # Errors
    /// As [`Self::load_findings`]; [`Error::Shredded`] after shredding.
    pub fn finding_reasons(
        &self,
        id: &RequestId,
    ) -> Result<Vec<(FindingId, Zeroizing<String>)>, Error> {
        if !self.path.join(FINDINGS_FILE).exists() {
            return Ok(Vec::new());
        }
        crate::findings::reasons(self.load(FINDINGS_FILE, "findings.json")?, &self.keys(), id)
    }

    pub(crate) fn load<T: DeserializeOwned>(
        &self,
        file: &str,
        what: &'static str,
    ) -> Result<T, Error> {
        let bytes =
            std::fs::read(self.path.join(file)).map_err(Error::io("read a request file"))?;
        serde_json::from_slice(&bytes).map_err(Error::format(what))
    }

    pub(crate) fn save<T: Serialize>(
        &self,
        file: &str,
        value: &T,
        what: &'static str,
    ) -> Result<(), Error> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(Error::format(what))?;
        bytes.push(b'\n');
        fsio::replace(&self.path.join(file), &bytes, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_ids_name_no_directory() {
        let root = Path::new("/tmp/requests");
        for id in [".", ".."] {
            let id = RequestId::new(id).unwrap();
            assert!(matches!(dir_of(root, &id), Err(Error::ReservedId)));
        }
        let ok = RequestId::new("..x").unwrap();
        assert_eq!(dir_of(root, &ok).unwrap(), root.join("..x"));
    }
}
