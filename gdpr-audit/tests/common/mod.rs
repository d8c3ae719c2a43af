//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::Path;

use gdpr_audit::FileKeyStore;
use gdpr_audit::FileStore;
use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::internals::{encode_frame, scan_frames};
use gdpr_audit::label::SourceSystem;
use gdpr_audit::object::{FreeText, ObjectId, ObjectKind, ObjectRef};
use gdpr_audit::signing::Signer;
use gdpr_audit::store::Entry;
use gdpr_audit::{AuditLog, CheckpointPolicy};
use gdpr_core::Citation;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;

pub const ORIGIN: &str = "test.example/audit";

pub fn event(i: u64, subject: &str) -> AuditEvent {
    let actor = Actor {
        id: ActorId::new(format!("staff-{}", i % 3)).unwrap(),
        role: if i.is_multiple_of(2) {
            Role::Physician
        } else {
            Role::Nurse
        },
        secrecy: Secrecy::Professional {
            source: Citation::from_static("§ 203(1) Nr. 1 StGB"),
        },
    };
    let basis = LawfulBasis::SpecialCategory(HealthBasis::new(
        Art6Basis::Contract,
        Art9Condition::HealthCare,
    ));
    let purposes = [Purpose::Treatment, Purpose::Diagnosis, Purpose::Billing];
    AuditEvent::builder(
        EventType::PatientRecord,
        Action::ALL[(i % 8) as usize],
        actor,
        purposes[(i % 3) as usize],
        basis,
        SourceSystem::new("EHR-1").unwrap(),
    )
    .subject(PatientId::new(subject).unwrap())
    .object(ObjectRef::new(
        ObjectKind::Document,
        ObjectId::new(format!("doc-{subject}-{i}")).unwrap(),
    ))
    .text(FreeText::new(format!("viewed chart of {subject}")).unwrap())
    .build(jiff::Timestamp::from_second(1_790_000_000 + i as i64 * 60).unwrap())
}

pub fn erasure(subject: &str) -> AuditEvent {
    let actor = Actor {
        id: ActorId::new("dpo").unwrap(),
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    };
    AuditEvent::builder(
        EventType::PatientRecord,
        Action::Erasure,
        actor,
        Purpose::DataSubjectRequest,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
        SourceSystem::new("DPO-DESK").unwrap(),
    )
    .subject(PatientId::new(subject).unwrap())
    .build(jiff::Timestamp::from_second(1_800_000_000).unwrap())
}

/// Creates a log in `dir` and returns it with its signer's public key.
pub fn create(
    dir: &Path,
    every: Option<u64>,
) -> (AuditLog<FileStore>, gdpr_audit::signing::Verifier) {
    let signer = Signer::generate(ORIGIN).unwrap();
    let verifier = signer.verifier();
    let store = FileStore::open(dir, true).unwrap();
    let keys = FileKeyStore::create(FileStore::keys_path(dir)).unwrap();
    let policy = CheckpointPolicy {
        every_records: every,
        every: None,
    };
    (
        AuditLog::with_stores(store, keys, signer, policy).unwrap(),
        verifier,
    )
}

/// The frames of a log file.
pub fn frames(bytes: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut r = bytes;
    let end = scan_frames(&mut r, Path::new("mem"), &mut |_, e| {
        out.push(e);
        Ok(())
    })
    .unwrap();
    assert!(end.torn_tail.is_none() && end.corrupt.is_none());
    out
}

pub fn unframe(entries: &[Entry]) -> Vec<u8> {
    let mut buf = Vec::new();
    for e in entries {
        encode_frame(e, &mut buf);
    }
    buf
}
