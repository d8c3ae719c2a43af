//! An audit trail for one morning in radiology: events are recorded durably,
//! checkpointed and signed; an auditor verifies the log with the public key
//! and a checkpoint saved earlier; the patient asks what happened to their
//! data (Art. 15) and then to be erased (Art. 17) — and the log still
//! verifies.
//!
//! Run: `cargo run -p gdpr-examples --example audit_trail`

use gdpr_audit::AuditLog;
use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::{SourceSystem, TenantId};
use gdpr_audit::object::{ObjectId, ObjectKind, ObjectRef};
use gdpr_audit::report::{StaffIdentities, subject_report};
use gdpr_audit::signing::Signer;
use gdpr_audit::verify_dir;
use gdpr_core::Citation;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("gdpr-audit-example-{}", std::process::id()));
    let signer = Signer::generate("radiology.example/audit")?;
    let public_key = signer.verifier();
    let log = AuditLog::create(&dir, signer)?;

    let radiologist = Actor {
        id: ActorId::new("dr.mueller")?,
        role: Role::Physician,
        secrecy: Secrecy::Professional {
            source: Citation::from_static("§ 203(1) Nr. 1 StGB"),
        },
    };
    let care = LawfulBasis::SpecialCategory(HealthBasis::new(
        Art6Basis::Contract,
        Art9Condition::HealthCare,
    ));
    let patient = PatientId::new("PID-4711")?.with_issuer("HOSPITAL-A")?;
    let start = jiff::Timestamp::from_second(1_795_000_000)?;
    for (minute, action, purpose) in [
        (0, Action::Read, Purpose::Diagnosis),
        (12, Action::Create, Purpose::Diagnosis),
        (40, Action::Disclosure, Purpose::CareCoordination),
    ] {
        let event = AuditEvent::builder(
            EventType::DicomInstancesAccessed,
            action,
            radiologist.clone(),
            purpose,
            care.clone(),
            SourceSystem::new("PACS-1")?,
        )
        .subject(patient.clone())
        .object(ObjectRef::new(
            ObjectKind::Study,
            ObjectId::new("1.2.276.0.7230010.3.1.2.4711")?,
        ))
        .tenant(TenantId::new("hospital-a")?)
        .build(start + jiff::SignedDuration::from_mins(minute));
        let receipt = log.append(&event)?;
        println!("recorded {action} as record {} (durable)", receipt.position);
    }
    let saved_by_auditor = log.checkpoint()?;
    println!("checkpoint the auditor keeps:\n{saved_by_auditor}");

    let report = subject_report(
        log.store(),
        &*log.keys(),
        &patient,
        StaffIdentities::Withhold,
    )?;
    println!("Art. 15 report ({}):", report.citation);
    for e in &report.entries {
        println!(
            "  {} {} for {} by a {:?}",
            e.recorded, e.action, e.purpose, e.actor_role
        );
    }

    let dpo = Actor {
        id: ActorId::new("dpo")?,
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    };
    let erasure = AuditEvent::builder(
        EventType::PatientRecord,
        Action::Erasure,
        dpo,
        Purpose::DataSubjectRequest,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
        SourceSystem::new("DPO-DESK")?,
    )
    .subject(patient.clone())
    .build(start + jiff::SignedDuration::from_hours(3));
    let (receipt, key_id) = log.erase_subject(&erasure)?;
    println!(
        "erased: record {}, key {} destroyed",
        receipt.position,
        key_id.to_hex()
    );

    let verified = verify_dir(&dir, &public_key, Some(&saved_by_auditor))?;
    println!(
        "auditor: VALID, {} records, {} checkpoints, consistent with the saved checkpoint",
        verified.records, verified.checkpoints
    );
    drop(log);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
