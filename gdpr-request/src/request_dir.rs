//! A request's directory: `request.json` (the request and its history),
//! `assessment.json`, `outcome.json`, the journal, and the export package.

use std::path::{Path, PathBuf};

use gdpr_core::request::{Assessment, DataSubjectRequest, RequestId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, fsio};

/// The request file.
pub const REQUEST_FILE: &str = "request.json";
/// The assessment file.
pub const ASSESSMENT_FILE: &str = "assessment.json";
/// The execution outcome file (per system).
pub const OUTCOME_FILE: &str = "outcome.json";

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

    /// Reads the request (its history replayed and checked).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Format`].
    pub fn load_request(&self) -> Result<DataSubjectRequest, Error> {
        self.load(REQUEST_FILE, "request.json")
    }

    /// Replaces the request file atomically.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save_request(&self, request: &DataSubjectRequest) -> Result<(), Error> {
        self.save(REQUEST_FILE, request, "write request.json")
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
