//! Shared resources are never deleted; where R4 lets the patient's part be
//! removed without changing what the resource says of anyone else, it is
//! removed: a `Group`'s `member` entries naming the patient (and its
//! `quantity` lowered to match). The resource is read, changed, written
//! back with `If-Match` on the version read (a change meanwhile is read
//! again), and read back: only a current version that names the patient
//! no more counts. Other shared types (an Appointment, a Communication, a
//! Provenance) stay as they are and are reported with their reason.

use gdpr_connect::Outcome;
use gdpr_core::store::{ProtocolCause, StoreError};
use serde_json::Value;

use super::erase::Left;
use crate::client::FhirClient;
use crate::compartment::{mentions_patient, names_patient};
use crate::model::{Meta, Resource};

/// Attempts at a conditional update before giving up (the resource kept
/// changing).
const ATTEMPTS: usize = 3;

/// The shared types whose patient references are removed: the type, the
/// name of the part removed (`Group.member`: the record named in erasure
/// reports, as `Group.member:{id}`, never `Group:{id}`, which stays), and
/// what is done.
pub const UNLINKABLE: &[(&str, &str, &str)] = &[(
    "Group",
    "Group.member",
    "Group.member entries naming the patient removed (Group.quantity lowered to match); the \
     Group and its other members stay",
)];

/// Whether `kind` is a shared type whose patient reference is removed.
pub fn is_unlinkable(kind: &str) -> bool {
    unlinked_part(kind).is_some()
}

/// The part of a shared `kind` that names the patient and is removed
/// (`Group` → `Group.member`).
pub fn unlinked_part(kind: &str) -> Option<&'static str> {
    UNLINKABLE
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, part, _)| *part)
}

/// `resource` without its member entries whose `entity` is the Patient
/// `patient_id`; `None` when it has none.
pub fn without_patient(resource: &Resource, patient_id: &str) -> Option<Resource> {
    let members = resource.get("member")?.as_array()?;
    // Only an entry whose `entity` is the patient goes: another member's
    // entry stays whatever else it mentions (then the read-back still
    // finds the patient and says so).
    let (gone, kept): (Vec<&Value>, Vec<&Value>) = members.iter().partition(|m| {
        m.pointer("/entity/reference")
            .and_then(Value::as_str)
            .is_some_and(|r| names_patient(r, patient_id))
    });
    if gone.is_empty() {
        return None;
    }
    let mut changed = resource.clone();
    if kept.is_empty() {
        changed.remove("member");
    } else {
        changed.insert(
            "member".into(),
            Value::Array(kept.into_iter().cloned().collect()),
        );
    }
    if let Some(quantity) = changed.get("quantity").and_then(Value::as_u64) {
        let lower = quantity.saturating_sub(gone.len() as u64);
        changed.insert("quantity".into(), Value::from(lower));
    }
    Some(changed)
}

fn version_of(resource: &Resource) -> Option<String> {
    resource
        .get("meta")
        .and_then(|m| serde_json::from_value::<Meta>(m.clone()).ok())
        .and_then(|m| m.version_id)
}

