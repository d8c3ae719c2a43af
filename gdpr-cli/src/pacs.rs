//! `gdpr pacs locate|export|erase`: act on the systems where images live
//! (GDPR Art. 15, 17, 20), through the adapters named in `systems.toml`.
//!
//! Exit codes: 0 when the operation succeeded (for `erase`: only when
//! verification confirmed that nothing is left), 1 when an erasure was
//! refused, incomplete or not verified, or the system failed, 2 for bad input
//! or configuration.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand, ValueEnum};
use gdpr_audit::event::AuditEvent;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::store::{DerivedPolicy, StoreError, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{AuditContext, AuditSink, Audited, SystemsConfig};
use serde_json::json;

use crate::error::CliError;

/// Arguments of `gdpr pacs`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List every study held about a patient: Study Instance UID, date,
    /// modalities, retention category, the system's own id (JSON).
    Locate(Target),
    /// Copy everything held about a patient into --out, with a manifest and
    /// file names free of patient values (Art. 15(3), 20).
    Export {
        #[command(flatten)]
        target: Target,
        /// The export directory (created; must be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Erase everything held about a patient, then verify (Art. 17).
    Erase {
        #[command(flatten)]
        target: Target,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// What to do with derived copies (anonymised or modified from the
        /// patient's studies).
        #[arg(long, value_enum, default_value_t = Derived::Erase)]
        derived: Derived,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Derived {
    Erase,
    Report,
}

/// Which patient on which system, and who asks.
#[derive(Debug, clap::Args)]
struct Target {
    /// Append one audit event per operation (JSON Lines of
    /// gdpr_audit::event::AuditEvent) to this file; required for `erase`.
    /// Until the sealed audit log is available, keep the file as protected
    /// as the data: events carry the patient identifier.
    #[arg(long = "audit-log")]
    audit_log: Option<PathBuf>,
    /// Who runs the command, for the audit event.
    #[arg(long, default_value = "gdpr-cli")]
    actor: String,
    /// The systems file (see docs/samples/systems.toml).
    #[arg(long)]
    config: PathBuf,
    /// The system's name in the systems file.
    #[arg(long)]
    system: String,
    /// The patient identifier (DICOM Patient ID) as the system knows it.
    #[arg(long = "patient-id")]
    patient_id: String,
    /// The issuer of the patient identifier, when the system records one.
    #[arg(long)]
    issuer: Option<String>,
}

impl Target {
    fn open(&self) -> Result<(Box<dyn SubjectStore>, PatientId), CliError> {
        let mut subject = PatientId::new(&self.patient_id)
            .map_err(|e| CliError::BadInput(format!("--patient-id: {e}")))?;
        if let Some(issuer) = &self.issuer {
            subject = subject
                .with_issuer(issuer)
                .map_err(|e| CliError::BadInput(format!("--issuer: {e}")))?;
        }
        let store = SystemsConfig::load(&self.config)?.open(&self.system)?;
        let Some(path) = &self.audit_log else {
            return Ok((store, subject));
        };
        let actor = Actor {
            id: ActorId::new(&self.actor)
                .map_err(|e| CliError::BadInput(format!("--actor: {e}")))?,
            role: Role::DataProtectionOfficer,
            secrecy: Secrecy::None,
        };
        // Answering a data subject's request is a legal obligation of the
        // controller (Art. 6(1)(c) with Art. 12, 15, 17, 20).
        let context = AuditContext::new(
            actor,
            Purpose::DataSubjectRequest,
            LawfulBasis::Ordinary {
                art6: Art6Basis::LegalObligation,
            },
        );
        let sink = Arc::new(JsonLinesSink {
            path: path.clone(),
            lock: Mutex::new(()),
        });
        Ok((Box::new(Audited::new(store, sink, context)?), subject))
    }
}

/// Runs `gdpr pacs`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: Args) -> Result<ExitCode, CliError> {
    match args.action {
        Action::Locate(target) => {
            let (store, subject) = target.open()?;
            let studies = store.locate(&subject).await?;
            print_json(&json!({ "system": store.identity(), "studies": studies }))?;
            Ok(ExitCode::SUCCESS)
        }
        Action::Export { target, out } => {
            let (store, subject) = target.open()?;
            let report = store.export(&subject, &out).await?;
            print_json(&json!({
                "system": store.identity(),
                "directory": out,
                "studies": report.manifest.studies.len(),
                "files": report.files,
                "bytes": report.bytes,
                "manifest": out.join(gdpr_dicom::store::MANIFEST_FILE),
            }))?;
            Ok(ExitCode::SUCCESS)
        }
        Action::Erase {
            target,
            yes,
            derived,
        } => {
            if target.audit_log.is_none() {
                return Err(CliError::BadInput(
                    "erase needs --audit-log FILE: the audit record is the proof of erasure \
                     (Orthanc, for one, forgets a deleted resource's history)"
                        .into(),
                ));
            }
            if !yes && !std::io::stdin().is_terminal() {
                return Err(CliError::BadInput(
                    "erase needs confirmation: run it in a terminal, or pass --yes".into(),
                ));
            }
            let (store, subject) = target.open()?;
            if !yes {
                let found = store.locate(&subject).await?;
                confirm(found.len(), &target.system)?;
            }
            let policy = match derived {
                Derived::Erase => DerivedPolicy::Erase,
                Derived::Report => DerivedPolicy::Report,
            };
            let report = store.erase_subject(&subject, policy).await?;
            print_json(&json!({
                "system": store.identity(),
                "erased": report.erased(),
                "verified": report.is_verified(),
                "left": report.left(),
                "refused": report.refused(),
            }))?;
            Ok(if report.is_verified() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn confirm(studies: usize, system: &str) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    eprint!(
        "Erase {studies} studies of this patient (and derived copies) from `{system}`? \
         This cannot be undone. Type `erase` to confirm: "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|source| CliError::Io {
            path: "stdin".into(),
            source,
        })?;
    if answer.trim() != "erase" {
        return Err(CliError::BadInput(
            "erasure not confirmed; nothing was erased".into(),
        ));
    }
    Ok(())
}

/// Appends audit events as JSON Lines, fsynced after each event.
struct JsonLinesSink {
    path: PathBuf,
    lock: Mutex<()>,
}

impl AuditSink for JsonLinesSink {
    fn record(&self, event: AuditEvent) -> Result<(), StoreError> {
        let fail = |e: std::io::Error| StoreError::Local {
            operation: "append audit event",
            detail: e.kind().to_string(),
        };
        let mut line = serde_json::to_vec(&event).map_err(|e| StoreError::Local {
            operation: "encode audit event",
            detail: e.to_string(),
        })?;
        line.push(b'\n');
        let _guard = self.lock.lock().map_err(|_| StoreError::Local {
            operation: "append audit event",
            detail: "the audit writer is poisoned".into(),
        })?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(fail)?;
        file.write_all(&line).map_err(fail)?;
        file.sync_all().map_err(fail)
    }
}

fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::BadInput(format!("cannot encode the result: {e}")))?;
    println!("{text}");
    Ok(())
}
