//! `gdpr db`: the PostgreSQL schema of shared deployments, and removing a
//! tenant's orphaned audit bodies.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use gdpr_postgres::{HeadLock, PgAuditStore};

use crate::error::CliError;

/// Arguments of `gdpr db`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DbCommand {
    /// Apply the schema migrations (as the database owner); refuses a
    /// database whose schema is newer than this program knows.
    Migrate {
        /// File holding the connection string (password: the file named
        /// by GDPR_PG_PASSWORD_FILE).
        #[arg(long)]
        postgres: PathBuf,
    },
    /// Remove the tenant's orphaned audit bodies: the rest of a batch that
    /// a checkpoint cut and whose writer never continued (in no entry, so
    /// no entry, position or hash changes). Connects as the tenant; prints
    /// how many were removed.
    RemoveOrphanedBodies {
        /// File holding the tenant's connection string (password: the file
        /// named by GDPR_PG_PASSWORD_FILE).
        #[arg(long)]
        postgres: PathBuf,
        /// Remove only bodies stored at least this many minutes ago (at
        /// least 10: a writer signing a checkpoint may still continue a
        /// younger batch).
        #[arg(long, default_value_t = 10)]
        min_age_minutes: u64,
    },
}

/// Runs `gdpr db`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    match args.command {
        DbCommand::Migrate { postgres } => {
            let config = crate::pg::config(&postgres)?;
            let fail = |e: gdpr_postgres::PgError| CliError::BadInput(e.to_string());
            let applied =
                gdpr_postgres::migrate(&mut config.connect().map_err(fail)?).map_err(fail)?;
            println!(
                "schema at version {}; applied now: {}",
                gdpr_postgres::SCHEMA_VERSION,
                if applied.is_empty() {
                    "none (up to date)".to_owned()
                } else {
                    applied
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::RemoveOrphanedBodies {
            postgres,
            min_age_minutes,
        } => remove_orphaned_bodies(&postgres, min_age_minutes),
    }
}

/// `gdpr db remove-orphaned-bodies`: nothing is recorded in the audit log
/// (no entry changes; the bodies removed were never entries).
fn remove_orphaned_bodies(postgres: &Path, minutes: u64) -> Result<ExitCode, CliError> {
    let min_age = minutes
        .checked_mul(60)
        .map(Duration::from_secs)
        .filter(|age| *age >= gdpr_postgres::MIN_ORPHAN_AGE)
        .ok_or_else(|| {
            CliError::BadInput(format!(
                "--min-age-minutes {minutes}: at least 10 (a writer may still continue a younger batch)"
            ))
        })?;
    let config = crate::pg::config(postgres)?;
    let store = PgAuditStore::open(&config, HeadLock::Row).map_err(CliError::Audit)?;
    let removed = store
        .remove_orphaned_bodies(min_age)
        .map_err(CliError::Audit)?;
    println!(
        "removed {removed} orphaned audit bodies (in no entry, stored at least {minutes} minutes ago)"
    );
    Ok(ExitCode::SUCCESS)
}
