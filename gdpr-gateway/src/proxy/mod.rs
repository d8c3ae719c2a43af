//! The request path: route and parameters checked, token verified, caller
//! identified, access decided and recorded, then the upstream asked and
//! its answer relayed (streamed, or read, filtered and rewritten when it
//! is JSON).

mod forward;
mod reply;
mod research;
mod search;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use gdpr_core::decision::Decision;
use gdpr_core::store::StudyUid;
use gdpr_core::subject::PatientId;

pub use reply::Refusal;

use crate::Inner;
use crate::audit::Access;
use crate::caller::{Caller, identify, identify_client};
use crate::decide::{Context, Verdict, decide};
use crate::route::{self, AccessKind, Route};

/// What the checks gave: everything the forwarding needs.
pub(crate) struct Checked {
    pub(crate) route: Route,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) caller: Caller,
    /// The request headers the upstream may see (`Accept`, `Content-Type`).
    pub(crate) headers: axum::http::HeaderMap,
    /// Whether answers are pseudonymised (a research caller).
    pub(crate) pseudonymise: bool,
}

/// axum's entry point: every request under the public base.
pub(crate) async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let (head, body) = request.into_parts();
    let (template, result) = match check(&inner, &head).await {
        Ok(checked) => {
            let template = checked.route.template.clone();
            (template, serve(&inner, checked, body).await)
        }
        Err((template, refusal)) => (template, Err(refusal)),
    };
    let (response, codes) = match result {
        Ok(response) => (response, String::new()),
        Err(refusal) => (refusal.response(), refusal.codes.join(",")),
    };
    inner.log.line(&format!(
        "{method} {template} -> {} {codes} {}ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    ));
    response
}

type CheckFailure = (String, Refusal);

async fn check(inner: &Inner, request: &Parts) -> Result<Checked, CheckFailure> {
    let uri = &request.uri;
    let unknown = || {
        (
            "-".to_owned(),
            Refusal::new(StatusCode::NOT_FOUND, route::PathRefusal::Unknown.code()),
        )
    };
    let below = uri
        .path()
        .strip_prefix(inner.prefix.as_str())
        .ok_or_else(unknown)?;
    if !below.starts_with('/') {
        return Err(unknown());
    }
    let route = route::parse(request.method.as_str(), below).map_err(|r| {
        let status = match r {
            route::PathRefusal::Unknown => StatusCode::NOT_FOUND,
            route::PathRefusal::Method => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        };
        ("-".to_owned(), Refusal::new(status, r.code()))
    })?;
    let template = route.template.clone();
    let fail = |status, code: &str| (template.clone(), Refusal::new(status, code));
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    route::check_query(&query).map_err(|r| fail(StatusCode::BAD_REQUEST, r.code()))?;
    let header_purpose = inner
        .config
        .claims
        .purpose_header
        .as_deref()
        .and_then(|name| request.headers.get(name))
        .and_then(|v| v.to_str().ok());
    let certificate = request.extensions.get::<crate::tls::ClientCertificate>();
    let caller = match (bearer(request), certificate) {
        (Some(token), _) => {
            let now = inner.clock.now();
            let claims = inner
                .jwks
                .verify(token, now.as_second())
                .await
                .map_err(|e| fail(StatusCode::UNAUTHORIZED, e.code()))?;
            identify(&inner.config, &claims, header_purpose)
        }
        (None, Some(certificate)) => identify_client(&inner.config, certificate, header_purpose),
        (None, None) => {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                crate::token::TokenError::Missing.code(),
            ));
        }
    }
    .map_err(|r| fail(StatusCode::FORBIDDEN, r.code()))?;
    let pseudonymise = research::needs_pseudonyms(&inner.config, &caller);
    let (route, query) = match (pseudonymise, &inner.pseudonyms) {
        (false, _) => (route, query),
        (true, Some(p)) => {
            research::translate(route, &query, p).map_err(|r| (template.clone(), r))?
        }
        (true, None) => return Err(fail(StatusCode::FORBIDDEN, "pseudonymisation-unavailable")),
    };
    let mut headers = axum::http::HeaderMap::new();
    for name in forward::REQUEST_HEADERS {
        if let Some(value) = request.headers.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    Ok(Checked {
        route,
        query,
        caller,
        headers,
        pseudonymise,
    })
}

