//! Restriction of processing (GDPR Art. 18) as a security label in
//! `meta.security` (R4 §8.1.2 Security Labels): HL7 v3 ActCode `NOAUTH`
//! ("no disclosure without subject authorization"), a RefrainPolicy code.
//! Chosen because Art. 18(2) lets restricted data be processed, apart from
//! storage, chiefly with the subject's consent; NOAUTH is the only refrain
//! policy conditioned on the subject's own authorization. The other Art.
//! 18(2) exceptions are decided by gdpr-core's `authorize`, not by the label.
//!
//! A label is set by reading the resource, adding (or removing) the coding
//! and writing it back with `If-Match` on the version read, then reading it
//! again: a label counts as set only once it is read back.

use gdpr_core::store::{ProtocolCause, StoreError};

use crate::client::FhirClient;
use crate::model::{Coding, Meta, Resource, logical_id};

/// The code system of the label.
pub const LABEL_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// The label's code.
pub const LABEL_CODE: &str = "NOAUTH";
/// The label's display.
pub const LABEL_DISPLAY: &str = "no disclosure without subject authorization";

/// How often a write is retried when the resource changed meanwhile (412).
const ATTEMPTS: usize = 3;

/// Whether `resource` carries the restriction label.
pub fn is_labelled(resource: &Resource) -> bool {
    meta_of(resource)
        .security
        .iter()
        .any(|c| c.is(LABEL_SYSTEM, LABEL_CODE))
}

fn meta_of(resource: &Resource) -> Meta {
    resource
        .get("meta")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default()
}

/// `resource` with the label added (`on`) or removed; `None` when nothing
/// changes.
fn relabelled(resource: &Resource, on: bool) -> Option<Resource> {
    if is_labelled(resource) == on {
        return None;
    }
    let mut meta = meta_of(resource);
    if on {
        meta.security.push(Coding {
            system: Some(LABEL_SYSTEM.into()),
            code: Some(LABEL_CODE.into()),
            display: Some(LABEL_DISPLAY.into()),
        });
    } else {
        meta.security.retain(|c| !c.is(LABEL_SYSTEM, LABEL_CODE));
    }
    let mut changed = resource.clone();
    changed.insert("meta".into(), serde_json::to_value(meta).ok()?);
    Some(changed)
}

/// Sets (`on`) or removes the label on `kind/id`, then reads it back.
/// Returns whether the resource existed.
///
/// # Errors
/// [`StoreError::Protocol`] (`InvalidContent`) when the server accepted the
/// write but the label read back is not as written (it does not keep
/// security labels); as [`FhirClient::update`] otherwise.
pub async fn set_label(
    client: &FhirClient,
    kind: &str,
    id: &str,
    on: bool,
) -> Result<bool, StoreError> {
    for _ in 0..ATTEMPTS {
        let Some(current) = client.read(kind, id).await? else {
            return Ok(false);
        };
        let Some(changed) = relabelled(&current, on) else {
            return Ok(true);
        };
        let version = meta_of(&current).version_id.unwrap_or_default();
        match client.update(kind, id, &version, &changed).await {
            Err(StoreError::Protocol {
                cause: ProtocolCause::UnexpectedStatus(412),
                ..
            }) => continue,
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let back = client.read(kind, id).await?;
        if back
            .as_ref()
            .is_some_and(|r| is_labelled(r) == on && logical_id(r) == Some(id))
        {
            return Ok(true);
        }
        return Err(crate::client::invalid(
            "PUT /{type}/{id}",
            "the server accepted the security label but does not return it when read back; \
             it cannot mark a restriction",
        ));
    }
    Err(StoreError::Transient {
        operation: "PUT /{type}/{id}",
        attempts: ATTEMPTS as u32,
        detail: "the resource kept changing between reading and writing (HTTP 412)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_is_added_once_and_removed_keeping_other_labels() {
        let r = serde_json::json!({"resourceType": "Patient", "id": "p", "meta": {
            "versionId": "3",
            "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]
        }});
        let r = r.as_object().unwrap().clone();
        let on = relabelled(&r, true).unwrap();
        assert!(is_labelled(&on));
        assert!(relabelled(&on, true).is_none());
        let off = relabelled(&on, false).unwrap();
        assert!(!is_labelled(&off));
        assert_eq!(off["meta"]["security"].as_array().unwrap().len(), 1);
        assert_eq!(off["meta"]["versionId"], "3");
    }
}
