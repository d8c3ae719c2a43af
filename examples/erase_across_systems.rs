//! One erasure request (GDPR Art. 17) across a PACS and an EHR: the real
//! Orthanc and the real FHIR R4 server that `scripts/orthanc.sh` and
//! `scripts/fhir.sh` start. The systems come from one `systems.toml` read by
//! gdpr-systems; gdpr-request decides per record (retention, Art. 17(3)),
//! erases, verifies, restricts what it keeps, and signs a certificate,
//! which is then verified offline. It prints the decision per record, the
//! residue per system (what is left and why) and whether the certificate
//! verifies.
//!
//! Run (scripts/test.sh runs it after its tests, with both servers up):
//!
//! ```sh
//! eval "$(scripts/orthanc.sh start)"; eval "$(scripts/fhir.sh start)"
//! cargo run -p gdpr-examples --example erase_across_systems
//! scripts/fhir.sh stop; scripts/orthanc.sh stop
//! ```
//!
//! The patient is synthetic and new on every run (one study from 2005 on
//! Orthanc, one from last year; a Patient, an Encounter from 2005 and a
//! recent Observation on the FHIR server). The Patient resource is kept by
//! the pack's `[[follows]]` rule while the Observation is kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use gdpr_audit::{AuditLog, Signer};
use gdpr_connect::{Client, Credentials, Endpoint, SecretSource};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::erasure::ErasureGround;
use gdpr_core::request::{
    ApprovalPolicy, DataSubjectRequest, Event, Findings, RequestId, RequestKind, SubjectMap,
    SystemName,
};
use gdpr_core::retention::RulePack;
use gdpr_core::store::{FhirIdentifier, FhirSubject, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_request::{Executor, FileJournal, FileRegister, Holds, RequestDir, Resources, Setup};
use gdpr_systems::SystemsConfig;
use serde_json::json;

type Error = Box<dyn std::error::Error>;

/// The retention rules of this example (German law, simplified; each rule
/// names its source).
const PACK: &str = r#"
jurisdiction = "DE"
name = "Example: erasure across systems"
convention = "month-end"
convention_source = "§§ 187(1), 188(2) BGB"

[[rule]]
id = "example-imaging"
category = "imaging-examination"
years = 10
from = "event_date"
keeps_for = ["legal-claims", "legal-obligation"]
source = "§ 85(2) StrlSchG"
description = "example: imaging kept 10 years after the examination"

[[rule]]
id = "example-patient-record"
category = "patient-record"
years = 10
from = "event_date"
keeps_for = ["legal-claims", "legal-obligation"]
source = "§ 630f(3) BGB"
description = "example: the patient record kept 10 years (the statute counts from the end of treatment)"

[[follows]]
id = "example-master-data"
category = "demographics"
source = "§ 630f(3) BGB"
reading = "the master data belong to the patient record as a whole: kept while another record of the patient on the system is kept"
description = "example: the Patient resource follows the patient's other records"
"#;

/// What the test scripts export.
struct Servers {
    orthanc: String,
    orthanc_user: String,
    orthanc_password_file: String,
    fhir: String,
}

fn servers() -> Result<Servers, String> {
    let var = |name: &str, script: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or(format!(
                "{name} is not set: start the servers first, e.g. `eval \"$({script} start)\"` \
             (scripts/test.sh runs this example with both servers up)"
            ))
    };
    Ok(Servers {
        orthanc: var("GDPR_TEST_ORTHANC_URL", "scripts/orthanc.sh")?,
        orthanc_user: var("GDPR_TEST_ORTHANC_USER", "scripts/orthanc.sh")?,
        orthanc_password_file: var("GDPR_TEST_ORTHANC_PASSWORD_FILE", "scripts/orthanc.sh")?,
        fhir: var("GDPR_TEST_FHIR_URL", "scripts/fhir.sh")?,
    })
}

