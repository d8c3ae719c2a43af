//! FHIR R4 `AuditEvent`, following the IHE Basic Audit Log Patterns (BALP):
//! `type` from DICOM CID 400 (or `rest`), CRUDE `action`, numeric
//! `outcome`, `purposeOfEvent` from v3 ActReason, one agent (the actor,
//! requestor), `source.observer`, and entities for the patient (role 1)
//! and the object. The lawful basis and the log position travel in
//! extensions.

use gdpr_core::actor::Role;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use serde_json::{Value, json};

use super::{Disclosure, Item, personal_json};
use crate::object::ObjectKind;
use crate::record::Record;
use crate::report::Personal;
use crate::seal::PersonalFields;
use crate::store::hex;

const EXT_BASE: &str = "https://gdpr-health.invalid/fhir/StructureDefinition";

/// v3 ActReason code for a purpose.
pub(crate) fn purpose_of_use(p: Purpose) -> &'static str {
    match p {
        Purpose::Diagnosis | Purpose::Treatment | Purpose::Prevention => "TREAT",
        Purpose::CareCoordination => "COC",
        Purpose::Billing => "HPAYMT",
        Purpose::QualityAssurance => "HQUALIMP",
        Purpose::HealthcareManagement => "HOPERAT",
        Purpose::Research | Purpose::Statistics => "HRESCH",
        // Keeping the record, without using it, is records management.
        Purpose::Archiving | Purpose::Storage => "RECORDMGT",
        Purpose::PublicHealth => "PUBHLTH",
        Purpose::LegalClaims => "HLEGAL",
        Purpose::LegalObligation => "HCOMPL",
        Purpose::DataSubjectRequest => "PATRQT",
        Purpose::DirectMarketing => "HMARKT",
        _ => "HOPERAT",
    }
}

/// The FHIR object-role code for an object kind.
fn object_role(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::Patient => ("1", "Patient"),
        ObjectKind::Document => ("3", "Report"),
        ObjectKind::Query => ("24", "Query"),
        ObjectKind::AuditLog => ("13", "Security Resource"),
        _ => ("4", "Domain Resource"),
    }
}

fn role_name(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

/// The `AuditEvent` resource for one record.
pub(crate) fn audit_event(item: &Item, disclosure: Disclosure) -> Value {
    let r = &item.record;
    let code = r.event_type().code();
    let pou = purpose_of_use(r.purpose());
    let basis = serde_json::to_string(r.lawful_basis()).unwrap_or_default();
    let mut ev = json!({
        "resourceType": "AuditEvent",
        "id": format!("gdpr-audit-{}", r.position()),
        "type": {"system": code.system, "code": code.code, "display": code.display},
        "action": r.action().crude_code(),
        "recorded": r.recorded().to_string(),
        "outcome": r.outcome().code().to_string(),
        "purposeOfEvent": [{"coding": [{"system": ACT_REASON, "code": pou}], "text": r.purpose().name()}],
        "agent": [agent(r, pou)],
        "source": source(r),
        "entity": entities(item, disclosure),
        "extension": [
            {"url": format!("{EXT_BASE}/lawful-basis"), "valueString": basis},
            {"url": format!("{EXT_BASE}/log-position"), "valueUnsignedInt": r.position()},
            {"url": format!("{EXT_BASE}/leaf-hash"), "valueString": hex(&item.leaf)},
        ],
    });
    if let Some(c) = r.correlation_id()
        && let Some(a) = ev["extension"].as_array_mut()
    {
        a.push(json!({"url": format!("{EXT_BASE}/correlation-id"), "valueString": c.as_str()}));
    }
    ev
}

/// The one agent: the actor, requestor, with its purpose of use.
fn agent(r: &Record, pou: &str) -> Value {
    let agent_type = if r.actor().role == Role::System {
        "dataprocessor"
    } else {
        "humanuser"
    };
    json!({
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "code": agent_type}]},
        "role": [{"text": role_name(r.actor().role)}],
        "who": {"identifier": {"value": r.actor().id.expose()}},
        "requestor": true,
        "purposeOfUse": [{"coding": [{"system": ACT_REASON, "code": pou}]}],
    })
}

