//! The HTTP client every remote adapter shares: URL policy (TLS by default,
//! plain HTTP only to loopback unless explicitly allowed), Basic or bearer
//! authentication, timeouts, bounded retries with exponential backoff, and
//! errors that never contain a URL (URLs can carry patient identifiers).

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use gdpr_core::store::StoreError;
use reqwest::{Client, RequestBuilder, Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncWriteExt;

pub(crate) use super::http_answer::{check_status, describe, parse_json};
use super::http_answer::{is_retryable, is_untrusted_certificate, untrusted};

/// Timeouts, retries and transport policy of a remote adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// Upper bound for one request with a small answer (JSON, DELETE).
    pub timeout: Duration,
    /// Upper bound for establishing a connection.
    pub connect_timeout: Duration,
    /// Upper bound between two reads of a large download.
    pub read_timeout: Duration,
    /// Attempts per operation (1 = no retry).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled each time, capped at 5 s.
    pub backoff: Duration,
    /// Allow plain `http://` to hosts other than loopback. Off by default:
    /// health data and credentials must not cross a network unencrypted.
    pub danger_allow_insecure_http: bool,
    /// Extra trust anchors (PEM), e.g. the hospital's internal CA, in
    /// addition to the system's roots.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            max_attempts: 4,
            backoff: Duration::from_millis(200),
            danger_allow_insecure_http: false,
            ca_file: None,
        }
    }
}

/// How requests authenticate.
pub(crate) enum Auth {
    /// No authentication.
    None,
    /// HTTP Basic with a zeroized password.
    Basic {
        user: String,
        password: SecretString,
    },
    /// OAuth 2 bearer tokens from a Keycloak client-credentials grant.
    Bearer(std::sync::Arc<super::token::TokenSource>),
}

/// A configured HTTP client for one system.
pub(crate) struct Http {
    client: Client,
    base: Url,
    auth: Auth,
    options: HttpOptions,
}

/// Parses and checks a base URL: `https://` always, `http://` only to
/// loopback unless `danger_allow_insecure_http`.
pub(crate) fn checked_base_url(url: &str, options: &HttpOptions) -> Result<Url, StoreError> {
    let mut base = checked_url(url, options)?;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

/// Parses and checks any URL the adapters call (same policy as
/// [`checked_base_url`], path left as written).
pub(crate) fn checked_url(url: &str, options: &HttpOptions) -> Result<Url, StoreError> {
    let base = Url::parse(url).map_err(|e| StoreError::Configuration {
        detail: format!("the url is not valid ({e}); write it as https://host[:port]/path"),
    })?;
    if !base.username().is_empty() || base.password().is_some() {
        return Err(StoreError::Configuration {
            detail: "the url contains credentials; put the user in `username` and the password \
                     in `password_file` or `password_env`"
                .into(),
        });
    }
    match base.scheme() {
        "https" => {}
        "http" if options.danger_allow_insecure_http || is_loopback(&base) => {}
        "http" => {
            return Err(StoreError::Configuration {
                detail: "plain http:// to a host other than loopback would send health data \
                         and credentials unencrypted; use https:// (or set \
                         danger_allow_insecure_http = true on an isolated network)"
                    .into(),
            });
        }
        other => {
            return Err(StoreError::Configuration {
                detail: format!("unsupported url scheme `{other}`; use https://"),
            });
        }
    }
    Ok(base)
}

/// The largest `tls_ca_file` (4 MiB; a system's whole bundle is ~250 KiB).
const MAX_CA_BYTES: u64 = 4 << 20;

/// The certificates of a PEM CA bundle: a regular file holding at least one
/// `CERTIFICATE` block. Messages name the field and the file, never its
/// content.
fn ca_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, StoreError> {
    let fix = "`tls_ca_file` must be a PEM CA bundle (-----BEGIN CERTIFICATE-----)";
    let pem = super::secret::read_regular_file(path, MAX_CA_BYTES, "the CA file", fix)?;
    let no_pem = || StoreError::Configuration {
        detail: format!(
            "the CA file {} holds no PEM certificate; {fix}",
            path.display()
        ),
    };
    let roots = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| no_pem())?;
    if roots.is_empty() {
        return Err(no_pem());
    }
    Ok(roots)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl Http {
    /// A client for `base_url`.
    pub(crate) fn new(
        base_url: &str,
        auth: Auth,
        options: HttpOptions,
    ) -> Result<Self, StoreError> {
        let base = checked_base_url(base_url, &options)?;
        // rustls needs a process-wide crypto provider; installing fails only
        // when one is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = Client::builder();
        if let Some(path) = &options.ca_file {
            let roots = ca_certificates(path)?;
            builder = builder.tls_certs_merge(roots);
        }
        let client = builder
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .https_only(base.scheme() == "https")
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gdpr-health/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StoreError::Configuration {
                detail: format!("cannot build the HTTP client: {}", e.without_url()),
            })?;
        Ok(Self {
            client,
            base,
            auth,
            options,
        })
    }

    /// The base URL (for identities; contains no credentials).
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// The URL of `segments` below the base, each percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    async fn authorize(&self, request: RequestBuilder) -> Result<RequestBuilder, StoreError> {
        Ok(match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => {
                request.basic_auth(user, Some(password.expose_secret()))
            }
            Auth::Bearer(source) => {
                let token = source.token(&self.client, &self.options).await?;
                request.bearer_auth(token.expose_secret())
            }
        })
    }

    async fn backoff(&self, attempt: u32) {
        let factor = 1u32 << attempt.saturating_sub(1).min(5);
        let wait = (self.options.backoff * factor).min(Duration::from_secs(5));
        tokio::time::sleep(wait).await;
    }

    /// Sends a request built by `make` and reads its whole body, retrying
    /// connection failures, timeouts, broken bodies and 5xx/429 answers up
    /// to `max_attempts` times. Returns the final status and body for any
    /// other answer.
    ///
    /// `operation` is a template (`"GET /studies/{id}"`) used in errors.
    pub(crate) async fn call(
        &self,
        operation: &'static str,
        make: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<(StatusCode, bytes::Bytes), StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = self
                .authorize(make(&self.client))
                .await?
                .timeout(self.options.timeout);
            let detail = match request.send().await {
                Err(e) if is_untrusted_certificate(&e) => return Err(untrusted(operation)),
                Ok(response) if is_retryable(response.status()) => {
                    format!("HTTP {}", response.status().as_u16())
                }
                Ok(response) => {
                    let status = response.status();
                    match response.bytes().await {
                        Ok(body) => return Ok((status, body)),
                        Err(e) => describe(e),
                    }
                }
                Err(e) => describe(e),
            };
            if attempt >= self.options.max_attempts.max(1) {
                return Err(StoreError::Transient {
                    operation,
                    attempts: attempt,
                    detail,
                });
            }
            self.backoff(attempt).await;
        }
    }

    /// [`Http::call`], then parses a successful answer as JSON.
    pub(crate) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        make: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<T, StoreError> {
        let (status, body) = self.call(operation, make).await?;
        check_status(operation, status)?;
        parse_json(operation, &body)
    }

    /// Streams a successful answer into `path` (replacing it), retrying the
    /// whole download on transient failures. Returns the number of bytes.
    pub(crate) async fn download(
        &self,
        operation: &'static str,
        make: impl Fn(&Client) -> RequestBuilder,
        path: &Path,
    ) -> Result<u64, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let detail = match self.authorize(make(&self.client)).await?.send().await {
                Err(e) if is_untrusted_certificate(&e) => return Err(untrusted(operation)),
                Ok(response) if is_retryable(response.status()) => {
                    format!("HTTP {}", response.status().as_u16())
                }
                Ok(response) => {
                    check_status(operation, response.status())?;
                    match stream_to_file(response, path).await {
                        Ok(n) => return Ok(n),
                        Err(StreamError::Local(e)) => {
                            return Err(StoreError::Local {
                                operation: "write download",
                                detail: e.kind().to_string(),
                            });
                        }
                        Err(StreamError::Http(e)) => describe(e),
                    }
                }
                Err(e) => describe(e),
            };
            if attempt >= self.options.max_attempts.max(1) {
                return Err(StoreError::Transient {
                    operation,
                    attempts: attempt,
                    detail,
                });
            }
            self.backoff(attempt).await;
        }
    }
}

