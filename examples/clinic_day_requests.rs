//! The data-subject requests of the clinic day, on the embedded folder
//! store: one erasure (GDPR Art. 17) decided record by record under the DE
//! rule pack, executed, verified and certified; one access request
//! (Art. 15) answered with a signed package. Nothing printed here names a
//! patient: requests, systems and records go by their own ids.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use gdpr_audit::{AuditLog, Signer};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::erasure::ErasureGround;
use gdpr_core::request::{
    ApprovalPolicy, DataSubjectRequest, Event, Findings, RequestId, RequestKind, SubjectMap,
    SystemName,
};
use gdpr_core::retention::{Jurisdiction, RulePack};
use gdpr_core::store::SubjectStore;
use gdpr_core::subject::PatientId;
use gdpr_request::{
    Executor, FileJournal, FileRegister, Holds, RequestDir, Resources, RunOutcome, Setup,
    verify_certificate,
};
use gdpr_systems::SystemsConfig;
use jiff::Timestamp;
use jiff::civil::Date;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Where the day's requests live and what they act with.
pub struct Office<'a> {
    /// The requests' root (one directory per request).
    pub requests: &'a Path,
    /// The register of restrictions.
    pub register: &'a Path,
    /// The systems (the folder store `pacs`).
    pub systems: &'a SystemsConfig,
    /// The audit log every step is recorded in.
    pub log: Arc<AuditLog>,
    /// The audit log's key, which also signs certificates and manifests.
    pub signer: Arc<Signer>,
}

fn dpo(id: &str) -> Result<Actor> {
    Ok(Actor {
        id: ActorId::new(id)?,
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    })
}

impl Office<'_> {
    /// Receives request `id` of `kind` for the patient known to `pacs` as
    /// `patient_id`, and opens its executor.
    async fn receive(&self, id: &str, kind: RequestKind, patient_id: &str) -> Result<Executor> {
        let pacs = SystemName::new("pacs")?;
        let mut subjects = SubjectMap::new();
        subjects.insert(pacs.clone(), PatientId::new(patient_id)?.into());
        let request = DataSubjectRequest::receive(
            RequestId::new(id)?,
            kind,
            subjects,
            ApprovalPolicy::SecondActor,
            Timestamp::now(),
            ActorId::new("front-desk")?,
        );
        let dir = RequestDir::create(self.requests, &request)?;
        let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
        stores.insert(pacs, self.systems.open("pacs")?);
        let resources = Resources::new(
            Arc::new(FileJournal::open(dir.path())?),
            stores,
            self.log.clone(),
            self.signer.clone(),
            Arc::new(FileRegister::open(self.register)?),
        );
        let setup = Setup::for_request(dpo("dpo.jones")?, &request)?;
        Ok(Executor::open(dir, resources, setup, None).await?)
    }

    /// The erasure request of the patient examined in 2012 and 2014.
    pub async fn erasure(&self, patient_id: &str, born: Date, today: Date) -> Result<()> {
        let kind = RequestKind::Erasure {
            ground: ErasureGround::ConsentWithdrawn,
        };
        let mut ex = self.receive("dsr-2026-0001", kind, patient_id).await?;
        ex.step(Event::IdentityVerified).await?;
        let de = RulePack::builtin(&"DE".parse::<Jurisdiction>()?)?
            .ok_or("the DE rule pack is built in")?;
        // The birth date comes from the hospital's register (rules for
        // minors count from it); it is never printed.
        let assessment = ex
            .assess_with_birth_date(&de, &Findings::none(), &Holds::new(), Some(born), today)
            .await?;
        println!(
            "   request {}: received, identity verified, assessed record by record:",
            ex.request().id()
        );
        for r in &assessment.records {
            let why: Vec<String> = r
                .reasons
                .iter()
                .filter(|x| x.applied)
                .map(|x| x.citation.to_string())
                .collect();
            println!(
                "     {} {}: {} ({})",
                r.system,
                r.record,
                r.outcome.name(),
                why.join("; ")
            );
        }
        // Four eyes: a second person approves what the first assessed.
        ex.step_by(Event::Approved, dpo("dpo.schmidt")?).await?;
        println!("   approved by a second person (four eyes)");
        let outcome = ex.run().await?;
        print_outcome(&outcome);
        self.certify(&ex)
    }

    /// The access request of the other patient.
    pub async fn access(&self, patient_id: &str) -> Result<()> {
        let mut ex = self
            .receive("dsr-2026-0002", RequestKind::Access, patient_id)
            .await?;
        for e in [Event::IdentityVerified, Event::Assessed] {
            ex.step(e).await?;
        }
        ex.step_by(Event::Approved, dpo("dpo.schmidt")?).await?;
        let outcome = ex.run().await?;
        let package = ex.dir().path().join(gdpr_request::PACKAGE_DIR);
        gdpr_request::package::verify_package(&package, &self.signer.verifier())?;
        let files: u64 = outcome
            .systems
            .iter()
            .filter_map(|s| s.exported_files)
            .sum();
        println!(
            "   request {}: {} — {files} file(s) exported into the patient's package, \
             manifest signed and verified (SHA-256 of every file)",
            outcome.request,
            outcome.stage.name()
        );
        self.certify(&ex)
    }

    /// Issues the certificate and verifies it offline with the public key.
    fn certify(&self, ex: &Executor) -> Result<()> {
        let cert =
            gdpr_request::certificate::issue(ex.dir(), &self.log, &self.signer, Timestamp::now())?;
        let bytes = serde_json::to_vec_pretty(&cert)?;
        std::fs::write(ex.dir().path().join("certificate.json"), &bytes)?;
        let checked = verify_certificate(&bytes, &self.signer.verifier())?;
        println!(
            "   certificate signed; verified offline with the public key: VALID \
             ({} audit records proved against the log's checkpoint)",
            checked.audit.records.len()
        );
        Ok(())
    }
}

fn print_outcome(o: &RunOutcome) {
    println!("   request {}: {}", o.request, o.stage.name());
    for s in &o.systems {
        let (erased, left) = s.report.as_ref().map_or((0, 0), |r| {
            (r.erased().len(), r.left().len() + r.refused().len())
        });
        println!(
            "     {}: {erased} erased and verified gone, {left} left (residue), {} kept restricted",
            s.system,
            s.kept.len()
        );
    }
    if o.audit_records
        .iter()
        .any(|r| r.event == gdpr_request::SHREDDED)
    {
        println!(
            "   the patient's personal fields in the audit log crypto-shredded (key destroyed)"
        );
    }
}
