//! Callers authenticated by client certificate (mTLS) on the gateway's TLS
//! listener, against the real Orthanc (feature `gateway-tests`): test
//! certificates from rcgen (a client CA, another CA, client certificates
//! valid, expired and unmapped). A valid certificate whose SAN is mapped
//! in `[clients]` is admitted and recorded as its actor; no certificate,
//! one from another CA and an expired one never complete a request; a
//! valid but unmapped one is refused 403.
#![cfg(feature = "gateway-tests")]

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use gdpr_audit::action::Action;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use support::{Options, Tokens, Upstream, orthanc, provider, study};

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).unwrap();
    Ca { cert, key }
}

/// A certificate for `names` signed by `ca`, as PEM (certificate + key).
fn leaf(ca: &Ca, names: &[&str], client: bool, expired: bool) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A client trusting `server_ca`, presenting `identity` (cert + key PEM).
fn client(server_ca: &str, identity: Option<&(String, String)>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(server_ca.as_bytes()).unwrap()]);
    if let Some((cert, key)) = identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
    }
    b.build().unwrap()
}

struct Served {
    base: String,
    server_ca: String,
    client_ca: Ca,
    sink: Arc<gdpr_audit::MemorySink>,
    _dir: tempfile::TempDir,
}

async fn serve(require: bool) -> Served {
    let (o, p) = (orthanc(), provider());
    let dir = tempfile::tempdir().unwrap();
    let (server_ca, client_ca) = (ca("server CA"), ca("client CA"));
    let (cert, key) = leaf(&server_ca, &["localhost", "127.0.0.1"], false, false);
    std::fs::write(dir.path().join("server.pem"), cert).unwrap();
    private(&dir.path().join("server.key"), &key);
    std::fs::write(dir.path().join("clients.pem"), client_ca.cert.pem()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://{}/dicom-web", listener.local_addr().unwrap());
    let extra = format!(
        r#"
[tls]
cert_file = "{d}/server.pem"
key_file = "{d}/server.key"
client_ca_file = "{d}/clients.pem"
require_client_certificate = {require}

[clients."dns:ris.hospital.test"]
actor = "ris-1"
role = "radiologist"
purpose = "TREAT"
"#,
        d = dir.path().display()
    );
    let opts = Options {
        extra,
        ..Default::default()
    };
    let text = support::config_text(&base, &o.dicom_web(), &o, &p, &opts);
    let config = gdpr_gateway::GatewayConfig::from_toml(&text).unwrap();
    let tls = gdpr_gateway::tls::server_config(config.tls.as_ref().unwrap()).unwrap();
    let sink = Arc::new(gdpr_audit::MemorySink::new());
    let parts = gdpr_gateway::Parts::new(
        sink.clone(),
        Arc::new(gdpr_gateway::subjects::FileSubjectStates::empty()),
        Arc::new(gdpr_request::register::FileRegister::open(&dir.path().join("register")).unwrap()),
    );
    let gateway = gdpr_gateway::Gateway::new(config, parts).unwrap();
    tokio::spawn(gdpr_gateway::serve::tls(
        listener,
        gateway.router(),
        tls,
        std::future::pending(),
    ));
    Served {
        base,
        server_ca: server_ca.cert.pem(),
        client_ca,
        sink,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mapped_client_certificate_is_admitted_and_others_are_refused() {
    let o = orthanc();
    let pid = format!("MTLS-{}", support::unique());
    let instances = study(&o, &pid, "Canary^Mtls", 1).await;
    let (uid, series) = (
        instances[0].study_uid.clone(),
        instances[0].series_uid.clone(),
    );
    let s = serve(true).await;
    let url = format!("{}/studies/{uid}/series/{series}/metadata", s.base);

    let valid = leaf(&s.client_ca, &["ris.hospital.test"], true, false);
    let answer = client(&s.server_ca, Some(&valid))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    assert!(
        text.contains(&format!("{}/studies/{uid}", s.base)),
        "{text}"
    );
    let reads: Vec<_> = s
        .sink
        .events()
        .into_iter()
        .filter(|e| e.action() == Action::Read)
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].actor().id.expose(), "ris-1");
    assert_eq!(reads[0].subject().unwrap().expose(), pid);

    // No certificate, another CA, expired: the handshake fails.
    let other = leaf(&ca("other CA"), &["ris.hospital.test"], true, false);
    let expired = leaf(&s.client_ca, &["ris.hospital.test"], true, true);
    for (what, identity) in [
        ("no certificate", None),
        ("another CA", Some(&other)),
        ("expired", Some(&expired)),
    ] {
        let sent = client(&s.server_ca, identity).get(&url).send().await;
        assert!(sent.is_err(), "{what}: {:?}", sent.map(|r| r.status()));
    }
    // Valid, but its name has no [clients] entry.
    let unmapped = leaf(&s.client_ca, &["modality.hospital.test"], true, false);
    let answer = client(&s.server_ca, Some(&unmapped))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("unknown-client-certificate")
    );
    assert_eq!(
        s.sink
            .events()
            .iter()
            .filter(|e| e.action() == Action::Read)
            .count(),
        1,
        "refused callers read nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_optional_certificates_a_caller_without_one_needs_a_token() {
    let p = provider();
    let s = serve(false).await;
    let url = format!("{}/studies?ModalitiesInStudy=CT&limit=1", s.base);
    let bare = client(&s.server_ca, None);
    let answer = bare.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let token = p.token("gw-radiologist", "urn:gdpr:gateway").await;
    let answer = bare.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(answer.status(), 200);
}
