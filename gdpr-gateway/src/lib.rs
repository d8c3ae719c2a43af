//! A purpose-checked, audited DICOMweb gateway (issue 16).
//!
//! Viewers such as OHIF talk DICOMweb (QIDO-RS, WADO-RS, STOW-RS) to the
//! gateway instead of the PACS. For every request the gateway
//!
//! 1. checks the path and the UID parameters (`..`, encoded slashes and
//!    non-UID characters are refused with 400 before anything is forwarded),
//! 2. verifies the caller's bearer JWT against the OpenID provider's JWKS
//!    (issuer, audience, expiry with leeway, an allow-list of algorithms)
//!    and maps its claims to an actor, a role, a secrecy duty and a purpose
//!    of use (IHE IUA `extensions.ihe_iua.purpose_of_use`, or an allowed
//!    header); no purpose is a 403,
//! 3. decides the access with `gdpr_core::authorization::authorize` against
//!    the configured processing activities, the subject's state and the
//!    restriction register (403 with reason codes only),
//! 4. records it in the audit log (coalesced per actor, study and purpose
//!    within a window; if the record cannot be written the request fails),
//! 5. forwards it to the one upstream, streaming bodies, and rewrites every
//!    upstream URL in JSON answers to the gateway's public base;
//! 6. for research callers (a role or activity that calls for pseudonyms,
//!    with a project key configured), answers with the batch
//!    de-identifier's keyed pseudonyms ([`pseudo`]), withholding instances
//!    whose pixels may show burned-in text. The pseudonym → original map
//!    this needs is a re-identification capability: docs/gateway.md.
//!
//! The service is a library so that a vendor can embed the router in its
//! own server; the `gdpr-gateway` binary is a thin host around it.
//!
//! ```no_run
//! use std::sync::Arc;
//! use gdpr_gateway::{Gateway, GatewayConfig, Parts};
//! use gdpr_gateway::subjects::FileSubjectStates;
//! use gdpr_request::register::FileRegister;
//!
//! # async fn run(audit: Arc<dyn gdpr_audit::AuditSink>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = GatewayConfig::from_toml(&std::fs::read_to_string("gateway.toml")?)?;
//! let parts = Parts::new(
//!     audit,
//!     Arc::new(FileSubjectStates::open("subjects.json".as_ref())?),
//!     Arc::new(FileRegister::open("register".as_ref())?),
//! );
//! let gateway = Gateway::new(config, parts)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! gdpr_gateway::serve::plain(listener, gateway.router(), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! gateway.flush().await?;
//! # Ok(()) }
//! ```

pub mod audit;
pub mod caller;
pub mod config;
pub mod decide;
mod error;
pub mod log;
mod proxy;
pub mod pseudo;
pub mod rewrite;
pub mod route;
pub mod serve;
pub mod subjects;
pub mod systems;
pub mod tls;
pub mod token;
pub mod upstream;

use std::sync::Arc;
use std::time::Duration;

use gdpr_audit::AuditSink;
use gdpr_audit::label::SourceSystem;
use gdpr_core::request::SystemName;
use gdpr_request::register::RestrictionRegister;

pub use config::GatewayConfig;
pub use error::Error;
pub use proxy::Refusal;

use crate::audit::Recorder;
use crate::log::{Clock, LogSink, StderrLog, SystemClock};
use crate::rewrite::Rewriter;
use crate::subjects::SubjectStates;
use crate::token::Jwks;
use crate::upstream::Upstream;

/// What the host gives the gateway besides its configuration.
#[non_exhaustive]
pub struct Parts {
    /// Where audit records go (an `AuditLog`).
    pub audit: Arc<dyn AuditSink>,
    /// Subjects' consents, restrictions and objections.
    pub subjects: Arc<dyn SubjectStates>,
    /// The restriction register of the request workflow.
    pub register: Arc<dyn RestrictionRegister>,
    /// The time decisions are made for (the system clock by default).
    pub clock: Arc<dyn Clock>,
    /// Where log lines go (standard error by default).
    pub log: Arc<dyn LogSink>,
    /// Where the subject-wide entries of the restriction register are
    /// found (the audit log: [`decide::SubjectRecords`]); none by default,
    /// and then only per-study entries are honoured.
    pub subject_records: Option<Arc<dyn decide::SubjectRecords>>,
}

