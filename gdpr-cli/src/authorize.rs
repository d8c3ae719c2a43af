//! `gdpr authorize`: decide whether a request to process a patient's data is
//! lawful, and print the decision with its reasons as JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gdpr_audit::FileKeyStore;
use gdpr_audit::FileStore;
use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::Actor;
use gdpr_core::authorization::{Request, RetentionPhase, authorize};
use gdpr_core::category::RecordCategory;
use gdpr_core::decision::Decision;
use gdpr_core::purpose::Purpose;
use gdpr_core::restriction::RestrictionException;
use gdpr_core::store::RecordId;
use gdpr_core::subject::{PatientId, SubjectState};
use gdpr_postgres::PgRegister;
use gdpr_request::objections::{ObjectionEntry, consult_objections};
use gdpr_request::register::subject_record_of;
use gdpr_request::{FileRegister, RestrictionRegister};
use jiff::Timestamp;
use serde::Deserialize;

use crate::error::CliError;
use crate::input::read_json;

/// Exit code of a denial.
const DENY: u8 = 3;

/// Decide whether a request to process health data is lawful.
///
/// Reads a processing activity (what the organisation does, for which
/// purpose, on which Art. 6 + Art. 9 basis, on how identifiable data) and a
/// request (who wants to process which record categories for which purpose
/// at which instant, whether the record is only kept for a retention duty,
/// and what is known about the patient: consents, restrictions,
/// objections; with --register, or --postgres, also the objections
/// registered by `gdpr request run`). Prints the decision as JSON:
///
///   {"decision": "permit" | "deny", "activity", "purpose", "categories", "at",
///    "basis": {"kind", "art6", "art9", "national"},
///    "safeguards": [{"code", "citation", "message"}],   (what applied to a permit)
///    "reasons":    [{"code", "citation", "message"}]}   (why a denial, every one)
///
/// Each reason and safeguard names the article it comes from.
/// Samples: docs/samples/activity.json, docs/samples/request.json.
/// The rules are explained in docs/authorization.md.
///
/// Exit codes: 0 permit, 3 deny, 2 bad input (the message names the file,
/// the field and the line).
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The processing activity (JSON): name, purpose, basis, categories,
    /// identifiability, optional identification-necessity.
    #[arg(long, value_name = "FILE")]
    activity: PathBuf,
    /// The request (JSON): at, actor, purpose, categories, optional
    /// restriction-exception, optional retention-phase (duty, purposes: the
    /// record is kept only for that retention duty) and subject (consents,
    /// restrictions, objections).
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// The register directory of `gdpr request` (its --register): the
    /// objections that objection requests registered for the patient are
    /// added to the request file's subject state. Needs --audit-log and
    /// `patient` in the request file.
    #[arg(long, value_name = "DIR", requires = "audit_log")]
    register: Option<PathBuf>,
    /// With --register: the audit log directory whose key store names the
    /// patient in the register (the register holds no patient value).
    #[arg(long = "audit-log", value_name = "DIR", requires = "register")]
    audit_log: Option<PathBuf>,
    /// Instead of --register: the PostgreSQL of `gdpr request --postgres
    /// FILE` (FILE holds the connection string, the password comes from the
    /// file named by GDPR_PG_PASSWORD_FILE): the objections registered
    /// there for the patient are added. Needs --kek and `patient`.
    #[arg(
        long,
        value_name = "FILE",
        requires = "kek",
        conflicts_with_all = ["register", "audit_log"]
    )]
    postgres: Option<PathBuf>,
    /// With --postgres: the key-encryption key file (mode 0600) of the
    /// tenant's subject keys, which name the patient in the register.
    #[arg(long, value_name = "KEKFILE", requires = "postgres")]
    kek: Option<PathBuf>,
}

/// Where the registered objections are read.
enum RegisterSource<'a> {
    /// `--register DIR --audit-log DIR`.
    Files {
        register: &'a Path,
        audit_log: &'a Path,
    },
    /// `--postgres FILE --kek KEKFILE`.
    Postgres { conn: &'a Path, kek: &'a Path },
}

