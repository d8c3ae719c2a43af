//! DICOM PS3.15 A.5 audit messages (the RFC 3881-derived XML schema):
//! `EventIdentification` with `EventID` (DCM CID 400) and `PurposeOfUse`,
//! `ActiveParticipant`, `AuditSourceIdentification` and
//! `ParticipantObjectIdentification` for the patient and the object.

use std::fmt::Write as _;

use gdpr_core::subject::PatientId;

use super::{Disclosure, Item, fhir::purpose_of_use};

use crate::object::ObjectKind;
use crate::record::Record;
use crate::report::Personal;
use crate::seal::PersonalFields;
use crate::store::hex;

pub(super) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// ParticipantObjectIDTypeCode for an object kind (DCM / RFC 3881 codes).
fn id_type(kind: ObjectKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        ObjectKind::Study | ObjectKind::Series | ObjectKind::Instance => {
            ("110180", "DCM", "Study Instance UID")
        }
        ObjectKind::Patient => ("2", "RFC-3881", "Patient Number"),
        ObjectKind::Query => ("110181", "DCM", "SOP Class UID"),
        _ => ("9", "RFC-3881", "Report Number"),
    }
}

/// The personal fields `disclosure` lets into the message, when readable.
fn readable(item: &Item, disclosure: Disclosure) -> Option<&PersonalFields> {
    match (&item.personal, disclosure) {
        (Personal::Readable(f), Disclosure::Full) => Some(f),
        _ => None,
    }
}

/// The `<AuditMessage>` element for one record.
pub(crate) fn audit_message(item: &Item, disclosure: Disclosure) -> String {
    let r = &item.record;
    let readable = readable(item, disclosure);
    let mut x = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(x, "  <AuditMessage>");
    event_identification(&mut x, r);
    active_participant(&mut x, r);
    let _ = writeln!(
        x,
        "    <AuditSourceIdentification AuditSourceID=\"{}\"{}/>",
        esc(r.source().as_str()),
        r.tenant()
            .map(|t| format!(" AuditEnterpriseSiteID=\"{}\"", esc(t.as_str())))
            .unwrap_or_default()
    );
    if let Some(s) = readable.and_then(|f| f.subject.as_ref()) {
        patient_participant(&mut x, s);
    }
    if let Some(kind) = r.object_kind() {
        object_participant(&mut x, item, kind, readable);
    }
    personal_comment(&mut x, &item.personal);
    let _ = writeln!(x, "  </AuditMessage>");
    x
}

/// `<EventIdentification>`: action, time, outcome, event id and purpose.
fn event_identification(x: &mut String, r: &Record) {
    let code = r.event_type().code();
    let _ = writeln!(
        x,
        "    <EventIdentification EventActionCode=\"{}\" EventDateTime=\"{}\" EventOutcomeIndicator=\"{}\">",
        r.action().crude_code(),
        r.recorded(),
        r.outcome().code()
    );
    let _ = writeln!(
        x,
        "      <EventID csd-code=\"{}\" codeSystemName=\"{}\" originalText=\"{}\"/>",
        code.code,
        if code.system.ends_with("DCM") {
            "DCM"
        } else {
            "audit-event-type"
        },
        esc(code.display)
    );
    let _ = writeln!(
        x,
        "      <PurposeOfUse csd-code=\"{}\" codeSystemName=\"v3-ActReason\" originalText=\"{}\"/>",
        purpose_of_use(r.purpose()),
        r.purpose().name()
    );
    let _ = writeln!(x, "    </EventIdentification>");
}

/// `<ActiveParticipant>`: the actor, the requestor.
fn active_participant(x: &mut String, r: &Record) {
    let role = serde_json::to_value(r.actor().role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = writeln!(
        x,
        "    <ActiveParticipant UserID=\"{}\" UserIsRequestor=\"true\">",
        esc(r.actor().id.expose())
    );
    let _ = writeln!(
        x,
        "      <RoleIDCode csd-code=\"{}\" codeSystemName=\"gdpr-health-role\" originalText=\"{}\"/>",
        esc(&role),
        esc(&role)
    );
    let _ = writeln!(x, "    </ActiveParticipant>");
}

/// `<ParticipantObjectIdentification>` for the patient (type 1, role 1).
fn patient_participant(x: &mut String, subject: &PatientId) {
    let _ = writeln!(
        x,
        "    <ParticipantObjectIdentification ParticipantObjectID=\"{}\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\">",
        esc(subject.expose())
    );
    let _ = writeln!(
        x,
        "      <ParticipantObjectIDTypeCode csd-code=\"2\" codeSystemName=\"RFC-3881\" originalText=\"Patient Number\"/>"
    );
    let _ = writeln!(x, "    </ParticipantObjectIdentification>");
}

/// The object's id as the message shows it: in clear when disclosed,
/// otherwise what became of it (erased or unreadable, with the key id) or
/// `redacted`.
fn object_id(item: &Item, readable: Option<&PersonalFields>) -> String {
    readable.and_then(|f| f.object_id.as_ref()).map_or_else(
        || match &item.personal {
            Personal::Erased(k) => format!("erased:{}", k.to_hex()),
            Personal::Unreadable { key_id, .. } => format!("unreadable:{}", key_id.to_hex()),
            _ => "redacted".to_owned(),
        },
        |o| o.expose().to_owned(),
    )
}

/// `<ParticipantObjectIdentification>` for the object acted on (type 2),
/// with the record's leaf hash.
fn object_participant(
    x: &mut String,
    item: &Item,
    kind: ObjectKind,
    readable: Option<&PersonalFields>,
) {
    let (c, sys, text) = id_type(kind);
    let _ = writeln!(
        x,
        "    <ParticipantObjectIdentification ParticipantObjectID=\"{}\" ParticipantObjectTypeCode=\"2\">",
        esc(&object_id(item, readable))
    );
    let _ = writeln!(
        x,
        "      <ParticipantObjectIDTypeCode csd-code=\"{c}\" codeSystemName=\"{sys}\" originalText=\"{text}\"/>"
    );
    let _ = writeln!(
        x,
        "      <ParticipantObjectDetail type=\"gdpr-audit-leaf-hash\" value=\"{}\"/>",
        hex(&item.leaf)
    );
    let _ = writeln!(x, "    </ParticipantObjectIdentification>");
}

/// A comment saying why the personal fields are missing, when they were
/// erased or cannot be read.
fn personal_comment(x: &mut String, personal: &Personal) {
    if let Personal::Erased(k) = personal {
        let _ = writeln!(
            x,
            "    <!-- personal fields erased (GDPR Art. 17): key {} destroyed -->",
            k.to_hex()
        );
    }
    if let Personal::Unreadable { key_id, cause } = personal {
        let _ = writeln!(
            x,
            "    <!-- personal fields unreadable ({}): sealed under key {} -->",
            cause.code(),
            key_id.to_hex()
        );
    }
}
