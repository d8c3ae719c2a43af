//! Records kept for as long as the subject's other records are: a pack's
//! `[[follows]]` tables. The patient's master data (the FHIR `Patient`
//! resource, category `demographics`) have no period of their own; they
//! are part of the record that the retained entries need to stay
//! attributable, so they stay while any other record of the subject on the
//! same system is kept, and are erasable once every other one is erased or
//! due. Applied per request by
//! [`assess_erasure`](crate::request::assess_erasure), which sees all of a
//! subject's records; a single-record [`RulePack::decide`] leaves such a
//! record to a person as before.
//!
//! ```toml
//! [[follows]]
//! id = "de-master-data"
//! category = "demographics"
//! source = "§ 630f(3) BGB"
//! reading = "…"          # the reading the rule rests on
//! description = "…"
//! ```
//!
//! [`RulePack::decide`]: crate::retention::RulePack::decide

use serde::Deserialize;

use crate::category::RecordCategory;
use crate::{Citation, Error};

/// A category kept while the subject's other records on the same system
/// are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follower {
    id: String,
    category: RecordCategory,
    source: Citation,
    reading: Option<String>,
    description: String,
}

impl Follower {
    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The category it covers.
    pub fn category(&self) -> RecordCategory {
        self.category
    }

    /// Its legal source.
    pub fn source(&self) -> &Citation {
        &self.source
    }

    /// The reading of the source it rests on, when it is one.
    pub fn reading(&self) -> Option<&str> {
        self.reading.as_deref()
    }

    /// What it says, in a line.
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// A `[[follows]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FollowsFile {
    id: String,
    category: RecordCategory,
    source: String,
    reading: Option<String>,
    #[serde(default)]
    description: String,
}

impl FollowsFile {
    pub(crate) fn into_follower(self) -> Result<Follower, Error> {
        if self.source.trim().is_empty() {
            return Err(Error::InvalidRulePack {
                detail: format!("follows rule {} has no source", self.id),
            });
        }
        Ok(Follower {
            id: self.id,
            category: self.category,
            source: Citation::new(self.source),
            reading: self.reading,
            description: self.description,
        })
    }
}

/// `followers` with `new` merged in: the same id replaces, a new id is
/// added; one follows rule per category.
pub(crate) fn merge(followers: &mut Vec<Follower>, new: Vec<FollowsFile>) -> Result<(), Error> {
    for f in new {
        let f = f.into_follower()?;
        match followers.iter_mut().find(|x| x.id == f.id) {
            Some(existing) => *existing = f,
            None => followers.push(f),
        }
    }
    for (i, f) in followers.iter().enumerate() {
        if followers[..i].iter().any(|g| g.category == f.category) {
            return Err(Error::InvalidRulePack {
                detail: format!(
                    "two follows rules cover category {}; give one",
                    f.category.name()
                ),
            });
        }
    }
    Ok(())
}
