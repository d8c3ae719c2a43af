//! A FAKE OpenEMR (none can be installed here), on 127.0.0.1, following
//! OpenEMR's published API documents (API_README.md, FHIR_README.md, the
//! standard API's routes) for what the adapter uses. Kept in one place for
//! the OpenEMR tests and the request-workflow tests.
//!
//! - `POST /oauth2/{site}/token`, `grant_type=client_credentials` with a
//!   `private_key_jwt` client assertion (`client_assertion_type`
//!   jwt-bearer): its RS384 (OpenEMR's documented algorithm) or ES384
//!   signature must verify against the client's registered public keys
//!   ([`jwt::CLIENT_RSA_KEY`]'s, [`jwt::CLIENT_KEY`]'s), its claims must have
//!   `iss` = `sub` = the client id, `aud` = this token URL and an `exp` in
//!   the future at most 5 minutes ahead → 200
//!   `{"access_token","token_type":"Bearer","expires_in","scope"}` (300 s
//!   unless configured), no refresh token; else 401
//!   `{"error":"invalid_client"}`; a `scope` asking for more than the
//!   client was registered with ([`CLIENT_SCOPES`]) → 400
//!   `{"error":"invalid_scope"}` (RFC 6749 §5.2).
//!   Or `grant_type=password` with `user_role=users`, the client id, the
//!   user name and password (sites that enable the password grant).
//! - Every `/apis/{site}/…` request needs a live bearer token, else 401.
//!   Optionally one 429 with `Retry-After: 1` first.
//! - FHIR `GET /apis/{site}/fhir/metadata` (no `$everything`), read
//!   `GET …/fhir/{type}/{id}` (404 with an OperationOutcome when unknown),
//!   search `GET …/fhir/{type}?…` (Patient by `identifier` or `_id`, other
//!   types by the patient reference they carry) as a `searchset` Bundle with
//!   `link[next]` while more pages remain (`_count`, `_offset`).
//! - Bulk Data export of a Group (kick-off, status, NDJSON files): see
//!   `bulk.rs`.
//! - Standard API `DELETE …/api/patient/{puuid}/allergy/{auuid}` and
//!   `…/medical_problem/{muuid}` → 200 `{"validationErrors":[],
//!   "internalErrors":[],"data":…}`; a record that is not this patient's
//!   (or not of that list) → 400 with `validationErrors`, as OpenEMR's
//!   `RestControllerHelper::handleProcessingResult` answers.
//! - `GET …/api/patient/{puuid}` → 200 with `data.pid` (the numeric id);
//!   `GET …/api/patient/{pid}/medication` → 200 with the bare rows of
//!   `lists` (`id`, `uuid`, `pid`, `type`), 404 `null` when there are none;
//!   `DELETE …/api/patient/{pid}/medication/{mid}` → 200 `true`, whether or
//!   not a row matched (OpenEMR's `ListService::delete` deletes `WHERE pid
//!   AND id AND type`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

mod api;
pub mod bulk;
pub mod jwt;
use api::{delete_record, medications, patient};
use serde_json::{Value, json};

pub const SITE: &str = "default";
pub const CLIENT_ID: &str = "gdpr-openemr-client";
pub const USER: &str = "gdpr-service";
pub const PASSWORD: &str = "fake-password";
/// The scopes the client is registered with: reading, and the Group bulk
/// export with its status and file downloads (OpenEMR's FHIR_README).
pub const CLIENT_SCOPES: &[&str] = &[
    "system/*.read",
    "system/Group.$export",
    "system/*.$bulkdata-status",
    "system/Document.read",
];

/// What the fake holds and counts.
#[derive(Default)]
pub struct FakeState {
    /// Resources by `Type/id`.
    pub resources: BTreeMap<String, Value>,
    /// Tokens issued and when they expire.
    pub tokens: Vec<(String, Instant)>,
    pub token_lifetime: Duration,
    pub token_requests: usize,
    /// Answer the next `/apis` request with 429 (once).
    pub throttle_once: bool,
    /// Expire every token after this many more `/apis` requests.
    pub expire_tokens_after: Option<usize>,
    /// On the first individual read of this `Type/id`, move it to this
    /// patient first (a record reassigned between locate and erase).
    pub move_on_read: Option<(String, String)>,
    /// Numeric patient ids (`pid`) by patient uuid.
    pub pids: BTreeMap<String, u32>,
    /// Medication list rows: numeric list id → the uuid the FHIR API gives
    /// the MedicationRequest (its patient is the resource's).
    pub medication_rows: BTreeMap<u32, String>,
    /// The registered client's public keys (its JWKS) and scopes.
    pub client_keys: jwt::ClientKeys,
    pub client_scopes: Vec<String>,
    /// The token endpoint's refusals (`invalid_client`, `invalid_scope`).
    pub refusals: Vec<&'static str>,
    /// Bulk export jobs by id, the status polls answered, and faults:
    /// a failing job, a download cut short.
    pub bulk_jobs: BTreeMap<String, bulk::Job>,
    pub bulk_polls: usize,
    pub bulk_fails: bool,
    pub bulk_cut: bool,
    /// Cut short only the n-th (1-based) output file.
    pub bulk_cut_file: Option<usize>,
    /// DELETEs answered 200 (`route/uuid`).
    pub deleted: Vec<String>,
    pub base: String,
}