impl Args {
    fn register_source(&self) -> Option<RegisterSource<'_>> {
        match (&self.register, &self.audit_log, &self.postgres, &self.kek) {
            (Some(register), Some(audit_log), _, _) => Some(RegisterSource::Files {
                register,
                audit_log,
            }),
            (_, _, Some(conn), Some(kek)) => Some(RegisterSource::Postgres { conn, kek }),
            _ => None,
        }
    }
}

/// The request file: a [`Request`] plus the instant and the subject's state.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RequestFile {
    at: Timestamp,
    actor: Actor,
    purpose: Purpose,
    categories: Vec<RecordCategory>,
    #[serde(default)]
    restriction_exception: Option<RestrictionException>,
    #[serde(default)]
    retention_phase: Option<RetentionPhase>,
    #[serde(default)]
    subject: SubjectState,
    /// The patient (`id`, optional `issuer`), to find what the register
    /// holds about them; read only with --register.
    #[serde(default)]
    patient: Option<PatientId>,
}

/// Adds the objections registered for `patient` (under the subject-wide
/// record id of its key in the audit log's key store) to `subject`. A
/// patient without a key there has had nothing registered.
fn add_registered(
    source: RegisterSource<'_>,
    patient: &PatientId,
    subject: &mut SubjectState,
) -> Result<(), CliError> {
    let found = match source {
        RegisterSource::Files {
            register,
            audit_log,
        } => {
            let keys =
                FileKeyStore::open(FileStore::keys_path(audit_log)).map_err(CliError::Audit)?;
            let Some(record) = subject_record_of(&keys, patient) else {
                return Ok(());
            };
            let register = FileRegister::open(register)?;
            crate::runtime()?.block_on(registered_of(&register, &record))?
        }
        RegisterSource::Postgres { conn, kek } => {
            let keys = crate::audit::open_pg_keys(conn, Some(kek))?;
            let Some(record) = subject_record_of(&keys, patient) else {
                return Ok(());
            };
            let config = crate::pg::config(conn)?;
            crate::runtime()?.block_on(async {
                let register =
                    PgRegister::open(&config)
                        .await
                        .map_err(|e| gdpr_request::Error::Backend {
                            what: "opening the PostgreSQL register",
                            source: Box::new(e),
                        })?;
                registered_of(&register, &record).await
            })?
        }
    };
    consult_objections(&found, subject);
    Ok(())
}

/// The objections `register` holds for the subject-wide `record`.
async fn registered_of(
    register: &dyn RestrictionRegister,
    record: &RecordId,
) -> Result<Vec<ObjectionEntry>, gdpr_request::Error> {
    let objections = register
        .objections()
        .ok_or(gdpr_request::Error::NoObjection)?;
    objections.objections_of(record).await
}

/// Runs `gdpr authorize`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let activity: ProcessingActivity = read_json(&args.activity)?;
    let mut file: RequestFile = read_json(&args.request)?;
    if let Some(source) = args.register_source() {
        let Some(patient) = &file.patient else {
            return Err(CliError::BadInput(format!(
                "{}: with --register or --postgres the request names its `patient` ({{\"id\": …, \
                 \"issuer\": …}}) so that the register's entries can be found",
                args.request.display()
            )));
        };
        add_registered(source, patient, &mut file.subject)?;
    }
    let request = Request {
        actor: file.actor,
        purpose: file.purpose,
        categories: file.categories,
        restriction_exception: file.restriction_exception,
        retention_phase: file.retention_phase,
    };
    let decision = authorize(&activity, &request, &file.subject, file.at);
    let json = serde_json::to_string_pretty(&decision)
        .map_err(|e| CliError::BadInput(format!("cannot print the decision: {e}")))?;
    writeln!(std::io::stdout().lock(), "{json}").map_err(|source| CliError::Io {
        path: "standard output".into(),
        source,
    })?;
    Ok(match decision {
        Decision::Permit(_) => ExitCode::SUCCESS,
        Decision::Deny(_) => ExitCode::from(DENY),
    })
}
