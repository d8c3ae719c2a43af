//! The request path of a research caller (answers pseudonymised): the
//! pseudonymised UIDs in the path and the query translated back through
//! the learned map, identifying search keys refused, instances
//! de-identified as they stream, pixel data of instances whose pixels may
//! show burned-in text withheld.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt as _;
use gdpr_core::store::StudyUid;
use gdpr_core::subject::Identifiability;

use super::forward::{read_json, send};
use super::{Checked, Refusal};
use crate::Inner;
use crate::caller::Caller;
use crate::config::GatewayConfig;
use crate::pseudo::{Pseudonyms, allowed_query, deidentify_multipart, withheld_reason};
use crate::route::{Route, is_uid};
use crate::upstream::UpstreamFailure;

/// Whether `caller` is answered with pseudonyms only: a role marked so, or
/// an activity for the caller's purpose on data that are not identified.
pub(crate) fn needs_pseudonyms(config: &GatewayConfig, caller: &Caller) -> bool {
    caller.pseudonymise_role
        || config
            .activities
            .iter()
            .find(|a| a.purpose() == caller.purpose)
            .is_some_and(|a| a.identifiability() != Identifiability::Identified)
}

/// The route and query with pseudonyms replaced by the originals.
pub(crate) fn translate(
    mut route: Route,
    query: &[(String, String)],
    p: &Pseudonyms,
) -> Result<(Route, Vec<(String, String)>), Refusal> {
    let unknown = || Refusal::new(StatusCode::NOT_FOUND, "not-found");
    let mut after_level = false;
    for segment in route.segments.iter_mut() {
        if after_level && is_uid(segment) {
            *segment = p.original(segment).ok_or_else(unknown)?;
        }
        after_level = matches!(segment.as_str(), "studies" | "series" | "instances");
    }
    if route.study.is_some() {
        let original = route.segments.get(1).ok_or_else(unknown)?;
        route.study = Some(StudyUid::new(original.clone()).map_err(|_| unknown())?);
    }
    let query = allowed_query(query, p)
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "query-not-allowed-pseudonymised"))?;
    Ok((route, query))
}

/// A retrieve for a research caller (the route is not JSON).
pub(crate) async fn relay(
    inner: &Inner,
    checked: &Checked,
    p: &Arc<Pseudonyms>,
) -> Result<Response, Refusal> {
    let template = checked.route.template.as_str();
    if template.ends_with("/frames/{frames}")
        || template.ends_with("/bulk/{tag}")
        || is_instance_rendered(template)
    {
        return pixels(inner, checked).await;
    }
    if template.ends_with("/rendered") {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "not-available-pseudonymised",
        ));
    }
    let answer = send(
        inner,
        &checked.route.segments,
        &checked.query,
        "multipart/related; type=\"application/dicom\"",
    )
    .await?;
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = crate::pseudo::boundary_of(content_type)
        .ok_or_else(|| Refusal::new(StatusCode::BAD_GATEWAY, UpstreamFailure::Malformed.code()))?;
    let upstream = answer
        .bytes_stream()
        .map(|r| r.map_err(std::io::Error::other))
        .boxed();
    let max = inner
        .config
        .pseudonymisation
        .as_ref()
        .map_or(0, |c| c.max_instance_bytes);
    let body = deidentify_multipart(upstream, boundary.clone(), Arc::clone(p), max);
    let mut response = Response::new(Body::from_stream(body));
    let value = format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn is_instance_rendered(template: &str) -> bool {
    template.ends_with("/instances/{instance}/rendered")
}

/// Frames, bulk data or a rendered instance: passed on unless the
/// batch de-identifier's burned-in rule withholds the instance.
async fn pixels(inner: &Inner, checked: &Checked) -> Result<Response, Refusal> {
    let mut meta_path: Vec<String> = checked.route.segments.iter().take(6).cloned().collect();
    meta_path.push("metadata".to_owned());
    let answer = send(inner, &meta_path, &checked.query, "application/dicom+json").await?;
    let metadata = read_json(inner, answer).await?;
    let first = metadata
        .get(0)
        .ok_or_else(|| Refusal::new(StatusCode::NOT_FOUND, "not-found"))?;
    if withheld_reason(first).is_some() {
        return Err(Refusal::new(StatusCode::FORBIDDEN, "burned-in-annotation"));
    }
    super::forward::relay(inner, checked, Body::empty(), false).await
}
