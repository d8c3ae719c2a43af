//! DICOM PS3.15 A.5 audit messages (the RFC 3881-derived XML schema):
//! `EventIdentification` with `EventID` (DCM CID 400) and `PurposeOfUse`,
//! `ActiveParticipant`, `AuditSourceIdentification` and
//! `ParticipantObjectIdentification` for the patient and the object.

use std::fmt::Write as _;

use super::{Disclosure, Item, fhir::purpose_of_use};
use crate::object::ObjectKind;
use crate::report::Personal;
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

pub(crate) fn audit_message(item: &Item, disclosure: Disclosure) -> String {
    let r = &item.record;
    let code = r.event_type().code();
    let mut x = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(x, "  <AuditMessage>");
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
    let _ = writeln!(
        x,
        "    <AuditSourceIdentification AuditSourceID=\"{}\"{}/>",
        esc(r.source().as_str()),
        r.tenant()
            .map(|t| format!(" AuditEnterpriseSiteID=\"{}\"", esc(t.as_str())))
            .unwrap_or_default()
    );
    let readable = match (&item.personal, disclosure) {
        (Personal::Readable(f), Disclosure::Full) => Some(f),
        _ => None,
    };
    if let Some(s) = readable.and_then(|f| f.subject.as_ref()) {
        let _ = writeln!(
            x,
            "    <ParticipantObjectIdentification ParticipantObjectID=\"{}\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\">",
            esc(s.expose())
        );
        let _ = writeln!(
            x,
            "      <ParticipantObjectIDTypeCode csd-code=\"2\" codeSystemName=\"RFC-3881\" originalText=\"Patient Number\"/>"
        );
        let _ = writeln!(x, "    </ParticipantObjectIdentification>");
    }
    if let Some(kind) = r.object_kind() {
        let (c, sys, text) = id_type(kind);
        let id = readable.and_then(|f| f.object_id.as_ref()).map_or_else(
            || match &item.personal {
                Personal::Erased(k) => format!("erased:{}", k.to_hex()),
                Personal::Unreadable { key_id, .. } => format!("unreadable:{}", key_id.to_hex()),
                _ => "redacted".to_owned(),
            },
            |o| o.expose().to_owned(),
        );
        let _ = writeln!(
            x,
            "    <ParticipantObjectIdentification ParticipantObjectID=\"{}\" ParticipantObjectTypeCode=\"2\">",
            esc(&id)
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
    if let Personal::Erased(k) = &item.personal {
        let _ = writeln!(
            x,
            "    <!-- personal fields erased (GDPR Art. 17): key {} destroyed -->",
            k.to_hex()
        );
    }
    if let Personal::Unreadable { key_id, cause } = &item.personal {
        let _ = writeln!(
            x,
            "    <!-- personal fields unreadable ({}): sealed under key {} -->",
            cause.code(),
            key_id.to_hex()
        );
    }
    let _ = writeln!(x, "  </AuditMessage>");
    x
}