pub(crate) type Shared = Arc<Mutex<FakeState>>;

pub struct FakeOpenEmr {
    pub root: String,
    pub state: Shared,
}

impl FakeOpenEmr {
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/{SITE}/token", self.root)
    }
    pub fn add(&self, resource: Value) {
        let key = format!(
            "{}/{}",
            resource["resourceType"].as_str().unwrap(),
            resource["id"].as_str().unwrap()
        );
        self.state.lock().unwrap().resources.insert(key, resource);
    }
    pub fn has(&self, key: &str) -> bool {
        self.state.lock().unwrap().resources.contains_key(key)
    }
}

/// Starts the fake with tokens living `token_lifetime`.
pub async fn start(token_lifetime: Duration) -> FakeOpenEmr {
    let state: Shared = Arc::default();
    let fhir = format!("/apis/{SITE}/fhir");
    let api = format!("/apis/{SITE}/api/patient/{{puuid}}");
    let app = Router::new()
        .route(&format!("/oauth2/{SITE}/token"), post(token))
        .route(&format!("{fhir}/metadata"), get(metadata))
        .route(&format!("{fhir}/Group/{{id}}/$export"), get(bulk::kick_off))
        .route(&format!("{fhir}/$bulkdata-status"), get(bulk::status))
        .route(
            &format!("{fhir}/Document/{{n}}/Binary"),
            get(bulk::document),
        )
        .route(&format!("{fhir}/{{kind}}"), get(search))
        .route(&format!("{fhir}/{{kind}}/{{id}}"), get(read))
        .route(&api, get(patient))
        .route(&format!("{api}/medication"), get(medications))
        .route(&format!("{api}/{{route}}/{{uuid}}"), delete(delete_record))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    {
        let mut s = state.lock().unwrap();
        s.token_lifetime = token_lifetime;
        s.client_keys = jwt::ClientKeys::registered();
        s.client_scopes = CLIENT_SCOPES.iter().map(|&x| x.to_owned()).collect();
        s.base = format!("{root}{fhir}");
    }
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeOpenEmr { root, state }
}

/// The password grant as OpenEMR's sites that enable it take it
/// (`user_role=users`, a registered public client, the user's password).
fn password_grant(form: &BTreeMap<String, String>) -> bool {
    let is = |k: &str, v: &str| form.get(k).map(String::as_str) == Some(v);
    is("grant_type", "password")
        && is("user_role", "users")
        && is("client_id", CLIENT_ID)
        && is("username", USER)
        && is("password", PASSWORD)
}

/// Client credentials with a `private_key_jwt` assertion signed with the
/// registered key and claims right for this token URL.
fn client_assertion(
    form: &BTreeMap<String, String>,
    keys: &jwt::ClientKeys,
    token_url: &str,
) -> bool {
    form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_assertion_type").map(String::as_str)
            == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        && form
            .get("client_assertion")
            .is_some_and(|a| jwt::check(a, keys, CLIENT_ID, token_url).is_ok())
}

/// Whether every scope asked for (`scope`, space-separated) is one the
/// client was registered with (OpenEMR grants no scope added later).
fn scopes_registered(form: &BTreeMap<String, String>, registered: &[String]) -> bool {
    form.get("scope").is_none_or(|asked| {
        asked
            .split(' ')
            .filter(|s| !s.is_empty())
            .all(|s| registered.iter().any(|r| r == s))
    })
}

