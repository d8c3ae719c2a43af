//! OpenEMR's medication route, `DELETE /api/patient/{pid}/medication/{mid}`:
//! unlike the allergy and medical-problem routes it addresses the row by
//! OpenEMR's numeric patient id and list id, which its FHIR API does not
//! give. Both are looked up in the standard API: the patient's `pid` from
//! `GET /api/patient/{puuid}`, the row whose `uuid` is the MedicationRequest's
//! logical id (and whose `pid` and `type` match) from
//! `GET /api/patient/{pid}/medication`. A MedicationRequest without such a
//! row comes from the `prescriptions` table and has no route.

use gdpr_connect::reqwest::{Method, StatusCode};
use gdpr_connect::{Client, Outcome, check_status, outcome_of, parse_json};
use gdpr_core::store::StoreError;
use serde_json::Value;

use crate::client::invalid;

const OP_PATIENT: &str = "GET /api/patient/{puuid}";
const OP_LIST: &str = "GET /api/patient/{pid}/medication";
const OP_DELETE: &str = "DELETE /api/patient/{pid}/medication/{mid}";

/// A JSON string or number as text (OpenEMR sends ids as either).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The numeric `pid` of the patient `puuid`.
async fn pid_of(api: &Client, puuid: &str) -> Result<String, StoreError> {
    let url = api.url(&["patient", puuid]);
    let (status, body) = api.call(OP_PATIENT, |c| c.get(url.clone())).await?;
    check_status(OP_PATIENT, status)?;
    let answer: Value = parse_json(OP_PATIENT, &body)?;
    text(&answer["data"]["pid"])
        .ok_or_else(|| invalid(OP_PATIENT, "OpenEMR sent a patient without a pid"))
}

/// The medication list row of `uuid` for the patient `puuid`: `(pid, mid)`;
/// `None` when the patient's medication list has no such row.
///
/// # Errors
/// As gdpr-connect's `Client::call`; a malformed answer as
/// [`StoreError::Protocol`].
pub(crate) async fn row_of(
    api: &Client,
    puuid: &str,
    uuid: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let pid = pid_of(api, puuid).await?;
    let url = api.url(&["patient", &pid, "medication"]);
    let (status, body) = api.call(OP_LIST, |c| c.get(url.clone())).await?;
    // OpenEMR answers an empty list with 404 and `null` (its
    // `RestControllerHelper::responseHandler`): no row.
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    check_status(OP_LIST, status)?;
    let rows: Value = parse_json(OP_LIST, &body)?;
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
    let row = rows.iter().find(|row| {
        row["uuid"] == uuid
            && text(&row["pid"]).as_deref() == Some(pid.as_str())
            && row["type"] == "medication"
    });
    Ok(row.and_then(|row| text(&row["id"])).map(|mid| (pid, mid)))
}

/// Deletes the medication row `mid` of patient `pid` (OpenEMR deletes
/// `WHERE pid AND id AND type`; 200 even when nothing matched, so the
/// caller re-reads through FHIR afterwards).
///
/// # Errors
/// As [`outcome_of`].
pub(crate) async fn delete(api: &Client, pid: &str, mid: &str) -> Result<Outcome, StoreError> {
    let url = api.url(&["patient", pid, "medication", mid]);
    let (status, _) = api
        .call(OP_DELETE, |c| c.request(Method::DELETE, url.clone()))
        .await?;
    outcome_of(OP_DELETE, status, |s| {
        (s == StatusCode::BAD_REQUEST).then(|| {
            "OpenEMR refused the deletion of the medication row (HTTP 400); left in place".into()
        })
    })
}
