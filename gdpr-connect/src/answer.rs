//! Reading what a server answered: statuses mapped to store errors, JSON
//! parsed without quoting the body, transport errors described without their
//! URL, and TLS certificate failures told apart from transient ones.

use gdpr_core::store::{ProtocolCause, StoreError};
use reqwest::StatusCode;

/// Whether the TLS handshake failed on the server's certificate: a
/// configuration problem, not a transient one.
pub(crate) fn is_untrusted_certificate(error: &reqwest::Error) -> bool {
    let mut level: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = level {
        let tls = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if matches!(
            tls,
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        ) {
            return true;
        }
        // Some connector layers re-wrap the rustls error as text; rustls
        // renders certificate errors with this prefix.
        if e.to_string().contains("invalid peer certificate") {
            return true;
        }
        level = e.source();
    }
    false
}

/// The configuration error of a server certificate that is not trusted.
pub(crate) fn untrusted(operation: &'static str) -> StoreError {
    StoreError::Configuration {
        detail: format!(
            "{operation}: the server's TLS certificate is not trusted (unknown issuer, wrong \
             host name or expired); install its CA in the system store or set `tls_ca_file`"
        ),
    }
}

/// Whether a status is worth retrying: 5xx or 429 Too Many Requests.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Describes a transport error without its URL.
pub fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the connection broke while reading the answer"
    } else {
        "the connection failed"
    };
    let error = error.without_url();
    let mut source: &dyn std::error::Error = &error;
    while let Some(next) = source.source() {
        source = next;
    }
    format!("{kind}: {source}")
}

/// The one mapping of a final, non-retryable status into [`StoreError`]:
/// 2xx → `Ok`, 404 → `NotFound`, 401 → `Configuration`, 403 → `Refused`,
/// any other → `Protocol`.
///
/// # Errors
/// As above, naming `operation` (a template such as `"GET /studies/{id}"`).
pub fn check_status(operation: &'static str, status: StatusCode) -> Result<(), StoreError> {
    match status {
        s if s.is_success() => Ok(()),
        StatusCode::NOT_FOUND => Err(StoreError::NotFound { what: operation }),
        StatusCode::UNAUTHORIZED => Err(StoreError::Configuration {
            detail: format!(
                "{operation}: the system rejected the credentials (HTTP 401); check the \
                 credentials (`username` and password, token or client secret)"
            ),
        }),
        StatusCode::FORBIDDEN => Err(StoreError::Refused {
            operation,
            reason: "HTTP 403 Forbidden".into(),
        }),
        s => Err(StoreError::Protocol {
            operation,
            cause: ProtocolCause::UnexpectedStatus(s.as_u16()),
            detail: format!("HTTP {}", s.as_u16()),
        }),
    }
}

/// Parses a JSON answer, describing (without quoting the body) what was
/// malformed.
///
/// # Errors
/// [`StoreError::Protocol`] when `body` is not the expected JSON.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(body).map_err(|e| StoreError::Protocol {
        operation,
        cause: ProtocolCause::MalformedJson,
        detail: format!(
            "malformed JSON ({:?} error at line {}, column {}); check that the url points at \
             the right service",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}
