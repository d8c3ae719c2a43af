//! Known-answer vectors for the audit record encoding, version 1
//! (`vectors/record-v1.json`): fixed events encoded by this crate when the
//! format was pinned (issue 11). A change to any byte is a new record
//! version, never an accident: these vectors are never regenerated (a new
//! version gets a file of its own, its bytes written out the same way:
//! `hex(record.encode())` and `hex(leaf_hash(..))` of each fixed record).

use gdpr_audit::action::{Action, EventType, Outcome};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::{CorrelationId, SourceSystem, TenantId};
use gdpr_audit::merkle::leaf_hash;
use gdpr_audit::record::Record;
use gdpr_audit::seal::{KeyId, SealedFields};
use gdpr_core::Citation;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis, NationalProvision};
use gdpr_core::purpose::Purpose;
use serde_json::Value;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The fixed records the vectors hold, in file order.
fn records() -> Vec<(&'static str, Record)> {
    let at = jiff::Timestamp::from_second(1_790_000_000).unwrap();
    let ordinary = AuditEvent::builder(
        EventType::Query,
        Action::Query,
        Actor {
            id: ActorId::new("dpo.jones").unwrap(),
            role: Role::DataProtectionOfficer,
            secrecy: Secrecy::None,
        },
        Purpose::DataSubjectRequest,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
        SourceSystem::new("PACS-1").unwrap(),
    )
    .build(at);
    let special = AuditEvent::builder(
        EventType::PatientRecord,
        Action::Read,
        Actor {
            id: ActorId::new("dr.mueller").unwrap(),
            role: Role::Physician,
            secrecy: Secrecy::Professional {
                source: Citation::from_static("§ 203(1) Nr. 1 StGB"),
            },
        },
        Purpose::Treatment,
        LawfulBasis::SpecialCategory(
            HealthBasis::new(Art6Basis::Contract, Art9Condition::HealthCare).with_national(
                NationalProvision::new("DE", "§ 22(1) Nr. 1 lit. b BDSG", "health care"),
            ),
        ),
        SourceSystem::new("EHR-1").unwrap(),
    )
    .outcome(Outcome::MinorFailure)
    .tenant(TenantId::new("clinic-a").unwrap())
    .correlation_id(CorrelationId::new("req-42").unwrap())
    .build(at);
    let sealed =
        SealedFields::from_parts(KeyId::from_bytes([7; 16]), [9; 24], vec![0xAB; 40]).unwrap();
    vec![
        (
            "ordinary basis, no personal fields, first record",
            Record::new(&ordinary, 0, [0; 32], None).unwrap(),
        ),
        (
            "special category with national provision, tenant, correlation id, sealed fields",
            Record::new(&special, 41, [0x5A; 32], Some(sealed)).unwrap(),
        ),
    ]
}

#[test]
fn record_encoding_v1_is_pinned() {
    let v: Value = serde_json::from_str(include_str!("vectors/record-v1.json")).unwrap();
    let vectors = v["records"].as_array().unwrap();
    let ours = records();
    assert_eq!(vectors.len(), ours.len());
    for (vector, (name, record)) in vectors.iter().zip(ours) {
        assert_eq!(vector["name"], name);
        let bytes = record.encode();
        assert_eq!(hex(&bytes), vector["encoding"].as_str().unwrap(), "{name}");
        assert_eq!(
            hex(&leaf_hash(&bytes)),
            vector["leaf_hash"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(bytes[0], 1, "record version 1");
        // Decoding the pinned bytes gives the same record back.
        assert_eq!(Record::decode(&bytes).unwrap().encode(), bytes);
    }
}
