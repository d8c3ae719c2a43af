//! A FAKE dcm4chee-arc (no real one can run here), on 127.0.0.1, following
//! the archive's published REST contract for what the adapter uses:
//!
//! - Keycloak: `POST /realms/dcm4che/protocol/openid-connect/token`
//!   (client-credentials grant) → `{"access_token", "expires_in"}`; every
//!   archive request without a valid bearer token gets 401.
//! - QIDO-RS `GET {rs}/studies` (instances rejected are hidden), WADO-RS
//!   `GET {rs}/studies/{uid}`; QIDO-RS `GET {rs}/patients`.
//! - The archive's default views on rejected instances, as AEs of their
//!   own: `GET /dcm4chee-arc/aets/IOCM_EXPIRED/rs/studies` shows only
//!   instances rejected with 113039^DCM, `…/IOCM_QUALITY/rs/studies` only
//!   those rejected with 113001^DCM.
//! - PatientID matching in QIDO and in `DELETE …/patients/…` ignores case,
//!   as a database with a case-insensitive collation does: the adapter must
//!   not trust it.
//! - `POST {rs}/studies/{uid}/reject/{code}` → 200 `{"count"}`; 404 unknown
//!   study; 403 `{"errorMessage":"Retention period not yet expired"}` when
//!   rejecting with 113039^DCM before the study's expiration date.
//! - `DELETE {arc}/reject/{code}` → 200 `{"deleted"}`: rejected instances
//!   of the WHOLE archive are deleted permanently (the adapter must never
//!   call it; the fake keeps it to show what it would destroy).
//! - `DELETE {rs}/studies/{uid}` (Delete Study Permanently, with the
//!   default `dcmAllowDeleteStudyPermanently=REJECTED`) → 204, the study
//!   and its rejected instances gone; 404; 403 `{"errorMessage":"Study is
//!   not empty"}` while an instance is not rejected.
//! - `PUT {rs}/studies/{uid}/expire/{YYYYMMDD}` → 204; 404.
//! - `DELETE {rs}/patients/{id^^^issuer}` → 204; 404; 409
//!   `{"errorMessage":"Patient having studies can not be deleted"}`.
//!
//! `{arc}` is `/dcm4chee-arc/`, `{rs}` is `/dcm4chee-arc/aets/DCM4CHEE/rs/`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "gdpr-health";
pub const CLIENT_SECRET: &str = "fake-client-secret";
const TOKEN: &str = "fake-access-token";

#[derive(Default)]
pub struct FakeStudy {
    pub patient: String,
    pub patient_id: String,
    pub issuer: Option<String>,
    pub date: String,
    pub modality: String,
    /// (series uid, DICOM bytes, rejected with)
    pub instances: Vec<(String, Vec<u8>, Option<String>)>,
    pub expiration: Option<String>,
    /// An instance that arrives right after the study is rejected (stored
    /// meanwhile by a modality): (series uid, DICOM bytes).
    pub arrives_after_reject: Option<(String, Vec<u8>)>,
    /// A stale search index: searches other than by Study UID file the
    /// study under this PatientID, not the one it carries.
    pub indexed_as: Option<String>,
}

#[derive(Default)]
pub struct FakeState {
    pub studies: BTreeMap<String, FakeStudy>,
    pub patients: Vec<String>,
    pub tokens_issued: u32,
    pub unauthorized: u32,
}

pub type Shared = Arc<Mutex<FakeState>>;

pub struct FakeDcm4chee {
    pub base: String,
    pub state: Shared,
}

impl FakeDcm4chee {
    pub fn rs_url(&self) -> String {
        format!("{}/dcm4chee-arc/aets/DCM4CHEE/rs/", self.base)
    }
    pub fn token_url(&self) -> String {
        format!("{}/realms/dcm4che/protocol/openid-connect/token", self.base)
    }

    /// Rejects every instance of every study of `patient_id` with `code`,
    /// as an earlier rejection (by anyone) would have.
    pub fn reject_all_of(&self, patient_id: &str, code: &str) {
        let mut state = self.state.lock().unwrap();
        for study in state.studies.values_mut() {
            if study.patient_id == patient_id {
                for instance in &mut study.instances {
                    instance.2 = Some(code.to_owned());
                }
            }
        }
    }

    /// How many instances (rejected or not) the archive still holds for
    /// `patient_id`, compared exactly.
    pub fn instances_of(&self, patient_id: &str) -> usize {
        let state = self.state.lock().unwrap();
        state
            .studies
            .values()
            .filter(|s| s.patient_id == patient_id)
            .map(|s| s.instances.len())
            .sum()
    }

