//! The gateway's configuration file (TOML): where the upstream is, under
//! which public address the gateway answers, which OpenID provider issues
//! the tokens, how token claims map to actors and purposes, and which
//! processing activities requests are decided against. Unknown keys are
//! errors, so a typo cannot silently turn a check off.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::{Role, Secrecy};
use gdpr_core::purpose::Purpose;
use serde::Deserialize;

use crate::Error;
use crate::token::Algorithm;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// The DICOMweb root viewers use, e.g.
    /// `https://gateway.example.org/dicom-web`: every upstream URL in an
    /// answer is rewritten to start here, and requests are served below
    /// its path.
    pub public_base: String,
    /// The audit log's source system (`AuditSourceID`).
    pub source: String,
    /// The upstream's name: its entry in `systems_file`, and its name in
    /// the restriction register.
    pub system: String,
    /// The host's `systems.toml`, whose entry `system` (kind `dicomweb`,
    /// `orthanc` or `dcm4chee`) is the upstream; see [`crate::systems`].
    /// Without it, `upstream.url` names the upstream (the older form).
    #[serde(default)]
    pub systems_file: Option<PathBuf>,
    /// How the upstream is asked (timeouts, answer size; and, without
    /// `systems_file`, where it is).
    #[serde(default)]
    pub upstream: UpstreamConfig,
    /// The OpenID provider and the token rules.
    pub oidc: OidcConfig,
    /// Which claims name the actor and the role, and the purpose header.
    #[serde(default)]
    pub claims: ClaimNames,
    /// Role claim value → role, secrecy duty, pseudonymisation.
    pub roles: BTreeMap<String, RoleMapping>,
    /// Purpose-of-use code (e.g. v3 `TREAT`) → purpose.
    pub purposes: BTreeMap<String, Purpose>,
    /// The processing activities requests are decided against; the one
    /// whose purpose is the request's decides.
    #[serde(rename = "activity")]
    pub activities: Vec<ProcessingActivity>,
    /// Audit settings.
    #[serde(default)]
    pub audit: AuditConfig,
    /// On-the-fly pseudonymisation for research callers; without it they
    /// are refused (`pseudonymisation-unavailable`).
    #[serde(default)]
    pub pseudonymisation: Option<PseudonymisationConfig>,
    /// TLS on the gateway's own listener, and client certificates (mTLS).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Client certificate name (`dns:…` or `uri:…`, a subject alternative
    /// name) → actor, role and purpose, for callers authenticated by mTLS.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientMapping>,
}

/// TLS on the gateway's listener (rustls).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsConfig {
    /// The gateway's certificate chain (PEM, leaf first).
    pub cert_file: PathBuf,
    /// The gateway's private key (PEM, PKCS#8, SEC1 or PKCS#1; mode 0600).
    pub key_file: PathBuf,
    /// CA certificates (PEM) client certificates must chain to; with it
    /// the listener asks for client certificates (mTLS).
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// Whether a client certificate is required (default) or optional
    /// (then callers without one must bring a bearer token).
    #[serde(default = "yes")]
    pub require_client_certificate: bool,
}

/// What a client certificate stands for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientMapping {
    /// The actor id recorded in the audit log.
    pub actor: String,
    /// A role claim value: a key of `[roles]`.
    pub role: String,
    /// A purpose-of-use code (a key of `[purposes]`); without it the
    /// purpose must come from the allowed header.
    #[serde(default)]
    pub purpose: Option<String>,
}

fn yes() -> bool {
    true
}

/// On-the-fly pseudonymisation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PseudonymisationConfig {
    /// The project key file of the batch de-identifier (64 hex digits,
    /// mode 0600): the same key gives the same pseudonyms.
    pub key_file: PathBuf,
    /// Largest instance de-identified (one instance is held at a time).
    #[serde(default = "default_max_instance")]
    pub max_instance_bytes: usize,
}

fn default_max_instance() -> usize {
    512 * 1024 * 1024
}

/// The upstream DICOMweb server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UpstreamConfig {
    /// Its DICOMweb root, e.g. `http://127.0.0.1:8042/dicom-web/`
    /// (`https://` for anything but loopback), when no `systems_file` is
    /// given.
    #[serde(default)]
    pub url: Option<String>,
    /// HTTP Basic user, if the upstream needs one.
    #[serde(default)]
    pub username: Option<String>,
    /// File holding the Basic password (mode 0600).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Seconds to wait for a connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_seconds: u64,
    /// Seconds to wait for the next bytes of an answer.
    #[serde(default = "default_read_timeout")]
    pub read_timeout_seconds: u64,
    /// Largest JSON answer (QIDO, metadata) read to filter and rewrite.
    #[serde(default = "default_max_json")]
    pub max_json_bytes: usize,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            url: None,
            username: None,
            password_file: None,
            connect_timeout_seconds: default_connect_timeout(),
            read_timeout_seconds: default_read_timeout(),
            max_json_bytes: default_max_json(),
        }
    }
}

/// The OpenID provider and the token rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OidcConfig {
    /// The issuer (`iss`), whose discovery document names the JWKS.
    pub issuer: String,
    /// The audience (`aud`) tokens must name: this gateway.
    pub audience: String,
    /// The signature algorithms accepted (`none` and `HS*` are refused).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
    /// Shortest time between two JWKS fetches caused by unknown key ids.
    #[serde(default = "default_refresh")]
    pub jwks_min_refresh_seconds: u64,
}

