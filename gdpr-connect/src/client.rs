//! The HTTP client every remote adapter shares: URL policy (TLS by default,
//! plain HTTP only to loopback unless explicitly allowed), Basic, bearer or
//! OAuth 2 client-credentials authentication, timeouts, bounded retries with
//! exponential backoff honouring `Retry-After`, and errors that never
//! contain a URL (URLs can carry patient identifiers).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gdpr_core::store::StoreError;
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncWriteExt;

use crate::address::{ca_certificates, checked_base_url};
use crate::answer::{check_status, describe, is_retryable, is_untrusted_certificate, untrusted};
use crate::endpoint::{Credentials, Endpoint, HttpOptions};
use crate::error::Error;
use crate::oauth::TokenSource;
use crate::retry::{Attempt, retry_after, with_retries};

/// How requests authenticate, with the secrets loaded.
enum Auth {
    None,
    Basic {
        user: String,
        password: SecretString,
    },
    Bearer(SecretString),
    Tokens(Box<TokenSource>),
}

impl Auth {
    /// Loads the secrets `credentials` name.
    fn load(credentials: &Credentials, options: &HttpOptions) -> Result<Self, StoreError> {
        Ok(match credentials {
            Credentials::None => Self::None,
            Credentials::Basic { username, password } => Self::Basic {
                user: username.clone(),
                password: password.load()?,
            },
            Credentials::Bearer { token } => Self::Bearer(token.load()?),
            Credentials::ClientCredentials(client) => {
                Self::Tokens(Box::new(TokenSource::load(client, None, options)?))
            }
            Credentials::Password(grant) => Self::Tokens(Box::new(TokenSource::load(
                &grant.client,
                Some((grant.username.clone(), grant.password.load()?)),
                options,
            )?)),
        })
    }
}

/// A configured HTTP client for one system (cheap to clone: clones share
/// the connection pool and the token cache).
#[derive(Clone)]
pub struct Client {
    client: reqwest::Client,
    base: Url,
    auth: Arc<Auth>,
    options: HttpOptions,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The base URL is configuration, not a patient value, but a path
        // may still be sensitive to someone: show the host only.
        f.debug_struct("Client")
            .field("host", &self.base.host_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `endpoint`: the URL checked against the TLS policy,
    /// secrets loaded (and zeroized when the client is dropped). No request
    /// is made until the first call.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] for a bad or plain-HTTP remote URL, an
    /// unusable CA file, or credentials that cannot be loaded.
    pub fn connect(endpoint: &Endpoint) -> Result<Self, StoreError> {
        let options = endpoint.http.clone();
        let base = checked_base_url(&endpoint.url, &options)?;
        let auth = Auth::load(&endpoint.credentials, &options)?;
        // rustls needs a process-wide crypto provider; installing fails only
        // when one is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder();
        if let Some(path) = &options.ca_file {
            builder = builder.tls_certs_merge(ca_certificates(path)?);
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
            auth: Arc::new(auth),
            options,
        })
    }

    /// The same client (connections, credentials, token cache) for another
    /// base URL of the same system, such as dcm4chee's archive-wide
    /// services next to an AE's.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when `url` breaks the TLS policy.
    pub fn at(&self, url: &str) -> Result<Self, StoreError> {
        let base = checked_base_url(url, &self.options)?;
        Ok(Self {
            base,
            ..self.clone()
        })
    }

    /// The base URL (for identities; contains no credentials).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The transport policy.
    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// The URL of `segments` below the base, each percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    /// Obtains an access token now when the credentials are OAuth 2 ones
    /// (kept for the calls that follow), so that a host can check the
    /// credentials before its first operation and tell a refused key from
    /// a refused scope. Other credentials have nothing to check up front.
    ///
    /// # Errors
    /// [`Error::TokenRefused`] with the server's typed refusal;
    /// [`Error::Store`] when the token endpoint cannot be found or reached.
    pub async fn authenticate(&self) -> Result<(), Error> {
        if let Auth::Tokens(source) = &*self.auth {
            source.token(&self.client, &self.options).await?;
        }
        Ok(())
    }

    /// `request` with its credentials, and the generation of the OAuth 2
    /// token it carries (to drop that token if the server refuses it).
    async fn authorize(
        &self,
        request: RequestBuilder,
    ) -> Result<(RequestBuilder, Option<u64>), StoreError> {
        Ok(match &*self.auth {
            Auth::None => (request, None),
            Auth::Basic { user, password } => (
                request.basic_auth(user, Some(password.expose_secret())),
                None,
            ),
            Auth::Bearer(token) => (request.bearer_auth(token.expose_secret()), None),
            Auth::Tokens(source) => {
                let token = source.token(&self.client, &self.options).await?;
                (
                    request.bearer_auth(token.secret.expose_secret()),
                    Some(token.generation),
                )
            }
        })
    }

    /// Sends one authorized request built by `make`. When the server
    /// answers 401 to an OAuth 2 token, the token is dropped, renewed and
    /// the request sent once more, at most once per call (`renewed`): a
    /// token that expired or was revoked early costs one renewal, a refused
    /// client never loops.
    async fn send(
        &self,
        make: &impl Fn(&reqwest::Client) -> RequestBuilder,
        timeout: Option<Duration>,
        renewed: &AtomicBool,
    ) -> Result<Result<Response, reqwest::Error>, StoreError> {
        let build = |request: RequestBuilder| match timeout {
            Some(t) => request.timeout(t),
            None => request,
        };
        let (request, generation) = self.authorize(make(&self.client)).await?;
        let sent = build(request).send().await;
        if let (Ok(response), Some(generation), Auth::Tokens(source)) =
            (&sent, generation, &*self.auth)
            && response.status() == StatusCode::UNAUTHORIZED
            && !renewed.swap(true, Ordering::SeqCst)
        {
            source.invalidate(generation).await;
            let (request, _) = self.authorize(make(&self.client)).await?;
            return Ok(build(request).send().await);
        }
        Ok(sent)
    }