    /// Seeds a study from synthetic instances.
    pub fn add(&self, instances: &[gdpr_dicom::synthetic::SyntheticInstance]) {
        let mut state = self.state.lock().unwrap();
        for inst in instances {
            let patient = match &inst.issuer {
                Some(i) => format!("{}^^^{i}", inst.patient_id),
                None => inst.patient_id.clone(),
            };
            if !state.patients.contains(&patient) {
                state.patients.push(patient.clone());
            }
            let study = state.studies.entry(inst.study_uid.clone()).or_default();
            study.patient = patient;
            study.patient_id = inst.patient_id.clone();
            study.issuer = inst.issuer.clone();
            study.date = inst.study_date.clone();
            study.modality = inst.modality.clone();
            study
                .instances
                .push((inst.series_uid.clone(), inst.to_bytes().unwrap(), None));
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "errorMessage": message }))).into_response()
}

fn authorized(state: &Shared, headers: &HeaderMap) -> bool {
    let ok = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !ok {
        state.lock().unwrap().unauthorized += 1;
    }
    ok
}

async fn token(State(state): State<Shared>, body: String) -> Response {
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "unauthorized_client"})),
        )
            .into_response();
    }
    state.lock().unwrap().tokens_issued += 1;
    axum::Json(json!({"access_token": TOKEN, "expires_in": 300, "token_type": "Bearer"}))
        .into_response()
}

fn visible(study: &FakeStudy) -> bool {
    study.instances.is_empty() || study.instances.iter().any(|i| i.2.is_none())
}

/// What an AE's view shows of a study.
fn shown(study: &FakeStudy, view: Option<&str>) -> bool {
    match view {
        None => visible(study),
        Some(code) => study.instances.iter().any(|i| i.2.as_deref() == Some(code)),
    }
}

/// The case-insensitive PatientID match of the fake's "database".
fn same_id(stored: &str, query: &str) -> bool {
    stored.eq_ignore_ascii_case(query)
}

async fn qido(state: State<Shared>, headers: HeaderMap, query: RawQuery) -> Response {
    qido_view(state, headers, query, None)
}

async fn qido_expired(state: State<Shared>, headers: HeaderMap, query: RawQuery) -> Response {
    qido_view(state, headers, query, Some("113039^DCM"))
}

async fn qido_quality(state: State<Shared>, headers: HeaderMap, query: RawQuery) -> Response {
    qido_view(state, headers, query, Some("113001^DCM"))
}