fn bearer(request: &Parts) -> Option<&str> {
    let value = request.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn serve(inner: &Inner, checked: Checked, body: Body) -> Result<Response, Refusal> {
    match (checked.route.kind, checked.route.study.clone()) {
        (AccessKind::Create, study) => {
            let basis = store_basis(inner, &checked.caller)?;
            record(inner, &checked, study, None, basis, true).await?;
            forward::relay(inner, &checked, body, true).await
        }
        (_, None) => search::studies(inner, &checked).await,
        (_, Some(study)) => {
            let patient = inner
                .upstream
                .patient_of(&study)
                .await
                .map_err(|f| Refusal::new(forward::status_of(f), f.code()))?
                .ok_or_else(|| Refusal::new(StatusCode::NOT_FOUND, "not-found"))?;
            permit(inner, &checked, &study, &patient).await?;
            match (
                &inner.pseudonyms,
                checked.pseudonymise && !checked.route.json,
            ) {
                (Some(p), true) => research::relay(inner, &checked, p).await,
                _ => forward::relay(inner, &checked, Body::empty(), false).await,
            }
        }
    }
}

/// Decides and records one access to `study`; `Ok` when it may be served.
pub(crate) async fn permit(
    inner: &Inner,
    checked: &Checked,
    study: &StudyUid,
    patient: &PatientId,
) -> Result<(), Refusal> {
    let now = inner.clock.now();
    let verdict = decide(&context(inner), &checked.caller, study, patient, now).await;
    let (decision, codes, permitted) = match verdict {
        // Served identified only to a caller the checks did not mark for
        // pseudonyms; never the other way round.
        Verdict::Permit {
            decision,
            pseudonymise,
        } if checked.pseudonymise || !pseudonymise => (Some(decision), Vec::new(), true),
        Verdict::Permit { decision, .. } => (
            Some(decision),
            vec!["pseudonymisation-unavailable".to_owned()],
            false,
        ),
        Verdict::Deny { decision, codes } => (decision, codes, false),
    };
    if let Some(basis) = decision.as_ref().map(basis_of) {
        record(
            inner,
            checked,
            Some(study.clone()),
            Some(patient.clone()),
            basis,
            permitted,
        )
        .await?;
    }
    if permitted {
        Ok(())
    } else {
        Err(Refusal {
            status: StatusCode::FORBIDDEN,
            codes,
        })
    }
}

pub(crate) fn context(inner: &Inner) -> Context<'_> {
    Context {
        activities: &inner.config.activities,
        subjects: inner.subjects.as_ref(),
        register: inner.register.as_ref(),
        system: &inner.system,
        subject_records: inner.subject_records.as_deref(),
    }
}

fn basis_of(decision: &Decision) -> gdpr_core::basis::LawfulBasis {
    match decision {
        Decision::Permit(p) => p.basis().clone(),
        Decision::Deny(d) => d.about().basis.clone(),
    }
}

/// Storing is decided without a subject (the upload is not read): the
/// activity of the caller's purpose must permit it for a subject without
/// recorded state; restriction never stops storage (GDPR Art. 18(2)).
fn store_basis(inner: &Inner, caller: &Caller) -> Result<gdpr_core::basis::LawfulBasis, Refusal> {
    let forbidden = |code: &str| Refusal::new(StatusCode::FORBIDDEN, code);
    let activity = inner
        .config
        .activities
        .iter()
        .find(|a| a.purpose() == caller.purpose)
        .ok_or_else(|| forbidden("no-activity-for-purpose"))?;
    let request = gdpr_core::authorization::Request {
        actor: caller.actor.clone(),
        purpose: caller.purpose,
        categories: vec![gdpr_core::category::RecordCategory::ImagingExamination],
        restriction_exception: None,
        retention_phase: None,
    };
    let decision = gdpr_core::authorization::authorize(
        activity,
        &request,
        &gdpr_core::subject::SubjectState::default(),
        inner.clock.now(),
    );
    match decision {
        Decision::Permit(p) => Ok(p.basis().clone()),
        Decision::Deny(d) => Err(Refusal {
            status: StatusCode::FORBIDDEN,
            codes: d
                .reasons()
                .iter()
                .map(|r| crate::decide::code_name(r.code))
                .collect(),
        }),
    }
}

/// Writes (or coalesces) the audit record; a failure refuses the request.
pub(crate) async fn record(
    inner: &Inner,
    checked: &Checked,
    study: Option<StudyUid>,
    patient: Option<PatientId>,
    basis: gdpr_core::basis::LawfulBasis,
    permitted: bool,
) -> Result<(), Refusal> {
    let access = Access {
        kind: checked.route.kind,
        actor: checked.caller.actor.clone(),
        purpose: checked.caller.purpose,
        basis,
        study,
        patient,
        permitted,
    };
    inner
        .recorder
        .record(access, inner.clock.now())
        .await
        .map_err(|_| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "audit-unavailable"))
}
