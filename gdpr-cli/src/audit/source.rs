//! Where the log of a `gdpr audit` subcommand is: the directory DIR or a
//! tenant's log on PostgreSQL (`--postgres FILE`), the same two arguments
//! for every subcommand that reads or writes either ([`LogSource`]).

use std::path::PathBuf;

use gdpr_audit::{FileKeyStore, FileStore, LogDir};

use super::commands::Readable;
use super::{Failure, bad, check, pgcmd, warn_if_key_store_exposed};

/// The log of a subcommand: DIR, or `--postgres FILE` instead (clap
/// requires exactly one of them).
#[derive(Debug, clap::Args)]
pub(super) struct LogSource {
    /// The log directory.
    #[arg(required_unless_present = "postgres")]
    dir: Option<PathBuf>,
    /// Instead of DIR: a file holding the connection string of a
    /// tenant's log on PostgreSQL (password: GDPR_PG_PASSWORD_FILE).
    #[arg(long, conflicts_with = "dir")]
    postgres: Option<PathBuf>,
}

/// Where a log is read from or written to.
pub(super) enum Place {
    /// A log directory.
    Dir(PathBuf),
    /// A tenant's log on PostgreSQL (the connection file).
    Postgres(PathBuf),
}

impl LogSource {
    /// The place given: `--postgres` if given, else DIR.
    ///
    /// # Errors
    /// Neither given (clap refuses that first; kept for callers that build
    /// the arguments themselves).
    pub(super) fn place(self) -> Result<Place, Failure> {
        match (self.dir, self.postgres) {
            (_, Some(conn)) => Ok(Place::Postgres(conn)),
            (Some(dir), None) => Ok(Place::Dir(dir)),
            (None, None) => Err(bad("give the log directory DIR or --postgres FILE")),
        }
    }

    /// Opens the log for reading, with its subjects' keys (on PostgreSQL
    /// unwrapped with the key-encryption key file `kek`).
    ///
    /// # Errors
    /// As [`LogSource::place`]; the log or its key store cannot be opened.
    pub(super) fn open_readable(self, kek: Option<PathBuf>) -> Result<Readable, Failure> {
        match self.place()? {
            Place::Postgres(conn) => Ok((
                Box::new(check::pg_store(&conn)?),
                Box::new(pgcmd::pg_keys(&conn, kek.as_deref())?),
            )),
            Place::Dir(dir) => {
                warn_if_key_store_exposed(&dir);
                let keys = FileKeyStore::open(FileStore::keys_path(&dir))?;
                Ok((Box::new(LogDir(dir)), Box::new(keys)))
            }
        }
    }
}
