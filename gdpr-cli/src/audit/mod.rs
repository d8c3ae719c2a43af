//! `gdpr audit`: the tamper-evident audit log on the command line.
//!
//! Exit codes: 0 valid / done, 1 tampering or damage detected (the first
//! bad position is printed) or an export with unreadable records (listed in
//! the export), 2 bad input.

use std::fs::{self};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use gdpr_audit::AuditLog;
use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::export::{Disclosure, Format, Selection, export};
use gdpr_audit::label::SourceSystem;
use gdpr_audit::report::{StaffIdentities, subject_report};
use gdpr_audit::seal::KeyId;
use gdpr_audit::signing::Signer;
use gdpr_audit::store::EntrySource;
use gdpr_audit::{AuditStore, KeyStore};
use gdpr_audit::{FileStore, LogDir};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use serde_json::json;

use crate::error::CliError;

mod check;
mod commands;
mod copy;
mod pgcmd;
mod source;
mod write;

use check::{prove, verify};
use commands::*;
use source::{LogSource, Place};
use write::{append, init};

/// Arguments of `gdpr audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Use a signing key file that group or others may read or write
    /// (refused otherwise; a warning is printed). Fix the file instead:
    /// `chmod 600 KEYFILE`.
    #[arg(long, global = true)]
    allow_insecure_key_permissions: bool,
    #[command(subcommand)]
    command: AuditCommand,
}

/// Set once from `--allow-insecure-key-permissions`, read where the signing
/// key is loaded (deep in the commands that open the log).
static ALLOW_INSECURE_KEY: AtomicBool = AtomicBool::new(false);

