//! Restriction (GDPR Art. 18) on Orthanc: a user-defined metadata on each
//! of the subject's patient resources, written, then read back.
//!
//! Orthanc 1.10 (Debian 12) has no labels; user-defined metadata must be
//! declared in Orthanc's configuration (`"UserMetadata": { "GdprRestriction":
//! 4242 }`) and named in `systems.toml` (`restriction_metadata`). The value
//! is the ground's citation and the start time, never a patient value.

use std::collections::BTreeSet;

use gdpr_core::restriction::Restriction;
use gdpr_core::store::{ProtocolCause, RestrictionOutcome, StoreError};
use gdpr_core::subject::PatientId;
use reqwest::StatusCode;

use super::orthanc::OrthancStore;

const PUT: &str = "PUT /patients/{id}/metadata/{name}";
const GET: &str = "GET /patients/{id}/metadata/{name}";
const DELETE: &str = "DELETE /patients/{id}/metadata/{name}";

/// Marks (`Some`) or unmarks (`None`) every patient resource of `subject`
/// with the metadata `name`, and reads each back.
///
/// # Errors
/// [`StoreError::Configuration`] when Orthanc does not know `name` (not
/// declared in its `UserMetadata`); [`StoreError::Protocol`] when the read
/// back differs; as the store's other operations otherwise.
pub(super) async fn mark(
    store: &OrthancStore,
    name: &str,
    subject: &PatientId,
    restriction: Option<&Restriction>,
) -> Result<RestrictionOutcome, StoreError> {
    let patients: BTreeSet<String> = store
        .find(subject)
        .await?
        .into_iter()
        .map(|s| s.patient)
        .collect();
    let value = restriction.map(|r| format!("{} since {}", r.ground().citation(), r.since()));
    for patient in &patients {
        match &value {
            Some(value) => put(store, patient, name, value).await?,
            None => delete(store, patient, name).await?,
        }
        let read = get(store, patient, name).await?;
        if read != value {
            return Err(StoreError::Protocol {
                operation: GET,
                cause: ProtocolCause::InvalidContent,
                detail: "the restriction mark read back differs from the one written".into(),
            });
        }
    }
    Ok(RestrictionOutcome::Marked {
        mark: format!("Orthanc user-defined metadata `{name}` on the patient"),
        records: patients.len() as u64,
    })
}

fn url(store: &OrthancStore, patient: &str, name: &str) -> reqwest::Url {
    store.http.url(&["patients", patient, "metadata", name])
}

/// Orthanc answers an undeclared metadata name with 400 or 404 on writes.
fn undeclared(name: &str) -> StoreError {
    StoreError::Configuration {
        detail: format!(
            "Orthanc refused the metadata `{name}`: declare it in Orthanc's UserMetadata \
             (e.g. \"UserMetadata\": {{ \"{name}\": 4242 }}) or fix restriction_metadata"
        ),
    }
}

async fn put(
    store: &OrthancStore,
    patient: &str,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    let target = url(store, patient, name);
    let (status, _) = store
        .http
        .call(PUT, |c| c.put(target.clone()).body(value.to_owned()))
        .await?;
    match status {
        s if s.is_success() => Ok(()),
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => Err(undeclared(name)),
        other => gdpr_connect::check_status(PUT, other),
    }
}

async fn delete(store: &OrthancStore, patient: &str, name: &str) -> Result<(), StoreError> {
    let target = url(store, patient, name);
    let (status, _) = store
        .http
        .call(DELETE, |c| c.delete(target.clone()))
        .await?;
    match status {
        s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
        StatusCode::BAD_REQUEST => Err(undeclared(name)),
        other => gdpr_connect::check_status(DELETE, other),
    }
}

/// The metadata's value, `None` when the patient has none.
async fn get(
    store: &OrthancStore,
    patient: &str,
    name: &str,
) -> Result<Option<String>, StoreError> {
    let target = url(store, patient, name);
    let (status, body) = store.http.call(GET, |c| c.get(target.clone())).await?;
    match status {
        StatusCode::NOT_FOUND => Ok(None),
        s if s.is_success() => {
            String::from_utf8(body.to_vec())
                .map(Some)
                .map_err(|_| StoreError::Protocol {
                    operation: GET,
                    cause: ProtocolCause::MalformedBody,
                    detail: "the metadata is not UTF-8 text".into(),
                })
        }
        other => gdpr_connect::check_status(GET, other).map(|()| None),
    }
}