impl Parts {
    /// The parts with the system clock and log lines on standard error.
    pub fn new(
        audit: Arc<dyn AuditSink>,
        subjects: Arc<dyn SubjectStates>,
        register: Arc<dyn RestrictionRegister>,
    ) -> Self {
        Self {
            audit,
            subjects,
            register,
            clock: Arc::new(SystemClock),
            log: Arc::new(StderrLog),
            subject_records: None,
        }
    }

    /// The same parts honouring the subject-wide entries of the
    /// restriction register, found through `records` (the audit log the
    /// request workflow writes to, whose key store names each subject).
    pub fn with_subject_records(mut self, records: Arc<dyn decide::SubjectRecords>) -> Self {
        self.subject_records = Some(records);
        self
    }

    /// The same parts with another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same parts with another log.
    pub fn with_log(mut self, log: Arc<dyn LogSink>) -> Self {
        self.log = log;
        self
    }
}

/// Everything a request needs, shared by all of them.
pub(crate) struct Inner {
    pub(crate) config: GatewayConfig,
    pub(crate) prefix: String,
    pub(crate) system: SystemName,
    pub(crate) upstream: Upstream,
    pub(crate) jwks: Jwks,
    pub(crate) recorder: Recorder,
    pub(crate) rewriter: Rewriter,
    pub(crate) pseudonyms: Option<Arc<pseudo::Pseudonyms>>,
    pub(crate) subjects: Arc<dyn SubjectStates>,
    pub(crate) register: Arc<dyn RestrictionRegister>,
    pub(crate) subject_records: Option<Arc<dyn decide::SubjectRecords>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) log: Arc<dyn LogSink>,
}

/// The gateway: build it once, serve its [`Gateway::router`].
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Builds the gateway (no network access until the first request).
    ///
    /// # Errors
    /// [`Error::Config`] for a URL the TLS policy refuses, an unreadable
    /// upstream password file, or a bad source or system name.
    pub fn new(config: GatewayConfig, parts: Parts) -> Result<Self, Error> {
        let public = url::Url::parse(&config.public_base)
            .map_err(|_| Error::config("`public_base` is not a URL"))?;
        let prefix = public.path().trim_end_matches('/').to_owned();
        let upstream = Upstream::new(&config)?;
        let rewriter = Rewriter::new(upstream.base().as_str(), &config.public_base);
        let http = upstream::client(Duration::from_secs(10), Duration::from_secs(30))?;
        let issuer_options = gdpr_connect::HttpOptions::default();
        gdpr_connect::checked_url(&config.oidc.issuer, &issuer_options)
            .map_err(|e| Error::config(format!("oidc.issuer: {e}")))?;
        let jwks = Jwks::new(config.oidc.clone(), http);
        let source = SourceSystem::new(config.source.clone())
            .map_err(|_| Error::config("`source` is not a valid source system name"))?;
        let system = SystemName::new(config.system.clone())
            .map_err(|_| Error::config("`system` is not a valid system name"))?;
        let window = Duration::from_secs(config.audit.window_seconds);
        let recorder = Recorder::new(parts.audit, source, window);
        let pseudonyms = match &config.pseudonymisation {
            Some(p) => {
                let key = gdpr_dicom::deid::ProjectKey::from_file(&p.key_file)
                    .map_err(|e| Error::config(format!("pseudonymisation.key_file: {e}")))?;
                Some(Arc::new(pseudo::Pseudonyms::new(&key)))
            }
            None => None,
        };
        let inner = Inner {
            pseudonyms,
            config,
            prefix,
            system,
            upstream,
            jwks,
            recorder,
            rewriter,
            subjects: parts.subjects,
            register: parts.register,
            subject_records: parts.subject_records,
            clock: parts.clock,
            log: parts.log,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The axum router serving every request under the public base's path.
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .fallback(proxy::handle)
            .with_state(Arc::clone(&self.inner))
    }

    /// Writes the count records of the open audit windows (call on
    /// shutdown).
    ///
    /// # Errors
    /// [`audit::AuditFailed`] when one could not be written.
    pub async fn flush(&self) -> Result<(), audit::AuditFailed> {
        self.inner.recorder.flush().await
    }
}
