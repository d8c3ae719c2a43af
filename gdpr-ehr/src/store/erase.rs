//! Erasing one resource and checking what is left of it. Right before each
//! DELETE the resource is read again and deleted only when its patient
//! reference is exactly the subject and it is the patient's own
//! ([`crate::compartment::belongs_to`]); after the DELETE the server is
//! asked to purge its versions where it offers `$expunge`. Afterwards it
//! must be unreadable (404/410) and the server must serve no earlier version
//! of it from `_history`.

use gdpr_connect::Outcome;
use gdpr_core::store::StoreError;

use crate::client::FhirClient;
use crate::compartment::{Classification, belongs_to, classify};

/// Why a resource is left after an erasure (no patient value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    /// Its resource type.
    pub kind: String,
    /// Its logical id.
    pub id: String,
    /// Why it is left.
    pub reason: String,
}

/// Re-reads `kind/id`, then deletes it if it is still exactly the subject's
/// own record.
///
/// # Errors
/// As [`FhirClient::read`] and [`FhirClient::delete`].
pub async fn erase_resource(
    client: &FhirClient,
    kind: &str,
    id: &str,
    patient_id: &str,
) -> Result<Outcome, StoreError> {
    let Some(current) = client.read(kind, id).await? else {
        return Ok(Outcome::Done { existed: false });
    };
    erase_read(client, (kind, id), patient_id, &current).await
}

/// As [`erase_resource`], with `current` the resource as the caller read
/// it right before (no second read).
///
/// # Errors
/// As [`FhirClient::delete`].
pub(crate) async fn erase_read(
    client: &FhirClient,
    (kind, id): (&str, &str),
    patient_id: &str,
    current: &crate::model::Resource,
) -> Result<Outcome, StoreError> {
    if let Classification::Shared { reason } = classify(current, patient_id) {
        return Ok(Outcome::Refused(format!("never deleted: {reason}")));
    }
    if !belongs_to(current, patient_id, client.base().as_str()) {
        return Ok(Outcome::Refused(
            "its patient reference is no longer exactly the subject's (checked right before \
             the deletion); left in place"
                .into(),
        ));
    }
    let outcome = client.delete(kind, id).await?;
    if matches!(outcome, Outcome::Done { .. }) {
        // Where the server can purge the deleted versions, ask it to; what
        // its history still serves is checked afterwards either way.
        client.expunge(kind, id).await?;
    }
    Ok(outcome)
}

/// What is left of `kind/id` after its deletion: the resource itself if it
/// can still be read, and the earlier versions `_history` still serves.
///
/// # Errors
/// As [`FhirClient::read`] and [`FhirClient::history`].
pub async fn what_is_left(
    client: &FhirClient,
    kind: &str,
    id: &str,
) -> Result<Option<Left>, StoreError> {
    let left = |reason: String| {
        Some(Left {
            kind: kind.to_owned(),
            id: id.to_owned(),
            reason,
        })
    };
    if client.read(kind, id).await?.is_some() {
        return Ok(left("still readable after the deletion".into()));
    }
    let versions = client
        .history(kind, id)
        .await?
        .iter()
        .filter(|entry| entry.resource.is_some())
        .count();
    if versions > 0 {
        return Ok(left(format!(
            "deleted, but the server still serves {versions} earlier version(s) from _history \
             (it offers no $expunge, or refused it): ask its administrator to purge them"
        )));
    }
    Ok(None)
}