/// Largest key or checkpoint file read: a key line is about 100 bytes, a
/// checkpoint at most 4 KiB. Anything larger (`/dev/zero`, a log given by
/// mistake) is refused before it is read into memory.
const MAX_KEY_FILE: u64 = 64 * 1024;

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Create a log in DIR and a signing key in KEYFILE (mode 0600).
    Init {
        /// The log directory (created).
        dir: PathBuf,
        /// Where to write the secret signing key.
        #[arg(long)]
        key_out: PathBuf,
        /// The log's origin line (its name in checkpoints).
        #[arg(long, default_value = "gdpr-health/audit")]
        origin: String,
    },
    /// Append events (JSON Lines of audit events; `recorded` defaults to now).
    Append(write::AppendArgs),
    /// Write a signed checkpoint and print it (with --postgres, save the
    /// printed note outside the database).
    Checkpoint {
        #[command(flatten)]
        log: LogSource,
        /// With --postgres: the key-encryption key file (mode 0600) of the
        /// tenant's subject keys.
        #[arg(long, requires = "postgres")]
        kek: Option<PathBuf>,
        /// The secret signing key.
        #[arg(long)]
        key: PathBuf,
    },
    /// Verify the whole log and the key store's checksums (exit 0 valid, 1
    /// tampered or key store damaged, 2 bad input).
    Verify {
        #[command(flatten)]
        log: LogSource,
        /// The trusted public key file (`<name>+<hash>+<key>`).
        #[arg(long)]
        public_key: PathBuf,
        /// A checkpoint saved earlier elsewhere: catches truncation and rollback.
        #[arg(long)]
        trusted_checkpoint: Option<PathBuf>,
    },
    /// Print the inclusion proof of record N against the latest checkpoint.
    Prove {
        #[command(flatten)]
        log: LogSource,
        /// The record position (0-based).
        #[arg(long)]
        index: u64,
        /// Also prove that the tree of this many records (a checkpoint an
        /// auditor saved earlier) is a prefix of the latest one (RFC 9162
        /// consistency proof).
        #[arg(long)]
        from_size: Option<u64>,
    },
    /// Export the log (exit 1 when a record could not be read: it is listed
    /// in the export as unreadable, the others are exported).
    Export {
        #[command(flatten)]
        log: LogSource,
        /// With --postgres: the key-encryption key file (mode 0600) that
        /// unwraps the tenant's subject keys.
        #[arg(long, requires = "postgres")]
        kek: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Leave every personal field out.
        #[arg(long)]
        redact: bool,
        /// Only the records of this data subject (needs the subject's key).
        #[arg(long, conflicts_with = "key_id")]
        subject: Option<String>,
        /// Issuer of the subject's identifier.
        #[arg(long, requires = "subject")]
        issuer: Option<String>,
        /// Only the records sealed under this key id (works after erasure).
        #[arg(long)]
        key_id: Option<String>,
    },
    /// The Art. 15 report of a data subject: dates, purposes, actor roles.
    SubjectReport {
        #[command(flatten)]
        log: LogSource,
        /// With --postgres: the key-encryption key file (mode 0600) that
        /// unwraps the tenant's subject keys.
        #[arg(long, requires = "postgres")]
        kek: Option<PathBuf>,
        /// The subject's identifier.
        #[arg(long)]
        subject: String,
        /// Issuer of the identifier.
        #[arg(long)]
        issuer: Option<String>,
        /// Include staff identities (CJEU C-579/21: only when needed).
        #[arg(long)]
        staff: bool,
    },
    /// Drop the records before a checkpoint of exactly SIZE records (after
    /// the log's own retention period); the rest stays verifiable.
    Prune {
        /// The log directory.
        dir: PathBuf,
        /// The secret signing key.
        #[arg(long)]
        key: PathBuf,
        /// The size of the retained checkpoint: records before it go.
        #[arg(long)]
        before: u64,
    },
    /// Erase a data subject (Art. 17): record the erasure, destroy the key.
    EraseSubject {
        #[command(flatten)]
        log: LogSource,
        /// With --postgres: the key-encryption key file (mode 0600) that
        /// unwraps the tenant's subject keys.
        #[arg(long, requires = "postgres")]
        kek: Option<PathBuf>,
        /// The subject's identifier.
        #[arg(long)]
        subject: String,
        /// Issuer of the identifier.
        #[arg(long)]
        issuer: Option<String>,
        /// The secret signing key.
        #[arg(long)]
        key: PathBuf,
        /// Who performs the erasure (recorded in the erasure event).
        #[arg(long, default_value = "data-protection-officer")]
        actor: String,
    },
    /// Copy a log between a directory and PostgreSQL (either way), byte
    /// for byte: the source's checkpoints and inclusion proofs hold for
    /// the copy. Verifies the source before and the copy after. The
    /// subject keys are copied too (erased subjects as tombstones):
    /// wrapped under --kek on PostgreSQL, as a key store file in a
    /// directory.
    Copy {
        /// The source log directory.
        #[arg(long, required_unless_present = "from_postgres")]
        from: Option<PathBuf>,
        /// Instead of --from: the connection file of the source tenant.
        #[arg(long, conflicts_with = "from")]
        from_postgres: Option<PathBuf>,
        /// The new log directory (must not exist or be empty).
        #[arg(long, required_unless_present = "to_postgres")]
        to: Option<PathBuf>,
        /// Instead of --to: the connection file of a tenant whose log is
        /// empty.
        #[arg(long, conflicts_with = "to")]
        to_postgres: Option<PathBuf>,
        /// The trusted public key file of the log.
        #[arg(long)]
        public_key: PathBuf,
        /// The key-encryption key file (mode 0600) of the PostgreSQL
        /// side's subject keys (both sides, tenant to tenant).
        #[arg(long, value_name = "KEKFILE")]
        kek: Option<PathBuf>,
    },
    /// Say that a new relationship with an erased subject began: the
    /// subject gets a new key, so events about them are recorded again
    /// (refused until then); records from before the erasure stay erased.
    BeginRelationship {
        /// The log directory.
        dir: PathBuf,
        /// The subject's identifier.
        #[arg(long)]
        subject: String,
        /// Issuer of the identifier.
        #[arg(long)]
        issuer: Option<String>,
        /// The secret signing key.
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Jsonl,
    Fhir,
    Dicom,
}

/// Runs `gdpr audit`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    ALLOW_INSECURE_KEY.store(args.allow_insecure_key_permissions, Ordering::Relaxed);
    match execute(args.command) {
        Ok(code) => Ok(code),
        Err(Failure::Audit(e)) if e.is_tampering() => {
            println!("TAMPERED: {e}");
            Ok(ExitCode::from(1))
        }
        Err(Failure::Audit(e)) if e.is_key_store_damage() => {
            println!("KEY STORE DAMAGED: {e}");
            Ok(ExitCode::from(1))
        }
        Err(Failure::Audit(e)) => Err(CliError::BadInput(e.to_string())),
        Err(Failure::Cli(e)) => Err(e),
    }
}

enum Failure {
    Audit(gdpr_audit::Error),
    Cli(CliError),
}

