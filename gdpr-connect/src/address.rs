//! Which URLs the layer calls and which certificates it trusts: `https://`
//! always, `http://` only to loopback unless
//! [`HttpOptions::danger_allow_insecure_http`], never credentials in a URL;
//! extra CA certificates from a PEM bundle.

use std::net::IpAddr;
use std::path::Path;

use gdpr_core::store::StoreError;
use reqwest::Url;

use crate::endpoint::HttpOptions;

/// Parses and checks a base URL (a trailing `/` is added, so that paths
/// below it extend it).
///
/// # Errors
/// As [`checked_url`].
pub fn checked_base_url(url: &str, options: &HttpOptions) -> Result<Url, StoreError> {
    let mut base = checked_url(url, options)?;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

/// Parses and checks any URL the adapters call (path left as written).
///
/// # Errors
/// [`StoreError::Configuration`] for a URL that does not parse, carries
/// credentials, uses another scheme than `https`/`http`, or uses plain
/// `http` to a host other than loopback without
/// `danger_allow_insecure_http`.
pub fn checked_url(url: &str, options: &HttpOptions) -> Result<Url, StoreError> {
    let base = Url::parse(url).map_err(|e| StoreError::Configuration {
        detail: format!("the url is not valid ({e}); write it as https://host[:port]/path"),
    })?;
    if !base.username().is_empty() || base.password().is_some() {
        return Err(StoreError::Configuration {
            detail: "the url contains credentials; put the user in `username` and the password \
                     in `password_file` or `password_env`"
                .into(),
        });
    }
    match base.scheme() {
        "https" => {}
        "http" if options.danger_allow_insecure_http || is_loopback(&base) => {}
        "http" => {
            return Err(StoreError::Configuration {
                detail: "plain http:// to a host other than loopback would send health data \
                         and credentials unencrypted; use https:// (or set \
                         danger_allow_insecure_http = true on an isolated network)"
                    .into(),
            });
        }
        other => {
            return Err(StoreError::Configuration {
                detail: format!("unsupported url scheme `{other}`; use https://"),
            });
        }
    }
    Ok(base)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The largest `tls_ca_file` (4 MiB; a system's whole bundle is ~250 KiB).
const MAX_CA_BYTES: u64 = 4 << 20;

/// The certificates of a PEM CA bundle: a regular file holding at least one
/// `CERTIFICATE` block. Messages name the field and the file, never its
/// content.
pub(crate) fn ca_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, StoreError> {
    let fix = "`tls_ca_file` must be a PEM CA bundle (-----BEGIN CERTIFICATE-----)";
    let pem = crate::secret::read_regular_file(path, MAX_CA_BYTES, "the CA file", fix)?;
    let no_pem = || StoreError::Configuration {
        detail: format!(
            "the CA file {} holds no PEM certificate; {fix}",
            path.display()
        ),
    };
    let roots = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| no_pem())?;
    if roots.is_empty() {
        return Err(no_pem());
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        let o = HttpOptions::default();
        assert!(checked_base_url("http://127.0.0.1:8042", &o).is_ok());
        assert!(checked_base_url("http://localhost:8042/", &o).is_ok());
        assert!(checked_base_url("http://[::1]:8042/", &o).is_ok());
        assert!(checked_base_url("https://pacs.example.org/", &o).is_ok());
        let err = checked_base_url("http://pacs.example.org/", &o).unwrap_err();
        assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
        let insecure = HttpOptions {
            danger_allow_insecure_http: true,
            ..HttpOptions::default()
        };
        assert!(checked_base_url("http://pacs.example.org/", &insecure).is_ok());
        assert!(checked_base_url("ftp://pacs.example.org/", &insecure).is_err());
        assert!(checked_base_url("https://u:p@pacs.example.org/", &o).is_err());
    }

    #[test]
    fn ca_bundles_that_are_not_regular_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for path in ["/dev/zero".into(), dir.path().to_path_buf()] {
            let err = ca_certificates(&path).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
    }
}