/// Removes the patient's references from the shared `kind/id` where its
/// type allows ([`UNLINKABLE`]): `Done` once the current version, read
/// back, names the patient no more; `Refused` with the reason when the
/// type does not allow it or the server refuses the update.
///
/// # Errors
/// As [`FhirClient::read`] and [`FhirClient::update`] (other than the
/// refusals 400, 403, 405, 409, 422).
pub async fn unlink(
    client: &FhirClient,
    kind: &str,
    id: &str,
    patient_id: &str,
    reason: &str,
) -> Result<Outcome, StoreError> {
    if !is_unlinkable(kind) {
        return Ok(Outcome::Refused(format!("never deleted: {reason}")));
    }
    for _ in 0..ATTEMPTS {
        let Some(current) = client.read(kind, id).await? else {
            return Ok(Outcome::Done { existed: false });
        };
        let Some(changed) = without_patient(&current, patient_id) else {
            return Ok(Outcome::Done { existed: true });
        };
        let Some(version) = version_of(&current) else {
            return Ok(Outcome::Refused(format!(
                "never deleted: {reason}; the server gave no version to update it against \
                 safely (If-Match), so the patient's entry was left in it"
            )));
        };
        match client.update(kind, id, &version, &changed).await {
            Err(StoreError::Protocol {
                cause: ProtocolCause::UnexpectedStatus(412),
                ..
            }) => continue,
            Err(StoreError::Protocol {
                cause: ProtocolCause::UnexpectedStatus(status @ (400 | 403 | 405 | 409 | 422)),
                ..
            }) => {
                return Ok(Outcome::Refused(format!(
                    "never deleted: {reason}; the server refused to remove the patient's entry \
                     (HTTP {status})"
                )));
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let back = client.read(kind, id).await?;
        if back.is_some_and(|r| mentions_patient(&r, patient_id)) {
            return Ok(Outcome::Refused(format!(
                "never deleted: {reason}; the server accepted the update but still names the \
                 patient when read back"
            )));
        }
        return Ok(Outcome::Done { existed: true });
    }
    Err(StoreError::Transient {
        operation: "PUT /{type}/{id}",
        attempts: ATTEMPTS as u32,
        detail: "the resource kept changing between reading and writing (HTTP 412)".into(),
    })
}

/// What is left of the patient in the shared `kind/id` after its
/// references were removed: the current version if it still names the
/// patient, else earlier versions in `_history` that do. `report_kind`
/// is the kind the remnant is named by (the removed part, or the type).
///
/// # Errors
/// As [`FhirClient::read`] and [`FhirClient::history`].
pub async fn what_is_left_linked(
    client: &FhirClient,
    kind: &str,
    id: &str,
    patient_id: &str,
    report_kind: &str,
) -> Result<Option<Left>, StoreError> {
    let left = |reason: String| {
        Some(Left {
            kind: report_kind.to_owned(),
            id: id.to_owned(),
            reason,
        })
    };
    if client
        .read(kind, id)
        .await?
        .is_some_and(|r| mentions_patient(&r, patient_id))
    {
        return Ok(left(
            "shared, never deleted: it still names the patient".into(),
        ));
    }
    let versions = client
        .history(kind, id)
        .await?
        .into_iter()
        .filter_map(|entry| entry.resource)
        .filter(|r| mentions_patient(r, patient_id))
        .count();
    if versions > 0 {
        return Ok(left(format!(
            "shared, never deleted: the patient's entry was removed, but the server still \
             serves {versions} earlier version(s) naming the patient from _history (it offers \
             no $expunge, or refused it): ask its administrator to purge them"
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_patients_member_entries_go_and_the_quantity_follows() {
        let group = json!({"resourceType": "Group", "id": "g", "type": "person", "actual": true,
        "quantity": 3, "member": [
            {"entity": {"reference": "Patient/p1"}},
            {"entity": {"reference": "Patient/p2"}, "inactive": false},
            {"entity": {"reference": "Patient/p1"}, "period": {"start": "2020"}}
        ]});
        let group = group.as_object().unwrap().clone();
        let changed = without_patient(&group, "p1").unwrap();
        assert_eq!(
            Value::Object(changed.clone()),
            json!({"resourceType": "Group", "id": "g", "type": "person", "actual": true,
            "quantity": 1, "member": [
                {"entity": {"reference": "Patient/p2"}, "inactive": false}
            ]})
        );
        assert!(without_patient(&changed, "p1").is_none());
        let alone = without_patient(&changed, "p2").unwrap();
        assert!(alone.get("member").is_none());
        assert_eq!(alone["quantity"], 0);
        assert!(is_unlinkable("Group") && !is_unlinkable("Appointment"));
    }

    #[test]
    fn another_members_entry_stays_whatever_else_it_mentions() {
        let group = json!({"resourceType": "Group", "id": "g", "type": "person", "actual": true,
        "member": [
            {"entity": {"reference": "Patient/p2"},
             "extension": [{"url": "urn:x", "valueReference": {"reference": "Patient/p1"}}]},
            {"entity": {"reference": "Patient/p10"}}
        ]});
        let group = group.as_object().unwrap().clone();
        assert!(without_patient(&group, "p1").is_none());
    }
}
