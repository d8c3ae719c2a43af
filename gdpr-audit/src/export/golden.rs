//! Pins the FHIR and DICOM renderings of a fixed set of records byte for
//! byte, so a refactor of [`super::fhir`] or [`super::dicom`] cannot change
//! an export by accident. `GDPR_BLESS=1` rewrites the expected file (only
//! for an intended format change, reviewed in the diff).

use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;

use super::{Disclosure, Item, dicom, fhir};
use crate::action::{Action, EventType};
use crate::event::AuditEvent;
use crate::event::tests::sample;
use crate::label::SourceSystem;
use crate::object::{FreeText, ObjectId, ObjectKind, ObjectRef};
use crate::record::Record;
use crate::report::{Personal, UnreadableCause};
use crate::seal::{KeyId, PersonalFields};

const EXPECTED: &str = "src/export/testdata/fhir-dicom.golden";

/// A system event with few fields, about `kind`, with `purpose`.
fn sparse(kind: ObjectKind, purpose: Purpose, event_type: EventType) -> AuditEvent {
    let actor = Actor {
        id: ActorId::new("svc<&\"'>").unwrap(),
        role: Role::System,
        secrecy: Secrecy::None,
    };
    AuditEvent::builder(
        event_type,
        Action::Execute,
        actor,
        purpose,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
        SourceSystem::new("EHR-2").unwrap(),
    )
    .object(ObjectRef::new(kind, ObjectId::new("obj-1").unwrap()))
    .build("2026-11-26T08:30:00Z".parse().unwrap())
}

fn fields(event: &AuditEvent) -> PersonalFields {
    PersonalFields {
        subject: event.subject().cloned(),
        object_id: event.object().map(|o| o.id.clone()),
        text: event.text().cloned(),
    }
}

/// `sample`, with a subject that has an issuer, a document and text
/// that need XML escaping.
fn with_issuer() -> AuditEvent {
    let e = sample("P-1");
    let subject = PatientId::new("P-1")
        .unwrap()
        .with_issuer("Klinik <A>")
        .unwrap();
    AuditEvent::builder(
        e.event_type(),
        e.action(),
        e.actor().clone(),
        e.purpose(),
        e.lawful_basis().clone(),
        e.source().clone(),
    )
    .subject(subject)
    .object(ObjectRef::new(
        ObjectKind::Document,
        ObjectId::new("doc&1").unwrap(),
    ))
    .text(FreeText::new("a \"quoted\" <note>").unwrap())
    .build(e.recorded())
}

/// Named events, each with the personal fields its item gets (`None`:
/// its own fields, readable).
type Case = (&'static str, AuditEvent, Option<Personal>);

/// System events about each object-role and id-type branch.
fn sparse_cases() -> Vec<Case> {
    let p = |name, kind, purpose, et| (name, sparse(kind, purpose, et), None);
    vec![
        p(
            "patient",
            ObjectKind::Patient,
            Purpose::Billing,
            EventType::PatientRecord,
        ),
        p(
            "query",
            ObjectKind::Query,
            Purpose::Research,
            EventType::Query,
        ),
        p(
            "auditlog",
            ObjectKind::AuditLog,
            Purpose::Archiving,
            EventType::AuditLogUsed,
        ),
        p(
            "series",
            ObjectKind::Series,
            Purpose::LegalClaims,
            EventType::RestOperation,
        ),
        p(
            "encounter",
            ObjectKind::Encounter,
            Purpose::HealthcareManagement,
            EventType::Export,
        ),
        (
            "none",
            sparse(ObjectKind::Study, Purpose::Treatment, EventType::Import),
            Some(Personal::NoneRecorded),
        ),
    ]
}

/// Every combination the renderers branch on.
fn items() -> Vec<(String, Item)> {
    let key = KeyId::from_bytes([7; 16]);
    let unreadable = Personal::Unreadable {
        key_id: key,
        cause: UnreadableCause::Decrypt,
    };
    let mut cases: Vec<Case> = vec![
        ("sample", sample("P-9"), None),
        ("issuer", with_issuer(), None),
        ("erased", sample("P-2"), Some(Personal::Erased(key))),
        ("unreadable", sample("P-3"), Some(unreadable)),
    ];
    cases.extend(sparse_cases());
    cases
        .into_iter()
        .enumerate()
        .map(|(p, (name, event, personal))| {
            let personal = personal.unwrap_or_else(|| Personal::Readable(fields(&event)));
            let record = Record::new(&event, p as u64, [p as u8; 32], None).unwrap();
            let leaf = [0xa0 + p as u8; 32];
            let item = Item {
                record,
                leaf,
                personal,
            };
            (name.to_owned(), item)
        })
        .collect()
}

fn render() -> String {
    let mut out = String::new();
    for (name, item) in items() {
        for d in [Disclosure::Full, Disclosure::Redact] {
            out.push_str(&format!("== {name} {d:?} fhir\n"));
            let v = fhir::audit_event(&item, d);
            out.push_str(&serde_json::to_string_pretty(&v).unwrap());
            out.push_str(&format!("\n== {name} {d:?} dicom\n"));
            out.push_str(&dicom::audit_message(&item, d));
        }
    }
    out
}

#[test]
fn fhir_and_dicom_exports_are_pinned() {
    let got = render();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPECTED);
    if std::env::var_os("GDPR_BLESS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert!(
        got == want,
        "export changed; diff {} against the output",
        path.display()
    );
}