/// `source`: the observer (the source system) and the tenant as site.
fn source(r: &Record) -> Value {
    let mut source = json!({
        "observer": {"display": r.source().as_str()},
        "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}],
    });
    if let Some(t) = r.tenant() {
        source["site"] = json!(t.as_str());
    }
    source
}

/// The entities: the personal-fields status when they are not disclosed,
/// the patient when disclosed, and the object.
fn entities(item: &Item, disclosure: Disclosure) -> Vec<Value> {
    let readable = match (&item.personal, disclosure) {
        (Personal::Readable(f), Disclosure::Full) => Some(f),
        _ => None,
    };
    let mut entities = Vec::new();
    if readable.is_none() && !matches!(item.personal, Personal::NoneRecorded) {
        entities.push(withheld_entity(&item.personal, disclosure));
    }
    if let Some(s) = readable.and_then(|f| f.subject.as_ref()) {
        entities.push(patient_entity(s));
    }
    if let Some(kind) = item.record.object_kind() {
        entities.push(object_entity(kind, readable));
    }
    entities
}

/// An entity saying the personal fields are left out, and why.
fn withheld_entity(personal: &Personal, disclosure: Disclosure) -> Value {
    json!({
        "what": {"display": personal_json(personal, disclosure)["status"]},
        "description": "personal fields not included",
        "extension": [{"url": format!("{EXT_BASE}/personal-fields"), "valueString": personal_json(personal, disclosure).to_string()}],
    })
}

/// The patient entity (type 1 Person, role 1 Patient).
fn patient_entity(s: &PatientId) -> Value {
    let mut ident = json!({"value": s.expose()});
    if let Some(i) = s.issuer() {
        ident["assigner"] = json!({"display": i});
    }
    json!({
        "what": {"identifier": ident},
        "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
        "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
    })
}

/// The object entity (type 2 System Object), with its id and the free
/// text when disclosed.
fn object_entity(kind: ObjectKind, readable: Option<&PersonalFields>) -> Value {
    let (rc, rd) = object_role(kind);
    let mut e = json!({
        "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        "role": {"system": OBJECT_ROLE, "code": rc, "display": rd},
        "name": kind.name(),
    });
    if let Some(id) = readable.and_then(|f| f.object_id.as_ref()) {
        e["what"] = json!({"identifier": {"value": id.expose()}});
    }
    if let Some(t) = readable.and_then(|f| f.text.as_ref()) {
        e["description"] = json!(t.expose());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AuditEvent;
    use crate::event::tests::sample;

    #[test]
    fn storage_is_records_management() {
        assert_eq!(purpose_of_use(Purpose::Storage), "RECORDMGT");
        let e = sample("P-1");
        let stored = AuditEvent::builder(
            e.event_type(),
            e.action(),
            e.actor().clone(),
            Purpose::Storage,
            e.lawful_basis().clone(),
            e.source().clone(),
        )
        .build(e.recorded());
        let item = Item {
            record: Record::new(&stored, 0, [0; 32], None).unwrap(),
            leaf: [0; 32],
            personal: Personal::NoneRecorded,
        };
        let ev = audit_event(&item, Disclosure::Full);
        assert_eq!(ev["purposeOfEvent"][0]["coding"][0]["code"], "RECORDMGT");
        assert_eq!(ev["purposeOfEvent"][0]["text"], "storage");
        assert_eq!(
            ev["agent"][0]["purposeOfUse"][0]["coding"][0]["code"],
            "RECORDMGT"
        );
    }

    #[test]
    fn every_purpose_has_its_own_code() {
        // Only healthcare management is HOPERAT: no other purpose falls to
        // the catch-all.
        for p in Purpose::ALL {
            let code = purpose_of_use(p);
            let expected_default = p == Purpose::HealthcareManagement;
            assert_eq!(code == "HOPERAT", expected_default, "{p:?} -> {code}");
        }
    }
}
