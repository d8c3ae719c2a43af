//! The controller's findings as a file (`gdpr request assess --findings`):
//! what the law leaves to a person — GDPR Art. 17(3)(c) public health,
//! (d) research under Art. 89(1), (e) legal claims, a statute outside the
//! rule pack (b), and in Germany the § 35(1)–(3) BDSG substitutes — each
//! with its scope, who made it and why.
//!
//! ```toml
//! version = 1
//!
//! [[finding]]
//! id = "outbreak-2026-17"        # names the finding in errors and the certificate
//! scope = "record"               # "subject" (the whole request), "system" or "record"
//! system = "pacs"                # for "system" and "record"
//! record = "study-…"             # for "record": the id as `assess` lists it
//! ground = "public-health"       # see [`FindingGround`]
//! source = "IfSG § 25, order 2026-17"  # the measure, protocol, statute, by-law
//! by = "dpo-1"                   # who made the finding
//! reason = "free text"           # sealed; never printed or logged
//! ```
//!
//! The reason may hold health data: `Debug` never shows it, errors never
//! quote it (nor any value of the file), and [`FindingReason::expose`] is
//! the only way to read it (the executor seals it under the request key).

use std::fmt;

use serde::Deserialize;

use crate::Citation;
use crate::actor::ActorId;
use crate::erasure::Obstacle;
use crate::request::error::RequestError;
use crate::request::findings::{Exemption, Findings, Scope};
use crate::request::subjects::SystemName;
use crate::store::RecordId;

/// At most this many findings in one file.
pub const MAX_FINDINGS: usize = 10_000;
/// At most this many bytes in one reason.
pub const MAX_REASON_BYTES: usize = 8 * 1024;
/// At most this many bytes in one source.
const MAX_SOURCE_BYTES: usize = 300;

/// A finding's name in its file: 1 to 64 of `A-Z a-z 0-9 . _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FindingId(String);

