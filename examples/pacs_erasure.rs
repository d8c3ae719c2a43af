//! A data subject asks for a copy of their images (GDPR Art. 15, 20) and then
//! for their erasure (Art. 17). The embedded folder store holds the images;
//! the same code works with Orthanc, DICOMweb, dcm4chee, a FHIR server or
//! OpenEMR through gdpr-systems'
//! `SystemsConfig::open`, because the host holds a `Box<dyn SubjectStore>`.
//!
//! Run: `cargo run -p gdpr-examples --example pacs_erasure`

use std::sync::Arc;

use gdpr_audit::MemorySink;
use gdpr_audit::{AuditContext, Audited};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::store::{DerivedPolicy, RecordHandle, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_systems::SystemsConfig;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A folder of DICOM files: two studies of the requester, one of someone else.
    let work = tempfile::tempdir()?;
    let folder = work.path().join("dicom");
    std::fs::create_dir(&folder)?;
    for (pid, study, modality) in [
        ("MRN-1001", 1, "CT"),
        ("MRN-1001", 2, "RTPLAN"),
        ("MRN-2002", 1, "MR"),
    ] {
        let mut instance =
            SyntheticInstance::new("1.2.826.0.1.3680043.10.1234.5", pid, study, 1, 1);
        instance.modality = modality.into();
        instance.write_to(&folder.join(format!("incoming-{pid}-{study}.dcm")))?;
    }
    let systems = SystemsConfig::from_toml(&format!(
        "[systems.archive]\nkind = \"folder\"\npath = \"{}\"\n",
        folder.display()
    ))?;
    // Every operation leaves an audit event: who, why, on which basis, what.
    // (In memory here; a host passes its sealed `gdpr_audit::AuditLog`.)
    let audit = Arc::new(MemorySink::new());
    let context = AuditContext::new(
        Actor {
            id: ActorId::new("dpo.jones")?,
            role: Role::DataProtectionOfficer,
            secrecy: Secrecy::None,
        },
        Purpose::DataSubjectRequest,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
    );
    let store = Audited::new(systems.open("archive")?, audit.clone(), context)?;
    // These files carry no Issuer of Patient ID; with one, add `.with_issuer(..)?`.
    let subject = SubjectRef::from(PatientId::new("MRN-1001")?);

    // Art. 15: what do we hold? Dates and categories feed retention.
    let records = store.locate(&subject).await?;
    for study in records.iter().filter_map(RecordHandle::as_study) {
        println!(
            "study {} from {:?}: {} ({})",
            study.id(),
            study.study_date(),
            study.category(),
            study
                .modalities()
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // Art. 15(3), 20: a copy with a manifest, file names free of patient values.
    let export = store.export(&subject, &work.path().join("export")).await?;
    println!(
        "exported {} files ({} bytes) with manifest.json",
        export.files, export.bytes
    );

    // Art. 17: erase, then prove it.
    let report = store.erase_subject(&subject, DerivedPolicy::Erase).await?;
    println!(
        "erased {} studies; verified: {}",
        report.erased().len(),
        report.is_verified()
    );
    assert!(report.is_verified());
    for event in audit.events() {
        println!(
            "audit: {} {} -> {}",
            event.event_type().code().display,
            event.action().name(),
            event.outcome().name()
        );
    }
    assert_eq!(
        store
            .inner()
            .locate(&PatientId::new("MRN-2002")?.into())
            .await?
            .len(),
        1
    );
    Ok(())
}
