//! What `gdpr pacs` and `gdpr ehr` share: the patient identifier read from
//! a file or standard input (never the process list), the sealed audit log
//! every operation is recorded in, the confirmation of an erasure and JSON
//! output.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gdpr_audit::{AuditContext, AuditLog, AuditSink, Audited};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::store::SubjectStore;
use gdpr_core::subject::PatientId;

use crate::error::CliError;
use std::process::ExitCode;

/// The identifier in `path` (`-`: standard input): one line of at most
/// `max` bytes, its line end removed, nothing after it.
///
/// # Errors
/// [`CliError::Input`] or [`CliError::Io`] naming the file (never its
/// content) when it cannot be read, is too long or holds more than one line.
pub(crate) fn read_identifier(path: &Path, max: u64) -> Result<String, CliError> {
    let text = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| CliError::Io {
                path: "standard input".into(),
                source,
            })?;
        if bytes.len() as u64 > max {
            return Err(CliError::BadInput(format!(
                "standard input: more than {max} bytes; give the patient identifier alone"
            )));
        }
        String::from_utf8(bytes)
            .map_err(|_| CliError::BadInput("standard input: not UTF-8 text".into()))?
    } else {
        crate::input::read_text(path, max)?
    };
    let line = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if line.contains(['\n', '\r']) {
        return Err(CliError::BadInput(format!(
            "{}: holds more than one line; give the patient identifier alone",
            origin(path)
        )));
    }
    Ok(line.to_owned())
}

/// How messages name the identifier's source.
pub(crate) fn origin(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

/// The sealed audit log a command records in, if any.
pub(crate) type Audit = Option<Arc<AuditLog>>;

/// The audit options of a command.
#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// Record one audit event per operation in this audit log directory
    /// (made with `gdpr audit init`); required for `erase`. Personal fields
    /// are sealed under the subject's key.
    #[arg(long = "audit-log", requires = "audit_key")]
    pub audit_log: Option<PathBuf>,
    /// The audit log's secret signing key (from `gdpr audit init --key-out`).
    #[arg(long = "audit-key")]
    pub audit_key: Option<PathBuf>,
    /// Who runs the command, for the audit event.
    #[arg(long, default_value = "gdpr-cli")]
    pub actor: String,
}

impl AuditArgs {
    /// `store`, recording every operation in the audit log when one is
    /// given; `subject` names the subject in the log when the store's
    /// reference cannot (a FHIR logical id).
    pub(crate) fn wrap(
        &self,
        store: Box<dyn SubjectStore>,
        subject: Option<PatientId>,
    ) -> Result<(Box<dyn SubjectStore>, Audit), CliError> {
        let Some(path) = &self.audit_log else {
            return Ok((store, None));
        };
        let actor = Actor {
            id: ActorId::new(&self.actor)
                .map_err(|e| CliError::BadInput(format!("--actor: {e}")))?,
            role: Role::DataProtectionOfficer,
            secrecy: Secrecy::None,
        };
        // Answering a data subject's request is a legal obligation of the
        // controller (Art. 6(1)(c) with Art. 12, 15, 17, 20).
        let mut context = AuditContext::new(
            actor,
            Purpose::DataSubjectRequest,
            LawfulBasis::Ordinary {
                art6: Art6Basis::LegalObligation,
            },
        );
        if let Some(subject) = subject {
            context = context.with_subject(subject);
        }
        let key = self.audit_key.as_deref().ok_or_else(|| {
            CliError::BadInput("--audit-log needs --audit-key (the log's signing key)".into())
        })?;
        let log = Arc::new(crate::audit::open_recording_log(path, key)?);
        let sink: Arc<dyn AuditSink> = log.clone();
        Ok((Box::new(Audited::new(store, sink, context)?), Some(log)))
    }

    /// Refuses an erasure without an audit log: its record is the proof.
    pub(crate) fn require_for_erase(&self) -> Result<(), CliError> {
        if self.audit_log.is_none() {
            return Err(CliError::BadInput(
                "erase needs --audit-log DIR --audit-key KEY (see `gdpr audit init`): the \
                 audit record is the proof of erasure (Orthanc, for one, forgets a deleted \
                 resource's history)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Signs what the command recorded: a checkpoint at the end of every
/// command that wrote to the audit log, also when the command failed
/// (records written before the failure are covered too). Records after
/// the last checkpoint can be cut off without trace; these cannot.
pub(crate) fn seal(
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

/// Asks on the terminal to type `erase` before `what` is erased from
/// `system`.
pub(crate) fn confirm(what: &str, system: &str) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    eprint!(
        "Erase {what} of this patient from `{system}`? This cannot be undone. \
         Type `erase` to confirm: "
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

/// Prints `value` as pretty JSON on standard output.
pub(crate) fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::BadInput(format!("cannot encode the result: {e}")))?;
    println!("{text}");
    Ok(())
}
