//! What the controller has established before an erasure is assessed: the
//! exemptions of GDPR Art. 17(3) it relies on, the German substitutes of
//! § 35 BDSG, and a Dutch destruction request (Art. 7:455 BW). Each is
//! stated for the whole subject or for one record; none is ever inferred.

use serde::{Deserialize, Serialize};

use crate::Citation;
use crate::erasure::Obstacle;
use crate::purpose::Purpose;
use crate::request::subjects::SystemName;
use crate::retention::DestructionRequest;
use crate::store::RecordId;

/// An exemption of Art. 17(3) that the controller has established.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "exemption", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Exemption {
    /// (b) a legal obligation to keep the data, under a statute outside the
    /// rule pack (the pack's own periods are applied without being told).
    LegalObligation {
        /// The statute.
        source: Citation,
    },
    /// (c) reasons of public interest in the area of public health
    /// (Art. 9(2)(h), (i), 9(3)).
    PublicHealth {
        /// The provision or the measure (an outbreak investigation order).
        source: Citation,
    },
    /// (d) archiving, scientific or historical research or statistics under
    /// Art. 89(1), where erasure would render impossible or seriously
    /// impair its objectives — the controller's documented assessment.
    Research {
        /// The research and where the assessment is documented (a protocol
        /// number, an ethics approval).
        source: Citation,
    },
    /// (e) the establishment, exercise or defence of legal claims.
    LegalClaims,
}

impl Exemption {
    /// The letter of Art. 17(3).
    pub fn citation(&self) -> Citation {
        Citation::from_static(match self {
            Self::LegalObligation { .. } => "GDPR Art. 17(3)(b)",
            Self::PublicHealth { .. } => "GDPR Art. 17(3)(c)",
            Self::Research { .. } => "GDPR Art. 17(3)(d), Art. 89(1)",
            Self::LegalClaims => "GDPR Art. 17(3)(e)",
        })
    }

    /// The purpose the kept record is restricted to.
    pub fn keeps_for(&self) -> Purpose {
        match self {
            Self::LegalObligation { .. } => Purpose::LegalObligation,
            Self::PublicHealth { .. } => Purpose::PublicHealth,
            Self::Research { .. } => Purpose::Research,
            Self::LegalClaims => Purpose::LegalClaims,
        }
    }

    /// The source the controller named, if any.
    pub fn source(&self) -> Option<&Citation> {
        match self {
            Self::LegalObligation { source }
            | Self::PublicHealth { source }
            | Self::Research { source } => Some(source),
            Self::LegalClaims => None,
        }
    }
}

/// What a finding covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Scope {
    /// Every record of the subject (the whole request).
    Subject,
    /// Every record of the subject on one system.
    System {
        /// The configured system.
        system: SystemName,
    },
    /// One record of one system.
    Record {
        /// The configured system.
        system: SystemName,
        /// The system's record id.
        record: RecordId,
    },
}

impl Scope {
    /// Whether the scope covers `record` on `system`.
    pub fn covers(&self, system: &SystemName, record: &RecordId) -> bool {
        match self {
            Self::Subject => true,
            Self::System { system: s } => s == system,
            Self::Record {
                system: s,
                record: r,
            } => s == system && r == record,
        }
    }
}

/// The controller's findings for one erasure assessment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    exemptions: Vec<(Scope, Exemption)>,
    obstacles: Vec<(Scope, Obstacle)>,
    destruction: Option<DestructionRequest>,
}

impl Findings {
    /// No findings: erasure where retention does not keep a record.
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds an Art. 17(3) exemption for `scope`.
    #[must_use]
    pub fn exempt(mut self, scope: Scope, exemption: Exemption) -> Self {
        self.exemptions.push((scope, exemption));
        self
    }

    /// Adds an obstacle of [`crate::erasure`] for `scope` (in Germany the
    /// § 35 BDSG substitutes; a statutory period outside the pack).
    #[must_use]
    pub fn obstacle(mut self, scope: Scope, obstacle: Obstacle) -> Self {
        self.obstacles.push((scope, obstacle));
        self
    }

    /// Treats the request also as a request to destroy the file under
    /// Art. 7:455 BW (the Netherlands): rules marked
    /// `destroyable_on_request` then yield unless Art. 7:455(2) BW or a
    /// statute keeps the record.
    #[must_use]
    pub fn with_destruction_request(mut self, request: DestructionRequest) -> Self {
        self.destruction = Some(request);
        self
    }

    /// The exemptions covering `record` on `system`.
    pub fn exemptions_for<'a>(
        &'a self,
        system: &'a SystemName,
        record: &'a RecordId,
    ) -> impl Iterator<Item = &'a Exemption> {
        covering(&self.exemptions, system, record)
    }

    /// The obstacles covering `record` on `system`.
    pub fn obstacles_for<'a>(
        &'a self,
        system: &'a SystemName,
        record: &'a RecordId,
    ) -> impl Iterator<Item = &'a Obstacle> {
        covering(&self.obstacles, system, record)
    }

    /// The destruction request, if the request is also one.
    pub fn destruction_request(&self) -> Option<&DestructionRequest> {
        self.destruction.as_ref()
    }
}

/// The findings of `list` whose scope covers `record` on `system`.
fn covering<'a, T>(
    list: &'a [(Scope, T)],
    system: &'a SystemName,
    record: &'a RecordId,
) -> impl Iterator<Item = &'a T> {
    list.iter()
        .filter(move |(s, _)| s.covers(system, record))
        .map(|(_, t)| t)
}
