//! TLS to PostgreSQL: the `sslmode` and `sslrootcert` settings of a
//! connection string, taken out before the rest goes to rust-postgres
//! (which knows only `disable|prefer|require` and reads no CA file), and
//! the rustls client that verifies the server.
//!
//! The rules (docs/postgres.md, "TLS"):
//! - a host other than loopback or a Unix socket gets TLS by default
//!   (`verify-full`); `disable`, `allow` or `prefer` for such a host is
//!   refused before any connection is made (unless the caller used
//!   [`PgConfig::danger_parse_plain_remote`](crate::PgConfig::danger_parse_plain_remote));
//! - TLS always verifies the server's chain against the CA file named by
//!   `sslrootcert` (PEM); `verify-full` also checks that the certificate
//!   names the host; `require` and `verify-ca` check the chain only (as
//!   libpq does for `require` when a root certificate is present);
//! - loopback and Unix sockets default to plain (`disable`) and honour an
//!   explicit mode.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::PgError;

/// The `sslmode` asked for (libpq's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// `disable`: plain.
    Disable,
    /// `allow` or `prefer`: plain or TLS, whatever the server offers
    /// (downgradable: loopback only, and then plain).
    Opportunistic,
    /// `require` or `verify-ca`: TLS, chain verified, name not checked.
    VerifyCa,
    /// `verify-full`: TLS, chain and host name verified.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, PgError> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" | "prefer" => Self::Opportunistic,
            "require" | "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => {
                return Err(PgError::Config {
                    reason: "sslmode: one of disable, allow, prefer, require, verify-ca, verify-full",
                });
            }
        })
    }

    /// Whether this mode makes a TLS connection.
    pub(crate) fn is_tls(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyFull)
    }
}

/// The TLS settings found in a connection string, and the rest of it.
pub(crate) struct Split {
    /// The connection string without `sslmode` and `sslrootcert`.
    pub(crate) rest: String,
    /// `sslmode`, if given.
    pub(crate) mode: Option<SslMode>,
    /// `sslrootcert`, if given.
    pub(crate) root_cert: Option<PathBuf>,
}

/// Takes `sslmode` and `sslrootcert` out of a libpq key-value string or a
/// `postgresql://` URL.
///
/// # Errors
/// [`PgError::Config`] for an unknown `sslmode` or an unterminated quote.
pub(crate) fn split(text: &str) -> Result<Split, PgError> {
    let text = text.trim();
    let pairs = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        split_url(text)
    } else {
        split_key_values(text)?
    };
    let (rest, found) = pairs;
    let mut out = Split {
        rest,
        mode: None,
        root_cert: None,
    };
    for (key, value) in found {
        match key {
            Key::Mode => out.mode = Some(SslMode::parse(&value)?),
            Key::RootCert => out.root_cert = Some(PathBuf::from(value)),
        }
    }
    Ok(out)
}

enum Key {
    Mode,
    RootCert,
}

fn ours(key: &str) -> Option<Key> {
    match key {
        "sslmode" => Some(Key::Mode),
        "sslrootcert" => Some(Key::RootCert),
        _ => None,
    }
}

type Found = Vec<(Key, String)>;

/// `key = value` pairs separated by spaces; a value may be single-quoted
/// with `\'` and `\\` inside (libpq's rules).
fn split_key_values(text: &str) -> Result<(String, Found), PgError> {
    let unterminated = || PgError::Config {
        reason: "connection string: an unterminated quoted value",
    };
    let mut rest = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '=').is_some() {
            while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
            if chars.next_if(|(_, c)| *c == '\'').is_some() {
                loop {
                    match chars.next().ok_or_else(unterminated)?.1 {
                        '\'' => break,
                        '\\' => value.push(chars.next().ok_or_else(unterminated)?.1),
                        c => value.push(c),
                    }
                }
            } else {
                while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                    value.push(c);
                }
            }
        }
        let end = chars.peek().map_or(text.len(), |&(i, _)| i);
        match ours(&key) {
            Some(k) => found.push((k, value)),
            None => {
                rest.push_str(&text[start..end]);
                rest.push(' ');
            }
        }
    }
    Ok((rest, found))
}

/// The query of a `postgresql://` URL (`?sslmode=…&sslrootcert=…`).
fn split_url(text: &str) -> (String, Found) {
    let Some((base, query)) = text.split_once('?') else {
        return (text.to_owned(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut found = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match ours(key) {
            Some(k) => found.push((k, percent_decode(value))),
            None => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, found)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The rustls client for `mode` trusting the CA certificates in `ca_file`.
///
/// # Errors
/// [`PgError::Config`] if the file cannot be read or holds no usable
/// certificate.
pub(crate) fn client_config(
    mode: SslMode,
    ca_file: &std::path::Path,
) -> Result<rustls::ClientConfig, PgError> {
    let bad = |reason| PgError::Config { reason };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
        .map_err(|_| bad("sslrootcert: cannot read the CA file (PEM certificates)"))?
        .collect::<Result<_, _>>()
        .map_err(|_| bad("sslrootcert: not a PEM file of certificates"))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(bad("sslrootcert: no usable CA certificate in the file"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|_| bad("sslrootcert: the CA certificates cannot verify servers"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::VerifyFull => webpki,
        _ => Arc::new(ChainOnly(webpki)),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| bad("TLS: no protocol version available"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// `verify-ca`: the chain is verified against the CA; a certificate that
/// does not name the host is accepted (webpki checks the name last, after
/// the chain, so only that failure is forgiven).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_lose_only_the_tls_settings() {
        let s =
            split("host=db.example sslmode = verify-full sslrootcert='/etc/a b\\'c.pem' user=x")
                .unwrap();
        assert_eq!(s.rest.trim(), "host=db.example user=x");
        assert_eq!(s.mode, Some(SslMode::VerifyFull));
        assert_eq!(s.root_cert, Some(PathBuf::from("/etc/a b'c.pem")));
        assert!(split("host=a sslmode=bogus").is_err());
        assert!(split("host=a sslrootcert='x").is_err());
        let plain = split("host=127.0.0.1 password='p w' user=a").unwrap();
        assert_eq!(plain.rest.trim(), "host=127.0.0.1 password='p w' user=a");
        assert_eq!(plain.mode, None);
    }

    #[test]
    fn urls_lose_only_the_tls_settings() {
        let s = split("postgresql://u@db.example:5432/gdpr?sslmode=require&connect_timeout=5&sslrootcert=%2Fetc%2Fca.pem").unwrap();
        assert_eq!(
            s.rest,
            "postgresql://u@db.example:5432/gdpr?connect_timeout=5"
        );
        assert_eq!(s.mode, Some(SslMode::VerifyCa));
        assert_eq!(s.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        let none = split("postgresql://u@localhost/gdpr").unwrap();
        assert_eq!(none.rest, "postgresql://u@localhost/gdpr");
    }
}