fn parse_query(q: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

async fn qido_patients(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let query = parse_query(q);
    let get = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let state = state.lock().unwrap();
    let found: Vec<Value> = state
        .patients
        .iter()
        .map(|p| match p.split_once("^^^") {
            Some((id, issuer)) => (id, Some(issuer)),
            None => (p.as_str(), None),
        })
        .filter(|(id, _)| get("PatientID").is_none_or(|q| same_id(id, &q)))
        .filter(|(_, i)| get("IssuerOfPatientID").is_none_or(|q| Some(q.as_str()) == *i))
        .map(|(id, issuer)| {
            json!({
                "00100020": {"vr": "LO", "Value": [id]},
                "00100021": {"vr": "LO", "Value": issuer.iter().collect::<Vec<_>>()},
            })
        })
        .collect();
    if found.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    axum::Json(found).into_response()
}

fn qido_view(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    view: Option<&str>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let query = parse_query(q);
    let get = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let state = state.lock().unwrap();
    let by_uid = get("StudyInstanceUID").is_some();
    // A search by UID reads the study; other searches read the index.
    let pid = |s: &FakeStudy| match &s.indexed_as {
        Some(stale) if !by_uid => stale.clone(),
        _ => s.patient_id.clone(),
    };
    let found: Vec<Value> = state
        .studies
        .iter()
        .filter(|(_, s)| shown(s, view))
        .filter(|(uid, _)| get("StudyInstanceUID").is_none_or(|u| &u == *uid))
        .filter(|(_, s)| get("PatientID").is_none_or(|p| same_id(&pid(s), &p)))
        .filter(|(_, s)| get("IssuerOfPatientID").is_none_or(|i| Some(i) == s.issuer))
        .map(|(uid, s)| {
            json!({
                "0020000D": {"vr": "UI", "Value": [uid]},
                "00100020": {"vr": "LO", "Value": [pid(s)]},
                "00100021": {"vr": "LO", "Value": s.issuer.iter().collect::<Vec<_>>()},
                "00080020": {"vr": "DA", "Value": [s.date]},
                "00080061": {"vr": "CS", "Value": [s.modality]},
            })
        })
        .collect();
    if found.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    axum::Json(found).into_response()
}

async fn wado(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let state = state.lock().unwrap();
    let Some(study) = state.studies.get(&uid).filter(|s| visible(s)) else {
        return error(StatusCode::NOT_FOUND, "No such study");
    };
    let mut body = Vec::new();
    for (_, bytes, _) in study.instances.iter().filter(|i| i.2.is_none()) {
        body.extend_from_slice(b"--fakeboundary\r\nContent-Type: application/dicom\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--fakeboundary--\r\n");
    (
        [(
            header::CONTENT_TYPE,
            "multipart/related; type=\"application/dicom\"; boundary=fakeboundary",
        )],
        body,
    )
        .into_response()
}

fn today() -> String {
    jiff::Timestamp::now().strftime("%Y%m%d").to_string()
}

async fn reject(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path((uid, code)): Path<(String, String)>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if code != "113039^DCM" && code != "113001^DCM" {
        return error(StatusCode::NOT_FOUND, "Unknown Rejection Note Code");
    }
    let mut state = state.lock().unwrap();
    let Some(study) = state.studies.get_mut(&uid) else {
        return error(StatusCode::NOT_FOUND, "No such study");
    };
    if code == "113039^DCM" && study.expiration.as_ref().is_some_and(|e| *e > today()) {
        return error(StatusCode::FORBIDDEN, "Retention period not yet expired");
    }
    let mut count = 0;
    for instance in study.instances.iter_mut().filter(|i| i.2.is_none()) {
        instance.2 = Some(code.clone());
        count += 1;
    }
    if let Some((series, bytes)) = study.arrives_after_reject.take() {
        study.instances.push((series, bytes, None));
    }
    axum::Json(json!({ "count": count })).into_response()
}

async fn purge(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut state = state.lock().unwrap();
    let mut deleted = 0;
    for study in state.studies.values_mut() {
        let before = study.instances.len();
        study
            .instances
            .retain(|i| i.2.as_deref() != Some(code.as_str()));
        deleted += before - study.instances.len();
    }
    axum::Json(json!({ "deleted": deleted })).into_response()
}

async fn delete_study(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut state = state.lock().unwrap();
    match state.studies.get(&uid) {
        None => error(StatusCode::NOT_FOUND, "No such study"),
        Some(s) if s.instances.iter().any(|i| i.2.is_none()) => {
            error(StatusCode::FORBIDDEN, "Study is not empty")
        }
        Some(_) => {
            state.studies.remove(&uid);
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

async fn expire(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path((uid, date)): Path<(String, String)>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut state = state.lock().unwrap();
    match state.studies.get_mut(&uid) {
        None => error(StatusCode::NOT_FOUND, "No such study"),
        Some(s) => {
            s.expiration = Some(date);
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

async fn delete_patient(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(pid): Path<String>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut state = state.lock().unwrap();
    let Some(pid) = state.patients.iter().find(|p| same_id(p, &pid)).cloned() else {
        return error(StatusCode::NOT_FOUND, "No such patient");
    };
    if state.studies.values().any(|s| s.patient == pid) {
        return error(
            StatusCode::CONFLICT,
            "Patient having studies can not be deleted",
        );
    }
    state.patients.retain(|p| *p != pid);
    StatusCode::NO_CONTENT.into_response()
}

/// Starts the fake on a free loopback port.
pub async fn start() -> FakeDcm4chee {
    let state: Shared = Arc::default();
    let rs = "/dcm4chee-arc/aets/DCM4CHEE/rs";
    let app = Router::new()
        .route("/realms/dcm4che/protocol/openid-connect/token", post(token))
        .route(&format!("{rs}/studies"), get(qido))
        .route(
            &format!("{rs}/studies/{{uid}}"),
            get(wado).delete(delete_study),
        )
        .route(
            &format!("{rs}/studies/{{uid}}/reject/{{code}}"),
            post(reject),
        )
        .route(
            &format!("{rs}/studies/{{uid}}/expire/{{date}}"),
            put(expire),
        )
        .route(&format!("{rs}/patients/{{pid}}"), delete(delete_patient))
        .route(&format!("{rs}/patients"), get(qido_patients))
        .route(
            "/dcm4chee-arc/aets/IOCM_EXPIRED/rs/studies",
            get(qido_expired),
        )
        .route(
            "/dcm4chee-arc/aets/IOCM_QUALITY/rs/studies",
            get(qido_quality),
        )
        .route("/dcm4chee-arc/reject/{code}", delete(purge))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    FakeDcm4chee { base, state }
}