async fn token(State(state): State<Shared>, body: String) -> Response {
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut s = state.lock().unwrap();
    s.token_requests += 1;
    let token_url = s.base.replace(
        &format!("/apis/{SITE}/fhir"),
        &format!("/oauth2/{SITE}/token"),
    );
    let by_assertion = client_assertion(&form, &s.client_keys, &token_url);
    let ok = password_grant(&form) || by_assertion;
    // The backend-services client's scopes (a user's password grant gets
    // what the user may do).
    if by_assertion && !scopes_registered(&form, &s.client_scopes) {
        s.refusals.push("invalid_scope");
        let body = json!({"error": "invalid_scope",
            "error_description": "The requested scope is invalid, unknown, or malformed"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    if !ok {
        s.refusals.push("invalid_client");
        let body =
            json!({"error": "invalid_client", "error_description": "Client authentication failed"});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let access = format!("fake-token-{}", s.token_requests);
    let lifetime = s.token_lifetime;
    s.tokens.push((access.clone(), Instant::now() + lifetime));
    let scope = form.get("scope").cloned().unwrap_or_default();
    let body = json!({"access_token": access, "token_type": "Bearer",
                      "expires_in": lifetime.as_secs(), "scope": scope});
    axum::Json(body).into_response()
}

/// The gate of every `/apis` request: 429 once, then a live token.
pub(crate) fn gate(state: &mut FakeState, headers: &HeaderMap) -> Option<Response> {
    if std::mem::take(&mut state.throttle_once) {
        return Some((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response());
    }
    if let Some(n) = state.expire_tokens_after.as_mut() {
        if *n == 0 {
            state.tokens.iter_mut().for_each(|t| t.1 = Instant::now());
            state.expire_tokens_after = None;
        } else {
            *n -= 1;
        }
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let live = state
        .tokens
        .iter()
        .any(|(t, until)| given == Some(&format!("Bearer {t}")) && *until > Instant::now());
    (!live).then(|| {
        let body =
            json!({"error": "invalid_token", "error_description": "The access token is expired"});
        (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    })
}

fn fhir(body: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/fhir+json")],
        axum::Json(body),
    )
        .into_response()
}

async fn metadata(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(refused) = gate(&mut state.lock().unwrap(), &headers) {
        return refused;
    }
    fhir(
        json!({"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
                "fhirVersion": "4.0.1", "format": ["json"],
                "rest": [{"mode": "server", "resource": [{"type": "Patient"}]}]}),
    )
}

async fn read(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    let key = format!("{kind}/{id}");
    if s.move_on_read.as_ref().is_some_and(|(k, _)| *k == key) {
        let (_, to) = s.move_on_read.take().unwrap();
        if let Some(r) = s.resources.get_mut(&key) {
            let field = if r.get("patient").is_some() {
                "patient"
            } else {
                "subject"
            };
            r[field] = json!({"reference": format!("Patient/{to}")});
        }
    }
    match s.resources.get(&key) {
        Some(resource) => fhir(resource.clone()),
        None => (
            StatusCode::NOT_FOUND,
            fhir(json!({"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found"}]})),
        )
            .into_response(),
    }
}

/// Whether `resource` is found by the search `params` (its own
/// parameters, `_count` and `_offset` aside).
fn found_by(resource: &Value, params: &BTreeMap<String, String>) -> bool {
    params
        .iter()
        .filter(|(k, _)| !k.starts_with("_count") && *k != "_offset")
        .all(|(k, v)| match k.as_str() {
            "_id" => resource["id"] == v.as_str(),
            "identifier" => resource["identifier"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| {
                    format!(
                        "{}|{}",
                        i["system"].as_str().unwrap_or(""),
                        i["value"].as_str().unwrap_or("")
                    ) == *v
                }),
            _ => resource.to_string().contains(&format!("\"{v}\"")),
        })
}

async fn search(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = gate(&mut s, &headers) {
        return refused;
    }
    let hits: Vec<&Value> = s
        .resources
        .iter()
        .filter(|(key, r)| key.starts_with(&format!("{kind}/")) && found_by(r, &params))
        .map(|(_, r)| r)
        .collect();
    let count: usize = params
        .get("_count")
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    let offset: usize = params
        .get("_offset")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(count)
        .map(|r| {
            json!({"fullUrl": format!("{}/{kind}/{}", s.base, r["id"].as_str().unwrap()),
                        "resource": r, "search": {"mode": "match"}})
        })
        .collect();
    let mut link = vec![];
    if offset + count < hits.len() {
        let mut next = params.clone();
        next.insert("_offset".into(), (offset + count).to_string());
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&next)
            .finish();
        link.push(json!({"relation": "next", "url": format!("{}/{kind}?{query}", s.base)}));
    }
    fhir(
        json!({"resourceType": "Bundle", "type": "searchset", "total": hits.len(), "link": link, "entry": page}),
    )
}