    /// Sends a request built by `make` and reads its whole body, retrying
    /// connection failures, timeouts, broken bodies and 5xx/429 answers up
    /// to `max_attempts` times (waiting as `Retry-After` asks). Returns the
    /// final status and body for any other answer.
    ///
    /// `operation` is a template (`"GET /studies/{id}"`) used in errors.
    ///
    /// # Errors
    /// [`StoreError::Transient`] after the last attempt;
    /// [`StoreError::Configuration`] for an untrusted certificate or
    /// refused credentials.
    pub async fn call(
        &self,
        operation: &'static str,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<(StatusCode, bytes::Bytes), StoreError> {
        let (status, _, body) = self.call_with_headers(operation, make).await?;
        Ok((status, body))
    }

    /// [`Client::call`], also returning the answer's headers (an
    /// asynchronous request's `Content-Location` and `Retry-After`).
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn call_with_headers(
        &self,
        operation: &'static str,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, bytes::Bytes), StoreError> {
        let renewed = AtomicBool::new(false);
        with_retries(operation, &self.options, || async {
            let sent = self
                .send(&make, Some(self.options.timeout), &renewed)
                .await?;
            Ok(match sent {
                Err(e) if is_untrusted_certificate(&e) => return Err(untrusted(operation)),
                Err(e) => retry(describe(e)),
                Ok(response) if is_retryable(response.status()) => retry_answer(&response),
                Ok(response) => {
                    let (status, headers) = (response.status(), response.headers().clone());
                    match response.bytes().await {
                        Ok(body) => Attempt::Done((status, headers, body)),
                        Err(e) => retry(describe(e)),
                    }
                }
            })
        })
        .await
    }

    /// [`Client::call`], then parses a successful answer as JSON.
    ///
    /// # Errors
    /// As [`Client::call`] and [`check_status`]; [`StoreError::Protocol`]
    /// for an answer that is not the expected JSON.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, StoreError> {
        let (status, body) = self.call(operation, make).await?;
        check_status(operation, status)?;
        crate::answer::parse_json(operation, &body)
    }

    /// Streams a successful answer into `path` (replacing it, synced),
    /// retrying the whole download on transient failures. Returns the
    /// number of bytes.
    ///
    /// # Errors
    /// As [`Client::call`] and [`check_status`]; [`StoreError::Local`] when
    /// the file cannot be written.
    pub async fn download(
        &self,
        operation: &'static str,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
        path: &Path,
    ) -> Result<u64, StoreError> {
        let renewed = AtomicBool::new(false);
        with_retries(operation, &self.options, || async {
            Ok(match self.send(&make, None, &renewed).await? {
                Err(e) if is_untrusted_certificate(&e) => return Err(untrusted(operation)),
                Err(e) => retry(describe(e)),
                Ok(response) if is_retryable(response.status()) => retry_answer(&response),
                Ok(response) => {
                    check_status(operation, response.status())?;
                    match stream_to_file(response, path).await {
                        Ok(n) => Attempt::Done(n),
                        Err(StreamError::Local(e)) => {
                            return Err(StoreError::Local {
                                operation: "write download",
                                detail: e.kind().to_string(),
                            });
                        }
                        Err(StreamError::Http(e)) => retry(describe(e)),
                    }
                }
            })
        })
        .await
    }
}

/// A transport failure worth retrying.
pub(crate) fn retry<T>(detail: String) -> Attempt<T> {
    Attempt::Retry {
        detail,
        after: None,
    }
}

/// A retryable answer (5xx, 429), with the wait it asks for.
pub(crate) fn retry_answer<T>(response: &Response) -> Attempt<T> {
    Attempt::Retry {
        detail: format!("HTTP {}", response.status().as_u16()),
        after: retry_after(response.headers(), jiff::Timestamp::now()),
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
    use crate::answer::check_status;

    #[test]
    fn a_ca_file_without_pem_certificates_is_refused_by_field_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hospital-ca.crt");
        std::fs::write(&path, "CANARY not a certificate\n").unwrap();
        let options = HttpOptions {
            ca_file: Some(path.clone()),
            ..HttpOptions::default()
        };
        let mut endpoint = Endpoint::new("https://pacs.example.org/");
        endpoint.http = options;
        let err = Client::connect(&endpoint).err().unwrap().to_string();
        assert!(
            err.contains("tls_ca_file") && err.contains("hospital-ca.crt"),
            "{err}"
        );
        assert!(!err.contains("CANARY"), "{err}");
    }

    #[test]
    fn urls_encode_segments_and_keep_the_base_path() {
        let http = Client::connect(&Endpoint::new("http://127.0.0.1:1/dicom-web")).unwrap();
        let url = http.url(&["studies", "a/b c"]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/dicom-web/studies/a%2Fb%20c"
        );
    }

    #[test]
    fn malformed_json_is_a_protocol_error_with_its_cause() {
        let err = crate::answer::parse_json::<Vec<u8>>("op", b"{CANARY").unwrap_err();
        assert!(matches!(
            err,
            StoreError::Protocol {
                cause: gdpr_core::store::ProtocolCause::MalformedJson,
                ..
            }
        ));
        assert!(!err.to_string().contains("CANARY"), "{err}");
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
            Err(StoreError::Protocol {
                cause: gdpr_core::store::ProtocolCause::UnexpectedStatus(409),
                ..
            })
        ));
    }
}
