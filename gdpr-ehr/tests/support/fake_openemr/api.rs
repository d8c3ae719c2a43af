//! The standard API of the FAKE OpenEMR (see the module above): the
//! patient's numeric id, the medication list, and the DELETE routes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{FakeState, Shared, gate};

/// The patient uuid of the numeric `pid`.
fn puuid_of(state: &FakeState, pid: &str) -> Option<String> {
    let pid: u32 = pid.parse().ok()?;
    state
        .pids
        .iter()
        .find(|(_, p)| **p == pid)
        .map(|(u, _)| u.clone())
}

/// `GET /api/patient/{puuid}`: the standard API's patient, with its `pid`.
pub(super) async fn patient(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(puuid): Path<String>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    match s.pids.get(&puuid) {
        Some(pid) => axum::Json(json!({"validationErrors": [], "internalErrors": [],
            "data": {"id": pid.to_string(), "pid": pid.to_string(), "uuid": puuid}}))
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /api/patient/{pid}/medication`: the rows of `lists` with
/// `type = medication` (OpenEMR answers the bare rows; 404 with `null` when none, as
/// `RestControllerHelper::responseHandler` answers an empty result).
pub(super) async fn medications(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(pid): Path<String>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    let not_found = || (StatusCode::NOT_FOUND, axum::Json(Value::Null)).into_response();
    let Some(puuid) = puuid_of(&s, &pid) else {
        return not_found();
    };
    let reference = format!("Patient/{puuid}");
    let rows: Vec<Value> = s.medication_rows.iter()
        .filter(|(_, uuid)| s.resources.get(&format!("MedicationRequest/{uuid}"))
            .is_some_and(|r| r["subject"]["reference"] == reference.as_str()))
        .map(|(id, uuid)| json!({"id": id.to_string(), "uuid": uuid, "pid": pid, "type": "medication"}))
        .collect();
    if rows.is_empty() {
        return not_found();
    }
    axum::Json(rows).into_response()
}

/// `DELETE /api/patient/{pid}/medication/{mid}`: `DELETE FROM lists WHERE
/// pid AND id AND type`, answered 200 `true` whether or not a row matched.
fn delete_medication(s: &mut FakeState, pid: &str, mid: &str) -> Response {
    let puuid = puuid_of(s, pid).unwrap_or_default();
    let reference = format!("Patient/{puuid}");
    let row = mid
        .parse::<u32>()
        .ok()
        .and_then(|m| s.medication_rows.get(&m).cloned().map(|u| (m, u)));
    if let Some((m, uuid)) = row {
        let key = format!("MedicationRequest/{uuid}");
        if s.resources
            .get(&key)
            .is_some_and(|r| r["subject"]["reference"] == reference.as_str())
        {
            s.resources.remove(&key);
            s.medication_rows.remove(&m);
            s.deleted.push(format!("medication/{mid}"));
        }
    }
    axum::Json(json!(true)).into_response()
}

pub(super) async fn delete_record(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path((puuid, route, uuid)): Path<(String, String, String)>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    if route == "medication" {
        return delete_medication(&mut s, &puuid, &uuid);
    }
    let (kind, list) = match route.as_str() {
        "allergy" => ("AllergyIntolerance", None),
        "medical_problem" => ("Condition", Some("problem-list-item")),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let key = format!("{kind}/{uuid}");
    let reference = format!("Patient/{puuid}");
    let matches = s.resources.get(&key).is_some_and(|r| {
        r["patient"]["reference"] == reference.as_str()
            || r["subject"]["reference"] == reference.as_str()
    }) && list.is_none_or(|l| s.resources[&key].to_string().contains(l));
    if !matches {
        let body = json!({"validationErrors": {"uuid": {"Record::EXISTS": "record does not exist for this patient"}},
                          "internalErrors": [], "data": []});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    s.resources.remove(&key);
    s.deleted.push(format!("{route}/{uuid}"));
    axum::Json(json!({"validationErrors": [], "internalErrors": [], "data": {"uuid": uuid}}))
        .into_response()
}
