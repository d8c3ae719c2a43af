//! The real servers of the gateway tests (Orthanc with its DICOMweb plugin
//! from scripts/orthanc.sh, oidc-provider from scripts/oidc.sh), a gateway
//! started in-process on a free loopback port, and the few fakes that
//! cannot be real servers: an upstream that fails on purpose
//! (`fake_upstream`), a failing audit sink, a log that keeps its lines.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gdpr_audit::{AuditEvent, AuditSink, MemorySink};
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_gateway::log::{Clock, LogSink};
use gdpr_gateway::subjects::FileSubjectStates;
use gdpr_gateway::{Gateway, GatewayConfig, Parts};
use gdpr_request::register::FileRegister;
use jiff::{SignedDuration, Timestamp};

/// The feature that asks for the real servers.
const FEATURE: &str = "gateway-tests";

/// A reqwest client (rustls needs its crypto provider installed once).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A GET sent as raw bytes, so that the path reaches the gateway exactly
/// as written (HTTP clients normalise `..` away); gives the status.
pub async fn raw_get(base: &str, path: &str, token: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = url::Url::parse(base).unwrap();
    let addr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET {}{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        url.path()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line")
}

/// The real Orthanc (with its DICOMweb plugin) of scripts/orthanc.sh.
pub use gdpr_test_support::servers::Orthanc;

pub fn orthanc() -> Orthanc {
    Orthanc::from_env(FEATURE)
}

/// What the gateway tests do with the real Orthanc beyond its settings.
pub trait Upstream {
    /// Stores `instance` through Orthanc's REST API.
    async fn store(&self, instance: &SyntheticInstance);
    /// Stores a Part 10 file through Orthanc's REST API.
    async fn store_bytes(&self, bytes: Vec<u8>);
    /// Its DICOMweb root, with a trailing slash.
    fn dicom_web(&self) -> String;
}

impl Upstream for Orthanc {
    async fn store(&self, instance: &SyntheticInstance) {
        self.store_bytes(instance.to_bytes().expect("synthetic instance"))
            .await;
    }

    async fn store_bytes(&self, bytes: Vec<u8>) {
        let answer = http()
            .post(format!("{}/instances", self.url))
            .basic_auth(&self.user, Some(self.password()))
            .body(bytes)
            .send()
            .await
            .expect("orthanc reachable");
        assert!(
            answer.status().is_success(),
            "orthanc refused the instance: {}",
            answer.status()
        );
    }

    fn dicom_web(&self) -> String {
        format!("{}/dicom-web/", self.url)
    }
}

/// A study of `instances` instances for `patient`, stored in Orthanc; UIDs
/// under a root unique to this test run.
pub async fn study(
    o: &Orthanc,
    patient: &str,
    name: &str,
    instances: u32,
) -> Vec<SyntheticInstance> {
    let root = format!("1.2.826.0.1.3680043.10.1234.{}", unique());
    let mut all = Vec::new();
    for i in 1..=instances {
        let mut inst = SyntheticInstance::new(&root, patient, 1, 1, i);
        inst.patient_name = name.to_owned();
        o.store(&inst).await;
        all.push(inst);
    }
    all
}

/// A fresh project key in a 0600 file, and the key.
pub fn project_key(dir: &std::path::Path) -> (PathBuf, gdpr_dicom::deid::ProjectKey) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let key = gdpr_dicom::deid::ProjectKey::generate().unwrap();
    let path = dir.join("project.key");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(key.to_hex().as_bytes()).unwrap();
    (path, key)
}

/// A study instance whose Burned In Annotation (0028,0301) says YES.
pub fn burned_in(instance: &SyntheticInstance) -> Vec<u8> {
    let bytes = instance.to_bytes().unwrap();
    let no = [0x28, 0x00, 0x01, 0x03, b'C', b'S', 0x02, 0x00, b'N', b'O'];
    let yes = [
        0x28, 0x00, 0x01, 0x03, b'C', b'S', 0x04, 0x00, b'Y', b'E', b'S', b' ',
    ];
    let at = bytes
        .windows(no.len())
        .position(|w| w == no)
        .expect("(0028,0301) NO in the synthetic instance");
    [&bytes[..at], &yes[..], &bytes[at + no.len()..]].concat()
}

/// Digits unique to this process and call (a UID component, a patient
/// id's suffix).
pub use gdpr_test_support::unique_digits as unique;

/// The real OpenID provider of scripts/oidc.sh.
pub use gdpr_test_support::servers::Oidc as Provider;

pub fn provider() -> Provider {
    Provider::from_env(FEATURE)
}

/// The tokens the gateway tests ask the provider for, or forge.
pub trait Tokens {
    /// A client-credentials access token of `client` for `resource`.
    async fn token(&self, client: &str, resource: &str) -> String;
    /// A token with `claims`, signed RS256 by the provider's *unknown*
    /// key file (`wrong.pem`) under key id `kid`.
    fn forged(&self, kid: &str, claims: &serde_json::Value) -> String;
}