/// Which claims carry what.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClaimNames {
    /// The claim naming the actor (default `sub`).
    #[serde(default = "default_actor_claim")]
    pub actor: String,
    /// The claim naming the role (default `gdpr_role`).
    #[serde(default = "default_role_claim")]
    pub role: String,
    /// A request header allowed to carry the purpose-of-use code when the
    /// token has none (none by default: the token must carry it).
    #[serde(default)]
    pub purpose_header: Option<String>,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            actor: default_actor_claim(),
            role: default_role_claim(),
            purpose_header: None,
        }
    }
}

/// What a role claim value means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RoleMapping {
    /// The role in gdpr-core's terms.
    pub role: Role,
    /// The secrecy duty people in this role are under.
    #[serde(default = "no_secrecy")]
    pub secrecy: Secrecy,
    /// Whether answers are pseudonymised for this role (research roles),
    /// whatever the activity.
    #[serde(default)]
    pub pseudonymise: bool,
}

/// Audit settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditConfig {
    /// Accesses of the same actor to the same study for the same purpose
    /// within this many seconds are one audit record with a count.
    #[serde(default = "default_window")]
    pub window_seconds: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            window_seconds: default_window(),
        }
    }
}

fn default_connect_timeout() -> u64 {
    10
}
fn default_read_timeout() -> u64 {
    60
}
fn default_max_json() -> usize {
    64 * 1024 * 1024
}
fn default_algorithms() -> Vec<Algorithm> {
    vec![Algorithm::Rs256]
}
fn default_leeway() -> u64 {
    30
}
fn default_refresh() -> u64 {
    10
}
fn default_actor_claim() -> String {
    "sub".into()
}
fn default_role_claim() -> String {
    "gdpr_role".into()
}
fn no_secrecy() -> Secrecy {
    Secrecy::None
}
fn default_window() -> u64 {
    60
}

impl GatewayConfig {
    /// Parses and checks a configuration file's text.
    ///
    /// # Errors
    /// [`Error::Config`] naming the wrong key (never a secret).
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        let config: Self =
            toml::from_str(text).map_err(|e| Error::config(e.message().to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), Error> {
        if self.oidc.algorithms.is_empty() {
            return Err(Error::config(
                "`oidc.algorithms` must name at least one algorithm",
            ));
        }
        if self.activities.is_empty() {
            return Err(Error::config("at least one [[activity]] is needed"));
        }
        match (&self.systems_file, &self.upstream) {
            (None, u) if u.url.is_none() => {
                return Err(Error::config(
                    "name the upstream: `systems_file` (with `system`) or `upstream.url`",
                ));
            }
            (Some(_), u)
                if u.url.is_some() || u.username.is_some() || u.password_file.is_some() =>
            {
                return Err(Error::config(
                    "with `systems_file` the upstream's URL and credentials come from its entry \
                     there: remove `upstream.url`, `upstream.username` and `upstream.password_file`",
                ));
            }
            _ => {}
        }
        if self.upstream.username.is_some() != self.upstream.password_file.is_some() {
            return Err(Error::config(
                "`upstream.username` and `upstream.password_file` go together",
            ));
        }
        url::Url::parse(&self.public_base)
            .map_err(|_| Error::config("`public_base` is not a URL (https://host/dicom-web)"))?;
        self.check_clients()
    }

    fn check_clients(&self) -> Result<(), Error> {
        for (name, client) in &self.clients {
            let named = |what: &str| Error::config(format!("[clients.\"{name}\"]: {what}"));
            if !(name.starts_with("dns:") || name.starts_with("uri:")) {
                return Err(named("the name is `dns:<SAN DNS name>` or `uri:<SAN URI>`"));
            }
            if !self.roles.contains_key(&client.role) {
                return Err(named("`role` is not a key of [roles]"));
            }
            if client
                .purpose
                .as_ref()
                .is_some_and(|p| !self.purposes.contains_key(p))
            {
                return Err(named("`purpose` is not a key of [purposes]"));
            }
        }
        if !self.clients.is_empty() && self.tls.as_ref().is_none_or(|t| t.client_ca_file.is_none())
        {
            return Err(Error::config(
                "[clients] needs `tls.client_ca_file` (client certificates are verified against it)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = r#"
public_base = "http://127.0.0.1:9000/dicom-web"
source = "gateway-1"
system = "pacs"

[upstream]
url = "http://127.0.0.1:8042/dicom-web/"

[oidc]
issuer = "http://127.0.0.1:9999"
audience = "urn:gdpr:gateway"

[roles.radiologist]
role = "physician"
secrecy = { kind = "professional", source = "§ 203(1) Nr. 1 StGB" }

[purposes]
TREAT = "diagnosis"

[[activity]]
name = "Radiology reporting"
purpose = "diagnosis"
categories = ["imaging-examination"]
identifiability = "identified"
basis = { kind = "special-category", art6 = "contract", art9 = "health-care" }
"#;

    #[test]
    fn sample_parses() {
        let c = GatewayConfig::from_toml(SAMPLE).unwrap();
        assert_eq!(c.oidc.algorithms, vec![Algorithm::Rs256]);
        assert_eq!(c.purposes["TREAT"], Purpose::Diagnosis);
        assert_eq!(c.audit.window_seconds, 60);
    }

    #[test]
    fn alg_none_and_hs_refused() {
        for alg in ["none", "HS256"] {
            let text = SAMPLE.replace(
                "audience = \"urn:gdpr:gateway\"",
                &format!("audience = \"urn:gdpr:gateway\"\nalgorithms = [\"{alg}\"]"),
            );
            assert!(GatewayConfig::from_toml(&text).is_err(), "{alg}");
        }
    }

    #[test]
    fn unknown_key_refused() {
        let text = SAMPLE.replace("system = \"pacs\"", "system = \"pacs\"\nsytem = 1");
        assert!(GatewayConfig::from_toml(&text).is_err());
    }
}
