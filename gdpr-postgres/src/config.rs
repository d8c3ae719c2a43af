//! Connection settings: a libpq connection string (`host=… port=… user=…
//! dbname=…`, or a `postgresql://` URL) read from a file or the
//! environment, and the password from a file — never from a command line.
//!
//! TLS is not built in yet: a host other than loopback or a Unix socket is
//! refused (`PgError::Config`), so that a password never crosses a network
//! in clear.

use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

use postgres::config::Host;
use postgres::{Client, NoTls};
use zeroize::Zeroizing;

use crate::error::PgError;

/// Where and as whom to connect.
#[derive(Clone)]
pub struct PgConfig {
    inner: postgres::Config,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // postgres::Config's Debug redacts the password; say no more than
        // host, port, user and database.
        f.debug_struct("PgConfig")
            .field("user", &self.inner.get_user())
            .field("dbname", &self.inner.get_dbname())
            .field("ports", &self.inner.get_ports())
            .finish_non_exhaustive()
    }
}

impl PgConfig {
    /// Parses a connection string. A password in it is accepted only
    /// because files may hold one; prefer [`PgConfig::password_file`].
    ///
    /// # Errors
    /// [`PgError::Config`] if it does not parse, names no host, or names a
    /// host other than loopback or a Unix socket.
    pub fn parse(text: &str) -> Result<Self, PgError> {
        let inner = postgres::Config::from_str(text.trim()).map_err(|_| PgError::Config {
            reason: "not a libpq connection string (host=… port=… user=… dbname=…) or postgresql:// URL",
        })?;
        let config = Self { inner };
        config.check_hosts()?;
        Ok(config)
    }

    fn check_hosts(&self) -> Result<(), PgError> {
        let hosts = self.inner.get_hosts();
        if hosts.is_empty() {
            return Err(PgError::Config {
                reason: "no host given (host=127.0.0.1 or a Unix socket directory)",
            });
        }
        for host in hosts {
            if let Host::Tcp(name) = host {
                let loopback =
                    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
                if !loopback {
                    return Err(PgError::Config {
                        reason: "a remote host needs TLS, which this version does not build in: connect over loopback or a Unix socket (e.g. through a local TLS tunnel)",
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads the password from `path` (first line, trailing newline
    /// dropped; the buffer is zeroized).
    ///
    /// # Errors
    /// [`PgError::PasswordFile`].
    pub fn password_file(mut self, path: &Path) -> Result<Self, PgError> {
        let text = Zeroizing::new(std::fs::read(path).map_err(|source| PgError::PasswordFile {
            path: path.to_owned(),
            source,
        })?);
        let end = text
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(text.len());
        self.inner.password(&text[..end]);
        Ok(self)
    }

    /// The same settings for another role (a tenant's).
    #[must_use]
    pub fn user(mut self, role: &str) -> Self {
        self.inner.user(role);
        self
    }

    /// The same settings with the password `password` (zeroized by the
    /// caller; the client keeps its own copy for reconnecting).
    #[must_use]
    pub fn password(mut self, password: &[u8]) -> Self {
        self.inner.password(password);
        self
    }

    /// Opens a connection.
    ///
    /// # Errors
    /// [`PgError::Backend`] if the server cannot be reached or refuses.
    pub fn connect(&self) -> Result<Client, PgError> {
        self.inner
            .connect(NoTls)
            .map_err(PgError::backend("connecting to PostgreSQL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_hosts_are_refused_without_tls() {
        assert!(PgConfig::parse("host=127.0.0.1 port=5432 user=a dbname=b").is_ok());
        assert!(PgConfig::parse("host=/run/postgresql user=a").is_ok());
        assert!(PgConfig::parse("postgresql://a@localhost/b").is_ok());
        let remote = PgConfig::parse("host=db.example user=a").unwrap_err();
        assert!(matches!(remote, PgError::Config { .. }), "{remote}");
        assert!(PgConfig::parse("user=a").is_err());
        assert!(PgConfig::parse("host=127.0.0.1 nonsense").is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = PgConfig::parse("host=127.0.0.1 user=a password=s3cr3t-canary").unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-canary"));
    }
}