impl Tokens for Provider {
    async fn token(&self, client: &str, resource: &str) -> String {
        let answer: serde_json::Value = http()
            .post(self.token_url())
            .basic_auth(client, Some(self.secret()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([
                        ("grant_type", "client_credentials"),
                        ("scope", "dicomweb"),
                        ("resource", resource),
                    ])
                    .finish(),
            )
            .send()
            .await
            .expect("provider reachable")
            .json()
            .await
            .expect("token answer");
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {answer}"))
            .to_owned()
    }

    fn forged(&self, kid: &str, claims: &serde_json::Value) -> String {
        let pem = std::fs::read_to_string(&self.wrong_key).expect("wrong key");
        let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(der).expect("pem body");
        let key = ring::signature::RsaKeyPair::from_pkcs8(&der).expect("pkcs8 rsa key");
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":"{kid}"}}"#));
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{payload}");
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .expect("sign");
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// Log lines kept for the canary checks.
#[derive(Default)]
pub struct Lines(pub Mutex<Vec<String>>);

impl LogSink for Lines {
    fn line(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_owned());
    }
}

/// A clock `offset` away from now.
pub struct Offset(pub SignedDuration);

impl Clock for Offset {
    fn now(&self) -> Timestamp {
        Timestamp::now() + self.0
    }
}

/// An audit sink that cannot write (a full disk, a lost database).
pub struct FailingSink;

impl AuditSink for FailingSink {
    fn record(&self, _: &AuditEvent) -> Result<gdpr_audit::Receipt, gdpr_audit::Error> {
        Err(gdpr_audit::Error::Io {
            path: PathBuf::from("audit"),
            source: std::io::Error::other("disk full"),
        })
    }
}

/// How to start a gateway.
pub struct Options {
    pub upstream: Option<String>,
    pub clock: SignedDuration,
    pub failing_audit: bool,
    pub subjects: String,
    pub register: Option<tempfile::TempDir>,
    pub read_timeout: u64,
    pub window: u64,
    /// A project key file: research callers get pseudonyms.
    pub key_file: Option<PathBuf>,
    /// What the same listener serves outside the gateway's base path
    /// (`/dicom-web`): a viewer on the gateway's origin (tests/ohif.rs).
    pub site: Option<axum::Router>,
    /// A listener bound beforehand (the site needs the origin first).
    pub listener: Option<std::net::TcpListener>,
    /// A systems.toml naming the upstream as system `pacs` (instead of
    /// `[upstream] url`).
    pub systems_file: Option<PathBuf>,
    /// Tables appended to the configuration (`[tls]`, `[clients…]`).
    pub extra: String,
    /// Where the register's subject-wide entries are found.
    pub subject_records: Option<Arc<dyn gdpr_gateway::decide::SubjectRecords>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            upstream: None,
            clock: SignedDuration::ZERO,
            failing_audit: false,
            subjects: r#"{"subjects": []}"#.into(),
            register: None,
            read_timeout: 30,
            window: 60,
            key_file: None,
            site: None,
            listener: None,
            systems_file: None,
            extra: String::new(),
            subject_records: None,
        }
    }
}

/// A gateway serving on loopback.
pub struct Running {
    pub base: String,
    pub sink: Arc<MemorySink>,
    pub lines: Arc<Lines>,
    pub gateway: Gateway,
    pub upstream_base: String,
    _register: tempfile::TempDir,
}

impl Running {
    pub fn events(&self) -> Vec<AuditEvent> {
        self.sink.events()
    }
    pub fn log(&self) -> String {
        self.lines.0.lock().unwrap().join("\n")
    }
}

pub fn config_text(
    public_base: &str,
    upstream: &str,
    o: &Orthanc,
    p: &Provider,
    opts: &Options,
) -> String {
    format!(
        r#"
public_base = "{public_base}"
source = "gateway-test"
system = "pacs"
{upstream_block}

[oidc]
issuer = "{issuer}"
audience = "urn:gdpr:gateway"
leeway_seconds = 5
jwks_min_refresh_seconds = 0

[audit]
window_seconds = {window}

[roles.radiologist]
role = "physician"
secrecy = {{ kind = "professional", source = "§ 203(1) Nr. 1 StGB" }}

[roles.clerk]
role = "administration"
secrecy = {{ kind = "under-responsibility", source = "§ 203(4) S. 1 StGB" }}

[roles.researcher]
role = "researcher"
pseudonymise = true

[purposes]
TREAT = "diagnosis"
HPAYMT = "billing"
HRESCH = "research"

[[activity]]
name = "Radiology reporting"
purpose = "diagnosis"
categories = ["imaging-examination"]
identifiability = "identified"
basis = {{ kind = "special-category", art6 = "contract", art9 = "health-care" }}

[[activity]]
name = "Billing"
purpose = "billing"
categories = ["billing"]
identifiability = "identified"
basis = {{ kind = "special-category", art6 = "contract", art9 = "health-care" }}

[[activity]]
name = "Imaging research"
purpose = "research"
categories = ["imaging-examination"]
identifiability = "pseudonymised"
basis = {{ kind = "special-category", art6 = "public-task", art9 = "research-archiving-statistics", national = [{{ jurisdiction = "DE", citation = "§ 27 BDSG", summary = "Scientific research on special categories." }}] }}
{pseudonymisation}{extra}"#,
        upstream_block = match &opts.systems_file {
            Some(file) => format!(
                "systems_file = \"{}\"\n\n[upstream]\nread_timeout_seconds = {}\n",
                file.display(),
                opts.read_timeout
            ),
            None => format!(
                "\n[upstream]\nurl = \"{upstream}\"\nusername = \"{}\"\npassword_file = \"{}\"\nread_timeout_seconds = {}\n",
                o.user,
                o.password_file.display(),
                opts.read_timeout
            ),
        },
        issuer = p.issuer,
        window = opts.window,
        pseudonymisation = opts
            .key_file
            .as_ref()
            .map(|k| format!("\n[pseudonymisation]\nkey_file = \"{}\"\n", k.display()))
            .unwrap_or_default(),
        extra = opts.extra,
    )
}

