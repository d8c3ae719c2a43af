//! Who asks and why: a verified token's claims mapped by configuration to
//! an actor (id, role, secrecy duty) and a purpose of use, from the IHE IUA
//! claim `extensions.ihe_iua.purpose_of_use` (SMART defines no such claim)
//! or, where configured, a request header.

use gdpr_core::actor::{Actor, ActorId};
use gdpr_core::purpose::Purpose;
use serde_json::{Map, Value};

use crate::config::GatewayConfig;

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who (id, role, secrecy duty).
    pub actor: Actor,
    /// Why.
    pub purpose: Purpose,
    /// Whether the role's answers are pseudonymised.
    pub pseudonymise_role: bool,
}

/// Why a caller could not be identified (403 with the code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallerRefusal {
    /// The actor claim is missing or not a valid actor id.
    NoActor,
    /// The role claim is missing or has no mapping.
    UnknownRole,
    /// Neither the token nor an allowed header gives a purpose.
    NoPurpose,
    /// The purpose code has no mapping.
    UnknownPurpose,
    /// Several purposes, or token and header disagree.
    AmbiguousPurpose,
    /// A client certificate none of whose names is in `[clients]`.
    UnknownClient,
}

impl CallerRefusal {
    /// The stable code in the answer.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NoActor => "no-actor",
            Self::UnknownRole => "unknown-role",
            Self::NoPurpose => "no-purpose",
            Self::UnknownPurpose => "unknown-purpose",
            Self::AmbiguousPurpose => "ambiguous-purpose",
            Self::UnknownClient => "unknown-client-certificate",
        }
    }
}

/// The purpose-of-use codes in the IUA claim: a coding `{code}`, a list of
/// them, or a plain string.
fn token_purposes(claims: &Map<String, Value>) -> Vec<String> {
    let pou = claims
        .get("extensions")
        .and_then(|e| e.get("ihe_iua"))
        .and_then(|i| i.get("purpose_of_use"));
    let code = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("code").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    match pou {
        Some(Value::Array(list)) => list.iter().filter_map(code).collect(),
        Some(v) => code(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Maps verified `claims` (and the purpose header's value, if the
/// configuration allows one) to a [`Caller`].
///
/// # Errors
/// A [`CallerRefusal`].
pub fn identify(
    config: &GatewayConfig,
    claims: &Map<String, Value>,
    header_purpose: Option<&str>,
) -> Result<Caller, CallerRefusal> {
    let id = claims
        .get(&config.claims.actor)
        .and_then(Value::as_str)
        .and_then(|s| ActorId::new(s).ok())
        .ok_or(CallerRefusal::NoActor)?;
    let mapping = claims
        .get(&config.claims.role)
        .and_then(Value::as_str)
        .and_then(|r| config.roles.get(r))
        .ok_or(CallerRefusal::UnknownRole)?;
    let from_token = token_purposes(claims);
    let header = header_purpose.filter(|_| config.claims.purpose_header.is_some());
    let code = match (from_token.as_slice(), header) {
        ([], None) => return Err(CallerRefusal::NoPurpose),
        ([], Some(h)) => h.trim().to_owned(),
        ([one], None) => one.clone(),
        ([one], Some(h)) if one == h.trim() => one.clone(),
        _ => return Err(CallerRefusal::AmbiguousPurpose),
    };
    let purpose = *config
        .purposes
        .get(&code)
        .ok_or(CallerRefusal::UnknownPurpose)?;
    Ok(Caller {
        actor: Actor {
            id,
            role: mapping.role,
            secrecy: mapping.secrecy.clone(),
        },
        purpose,
        pseudonymise_role: mapping.pseudonymise,
    })
}

/// Maps a verified client certificate (mTLS) to a [`Caller`]: the first
/// of its names with a `[clients]` entry gives the actor, the role claim
/// value and the purpose code, which are then mapped exactly as a token's
/// claims are (so `[roles]` and `[purposes]` apply alike).
///
/// # Errors
/// [`CallerRefusal::UnknownClient`] when no name is configured; else as
/// [`identify`].
pub fn identify_client(
    config: &GatewayConfig,
    certificate: &crate::tls::ClientCertificate,
    header_purpose: Option<&str>,
) -> Result<Caller, CallerRefusal> {
    let mapping = certificate
        .names()
        .iter()
        .find_map(|n| config.clients.get(n))
        .ok_or(CallerRefusal::UnknownClient)?;
    let mut claims = Map::new();
    claims.insert(
        config.claims.actor.clone(),
        Value::String(mapping.actor.clone()),
    );
    claims.insert(
        config.claims.role.clone(),
        Value::String(mapping.role.clone()),
    );
    if let Some(purpose) = &mapping.purpose {
        claims.insert(
            "extensions".into(),
            serde_json::json!({"ihe_iua": {"purpose_of_use": purpose}}),
        );
    }
    identify(config, &claims, header_purpose)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewayConfig;

    fn config(header: bool) -> GatewayConfig {
        let mut c = GatewayConfig::from_toml(crate::config::tests::SAMPLE).unwrap();
        if header {
            c.claims.purpose_header = Some("x-purpose-of-use".into());
        }
        c
    }

    fn claims(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn purpose_from_token_or_allowed_header() {
        let with = claims(
            r#"{"sub":"dr-1","gdpr_role":"radiologist","extensions":{"ihe_iua":{"purpose_of_use":{"system":"x","code":"TREAT"}}}}"#,
        );
        let c = identify(&config(false), &with, None).unwrap();
        assert_eq!(c.purpose, Purpose::Diagnosis);
        assert!(c.actor.secrecy.satisfies_art9_3());
        let without = claims(r#"{"sub":"dr-1","gdpr_role":"radiologist"}"#);
        assert_eq!(
            identify(&config(false), &without, Some("TREAT")).err(),
            Some(CallerRefusal::NoPurpose)
        );
        assert_eq!(
            identify(&config(true), &without, Some("TREAT"))
                .unwrap()
                .purpose,
            Purpose::Diagnosis
        );
        assert_eq!(
            identify(&config(true), &with, Some("HRESCH")).err(),
            Some(CallerRefusal::AmbiguousPurpose)
        );
        assert_eq!(
            identify(&config(true), &without, Some("XYZ")).err(),
            Some(CallerRefusal::UnknownPurpose)
        );
    }

    #[test]
    fn role_and_actor_required() {
        let no_role =
            claims(r#"{"sub":"dr-1","extensions":{"ihe_iua":{"purpose_of_use":"TREAT"}}}"#);
        assert_eq!(
            identify(&config(false), &no_role, None).err(),
            Some(CallerRefusal::UnknownRole)
        );
        let no_sub = claims(
            r#"{"gdpr_role":"radiologist","extensions":{"ihe_iua":{"purpose_of_use":"TREAT"}}}"#,
        );
        assert_eq!(
            identify(&config(false), &no_sub, None).err(),
            Some(CallerRefusal::NoActor)
        );
    }
}
