//! Asking the upstream and relaying its answer: request bodies (STOW-RS)
//! and non-JSON answers (WADO-RS multipart, frames, bulk data, rendered)
//! are streamed chunk by chunk, never held whole; JSON answers are read up
//! to `max_json_bytes`, their URLs rewritten and, for searches, filtered.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt as _;
use serde_json::Value;

use super::{Checked, Refusal};
use crate::Inner;
use crate::upstream::{UpstreamFailure, first_string};

/// The status a gateway answer has for an upstream failure.
pub(crate) fn status_of(failure: UpstreamFailure) -> StatusCode {
    match failure {
        UpstreamFailure::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    }
}

/// Request headers passed to the upstream (never `Authorization`, cookies
/// or the purpose header).
pub(crate) const REQUEST_HEADERS: [header::HeaderName; 2] = [header::ACCEPT, header::CONTENT_TYPE];
/// Answer headers passed to the caller from a streamed answer.
const STREAM_HEADERS: [header::HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::ETAG,
    header::LAST_MODIFIED,
];

/// Sends the checked request upstream and relays the answer.
pub(crate) async fn relay(
    inner: &Inner,
    checked: &Checked,
    body: Body,
    store: bool,
) -> Result<Response, Refusal> {
    let route = &checked.route;
    let method = if store {
        reqwest::Method::POST
    } else {
        reqwest::Method::GET
    };
    let mut builder = inner
        .upstream
        .request(method, &route.segments, &checked.query);
    if route.json && !store {
        builder = builder.header(header::ACCEPT, "application/dicom+json");
    } else {
        for name in REQUEST_HEADERS {
            if let Some(value) = checked.headers.get(&name) {
                builder = builder.header(name, value.clone());
            }
        }
    }
    if store {
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        builder = builder.body(reqwest::Body::wrap_stream(stream));
    }
    let answer = builder.send().await.map_err(|e| {
        let f = UpstreamFailure::of(&e);
        Refusal::new(status_of(f), f.code())
    })?;
    let status = answer.status();
    check_status(status)?;
    if route.json || store {
        let mut value = read_json(inner, answer).await?;
        let study = route.study.as_ref().map(|s| s.expose());
        if let (Some(study), Value::Array(items)) = (study, &mut value) {
            items.retain(|e| first_string(e, "0020000D").is_none_or(|s| s == study));
        }
        if checked.pseudonymise {
            pseudonymise(inner, &mut value)?;
        }
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK);
        Ok(json_answer(status, value, inner))
    } else {
        Ok(stream_response(status, answer))
    }
}

/// Maps an upstream status: 2xx passes, 404 is not found, 5xx a gateway
/// error, other refusals keep their status with our own code.
pub(crate) fn check_status(status: reqwest::StatusCode) -> Result<(), Refusal> {
    if status.is_success() {
        return Ok(());
    }
    let code = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    Err(match status.as_u16() {
        404 => Refusal::new(StatusCode::NOT_FOUND, "not-found"),
        500..=599 => Refusal::new(StatusCode::BAD_GATEWAY, UpstreamFailure::ServerError.code()),
        _ => Refusal::new(code, "upstream-refused"),
    })
}

/// Reads a JSON answer (bounded); an empty answer is an empty list.
pub(crate) async fn read_json(inner: &Inner, answer: reqwest::Response) -> Result<Value, Refusal> {
    let malformed = || Refusal::new(StatusCode::BAD_GATEWAY, UpstreamFailure::Malformed.code());
    let max = inner.config.upstream.max_json_bytes;
    let mut body = Vec::new();
    let mut stream = answer.bytes_stream();
    while let Some(chunk) = stream.try_next().await.map_err(|e| {
        let f = UpstreamFailure::of(&e);
        Refusal::new(status_of(f), f.code())
    })? {
        if body.len() + chunk.len() > max {
            return Err(Refusal::new(
                StatusCode::BAD_GATEWAY,
                "upstream-answer-too-large",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Array(Vec::new()));
    }
    serde_json::from_slice(&body).map_err(|_| malformed())
}

/// Pseudonymises a JSON answer for a research caller.
pub(crate) fn pseudonymise(inner: &Inner, value: &mut Value) -> Result<(), Refusal> {
    let p = inner
        .pseudonyms
        .as_ref()
        .ok_or_else(|| Refusal::new(StatusCode::FORBIDDEN, "pseudonymisation-unavailable"))?;
    crate::pseudo::pseudonymise_json(
        value,
        p,
        inner.upstream.base().as_str(),
        &inner.config.public_base,
    );
    Ok(())
}

/// A DICOM JSON answer, its URLs rewritten, never cached.
pub(crate) fn json_answer(status: StatusCode, mut value: Value, inner: &Inner) -> Response {
    inner.rewriter.json(&mut value);
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/dicom+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A streamed answer: the body passes chunk by chunk; when the caller goes
/// away the stream (and with it the upstream connection) is dropped.
fn stream_response(status: reqwest::StatusCode, answer: reqwest::Response) -> Response {
    let mut headers = HeaderMap::new();
    for name in STREAM_HEADERS {
        if let Some(value) = answer.headers().get(name.as_str())
            && let Ok(v) = HeaderValue::from_bytes(value.as_bytes())
        {
            headers.insert(name, v);
        }
    }
    let mut response = Response::new(Body::from_stream(answer.bytes_stream()));
    *response.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK);
    *response.headers_mut() = headers;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A GET to the upstream with `accept`, its status checked.
pub(crate) async fn send(
    inner: &Inner,
    segments: &[String],
    query: &[(String, String)],
    accept: &str,
) -> Result<reqwest::Response, Refusal> {
    let answer = inner
        .upstream
        .request(reqwest::Method::GET, segments, query)
        .header(header::ACCEPT, accept)
        .send()
        .await
        .map_err(|e| {
            let f = UpstreamFailure::of(&e);
            Refusal::new(status_of(f), f.code())
        })?;
    check_status(answer.status())?;
    Ok(answer)
}
