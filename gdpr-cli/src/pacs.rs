//! `gdpr pacs locate|export|erase`: act on the systems where images live
//! (GDPR Art. 15, 17, 20), through the adapters named in `systems.toml`.
//!
//! Exit codes: 0 when the operation succeeded (for `erase`: only when
//! verification confirmed that nothing is left), 1 when an erasure was
//! refused, incomplete or not verified, or the system failed, 2 for bad input
//! or configuration.
//!
//! With `--audit-log`, every command ends with a signed checkpoint of the
//! audit log, so the records it wrote cannot be cut off unnoticed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use gdpr_core::store::{DerivedPolicy, RecordHandle, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_systems::SystemsConfig;
use serde_json::json;

use crate::error::CliError;
use crate::subject::{Audit, AuditArgs, confirm, print_json, read_identifier, seal};

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
    #[command(flatten)]
    audit: AuditArgs,
    /// The systems file (see docs/samples/systems.toml).
    #[arg(long)]
    config: PathBuf,
    /// The system's name in the systems file.
    #[arg(long)]
    system: String,
    /// The patient identifier (DICOM Patient ID) as the system knows it.
    /// Visible to other users in the process list: prefer
    /// --patient-id-file.
    #[arg(
        long = "patient-id",
        required_unless_present = "patient_id_file",
        conflicts_with = "patient_id_file"
    )]
    patient_id: Option<String>,
    /// A file holding the patient identifier on its one line (`-`: standard
    /// input), so that it never appears in the process list.
    #[arg(long = "patient-id-file", value_name = "FILE")]
    patient_id_file: Option<PathBuf>,
    /// The issuer of the patient identifier, when the system records one.
    #[arg(long)]
    issuer: Option<String>,
}

/// The longest identifier file read: an identifier is at most 64
/// characters, so anything longer is the wrong file.
const MAX_IDENTIFIER_FILE: u64 = 1024;

impl Target {
    fn open(&self) -> Result<(Box<dyn SubjectStore>, SubjectRef, Audit), CliError> {
        let (value, origin) = match (&self.patient_id, &self.patient_id_file) {
            (Some(value), _) => (value.clone(), "--patient-id".to_owned()),
            (None, Some(path)) => (
                read_identifier(path, MAX_IDENTIFIER_FILE)?,
                crate::subject::origin(path),
            ),
            (None, None) => {
                return Err(CliError::BadInput(
                    "name the patient with --patient-id-file FILE (or --patient-id)".into(),
                ));
            }
        };
        let mut subject =
            PatientId::new(value).map_err(|e| CliError::BadInput(format!("{origin}: {e}")))?;
        if let Some(issuer) = &self.issuer {
            subject = subject
                .with_issuer(issuer)
                .map_err(|e| CliError::BadInput(format!("--issuer: {e}")))?;
        }
        let store = SystemsConfig::load(&self.config)?.open(&self.system)?;
        let (store, audit) = self.audit.wrap(store, None)?;
        Ok((store, subject.into(), audit))
    }
}

/// Runs `gdpr pacs`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    // A store's error names the step; the system it happened on is added
    // here, by its name in the systems file.
    let system = match &args.action {
        Action::Locate(target) | Action::Export { target, .. } | Action::Erase { target, .. } => {
            target.system.clone()
        }
    };
    crate::runtime()?
        .block_on(run_async(args))
        .map_err(|e| e.on_system(&system))
}

async fn run_async(args: Args) -> Result<ExitCode, CliError> {
    match args.action {
        Action::Locate(target) => {
            let (store, subject, audit) = target.open()?;
            let result = async {
                let records = store.locate(&subject).await?;
                let studies: Vec<_> = records.iter().filter_map(RecordHandle::as_study).collect();
                print_json(&json!({ "system": store.identity(), "studies": studies }))?;
                Ok(ExitCode::SUCCESS)
            }
            .await;
            seal(audit.as_deref(), result)
        }
        Action::Export { target, out } => {
            let (store, subject, audit) = target.open()?;
            let result = async {
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
            .await;
            seal(audit.as_deref(), result)
        }
        Action::Erase {
            target,
            yes,
            derived,
        } => {
            target.audit.require_for_erase()?;
            if !yes && !std::io::stdin().is_terminal() {
                return Err(CliError::BadInput(
                    "erase needs confirmation: run it in a terminal, or pass --yes".into(),
                ));
            }
            let (store, subject, audit) = target.open()?;
            let result = async {
                if !yes {
                    let found = store.locate(&subject).await?;
                    confirm(
                        &format!("{} studies (and derived copies)", found.len()),
                        &target.system,
                    )?;
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
                    "unreadable": report.unreadable(),
                    "ignored": report.ignored(),
                    "not_checked": report.not_checked(),
                }))?;
                Ok(if report.is_verified() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            .await;
            seal(audit.as_deref(), result)
        }
    }
}