enum StreamError {
    Local(std::io::Error),
    Http(reqwest::Error),
}

async fn stream_to_file(mut response: Response, path: &Path) -> Result<u64, StreamError> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(StreamError::Local)?;
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(StreamError::Http)? {
        file.write_all(&chunk).await.map_err(StreamError::Local)?;
        total += chunk.len() as u64;
    }
    file.flush().await.map_err(StreamError::Local)?;
    file.sync_all().await.map_err(StreamError::Local)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_pem_certificates_is_refused_by_field_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hospital-ca.crt");
        std::fs::write(&path, "CANARY not a certificate\n").unwrap();
        let options = HttpOptions {
            ca_file: Some(path.clone()),
            ..HttpOptions::default()
        };
        let err = Http::new("https://pacs.example.org/", Auth::None, options)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("tls_ca_file") && err.contains("hospital-ca.crt"),
            "{err}"
        );
        assert!(!err.contains("CANARY"), "{err}");
        for path in ["/dev/zero".into(), dir.path().to_path_buf()] {
            let err = ca_certificates(&path).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let o = HttpOptions::default();
        assert!(checked_base_url("http://127.0.0.1:8042", &o).is_ok());
        assert!(checked_base_url("http://localhost:8042/", &o).is_ok());
        assert!(checked_base_url("http://[::1]:8042/", &o).is_ok());
        assert!(checked_base_url("https://pacs.example.org/", &o).is_ok());
        let err = checked_base_url("http://pacs.example.org/", &o).unwrap_err();
        assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
        let insecure = HttpOptions {
            danger_allow_insecure_http: true,
            ..HttpOptions::default()
        };
        assert!(checked_base_url("http://pacs.example.org/", &insecure).is_ok());
        assert!(checked_base_url("ftp://pacs.example.org/", &insecure).is_err());
        assert!(checked_base_url("https://u:p@pacs.example.org/", &o).is_err());
    }

    #[test]
    fn urls_encode_segments_and_keep_the_base_path() {
        let http = Http::new(
            "http://127.0.0.1:1/dicom-web",
            Auth::None,
            HttpOptions::default(),
        )
        .unwrap();
        let url = http.url(&["studies", "a/b c"]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/dicom-web/studies/a%2Fb%20c"
        );
    }

    #[test]
    fn statuses_map_to_store_errors() {
        assert!(check_status("op", StatusCode::OK).is_ok());
        assert!(matches!(
            check_status("op", StatusCode::NOT_FOUND),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            check_status("op", StatusCode::UNAUTHORIZED),
            Err(StoreError::Configuration { .. })
        ));
        assert!(matches!(
            check_status("op", StatusCode::CONFLICT),
            Err(StoreError::Protocol { .. })
        ));
    }
}
