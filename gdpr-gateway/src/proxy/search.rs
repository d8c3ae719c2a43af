//! A search over all studies: the upstream is asked with the patient's
//! attributes included, every study it lists is decided on its own, and
//! only those the caller may open are listed (each recorded as a query
//! access). A search never lists what the caller may not open.

use axum::http::{StatusCode, header};
use axum::response::Response;
use gdpr_core::store::StudyUid;
use serde_json::Value;

use super::forward::{check_status, json_answer, read_json, status_of};
use super::{Checked, Refusal, permit};
use crate::Inner;
use crate::upstream::{UpstreamFailure, first_string, patient_of_entry};

/// Answers `GET /studies?…`.
pub(crate) async fn studies(inner: &Inner, checked: &Checked) -> Result<Response, Refusal> {
    let mut query = checked.query.clone();
    for tag in ["00100020", "00100021"] {
        query.push(("includefield".to_owned(), tag.to_owned()));
    }
    let answer = inner
        .upstream
        .request(reqwest::Method::GET, &checked.route.segments, &query)
        .header(header::ACCEPT, "application/dicom+json")
        .send()
        .await
        .map_err(|e| {
            let f = UpstreamFailure::of(&e);
            Refusal::new(status_of(f), f.code())
        })?;
    check_status(answer.status())?;
    let Value::Array(entries) = read_json(inner, answer).await? else {
        return Err(Refusal::new(
            StatusCode::BAD_GATEWAY,
            UpstreamFailure::Malformed.code(),
        ));
    };
    let mut listed = Vec::new();
    for entry in entries {
        let study = first_string(&entry, "0020000D").and_then(|s| StudyUid::new(s).ok());
        let (Some(study), Some(patient)) = (study, patient_of_entry(&entry)) else {
            continue; // cannot be decided: not listed
        };
        match permit(inner, checked, &study, &patient).await {
            Ok(()) => listed.push(entry),
            Err(r) if r.status == StatusCode::FORBIDDEN => {}
            Err(r) => return Err(r),
        }
    }
    Ok(json_answer(StatusCode::OK, Value::Array(listed), inner))
}