impl FindingId {
    /// Checks `value`.
    ///
    /// # Errors
    /// [`RequestError::InvalidFindings`] when it breaks the rule.
    pub fn new(value: impl Into<String>) -> Result<Self, RequestError> {
        let value = value.into();
        let ok = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(value))
        } else {
            Err(invalid(
                "an `id` breaks its rule (1 to 64 of A-Z a-z 0-9 . _ -)".into(),
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FindingId {
    type Error = RequestError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<FindingId> for String {
    fn from(id: FindingId) -> Self {
        id.0
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ground of a finding: a closed list, each mapped to the exemption of
/// GDPR Art. 17(3) or the obstacle of [`crate::erasure`] it establishes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindingGround {
    /// Art. 17(3)(c): public interest in the area of public health; the
    /// source names the provision or the measure.
    PublicHealth {
        /// The provision or measure.
        source: Citation,
    },
    /// Art. 17(3)(d) with Art. 89(1): erasure would render impossible or
    /// seriously impair the research; the source names the protocol or the
    /// ethics approval where that assessment is documented.
    Research {
        /// The research and its documented assessment.
        source: Citation,
    },
    /// Art. 17(3)(e): the establishment, exercise or defence of legal claims.
    LegalClaims,
    /// Art. 17(3)(b): a statute outside the rule pack keeps the data.
    Statute {
        /// The statute.
        source: Citation,
    },
    /// § 35(1) BDSG: a non-automated archive where erasure is impossible or
    /// disproportionate and the subject's interest in it is low.
    NonAutomatedArchive,
    /// § 35(2) BDSG: erasure would harm the subject's legitimate interests.
    SubjectInterests,
    /// § 35(3) BDSG: a by-law or contractual retention period.
    BylawOrContract {
        /// The by-law or contract.
        source: Citation,
    },
}

impl FindingGround {
    /// The names in the file, in the order of the variants.
    pub const NAMES: [&'static str; 7] = [
        "public-health",
        "research",
        "legal-claims",
        "statute",
        "non-automated-archive",
        "subject-interests",
        "bylaw-or-contract",
    ];

    /// The stable name, as in the file.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::PublicHealth { .. } => "public-health",
            Self::Research { .. } => "research",
            Self::LegalClaims => "legal-claims",
            Self::Statute { .. } => "statute",
            Self::NonAutomatedArchive => "non-automated-archive",
            Self::SubjectInterests => "subject-interests",
            Self::BylawOrContract { .. } => "bylaw-or-contract",
        }
    }

    /// The provision the ground rests on.
    pub const fn citation(&self) -> Citation {
        Citation::from_static(match self {
            Self::PublicHealth { .. } => "GDPR Art. 17(3)(c)",
            Self::Research { .. } => "GDPR Art. 17(3)(d), Art. 89(1)",
            Self::LegalClaims => "GDPR Art. 17(3)(e)",
            Self::Statute { .. } => "GDPR Art. 17(3)(b)",
            Self::NonAutomatedArchive => "§ 35(1) BDSG",
            Self::SubjectInterests => "§ 35(2) BDSG",
            Self::BylawOrContract { .. } => "§ 35(3) BDSG",
        })
    }

    /// The source the controller named, if the ground takes one.
    pub fn source(&self) -> Option<&Citation> {
        match self {
            Self::PublicHealth { source }
            | Self::Research { source }
            | Self::Statute { source }
            | Self::BylawOrContract { source } => Some(source),
            Self::LegalClaims | Self::NonAutomatedArchive | Self::SubjectInterests => None,
        }
    }

    /// Whether the ground is German law (§ 35 BDSG) and so applies only
    /// under a German rule pack.
    pub const fn is_german(&self) -> bool {
        matches!(
            self,
            Self::NonAutomatedArchive | Self::SubjectInterests | Self::BylawOrContract { .. }
        )
    }

    fn parse(name: &str, source: Option<Citation>) -> Result<Self, String> {
        let need = |source: Option<Citation>| {
            source.ok_or_else(|| {
                format!("ground `{name}` needs a `source` (the provision, measure or document)")
            })
        };
        let ground = match name {
            "public-health" => Self::PublicHealth {
                source: need(source)?,
            },
            "research" => Self::Research {
                source: need(source)?,
            },
            "statute" => Self::Statute {
                source: need(source)?,
            },
            "bylaw-or-contract" => Self::BylawOrContract {
                source: need(source)?,
            },
            "legal-claims" | "non-automated-archive" | "subject-interests" => {
                if source.is_some() {
                    return Err(format!(
                        "ground `{name}` takes no `source`; put the details in `reason`"
                    ));
                }
                match name {
                    "legal-claims" => Self::LegalClaims,
                    "non-automated-archive" => Self::NonAutomatedArchive,
                    _ => Self::SubjectInterests,
                }
            }
            _ => {
                return Err(format!("`ground` is not one of {}", Self::NAMES.join(", ")));
            }
        };
        Ok(ground)
    }

    /// `findings` with this ground added for `scope`.
    fn add_to(&self, scope: Scope, findings: Findings) -> Findings {
        match self.clone() {
            Self::PublicHealth { source } => {
                findings.exempt(scope, Exemption::PublicHealth { source })
            }
            Self::Research { source } => findings.exempt(scope, Exemption::Research { source }),
            Self::LegalClaims => findings.exempt(scope, Exemption::LegalClaims),
            Self::Statute { source } => {
                findings.exempt(scope, Exemption::LegalObligation { source })
            }
            Self::NonAutomatedArchive => {
                findings.obstacle(scope, Obstacle::DisproportionateNonAutomated)
            }
            Self::SubjectInterests => findings.obstacle(scope, Obstacle::HarmsSubjectInterests),
            Self::BylawOrContract { source } => {
                findings.obstacle(scope, Obstacle::BylawOrContractualRetention { source })
            }
        }
    }
}

/// Why the controller made a finding, in its own words. May hold health
/// data: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct FindingReason(String);

impl FindingReason {
    pub(crate) fn new(text: String) -> Self {
        Self(text)
    }

    /// The text (to seal it; never to print or log it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for FindingReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FindingReason(<redacted, {} bytes>)", self.0.len())
    }
}

/// One finding of the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ControllerFinding {
    /// Its name in the file.
    pub id: FindingId,
    /// What it covers.
    pub scope: Scope,
    /// What the controller established.
    pub ground: FindingGround,
    /// Who made it.
    pub by: ActorId,
    /// Why (sealed; never printed).
    pub reason: FindingReason,
}

/// A findings file read whole and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FindingsFile {
    /// The findings, in the file's order.
    pub findings: Vec<ControllerFinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: u32,
    #[serde(default)]
    finding: Vec<RawFinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    id: String,
    scope: String,
    system: Option<String>,
    record: Option<String>,
    ground: String,
    source: Option<String>,
    by: String,
    reason: String,
}

fn invalid(detail: String) -> RequestError {
    RequestError::InvalidFindings { detail }
}

