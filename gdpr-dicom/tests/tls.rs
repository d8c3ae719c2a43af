//! TLS with rustls: a real HTTPS server (`openssl s_server`) with a
//! certificate from a throw-away CA. Trusted through `ca_file`, the adapter
//! talks to it; without, the handshake is refused with a configuration error
//! (not retried as if transient). Enabled by `orthanc-tests` (scripts/test.sh
//! installs openssl); with the feature on and no openssl, the test fails.
#![cfg(feature = "orthanc-tests")]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gdpr_core::store::StoreError;
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::store::{DicomWebConfig, DicomWebStore};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the TLS test needs the openssl command (scripts/orthanc.sh installs it)");
    assert!(status.success(), "openssl {args:?} failed");
}

fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=gdpr-health test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// `openssl s_server -WWW` serving `www/` over HTTPS on a free port.
fn serve(dir: &Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-WWW", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-cert", "../server.pem", "-key", "../server.key"])
        .current_dir(dir.join("www"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

#[tokio::test]
async fn https_is_verified_against_the_configured_ca() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    std::fs::create_dir(dir.path().join("www")).unwrap();
    // The QIDO-RS answer for this query, as a file s_server serves.
    std::fs::write(
        dir.path()
            .join("www")
            .join("studies?PatientID=CANARY-TLS&includefield=00080061&includefield=00100021"),
        "[]",
    )
    .unwrap();
    let (_server, port) = serve(dir.path());
    let subject = PatientId::new("CANARY-TLS").unwrap();

    let mut config = DicomWebConfig::new("tls", format!("https://127.0.0.1:{port}/"));
    config.endpoint.http.ca_file = Some(dir.path().join("ca.pem"));
    let trusted = DicomWebStore::connect(&config).unwrap();
    assert!(trusted.find_studies(&subject).await.unwrap().is_empty());

    config.endpoint.http.ca_file = None;
    let untrusted = DicomWebStore::connect(&config).unwrap();
    let err = untrusted.find_studies(&subject).await.unwrap_err();
    assert!(matches!(err, StoreError::Configuration { .. }), "{err}");
    assert!(err.to_string().contains("not trusted"), "{err}");
    assert!(!err.to_string().contains("CANARY"), "{err}");
}
