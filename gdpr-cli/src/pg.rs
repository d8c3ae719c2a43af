//! `--postgres FILE` (gdpr audit verify|prove, gdpr db migrate): the
//! connection string is read from FILE (a libpq string or `postgresql://`
//! URL, at most 64 KiB), the password from the file named by the
//! environment variable `GDPR_PG_PASSWORD_FILE` (or from FILE itself) —
//! never from the command line.

use std::io::Read;
use std::path::Path;

use gdpr_postgres::PgConfig;
use zeroize::Zeroizing;

use crate::error::CliError;

/// The connection settings in `path` (and `GDPR_PG_PASSWORD_FILE`).
pub(crate) fn config(path: &Path) -> Result<PgConfig, CliError> {
    let file = crate::input::open_input(path)?;
    let mut text = Zeroizing::new(String::new());
    file.take(64 * 1024 + 1)
        .read_to_string(&mut text)
        .map_err(|source| CliError::Io {
            path: path.display().to_string(),
            source,
        })?;
    if text.len() > 64 * 1024 {
        return Err(CliError::BadInput(format!(
            "{}: larger than 64 KiB, so not a connection string",
            path.display()
        )));
    }
    let bad = |e: gdpr_postgres::PgError| CliError::BadInput(format!("{}: {e}", path.display()));
    let mut config = PgConfig::parse(&text).map_err(bad)?;
    if let Some(pw) = std::env::var_os("GDPR_PG_PASSWORD_FILE") {
        config = config
            .password_file(Path::new(&pw))
            .map_err(|e| CliError::BadInput(format!("GDPR_PG_PASSWORD_FILE: {e}")))?;
    }
    Ok(config)
}