impl From<gdpr_audit::Error> for Failure {
    fn from(e: gdpr_audit::Error) -> Self {
        Self::Audit(e)
    }
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Self::Cli(e)
    }
}

fn bad(msg: impl Into<String>) -> Failure {
    Failure::Cli(CliError::BadInput(msg.into()))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |source| {
        Failure::Cli(CliError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Reads a key or checkpoint file, at most [`MAX_KEY_FILE`] bytes.
fn read(path: &Path) -> Result<String, Failure> {
    let file = crate::input::open_input(path)?;
    let mut text = String::new();
    read_capped(path, file, &mut text)?;
    Ok(text)
}

/// Reads `file` into `text` (which should have room for [`MAX_KEY_FILE`]
/// + 1 bytes, so a secret is never copied by a reallocation).
fn read_capped(path: &Path, file: fs::File, text: &mut String) -> Result<(), Failure> {
    file.take(MAX_KEY_FILE + 1)
        .read_to_string(text)
        .map_err(io_error(path))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(bad(format!(
            "{}: larger than {} KiB, so not a key or checkpoint file; check the path",
            path.display(),
            MAX_KEY_FILE / 1024
        )));
    }
    Ok(())
}

/// Loads the secret signing key: refused (or, with
/// `--allow-insecure-key-permissions`, warned about) when group or others
/// may read or write the file.
fn signer(path: &Path) -> Result<Signer, Failure> {
    let file = crate::input::open_input(path)?;
    let mode = file
        .metadata()
        .map_err(io_error(path))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        let what = format!(
            "{}: the signing key is accessible to group or others (mode {mode:03o})",
            path.display()
        );
        if !ALLOW_INSECURE_KEY.load(Ordering::Relaxed) {
            return Err(bad(format!(
                "{what}; run chmod 600 on it (or pass --allow-insecure-key-permissions)"
            )));
        }
        eprintln!("warning: {what}; used because of --allow-insecure-key-permissions");
    }
    let mut text = zeroize::Zeroizing::new(String::with_capacity(MAX_KEY_FILE as usize + 1));
    read_capped(path, file, &mut text)?;
    Signer::parse(&text).map_err(|e| bad(format!("{}: {e}", path.display())))
}

/// Warns when the key store (the subjects' data keys) is accessible to
/// group or others.
fn warn_if_key_store_exposed(dir: &Path) {
    let path = FileStore::keys_path(dir);
    if let Ok(meta) = fs::metadata(&path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: {}: the key store is accessible to group or others (mode {mode:03o}); it holds the data subjects' keys: run chmod 600 on it",
                path.display()
            );
        }
    }
}

/// The one way the command line opens a log for writing (`gdpr audit`
/// and `gdpr pacs` alike): the signing key checked for its permissions,
/// the log verified completely ([`AuditLog::open`]).
fn open_log(dir: &Path, key: &Path) -> Result<AuditLog, Failure> {
    let signer = signer(key)?;
    warn_if_key_store_exposed(dir);
    Ok(AuditLog::open(dir, signer)?)
}

/// [`open_log`] for commands outside `gdpr audit` that record in a log:
/// tampering and key-store damage exit with code 1 there too.
/// The tenant's log on PostgreSQL (`conn`), its subject keys unwrapped
/// with the KEK file, as the log a request records in.
pub(crate) fn open_recording_pg_log(
    conn: &Path,
    kek: Option<&Path>,
    key: &Path,
) -> Result<gdpr_postgres::PgAuditLog, CliError> {
    pgcmd::request_log(conn, kek, key).map_err(|e| match e {
        Failure::Audit(e) => CliError::Audit(e),
        Failure::Cli(e) => e,
    })
}

/// The tenant's subject keys on PostgreSQL (`conn`), unwrapped with the
/// KEK file (mode 0600): where `gdpr authorize --postgres` finds the
/// subject-wide record id of a patient. Opens no log.
pub(crate) fn open_pg_keys(
    conn: &Path,
    kek: Option<&Path>,
) -> Result<gdpr_postgres::PgKeyStore, CliError> {
    pgcmd::pg_keys(conn, kek).map_err(|e| match e {
        Failure::Audit(e) => CliError::Audit(e),
        Failure::Cli(e) => e,
    })
}

pub(crate) fn open_recording_log(dir: &Path, key: &Path) -> Result<AuditLog, CliError> {
    open_log(dir, key).map_err(|e| match e {
        Failure::Audit(e) => CliError::Audit(e),
        Failure::Cli(e) => e,
    })
}

