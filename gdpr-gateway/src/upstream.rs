//! The upstream DICOMweb server: one reqwest client (rustls, the TLS
//! policy of gdpr-connect: `https://`, or `http://` to loopback only),
//! optional HTTP Basic credentials, and the study → patient look-up the
//! decisions need (cached for a short time, so a viewer fetching frames
//! does not cause one search per frame).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use gdpr_core::store::StudyUid;
use gdpr_core::subject::PatientId;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::Error;
use crate::config::{GatewayConfig, UpstreamConfig};
use crate::systems::Target;

/// How the upstream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamFailure {
    /// No connection (down, refused).
    Unreachable,
    /// It did not answer in time.
    Timeout,
    /// It answered 5xx.
    ServerError,
    /// It answered something the gateway cannot read.
    Malformed,
}

impl UpstreamFailure {
    /// The stable code in the answer.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Unreachable => "upstream-unreachable",
            Self::Timeout => "upstream-timeout",
            Self::ServerError => "upstream-error",
            Self::Malformed => "upstream-malformed",
        }
    }

    pub(crate) fn of(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else if e.is_connect() {
            Self::Unreachable
        } else {
            Self::Malformed
        }
    }
}

/// The upstream server.
pub struct Upstream {
    http: reqwest::Client,
    base: url::Url,
    basic: Option<SecretString>,
    studies: Mutex<HashMap<String, (Option<PatientId>, Instant)>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("host", &self.base.host_str())
            .finish_non_exhaustive()
    }
}

/// How long a study's patient is remembered.
const STUDY_TTL: Duration = Duration::from_secs(30);
const STUDY_CACHE_MAX: usize = 10_000;

impl Upstream {
    /// Connects (lazily) to the configured upstream: the entry `system`
    /// of `systems_file`, or `upstream.url` with its Basic credentials.
    ///
    /// # Errors
    /// [`Error::Config`] for a URL the TLS policy refuses, an unreadable
    /// password file or CA file, or an unusable systems entry.
    pub fn new(config: &GatewayConfig) -> Result<Self, Error> {
        let target = match (&config.systems_file, &config.upstream.url) {
            (Some(file), _) => crate::systems::target(file, &config.system)?,
            (None, Some(url)) => legacy_target(url, &config.upstream)?,
            (None, None) => return Err(Error::config("no upstream configured")),
        };
        let base = gdpr_connect::checked_base_url(&target.url, &target.options)
            .map_err(|e| Error::config(format!("upstream url: {e}")))?;
        let upstream = &config.upstream;
        let http = client_with_ca(
            Duration::from_secs(upstream.connect_timeout_seconds),
            Duration::from_secs(upstream.read_timeout_seconds),
            target.options.ca_file.as_deref(),
        )?;
        Ok(Self {
            http,
            base,
            basic: target.authorization,
            studies: Mutex::new(HashMap::new()),
        })
    }

