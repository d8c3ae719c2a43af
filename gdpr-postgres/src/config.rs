//! Connection settings: a libpq connection string (`host=… port=… user=…
//! dbname=…`, or a `postgresql://` URL) read from a file or the
//! environment, and the password from a file — never from a command line.
//!
//! TLS (rustls) by default for a host other than loopback or a Unix
//! socket, verified against the CA file named by `sslrootcert`; plain
//! connections to such a host are refused before connecting (see
//! `tls.rs` for the rules).

use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use postgres::config::{Host, SslMode as ClientSslMode};
use postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;
use zeroize::Zeroizing;

use crate::error::PgError;
use crate::tls::{self, SslMode};

/// Where and as whom to connect, and how (TLS or plain).
#[derive(Clone)]
pub struct PgConfig {
    inner: postgres::Config,
    /// The rustls client when the connection uses TLS; `None`: plain
    /// (loopback, a Unix socket, or a caller's explicit danger).
    tls: Option<Arc<rustls::ClientConfig>>,
    mode: SslMode,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // postgres::Config's Debug redacts the password; say no more than
        // host, port, user and database.
        f.debug_struct("PgConfig")
            .field("user", &self.inner.get_user())
            .field("dbname", &self.inner.get_dbname())
            .field("ports", &self.inner.get_ports())
            .field("sslmode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl PgConfig {
    /// Parses a connection string. A password in it is accepted only
    /// because files may hold one; prefer [`PgConfig::password_file`].
    ///
    /// TLS: `sslmode` (`disable`, `allow`, `prefer`, `require`,
    /// `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file of CA
    /// certificates) as in libpq. A host other than loopback or a Unix
    /// socket defaults to `verify-full` and is refused with a plain or
    /// downgradable mode; TLS always verifies the server's chain against
    /// `sslrootcert` (`verify-full` also its name). The CA file is read here.
    ///
    /// # Errors
    /// [`PgError::Config`] if it does not parse, names no host, asks for a
    /// plain connection to a remote host, or names no readable CA file
    /// when TLS is used.
    pub fn parse(text: &str) -> Result<Self, PgError> {
        Self::parse_with(text, false)
    }

    /// [`PgConfig::parse`], but a remote host may be reached in plain text
    /// when the string asks for it (`sslmode=disable`, `allow` or
    /// `prefer`): the password and every record then cross the network in
    /// clear. For a network the operator protects otherwise (an IPsec or
    /// WireGuard link); never the default.
    ///
    /// # Errors
    /// As [`PgConfig::parse`], without the plain-remote refusal.
    pub fn danger_parse_plain_remote(text: &str) -> Result<Self, PgError> {
        Self::parse_with(text, true)
    }

    fn parse_with(text: &str, allow_plain_remote: bool) -> Result<Self, PgError> {
        let split = tls::split(text)?;
        let mut inner =
            postgres::Config::from_str(split.rest.trim()).map_err(|_| PgError::Config {
                reason: "not a libpq connection string (host=… port=… user=… dbname=…) or postgresql:// URL",
            })?;
        let remote = any_remote(&inner)?;
        let mode = split.mode.unwrap_or(if remote {
            SslMode::VerifyFull
        } else {
            SslMode::Disable
        });
        let tls = if mode.is_tls() {
            let ca = split.root_cert.ok_or(PgError::Config {
                reason: "TLS needs the server's CA certificate: add sslrootcert=/path/to/ca.pem (PEM) to the connection string",
            })?;
            Some(Arc::new(tls::client_config(mode, &ca)?))
        } else if remote && !allow_plain_remote {
            return Err(PgError::Config {
                reason: "a host other than loopback or a Unix socket needs TLS: use sslmode=verify-full (the default) with sslrootcert=/path/to/ca.pem; plain or downgradable modes (disable, allow, prefer) are refused",
            });
        } else {
            None
        };
        inner.ssl_mode(if tls.is_some() {
            ClientSslMode::Require
        } else {
            ClientSslMode::Disable
        });
        Ok(Self { inner, tls, mode })
    }

    /// Whether connections use TLS.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
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
    /// With TLS, a server whose certificate the CA does not vouch for
    /// (or, with `verify-full`, that does not name the host) is refused.
    pub fn connect(&self) -> Result<Client, PgError> {
        let fail = PgError::backend("connecting to PostgreSQL");
        match &self.tls {
            Some(tls) => self
                .inner
                .connect(MakeRustlsConnect::new(rustls::ClientConfig::clone(tls)))
                .map_err(fail),
            None => self.inner.connect(NoTls).map_err(fail),
        }
    }
}

/// Whether any host (or `hostaddr`) is neither loopback nor a Unix socket.
fn any_remote(config: &postgres::Config) -> Result<bool, PgError> {
    let hosts = config.get_hosts();
    if hosts.is_empty() {
        return Err(PgError::Config {
            reason: "no host given (host=127.0.0.1 or a Unix socket directory)",
        });
    }
    let remote_name = hosts.iter().any(|host| match host {
        Host::Tcp(name) => {
            !(name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
        }
        #[allow(unreachable_patterns)]
        _ => false,
    });
    let remote_addr = config.get_hostaddrs().iter().any(|ip| !ip.is_loopback());
    Ok(remote_name || remote_addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_hosts_are_refused_without_tls() {
        let local = PgConfig::parse("host=127.0.0.1 port=5432 user=a dbname=b").unwrap();
        assert!(!local.uses_tls());
        assert!(PgConfig::parse("host=/run/postgresql user=a").is_ok());
        assert!(PgConfig::parse("postgresql://a@localhost/b").is_ok());
        // No CA: TLS (the default for a remote host) cannot verify.
        let remote = PgConfig::parse("host=db.example user=a").unwrap_err();
        assert!(remote.to_string().contains("sslrootcert"), "{remote}");
        for plain in ["disable", "allow", "prefer"] {
            let text = format!("host=db.example user=a sslmode={plain}");
            let e = PgConfig::parse(&text).unwrap_err();
            assert!(e.to_string().contains("needs TLS"), "{e}");
            assert!(PgConfig::danger_parse_plain_remote(&text).is_ok());
        }
        let e = PgConfig::parse("host=127.0.0.1 hostaddr=10.1.2.3 user=a sslmode=disable");
        assert!(e.unwrap_err().to_string().contains("needs TLS"));
        let e = PgConfig::parse("postgresql://a@10.1.2.3/b?sslmode=disable").unwrap_err();
        assert!(e.to_string().contains("needs TLS"), "{e}");
        let e = PgConfig::parse("host=db.example sslrootcert=/nonexistent/ca.pem").unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
        assert!(PgConfig::parse("user=a").is_err());
        assert!(PgConfig::parse("host=127.0.0.1 nonsense").is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = PgConfig::parse("host=127.0.0.1 user=a password=s3cr3t-canary").unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-canary"));
    }
}
