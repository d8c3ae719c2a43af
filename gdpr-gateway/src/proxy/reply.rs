//! The gateway's own answers: refusals with stable codes only (never a
//! patient value, never the upstream's own error text, which may echo one).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// A refusal: status and codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// The codes (reason codes of a denial, or one code of the gateway).
    pub codes: Vec<String>,
}

impl Refusal {
    /// One code.
    pub fn new(status: StatusCode, code: &str) -> Self {
        Self {
            status,
            codes: vec![code.to_owned()],
        }
    }

    /// The answer: `{"error": first code, "reasons": [codes]}`.
    pub fn response(&self) -> Response {
        let body = serde_json::json!({
            "error": self.codes.first().map_or("refused", String::as_str),
            "reasons": self.codes,
        });
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            let code = self
                .codes
                .first()
                .map_or("invalid_token", |_| "invalid_token");
            if let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{code}\"")) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }
}