impl FindingsFile {
    /// Reads a findings file (format in the module docs).
    ///
    /// # Errors
    /// [`RequestError::InvalidFindings`] naming the line or the finding and
    /// what is wrong, never a value of the file;
    /// [`RequestError::UnsupportedVersion`].
    pub fn from_toml(text: &str) -> Result<Self, RequestError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| invalid(crate::redact::toml_message(text, &e)))?;
        if raw.version != 1 {
            return Err(RequestError::UnsupportedVersion {
                what: "findings file",
                found: raw.version,
            });
        }
        if raw.finding.len() > MAX_FINDINGS {
            return Err(invalid(format!("more than {MAX_FINDINGS} findings")));
        }
        let mut findings = Vec::with_capacity(raw.finding.len());
        for (n, mut f) in raw.finding.into_iter().enumerate() {
            let id = FindingId::new(std::mem::take(&mut f.id)).map_err(|_| {
                invalid(format!(
                    "finding #{}: `id` breaks its rule (1 to 64 of A-Z a-z 0-9 . _ -)",
                    n + 1
                ))
            })?;
            if findings.iter().any(|g: &ControllerFinding| g.id == id) {
                return Err(invalid(format!("finding {id}: the `id` is given twice")));
            }
            let finding = f
                .into_finding(id.clone())
                .map_err(|why| invalid(format!("finding {id}: {why}")))?;
            findings.push(finding);
        }
        Ok(Self { findings })
    }

    /// The findings as [`assess_erasure`](crate::request::assess_erasure)
    /// takes them.
    pub fn to_findings(&self) -> Findings {
        self.findings.iter().fold(Findings::none(), |acc, f| {
            f.ground.add_to(f.scope.clone(), acc)
        })
    }

    /// Checks every finding against what exists: its system among
    /// `systems` (the request's), its record among `records` (those found),
    /// and a § 35 BDSG ground only under a German pack (`jurisdiction`,
    /// `DE` or `DE-…`).
    ///
    /// # Errors
    /// [`RequestError::FindingDoesNotApply`] naming the first finding that
    /// does not.
    pub fn check_scopes(
        &self,
        systems: &[&SystemName],
        records: impl Fn(&SystemName, &RecordId) -> bool,
        jurisdiction: &str,
    ) -> Result<(), RequestError> {
        let german = jurisdiction == "DE" || jurisdiction.starts_with("DE-");
        for f in &self.findings {
            let fail = |why: String| RequestError::FindingDoesNotApply {
                finding: f.id.to_string(),
                why,
            };
            if f.ground.is_german() && !german {
                return Err(fail(format!(
                    "{} is German law; the rule pack is {jurisdiction}",
                    f.ground.citation()
                )));
            }
            match &f.scope {
                Scope::Record { system, .. } | Scope::System { system }
                    if !systems.contains(&system) =>
                {
                    return Err(fail(format!("the request has no system {system}")));
                }
                Scope::Record { system, record } if !records(system, record) => {
                    return Err(fail(format!(
                        "system {system} holds no record {record} of the subject"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl RawFinding {
    fn into_finding(self, id: FindingId) -> Result<ControllerFinding, String> {
        let system = self
            .system
            .map(SystemName::new)
            .transpose()
            .map_err(|_| "`system` breaks its rule (1 to 64 of a-z 0-9 _ -)".to_owned())?;
        let record = self
            .record
            .map(RecordId::new)
            .transpose()
            .map_err(|_| "`record` is not a record id as `assess` lists it".to_owned())?;
        let scope = match (self.scope.as_str(), system, record) {
            ("subject", None, None) => Scope::Subject,
            ("system", Some(system), None) => Scope::System { system },
            ("record", Some(system), Some(record)) => Scope::Record { system, record },
            ("subject" | "system" | "record", _, _) => {
                return Err(format!(
                    "scope `{}` takes {}",
                    self.scope,
                    match self.scope.as_str() {
                        "subject" => "neither `system` nor `record`",
                        "system" => "`system` and no `record`",
                        _ => "`system` and `record`",
                    }
                ));
            }
            _ => return Err("`scope` is one of subject, system, record".into()),
        };
        let source = self
            .source
            .map(|s| {
                let ok = !s.trim().is_empty()
                    && s.len() <= MAX_SOURCE_BYTES
                    && !s.chars().any(char::is_control);
                ok.then(|| Citation::new(s)).ok_or_else(|| {
                    format!("`source` must be 1 to {MAX_SOURCE_BYTES} bytes on one line")
                })
            })
            .transpose()?;
        let ground = FindingGround::parse(&self.ground, source)?;
        let by = ActorId::new(self.by).map_err(|_| "`by` is not an actor id".to_owned())?;
        if self.reason.trim().is_empty() || self.reason.len() > MAX_REASON_BYTES {
            return Err(format!(
                "`reason` must be given, at most {MAX_REASON_BYTES} bytes"
            ));
        }
        Ok(ControllerFinding {
            id,
            scope,
            ground,
            by,
            reason: FindingReason(self.reason),
        })
    }
}
