//! `--postgres FILE` (gdpr audit verify|prove, gdpr db migrate, gdpr
//! request — its journal and restriction register): the
//! connection string is read from FILE (a libpq string or `postgresql://`
//! URL, at most 64 KiB), the password from the file named by the
//! environment variable `GDPR_PG_PASSWORD_FILE` (or from FILE itself) —
//! never from the command line.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gdpr_core::request::RequestId;
use gdpr_postgres::{LeaseSettings, NodeName, PgConfig, PgJournal, PgRegister};
use gdpr_request::{Journal, RestrictionRegister};
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

/// The journal of `request`, claimed for this node (waiting up to `wait`
/// seconds for another node's lease), and the restriction register, in
/// the PostgreSQL of `path`.
pub(crate) async fn journal_and_register(
    path: &Path,
    request: &RequestId,
    wait: u64,
) -> Result<(Arc<dyn Journal>, Arc<dyn RestrictionRegister>), CliError> {
    let config = config(path)?;
    let fail = |what: &'static str| {
        move |e: gdpr_postgres::PgError| {
            CliError::from(gdpr_request::Error::Backend {
                what,
                source: Box::new(e),
            })
        }
    };
    let lease = LeaseSettings::new(Duration::from_secs(30), Duration::from_secs(wait))
        .map_err(fail("choosing the lease"))?;
    let journal = PgJournal::claim(&config, request, &node_name(), lease)
        .await
        .map_err(fail("claiming the request"))?;
    let register = PgRegister::open(&config)
        .await
        .map_err(fail("opening the restriction register"))?;
    Ok((Arc::new(journal), Arc::new(register)))
}

/// `<host>:<pid>` (the host name's characters outside the allowed set
/// dropped), shown to a node that finds the request held.
fn node_name() -> NodeName {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(80)
        .collect();
    let host = if host.is_empty() {
        "gdpr-cli".into()
    } else {
        host
    };
    // Only the allowed characters, at most 80 + 1 + 10 long: always valid.
    NodeName::new(&format!("{host}:{}", std::process::id()))
        .unwrap_or_else(|_| NodeName::new("gdpr-cli").expect("a valid literal node name"))
}