    /// The upstream's DICOMweb root (with a trailing `/`).
    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// A request to `segments` below the root with `query`.
    pub fn request(
        &self,
        method: reqwest::Method,
        segments: &[String],
        query: &[(String, String)],
    ) -> reqwest::RequestBuilder {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut builder = self.http.request(method, url);
        if let Some(basic) = &self.basic
            && let Ok(mut value) = HeaderValue::from_str(basic.expose_secret())
        {
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        builder
    }

    /// The patient of `study` as the upstream holds it (`None`: no such
    /// study, or it names no usable patient).
    ///
    /// # Errors
    /// An [`UpstreamFailure`].
    pub async fn patient_of(&self, study: &StudyUid) -> Result<Option<PatientId>, UpstreamFailure> {
        if let Some(found) = self.cached(study) {
            return Ok(found);
        }
        let query = [
            ("StudyInstanceUID".to_owned(), study.expose().to_owned()),
            ("includefield".to_owned(), "00100020".to_owned()),
            ("includefield".to_owned(), "00100021".to_owned()),
        ];
        let answer = self
            .request(reqwest::Method::GET, &["studies".to_owned()], &query)
            .header("accept", "application/dicom+json")
            .send()
            .await
            .map_err(|e| UpstreamFailure::of(&e))?;
        let status = answer.status();
        if status.is_server_error() {
            return Err(UpstreamFailure::ServerError);
        }
        let results: Vec<Value> = if status.as_u16() == 204 {
            Vec::new()
        } else if status.is_success() {
            let bytes = answer.bytes().await.map_err(|e| UpstreamFailure::of(&e))?;
            serde_json::from_slice(&bytes).map_err(|_| UpstreamFailure::Malformed)?
        } else {
            return Err(UpstreamFailure::Malformed);
        };
        // A search is a hint: only an exact UID match counts, and exactly one.
        let matching: Vec<&Value> = results
            .iter()
            .filter(|r| first_string(r, "0020000D") == Some(study.expose()))
            .collect();
        let patient = match matching.as_slice() {
            [one] => patient_of_entry(one),
            _ => None,
        };
        self.remember(study, patient.clone());
        Ok(patient)
    }

    fn cached(&self, study: &StudyUid) -> Option<Option<PatientId>> {
        let map = self
            .studies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(study.expose())
            .filter(|(_, at)| at.elapsed() < STUDY_TTL)
            .map(|(p, _)| p.clone())
    }

    fn remember(&self, study: &StudyUid, patient: Option<PatientId>) {
        let mut map = self
            .studies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= STUDY_CACHE_MAX {
            map.clear();
        }
        map.insert(study.expose().to_owned(), (patient, Instant::now()));
    }
}

/// The older form: `upstream.url` with `username` and `password_file`.
fn legacy_target(url: &str, config: &UpstreamConfig) -> Result<Target, Error> {
    let authorization = match (&config.username, &config.password_file) {
        (Some(user), Some(file)) => {
            let password = gdpr_connect::SecretSource::File(file.clone())
                .load()
                .map_err(|e| Error::config(format!("upstream.password_file: {e}")))?;
            let pair = format!("{user}:{}", password.expose_secret());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            Some(SecretString::from(format!("Basic {encoded}")))
        }
        _ => None,
    };
    Ok(Target {
        url: url.to_owned(),
        options: gdpr_connect::HttpOptions::default(),
        authorization,
    })
}

/// A reqwest client with rustls and no redirects.
pub(crate) fn client(connect: Duration, read: Duration) -> Result<reqwest::Client, Error> {
    client_with_ca(connect, read, None)
}

/// A reqwest client with rustls, no redirects, and `ca_file`'s
/// certificates trusted besides the system's.
fn client_with_ca(
    connect: Duration,
    read: Duration,
    ca_file: Option<&std::path::Path>,
) -> Result<reqwest::Client, Error> {
    // rustls needs a process-wide crypto provider; installing fails only
    // when one is installed already, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect)
        .read_timeout(read)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("gdpr-gateway/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let pem =
            gdpr_connect::read_regular_file(path, 1 << 20, "the CA file", "fix `tls_ca_file`")
                .map_err(|e| Error::config(format!("tls_ca_file: {e}")))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::config("tls_ca_file: holds no PEM certificate"))?;
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|_| Error::config("cannot build the HTTP client"))
}

/// The first string value of attribute `tag` in a DICOM JSON object.
pub(crate) fn first_string<'a>(entry: &'a Value, tag: &str) -> Option<&'a str> {
    entry.get(tag)?.get("Value")?.get(0)?.as_str()
}

/// The patient a DICOM JSON study entry names (Patient ID and its issuer).
pub(crate) fn patient_of_entry(entry: &Value) -> Option<PatientId> {
    let id = PatientId::new(first_string(entry, "00100020")?).ok()?;
    match first_string(entry, "00100021") {
        Some(issuer) if !issuer.is_empty() => id.with_issuer(issuer).ok(),
        _ => Some(id),
    }
}