/// Starts a gateway in front of Orthanc (or `opts.upstream`).
pub async fn start(mut opts: Options) -> Running {
    let o = orthanc();
    let p = provider();
    let listener = match opts.listener.take() {
        Some(l) => {
            l.set_nonblocking(true).unwrap();
            tokio::net::TcpListener::from_std(l).unwrap()
        }
        None => tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let base = format!("http://{}/dicom-web", listener.local_addr().unwrap());
    let upstream = opts.upstream.clone().unwrap_or_else(|| o.dicom_web());
    let config =
        GatewayConfig::from_toml(&config_text(&base, &upstream, &o, &p, &opts)).expect("config");
    let sink = Arc::new(MemorySink::new());
    let lines = Arc::new(Lines::default());
    let register = match opts.register {
        Some(dir) => dir,
        None => tempfile::tempdir().unwrap(),
    };
    let audit: Arc<dyn AuditSink> = if opts.failing_audit {
        Arc::new(FailingSink)
    } else {
        sink.clone()
    };
    let parts = Parts::new(
        audit,
        Arc::new(FileSubjectStates::from_json(&opts.subjects).expect("subjects")),
        Arc::new(FileRegister::open(register.path()).unwrap()),
    )
    .with_clock(Arc::new(Offset(opts.clock)))
    .with_log(lines.clone());
    let parts = match opts.subject_records.take() {
        Some(records) => parts.with_subject_records(records),
        None => parts,
    };
    let gateway = Gateway::new(config, parts).expect("gateway");
    let router = match opts.site {
        None => gateway.router(),
        // The gateway's router takes the whole path (its base included).
        Some(site) => {
            let (gw, prefix) = (
                gateway.router(),
                url::Url::parse(&base).unwrap().path().to_owned(),
            );
            axum::Router::new().fallback(move |request: axum::extract::Request| async move {
                let inside = request.uri().path() == prefix
                    || request.uri().path().starts_with(&format!("{prefix}/"));
                let router = if inside { gw } else { site };
                tower::ServiceExt::oneshot(router, request).await
            })
        }
    };
    tokio::spawn(gdpr_gateway::serve::plain(
        listener,
        router,
        std::future::pending(),
    ));
    Running {
        base,
        sink,
        lines,
        gateway,
        upstream_base: upstream,
        _register: register,
    }
}

/// GET `path` below the gateway's base with `token`.
pub async fn get(r: &Running, path: &str, token: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", r.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("gateway reachable")
}

/// The audit log of the `gdpr-gateway` binary, made with gdpr-audit in a
/// test directory.
pub struct BinaryLog {
    /// The log's directory.
    pub dir: PathBuf,
    /// Its signing key's file.
    pub key_file: PathBuf,
    /// Its verifier.
    pub verifier: gdpr_audit::Verifier,
}

/// A new audit log `dir/audit`, signed by a fresh key of `origin` kept in
/// `dir/audit.key`.
pub fn binary_log(dir: &std::path::Path, origin: &str) -> BinaryLog {
    let log_dir = dir.join("audit");
    let signer = gdpr_audit::Signer::generate(origin).unwrap();
    let verifier = signer.verifier();
    let key_file = dir.join("audit.key");
    std::fs::write(&key_file, signer.to_secret_text().as_bytes()).unwrap();
    drop(gdpr_audit::AuditLog::create(&log_dir, signer).unwrap());
    BinaryLog {
        dir: log_dir,
        key_file,
        verifier,
    }
}

/// A loopback port free when asked.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the `gdpr-gateway` binary with `config` on loopback `port`,
/// recording into `log`, its register in `register`, its standard error
/// to `stderr`; returns once it accepts connections (or after 5 s).
pub async fn spawn_binary(
    config: &std::path::Path,
    port: u16,
    (log, register): (&BinaryLog, &std::path::Path),
    stderr: std::process::Stdio,
) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gdpr-gateway"))
        .arg("--config")
        .arg(config)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--audit-log")
        .arg(&log.dir)
        .arg("--audit-key")
        .arg(&log.key_file)
        .arg("--register")
        .arg(register)
        .stderr(stderr)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child
}