fn subject_id(subject: &str, issuer: Option<&str>) -> Result<PatientId, Failure> {
    let id = PatientId::new(subject).map_err(|e| bad(format!("--subject: {e}")))?;
    match issuer {
        Some(i) => id.with_issuer(i).map_err(|e| bad(format!("--issuer: {e}"))),
        None => Ok(id),
    }
}

/// Hides the input values a JSON error may echo, keeping field names and
/// the allowed values (`gdpr_core::redact::serde_message`).
fn sanitize(msg: &str) -> String {
    gdpr_core::redact::serde_message(msg)
}

fn out() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

/// Runs one `gdpr audit` subcommand.
fn execute(cmd: AuditCommand) -> Result<ExitCode, Failure> {
    match cmd {
        AuditCommand::Init {
            dir,
            key_out,
            origin,
        } => init(&dir, &key_out, &origin),
        AuditCommand::Append(args) => append(&args),
        AuditCommand::Checkpoint { log, kek, key } => match log.place()? {
            Place::Postgres(conn) => {
                let note = pgcmd::pg_log(&conn, kek.as_deref(), &key)?.checkpoint()?;
                print!("{note}");
                Ok(ExitCode::SUCCESS)
            }
            Place::Dir(dir) => checkpoint(&dir, &key),
        },
        AuditCommand::Verify {
            log,
            public_key,
            trusted_checkpoint,
        } => match log.place()? {
            Place::Postgres(conn) => {
                check::verify_pg(&conn, &public_key, trusted_checkpoint.as_deref())
            }
            Place::Dir(dir) => verify(&dir, &public_key, trusted_checkpoint.as_deref()),
        },
        AuditCommand::Prove {
            log,
            index,
            from_size,
        } => match log.place()? {
            Place::Postgres(conn) => prove(&check::pg_store(&conn)?, index, from_size),
            Place::Dir(dir) => prove(&LogDir(dir), index, from_size),
        },
        AuditCommand::Export {
            log,
            kek,
            format,
            redact,
            subject,
            issuer,
            key_id,
        } => {
            let subject = subject.map(|s| (s, issuer));
            export_log(log.open_readable(kek)?, format, redact, subject, key_id)
        }
        AuditCommand::SubjectReport {
            log,
            kek,
            subject,
            issuer,
            staff,
        } => report(log.open_readable(kek)?, &subject, issuer.as_deref(), staff),
        AuditCommand::Prune { dir, key, before } => prune(&dir, &key, before),
        AuditCommand::EraseSubject {
            log,
            kek,
            subject,
            issuer,
            key,
            actor,
        } => {
            let subject = subject_id(&subject, issuer.as_deref())?;
            match log.place()? {
                Place::Postgres(conn) => erase_subject(
                    &pgcmd::pg_log(&conn, kek.as_deref(), &key)?,
                    &subject,
                    actor,
                ),
                Place::Dir(dir) => erase_subject(&open_log(&dir, &key)?, &subject, actor),
            }
        }
        AuditCommand::Copy {
            from,
            from_postgres,
            to,
            to_postgres,
            public_key,
            kek,
        } => {
            let place = |dir: Option<PathBuf>, pg: Option<PathBuf>| match (dir, pg) {
                (_, Some(conn)) => Ok(Place::Postgres(conn)),
                (Some(d), None) => Ok(Place::Dir(d)),
                (None, None) => Err(bad("give --from/--from-postgres and --to/--to-postgres")),
            };
            copy::copy(
                place(from, from_postgres)?,
                place(to, to_postgres)?,
                &public_key,
                kek.as_deref(),
            )
        }
        AuditCommand::BeginRelationship {
            dir,
            subject,
            issuer,
            key,
        } => begin_relationship(&dir, &subject_id(&subject, issuer.as_deref())?, &key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_the_allowed_values_but_not_the_input() {
        let s = sanitize("unknown variant `CANARY`, expected one of `create`, `read`");
        assert!(!s.contains("CANARY"), "{s}");
        assert!(s.contains("`create`, `read`"), "{s}");
    }

    #[test]
    fn sanitize_drops_quoted_values() {
        let s = sanitize("invalid type: string \"P-0042\", expected struct PatientId at line 1");
        assert!(!s.contains("P-0042"), "{s}");
        assert!(s.contains("expected struct PatientId"));
    }
}
