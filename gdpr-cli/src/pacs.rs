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

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use gdpr_audit::AuditLog;
use gdpr_audit::AuditSink;
use gdpr_audit::{AuditContext, Audited};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::store::{DerivedPolicy, RecordHandle, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::SystemsConfig;
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
    /// Record one audit event per operation in this audit log directory
    /// (made with `gdpr audit init`); required for `erase`. Personal fields
    /// are sealed under the subject's key.
    #[arg(long = "audit-log", requires = "audit_key")]
    audit_log: Option<PathBuf>,
    /// The audit log's secret signing key (from `gdpr audit init --key-out`).
    #[arg(long = "audit-key")]
    audit_key: Option<PathBuf>,
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

/// The identifier in `path` (`-`: standard input): one line, its line end
/// removed, nothing after it.
///
/// # Errors
/// [`CliError::Input`] or [`CliError::Io`] naming the file (never its
/// content) when it cannot be read, is too long or holds more than one line.
fn read_identifier(path: &std::path::Path) -> Result<String, CliError> {
    let text = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_IDENTIFIER_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| CliError::Io {
                path: "standard input".into(),
                source,
            })?;
        if bytes.len() as u64 > MAX_IDENTIFIER_FILE {
            return Err(CliError::BadInput(format!(
                "standard input: more than {MAX_IDENTIFIER_FILE} bytes; give the patient \
                 identifier alone"
            )));
        }
        String::from_utf8(bytes)
            .map_err(|_| CliError::BadInput("standard input: not UTF-8 text".into()))?
    } else {
        crate::input::read_text(path, MAX_IDENTIFIER_FILE)?
    };
    let line = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if line.contains(['\n', '\r']) {
        return Err(CliError::BadInput(format!(
            "{}: holds more than one line; give the patient identifier alone",
            path.display()
        )));
    }
    Ok(line.to_owned())
}

/// The sealed audit log a command records in, if any.
type Audit = Option<Arc<AuditLog>>;

impl Target {
    fn open(&self) -> Result<(Box<dyn SubjectStore>, SubjectRef, Audit), CliError> {
        let (value, origin) = match (&self.patient_id, &self.patient_id_file) {
            (Some(value), _) => (value.clone(), "--patient-id".to_owned()),
            (None, Some(path)) => (read_identifier(path)?, path.display().to_string()),
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
        let Some(path) = &self.audit_log else {
            return Ok((store, subject.into(), None));
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
        let key = self.audit_key.as_deref().ok_or_else(|| {
            CliError::BadInput("--audit-log needs --audit-key (the log's signing key)".into())
        })?;
        let log = Arc::new(crate::audit::open_recording_log(path, key)?);
        let sink: Arc<dyn AuditSink> = log.clone();
        Ok((
            Box::new(Audited::new(store, sink, context)?),
            subject.into(),
            Some(log),
        ))
    }
}

/// Runs `gdpr pacs`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    crate::runtime()?.block_on(run_async(args))
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
            if target.audit_log.is_none() {
                return Err(CliError::BadInput(
                    "erase needs --audit-log DIR --audit-key KEY (see `gdpr audit init`): the \
                     audit record is the proof of erasure (Orthanc, for one, forgets a deleted \
                     resource's history)"
                        .into(),
                ));
            }
            if !yes && !std::io::stdin().is_terminal() {
                return Err(CliError::BadInput(
                    "erase needs confirmation: run it in a terminal, or pass --yes".into(),
                ));
            }
            let (store, subject, audit) = target.open()?;
            let result = async {
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

/// Signs what the command recorded: a checkpoint at the end of every
/// command that wrote to the audit log, also when the command failed
/// (records written before the failure are covered too). Records after
/// the last checkpoint can be cut off without trace; these cannot.
fn seal(
    audit: Option<&AuditLog>,
    result: Result<ExitCode, CliError>,
) -> Result<ExitCode, CliError> {
    let Some(log) = audit else {
        return result;
    };
    match (log.checkpoint(), result) {
        (Ok(_), result) | (Err(_), result @ Err(_)) => result,
        (Err(e), Ok(_)) => Err(CliError::BadInput(format!(
            "audit log: the operation was done and recorded, but the checkpoint that signs its records could not be written ({e}); run gdpr audit checkpoint"
        ))),
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

fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::BadInput(format!("cannot encode the result: {e}")))?;
    println!("{text}");
    Ok(())
}
