//! TLS on the gateway's own listener (rustls) and callers authenticated by
//! client certificate (mTLS).
//!
//! With `tls.client_ca_file`, the listener asks every client for a
//! certificate and rustls verifies it (chain to one of those CAs, validity
//! period, key usage for client authentication) during the handshake: a
//! client without one (when required), with one from another CA, or with
//! an expired one never gets to send a request. The verified certificate's
//! subject alternative names (`dns:…`, `uri:…`) travel with each request
//! of the connection ([`ClientCertificate`]); `[clients."dns:…"]` in the
//! configuration maps one of them to an actor, a role and a purpose (see
//! [`crate::caller::identify_client`]). The subject's common name is not
//! used: names are SANs (RFC 6125 § 6.4.4).

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::Error;
use crate::config::TlsConfig;

/// The verified names of the client certificate a connection presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    names: Vec<String>,
}

impl ClientCertificate {
    /// The names of a verified end-entity certificate: its DNS names as
    /// `dns:…` and its URIs as `uri:…`.
    pub fn of(der: &CertificateDer<'_>) -> Option<Self> {
        let cert = webpki::EndEntityCert::try_from(der).ok()?;
        let dns = cert.valid_dns_names().map(|n| format!("dns:{n}"));
        let uri = cert.valid_uri_names().map(|n| format!("uri:{n}"));
        Some(Self {
            names: dns.chain(uri).collect(),
        })
    }

    /// The names, `dns:…` first, then `uri:…`.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

fn read(path: &std::path::Path, what: &str, fix: &str) -> Result<Vec<u8>, Error> {
    gdpr_connect::read_regular_file(path, 1 << 20, what, fix)
        .map_err(|e| Error::config(format!("tls: {e}")))
}

fn certificates(path: &std::path::Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = read(path, what, "give a PEM file (-----BEGIN CERTIFICATE-----)")?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|_| Error::config(format!("tls: {what} {}: not PEM", path.display())))?;
    if certs.is_empty() {
        return Err(Error::config(format!(
            "tls: {what} {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The rustls server configuration `config` describes.
///
/// # Errors
/// [`Error::Config`] naming the file that is missing, not PEM, a key that
/// others can read, or a key that does not match the certificate.
pub fn server_config(config: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let chain = certificates(&config.cert_file, "the certificate file")?;
    gdpr_connect::SecretSource::File(config.key_file.clone())
        .check_private()
        .map_err(|e| Error::config(format!("tls.key_file: {e}")))?;
    let key_pem = zeroize::Zeroizing::new(read(
        &config.key_file,
        "the key file",
        "give a PEM private key",
    )?);
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
        Error::config(format!(
            "tls: the key file {} holds no PEM private key",
            config.key_file.display()
        ))
    })?;
    let builder = rustls::ServerConfig::builder();
    let builder = match &config.client_ca_file {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca, "the client CA file")? {
                roots
                    .add(cert)
                    .map_err(|_| Error::config("tls: a client CA certificate is unusable"))?;
            }
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots));
            let verifier = if config.require_client_certificate {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier
                .build()
                .map_err(|_| Error::config("tls: cannot build the client verifier"))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut server = builder
        .with_single_cert(chain, key)
        .map_err(|_| Error::config("tls: the key does not match the certificate"))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(server))
}
