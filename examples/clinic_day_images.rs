//! The imaging half of the clinic day: the embedded folder store holds the
//! images; retention law decides what is due; research gets pseudonymised
//! copies; the due patient asks for erasure and the other for a copy of
//! her data: two data-subject requests, decided, executed, verified and
//! certified, every step in a signed audit log.

use std::path::Path;
use std::sync::Arc;

use gdpr_audit::AuditLog;
use gdpr_audit::signing::Signer;
use gdpr_audit::verify_dir;
use gdpr_audit::{AuditContext, Audited};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::retention::{Fact, Jurisdiction, LatestExaminations, RulePack, Status};
use gdpr_core::store::{RecordHandle, StudyHandle, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::deid::{DeidOption, DeidOptions, Deidentifier, ProjectKey, collect_inputs};
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_systems::SystemsConfig;
use jiff::civil::{Date, date};

/// Two patients' CT studies in a folder: MRN-1001 was examined in 2012 and
/// 2014, MRN-2002 in 2025. Birth dates come from the hospital's register.
const PATIENTS: [(&str, u32, &str, Date); 3] = [
    ("MRN-1001", 1, "20120305", date(1950, 4, 1)),
    ("MRN-1001", 2, "20140611", date(1950, 4, 1)),
    ("MRN-2002", 1, "20250117", date(1988, 9, 30)),
];

/// The archive as the day's host holds it: every operation audited.
type Archive = Audited<Box<dyn SubjectStore>>;

/// Runs the imaging part of the day at `today`.
pub async fn run(today: Date) -> Result<(), Box<dyn std::error::Error>> {
    let work = tempfile::tempdir()?;
    let folder = work.path().join("pacs");
    write_archive(&folder)?;
    let systems = SystemsConfig::from_toml(&format!(
        "[systems.pacs]\nkind = \"folder\"\npath = \"{}\"\n",
        folder.display()
    ))?;

    // The audit log: durable, hash-chained, signed checkpoints. Its key
    // also signs the requests' certificates and packages.
    let audit_dir = work.path().join("audit");
    let secret = Signer::generate("clinic.example/audit")?.to_secret_text();
    let signer = Arc::new(Signer::parse(&secret)?);
    let public_key = signer.verifier();
    let log = Arc::new(AuditLog::create(&audit_dir, Signer::parse(&secret)?)?);
    let store = Audited::new(systems.open("pacs")?, log.clone(), dpo_context()?)?;

    println!("\n== 11:00 — retention review of the imaging archive (DE rule pack)");
    let due = retention_review(&store, today).await?;

    println!("\n== 11:30 — pseudonymised copies for the research registry (GDPR Art. 89(1))");
    research_copies(&folder, &work.path().join("research"))?;

    let office = crate::requests::Office {
        requests: &work.path().join("requests"),
        register: &work.path().join("register"),
        systems: &systems,
        log: log.clone(),
        signer,
    };
    println!("\n== 12:00 — a patient whose records are due asks for erasure (GDPR Art. 17)");
    for subject in &due {
        let born = PATIENTS
            .iter()
            .find(|p| p.0 == subject.expose())
            .map(|p| p.3)
            .ok_or("a patient of the archive")?;
        office.erasure(subject.expose(), born, today).await?;
    }
    println!("\n== 12:30 — the other patient asks for a copy of her data (GDPR Art. 15)");
    office.access(PATIENTS[2].0).await?;

    let checkpoint = log.checkpoint()?;
    let verified = verify_dir(&audit_dir, &public_key, Some(&checkpoint))?;
    println!(
        "\n   audit log VALID: {} records, {} signed checkpoints — the proof of every step above",
        verified.records, verified.checkpoints
    );
    let remaining = store
        .inner()
        .locate(&PatientId::new(PATIENTS[2].0)?.into())
        .await?;
    println!(
        "   the other patient's {} study is untouched",
        remaining.len()
    );
    Ok(())
}

/// The day's CT studies, as the modality wrote them into `folder`.
fn write_archive(folder: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir(folder)?;
    for (pid, study, day, _) in PATIENTS {
        let mut instance = SyntheticInstance::new("1.2.826.0.1.3680043.10.1234", pid, study, 1, 1);
        instance.modality = "CT".into();
        instance.study_date = day.into();
        instance.write_to(&folder.join(format!("incoming-{pid}-{study}.dcm")))?;
    }
    Ok(())
}

/// Who acts on the archive, why and on which basis: the DPO, for the
/// controller's legal obligations.
fn dpo_context() -> Result<AuditContext, gdpr_core::Error> {
    let dpo = Actor {
        id: ActorId::new("dpo.jones")?,
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    };
    Ok(AuditContext::new(
        dpo,
        Purpose::LegalObligation,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
    ))
}

/// Decides every study of every second patient under the DE pack and
/// returns the patients all of whose studies are due for deletion.
async fn retention_review(
    store: &Archive,
    today: Date,
) -> Result<Vec<PatientId>, Box<dyn std::error::Error>> {
    let de =
        RulePack::builtin(&"DE".parse::<Jurisdiction>()?)?.ok_or("the DE rule pack is built in")?;
    let mut due = Vec::new();
    for (pid, _, _, birth) in PATIENTS.iter().step_by(2) {
        let subject = PatientId::new(*pid)?;
        let records = store.locate(&subject.clone().into()).await?;
        let studies: Vec<_> = records.iter().filter_map(RecordHandle::as_study).collect();
        // § 85(2) StrlSchG counts from the patient's last examination: group
        // the patient's studies first.
        let mut latest = LatestExaminations::new();
        for record in studies.iter().flat_map(|s| s.retention_records()) {
            latest.observe(subject.clone(), &record);
        }
        let mut all_due = true;
        for study in studies {
            for record in study.retention_records() {
                let record = latest.complete(&subject, record.with_date(Fact::BirthDate, *birth));
                let decision = de.decide(&record, today);
                print_decision(study, &decision)?;
                all_due &= decision.status() == Status::Due;
            }
        }
        if all_due {
            due.push(subject);
        }
    }
    Ok(due)
}

/// One line per decision: the study, its status, until when, and the rule.
fn print_decision(
    study: &StudyHandle,
    decision: &gdpr_core::retention::Decision,
) -> Result<(), Box<dyn std::error::Error>> {
    let (rule, clause) = decision.governing().ok_or("a rule applies")?;
    let text = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    println!(
        "   study {} of {} ({}): {:?}, keep until {} — {} [{clause:?}]",
        study.id(),
        text(study.study_date()),
        study.category(),
        decision.status(),
        text(decision.retain_until()),
        rule.source(),
    );
    Ok(())
}

/// Keyed pseudonymised copies of the archive in `research`.
fn research_copies(folder: &Path, research: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let key = ProjectKey::generate()?;
    let deid = Deidentifier::new(
        &key,
        DeidOptions::new([DeidOption::RetainLongitudinalModifiedDates])?,
    );
    let mut written = 0;
    for file in collect_inputs(&[folder.to_path_buf()])? {
        let outcome = deid.deidentify_file(&file, research)?;
        written += usize::from(outcome.quarantine_reason().is_none());
    }
    println!(
        "   {written} files written, named only by new UIDs (2.25.…), Patient Identity Removed = YES"
    );
    Ok(())
}
