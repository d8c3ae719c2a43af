//! Who processes data: actors, their roles, and the professional secrecy
//! that Art. 9(3) requires for processing under Art. 9(2)(h).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Citation, Error};

/// The identifier of a member of staff or a system account.
///
/// Staff identities are personal data too: `Debug` and `Display` redact them.
/// Use [`ActorId::expose`] where the identity is really needed (an audit
/// record, an Art. 15 report the caller asked staff names for).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActorId(String);

impl ActorId {
    /// Parses an actor identifier: 1 to 256 characters, no control characters.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] when empty, too long or containing control
    /// characters.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        if !Self::is_valid(&value) {
            return Err(Error::InvalidIdentifier {
                what: "actor id",
                rule: "1 to 256 characters, no control characters",
            });
        }
        Ok(Self(value))
    }

    /// Whether [`ActorId::new`] accepts `value` (the one copy of the rule,
    /// for decoders that check borrowed bytes without allocating).
    pub fn is_valid(value: &str) -> bool {
        !value.is_empty() && value.len() <= 256 && !value.chars().any(char::is_control)
    }

    /// The identifier itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ActorId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ActorId> for String {
    fn from(id: ActorId) -> Self {
        id.0
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActorId(<redacted>)")
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted actor>")
    }
}

/// The function in which an actor processes data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Role {
    /// A physician (including radiologists and other specialists).
    Physician,
    /// A nurse.
    Nurse,
    /// A radiographer / medical technologist.
    Radiographer,
    /// A pharmacist.
    Pharmacist,
    /// A therapist (physio-, psycho-, occupational therapy, …).
    Therapist,
    /// A medical assistant or clerk acting for a health professional.
    MedicalAssistant,
    /// A researcher.
    Researcher,
    /// Billing and administration staff (in Germany contributors under
    /// § 203(4) S. 1 StGB; officials under § 203(2) in public hospitals).
    Administration,
    /// The controller's data-protection officer (Art. 37–39).
    DataProtectionOfficer,
    /// An IT administrator or processor's technician.
    ItAdministrator,
    /// An automated system (a PACS, an interface engine, a scheduled job).
    System,
}

impl Role {
    /// Whether the role is a regulated health profession.
    pub const fn is_health_professional(self) -> bool {
        matches!(
            self,
            Self::Physician | Self::Nurse | Self::Radiographer | Self::Pharmacist | Self::Therapist
        )
    }
}

/// The secrecy duty an actor is under, which Art. 9(3) requires for
/// processing under Art. 9(2)(h).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Secrecy {
    /// No professional secrecy duty is known.
    None,
    /// The actor is a professional under an obligation of professional
    /// secrecy (e.g. `"§ 203(1) Nr. 1 StGB"` for physicians in Germany).
    Professional {
        /// The law that imposes the duty.
        source: Citation,
    },
    /// The actor acts under the responsibility of such a professional and is
    /// bound to secrecy as a contributor (e.g. `"§ 203(4) S. 1 StGB"` for
    /// assistants, billing staff and IT staff in Germany; § 203(3) StGB only
    /// permits the disclosure to them).
    UnderResponsibility {
        /// The law that imposes the duty.
        source: Citation,
    },
    /// Another person subject to an obligation of secrecy under Union or
    /// member-state law (Art. 9(3), second alternative).
    OtherLegalDuty {
        /// The law that imposes the duty.
        source: Citation,
    },
}

impl Secrecy {
    /// Whether this duty satisfies Art. 9(3).
    pub fn satisfies_art9_3(&self) -> bool {
        !matches!(self, Self::None)
    }

    /// The law that imposes the duty, if any.
    pub fn source(&self) -> Option<&Citation> {
        match self {
            Self::None => None,
            Self::Professional { source }
            | Self::UnderResponsibility { source }
            | Self::OtherLegalDuty { source } => Some(source),
        }
    }
}

/// Someone or something that processes data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Who it is (redacted in `Debug`).
    pub id: ActorId,
    /// In which function.
    pub role: Role,
    /// Under which secrecy duty.
    pub secrecy: Secrecy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_id_never_prints() {
        let id = ActorId::new("dr.canary-4711").unwrap();
        let actor = Actor {
            id: id.clone(),
            role: Role::Physician,
            secrecy: Secrecy::Professional {
                source: Citation::from_static("§ 203(1) Nr. 1 StGB"),
            },
        };
        assert!(!format!("{actor:?}").contains("canary"));
        assert!(!format!("{id}").contains("canary"));
        assert_eq!(id.expose(), "dr.canary-4711");
    }

    #[test]
    fn empty_actor_id_is_rejected_in_json() {
        let err = serde_json::from_str::<ActorId>("\"\"").unwrap_err();
        assert!(err.to_string().contains("actor id"), "{err}");
    }

    #[test]
    fn only_a_duty_satisfies_art9_3() {
        assert!(!Secrecy::None.satisfies_art9_3());
        assert!(
            Secrecy::UnderResponsibility {
                source: Citation::from_static("§ 203(4) S. 1 StGB")
            }
            .satisfies_art9_3()
        );
    }
}
