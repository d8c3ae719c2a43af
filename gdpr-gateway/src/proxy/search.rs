//! A search over all studies: the upstream is asked with the patient's
//! attributes included, every study it lists is decided on its own, and
//! only those the caller may open are listed (each recorded as a query
//! access). A search never lists what the caller may not open.

use axum::http::StatusCode;
use axum::response::Response;
use gdpr_core::store::StudyUid;
use serde_json::Value;

use super::forward::{json_answer, read_json, send};
use super::{Checked, Refusal, permit};
use crate::Inner;
use crate::upstream::{UpstreamFailure, first_string, patient_of_entry};

/// Answers `GET /studies?…`.
pub(crate) async fn studies(inner: &Inner, checked: &Checked) -> Result<Response, Refusal> {
    let mut query = checked.query.clone();
    for tag in ["00100020", "00100021"] {
        query.push(("includefield".to_owned(), tag.to_owned()));
    }
    let answer = send(
        inner,
        &checked.route.segments,
        &query,
        "application/dicom+json",
    )
    .await?;
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
    let mut value = Value::Array(listed);
    if checked.pseudonymise {
        super::forward::pseudonymise(inner, &mut value)?;
    }
    Ok(json_answer(StatusCode::OK, value, inner))
}