fn main() -> std::process::ExitCode {
    let servers = match servers() {
        Ok(s) => s,
        Err(message) => {
            eprintln!("erase_across_systems: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(&servers)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erase_across_systems: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Today's date in UTC (a controller uses its own time zone).
fn today() -> jiff::civil::Date {
    jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

fn actor(id: &str) -> Result<Actor, Error> {
    Ok(Actor {
        id: ActorId::new(id)?,
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    })
}

async fn run(servers: &Servers) -> Result<(), Error> {
    let work = tempfile::tempdir()?;
    let run_id = format!(
        "{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond() % 1_000_000_000
    );
    let patient = PatientId::new(format!("EX-{run_id}"))?;
    let mrn = FhirIdentifier::parse(&format!("urn:gdpr-example:mrn|EX-{run_id}"))?;
    plant_images(servers, &patient, &work.path().join("dicom")).await?;
    plant_records(servers, &mrn).await?;

    // One systems.toml for both systems (secrets only by file or variable).
    let systems = SystemsConfig::from_toml(&format!(
        "[systems.pacs]\nkind = \"orthanc\"\nurl = \"{}\"\nusername = \"{}\"\n\
         password_file = \"{}\"\n\n[systems.ehr]\nkind = \"fhir\"\nurl = \"{}\"\n",
        servers.orthanc, servers.orthanc_user, servers.orthanc_password_file, servers.fhir
    ))?;
    let (pacs, ehr) = (SystemName::new("pacs")?, SystemName::new("ehr")?);
    let mut subjects = SubjectMap::new();
    subjects.insert(pacs.clone(), SubjectRef::Dicom(patient.clone()));
    subjects.insert(ehr.clone(), SubjectRef::Fhir(FhirSubject::Identifier(mrn)));
    let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
    for name in [&pacs, &ehr] {
        stores.insert(name.clone(), systems.open(name.as_str())?);
    }

    // The request, received by a clerk; the audit log that proves it.
    let request = DataSubjectRequest::receive(
        RequestId::new(format!("dsr-example-{run_id}"))?,
        RequestKind::Erasure {
            ground: ErasureGround::ConsentWithdrawn,
        },
        subjects,
        ApprovalPolicy::SecondActor,
        jiff::Timestamp::now(),
        ActorId::new("clerk")?,
    );
    let dir = RequestDir::create(&work.path().join("requests"), &request)?;
    // One key signs the log's checkpoints and the certificate.
    let key = Signer::generate("clinic.example/audit")?;
    let signer = Arc::new(Signer::parse(&key.to_secret_text())?);
    let verifier = key.verifier();
    let log = Arc::new(AuditLog::create(work.path().join("audit"), key)?);
    let resources = Resources::new(
        Arc::new(FileJournal::open(dir.path())?),
        stores,
        log.clone(),
        signer.clone(),
        Arc::new(FileRegister::open(&work.path().join("register"))?),
    );
    let setup = Setup::new(actor("dpo-1")?, patient);
    let mut executor = Executor::open(dir.clone(), resources, setup, None).await?;

    // Decide per record by law, approve under four eyes, execute, verify.
    executor.step(Event::IdentityVerified).await?;
    // An example pack (the built-in DE pack needs facts these synthetic
    // records lack, e.g. the last examination, and would leave every record
    // to a person's decision).
    let pack = RulePack::from_toml(PACK)?;
    let on = today();
    // The master record (Patient) carries no date of its own: the pack's
    // follows rule keeps it while the patient's other records on the FHIR
    // server are kept (here the recent Observation).
    let holds = Holds::new();
    let assessment = executor
        .assess(&pack, &Findings::none(), &holds, on)
        .await?;
    println!("decision per record ({}):", assessment.jurisdiction);
    for r in &assessment.records {
        let why = r.reasons.iter().find(|reason| reason.applied);
        let cited = why.map_or(String::new(), |reason| format!(" — {}", reason.citation));
        println!("  {}\t{}\t{}{cited}", r.system, r.record, r.outcome.name());
    }
    executor.step_by(Event::Approved, actor("dpo-2")?).await?;
    let outcome = executor.run().await?;
    println!("request {}: {}", outcome.request, outcome.stage.name());
    for system in &outcome.systems {
        print_residue(system);
    }

    // The signed certificate, verified offline with the public key alone.
    let certificate =
        gdpr_request::certificate::issue(&dir, &log, &signer, jiff::Timestamp::now())?;
    let text = serde_json::to_vec(&certificate)?;
    let checked = gdpr_request::verify_certificate(&text, &verifier)?;
    println!(
        "certificate verified: request {} ({})",
        checked.request.id,
        checked.request.stage.name()
    );
    Ok(())
}

/// What one system erased, kept and left, with the reasons.
fn print_residue(system: &gdpr_request::SystemOutcome) {
    let state = if system.is_complete() {
        "complete, verified"
    } else {
        "partial"
    };
    println!("  {}: {state}", system.system);
    if let Some(report) = &system.report {
        println!("    {} erased and verified gone", report.erased().len());
        for left in report.left() {
            let why = left
                .reason
                .as_deref()
                .unwrap_or("still found by verification");
            println!("    left {}: {why}", left.id);
        }
        for refused in report.refused() {
            println!("    refused {}: {}", refused.id, refused.reason);
        }
    }
    for kept in &system.kept {
        println!("    kept, restricted: {}", kept.record);
    }
    if let Some(failure) = &system.failure {
        println!("    failed: {failure}");
    }
}

/// Two studies of the patient on Orthanc: one from 2005 (its retention has
/// run out), one from last year.
async fn plant_images(
    servers: &Servers,
    patient: &PatientId,
    folder: &std::path::Path,
) -> Result<(), Error> {
    std::fs::create_dir_all(folder)?;
    let password = SecretSource::File(servers.orthanc_password_file.clone().into());
    let endpoint = Endpoint::new(&servers.orthanc)
        .with_credentials(Credentials::basic(&servers.orthanc_user, password));
    let orthanc = Client::connect(&endpoint)?;
    let last_year = today().year() - 1;
    for (study, date) in [(1, "20050301".to_owned()), (2, format!("{last_year}0301"))] {
        let mut instance = SyntheticInstance::new(
            "1.2.826.0.1.3680043.10.1234.91",
            patient.expose(),
            study,
            1,
            1,
        );
        instance.study_date = date;
        let file = folder.join(format!("study-{study}.dcm"));
        instance.write_to(&file)?;
        let bytes = std::fs::read(&file)?;
        let _: serde_json::Value = orthanc
            .json("upload a study", |c| {
                c.post(orthanc.url(&["instances"])).body(bytes.clone())
            })
            .await?;
    }
    Ok(())
}

/// A Patient with the identifier, an Encounter from 2005 and an
/// Observation from last month on the FHIR server; the Patient's logical id.
async fn plant_records(servers: &Servers, mrn: &FhirIdentifier) -> Result<String, Error> {
    let fhir = Client::connect(&Endpoint::new(&servers.fhir))?;
    let create = |resource: serde_json::Value| {
        let fhir = &fhir;
        async move {
            let kind = resource["resourceType"].as_str().unwrap_or("").to_owned();
            let body = resource.to_string();
            let created: serde_json::Value = fhir
                .json("create a resource", |c| {
                    c.post(fhir.url(&[kind.as_str()]))
                        .header("Content-Type", "application/fhir+json")
                        .body(body.clone())
                })
                .await?;
            Ok::<String, Error>(created["id"].as_str().unwrap_or("").to_owned())
        }
    };
    let id = create(json!({"resourceType": "Patient",
        "identifier": [{"system": mrn.system(), "value": mrn.expose_value()}],
        "name": [{"family": "Example", "given": ["Synthetic"]}], "birthDate": "1960-05-01"}))
    .await?;
    let subject = json!({"reference": format!("Patient/{id}")});
    create(json!({"resourceType": "Encounter", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": subject, "period": {"start": "2005-03-01", "end": "2005-03-02"}}))
    .await?;
    let recent = today().saturating_sub(jiff::Span::new().days(30));
    create(json!({"resourceType": "Observation", "status": "final",
        "code": {"text": "synthetic measurement"}, "subject": subject,
        "effectiveDateTime": recent.to_string()}))
    .await?;
    Ok(id)
}
