//! `gdpr db`: the PostgreSQL schema of shared deployments.

use std::path::PathBuf;
use std::process::ExitCode;

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
    }
}
