//! A real viewer in a real browser: the OHIF viewer (npm `@ohif/app`,
//! prebuilt) served on the gateway's own origin, driven by Debian's headless
//! Chromium through playwright-core (scripts/ohif/drive.mjs), reading
//! through the gateway from the real Orthanc with access tokens of the real
//! OpenID provider. A permitted radiologist sees the study listed and its
//! image rendered; a denied billing clerk sees nothing listed and the
//! opened study is refused (403) and recorded; a researcher sees the
//! patient's pseudonym, never the name, and the image.
//!
//! Feature `ohif-tests` (on under `--all-features` in scripts/test.sh, which
//! runs `scripts/ohif.sh prepare` first); the test fails when Chromium,
//! node, the viewer or a server is missing. Screenshots are kept under
//! `$CARGO_TARGET_DIR/ohif-screenshots/` (the path is printed).
#![cfg(feature = "ohif-tests")]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gdpr_audit::action::{Action, Outcome};
use gdpr_dicom::deid::Pseudonymiser;
use gdpr_dicom::synthetic::{self, Instance, Kind};
use serde_json::{Value, json};
use support::{Options, Upstream, orthanc, project_key, start};

const GATEWAY: &str = "urn:gdpr:gateway";

/// A setting of `scripts/ohif.sh prepare`; a missing one fails the test.
fn env(name: &str) -> String {
    gdpr_test_support::servers::setting(name, "ohif-tests", "scripts/ohif.sh")
}

/// The viewer's files with an index.html fallback for every other path,
/// and our own `app-config.js` (the gateway as its DICOMweb server).
struct Site {
    dist: PathBuf,
    config: String,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "html" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        _ => "application/octet-stream",
    }
}

async fn serve(State(site): State<Arc<Site>>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/app-config.js" {
        return (
            [(header::CONTENT_TYPE, "text/javascript")],
            site.config.clone(),
        )
            .into_response();
    }
    let relative = path.trim_start_matches('/');
    let safe = !relative.split('/').any(|s| s == ".." || s.contains('%'));
    let candidate = site.dist.join(relative);
    let file = if safe && !relative.is_empty() && candidate.is_file() {
        candidate
    } else {
        site.dist.join("index.html")
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&file)),
            );
            response
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn app_config(dicom_web: &str, issuer: &str) -> String {
    let source = json!({
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
        "sourceName": "gateway",
        "configuration": {
            "friendlyName": "gdpr-gateway",
            "name": "gateway",
            "qidoRoot": dicom_web,
            "wadoRoot": dicom_web,
            "wadoUriRoot": dicom_web,
            "qidoSupportsIncludeField": false,
            "imageRendering": "wadors",
            "thumbnailRendering": "wadors",
            "enableStudyLazyLoad": true,
            "supportsFuzzyMatching": false,
            "supportsWildcard": false,
            "staticWado": false,
            "singlepart": "bulkdata,video",
            "bulkDataURI": { "enabled": true },
            "omitQuotationForMultipartRequest": true
        }
    });
    // OHIF's log-in: authorization code with PKCE (oidc-client-ts) at the
    // real provider, its access token for the gateway (resource indicator).
    let oidc = json!({
        "authority": issuer,
        "client_id": "gw-viewer",
        "redirect_uri": "/callback",
        "response_type": "code",
        "scope": "openid dicomweb",
        "post_logout_redirect_uri": "/",
        "automaticSilentRenew": false,
        "revokeAccessTokenOnSignout": false,
        "extraQueryParams": { "resource": GATEWAY }
    });
    format!(
        "window.config = {{
  routerBasename: '/',
  extensions: [],
  modes: [],
  customizationService: {{}},
  showStudyList: true,
  maxNumberOfWebWorkers: 1,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: false,
  showLoadingIndicator: true,
  investigationalUseDialog: {{ option: 'never' }},
  defaultDataSourceName: 'gateway',
  dataSources: [{source}],
  oidc: [{oidc}],
}};
"
    )
}

/// What the browser saw (drive.mjs's answer).
struct Seen(Value);

impl Seen {
    fn step(&self, name: &str) -> &Value {
        self.0["steps"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == name))
            .unwrap_or_else(|| panic!("no step {name}: {}", self.0))
    }
    fn text(&self, name: &str) -> String {
        self.step(name)["text"].as_str().unwrap_or("").to_owned()
    }
    fn statuses(&self, needle: &str) -> Vec<u64> {
        self.0["responses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["url"].as_str().unwrap_or("").contains(needle))
            .filter_map(|r| r["status"].as_u64())
            .collect()
    }
}

/// Runs the browser on `steps`, logging in to OHIF as `account` at the
/// provider; screenshots into `out`.
async fn drive(account: &str, out: &Path, steps: Value) -> Seen {
    std::fs::create_dir_all(out).unwrap();
    let job = json!({
        "chromium": env("GDPR_TEST_CHROMIUM"),
        "login": { "issuer": support::provider().issuer, "account": account },
        "out": out,
        "steps": steps,
    });
    let driver = env("GDPR_TEST_OHIF_DRIVER");
    // The gateway keeps serving on the runtime's other threads meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(driver)
            .arg(job.to_string())
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (scripts/ohif.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser driver failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = Seen(serde_json::from_str(stdout.trim()).expect("the driver's JSON answer"));
    for step in seen.0["steps"].as_array().unwrap() {
        eprintln!("{account} {}: {} ms", step["name"], step["ms"]);
    }
    // OHIF's own session put the provider's token on every DICOMweb request.
    let responses = seen.0["responses"].as_array().unwrap();
    assert!(
        !responses.is_empty(),
        "OHIF asked the gateway nothing: {}",
        seen.0
    );
    assert!(
        responses.iter().all(|r| r["auth"] == true),
        "a DICOMweb request without a bearer token: {}",
        seen.0
    );
    seen
}

/// Standard deviation of the grey levels in the central half (both ways)
/// of the PNG at `path` (clear of the viewport's corner texts), decoded
/// here, not by the browser that made it.
fn grey_stddev(path: &Path) -> f64 {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut grey = Vec::new();
    for y in h / 4..3 * h / 4 {
        for x in w / 4..3 * w / 4 {
            let at = y * info.line_size + x * channels;
            let rgb = &buf[at..at + channels.min(3)];
            grey.push(rgb.iter().map(|&v| f64::from(v)).sum::<f64>() / rgb.len() as f64);
        }
    }
    let n = grey.len() as f64;
    let mean = grey.iter().sum::<f64>() / n;
    (grey.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

fn screenshots() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let dir = PathBuf::from(target).join("ohif-screenshots");
    println!("OHIF screenshots: {}", dir.display());
    dir
}

/// An MR study of one 128×128 gradient image for a fresh patient.
async fn mr_study(pid: &str, name: &str) -> Instance {
    let root = format!("1.2.826.0.1.3680043.10.1234.{}", support::unique());
    let mut instance = Instance::numbered(&root, 1);
    instance.patient_id = pid.to_owned();
    instance.patient_name = name.to_owned();
    let mut bytes = Vec::new();
    let kind = Kind::Mr {
        rows: 128,
        cols: 128,
        frames: 1,
    };
    synthetic::write(kind, &instance, &mut bytes).unwrap();
    orthanc().store_bytes(bytes).await;
    instance
}

#[tokio::test(flavor = "multi_thread")]
async fn ohif_shows_the_permitted_nothing_to_the_denied_and_pseudonyms_to_research() {
    let pid = format!("CANARY-OHIF-{}", support::unique());
    let name = "Canary^Viewed";
    let study = mr_study(&pid, name).await;
    let dist = PathBuf::from(env("GDPR_TEST_OHIF_DIST"));
    assert!(
        dist.join("index.html").is_file(),
        "no OHIF build in {}",
        dist.display()
    );
    let key_dir = tempfile::tempdir().unwrap();
    let (key_file, key) = project_key(key_dir.path());

    // Bound first: the viewer's configuration names the gateway's origin.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let site = Arc::new(Site {
        dist,
        config: app_config(&format!("{origin}/dicom-web"), &support::provider().issuer),
    });
    let r = start(Options {
        key_file: Some(key_file),
        site: Some(axum::Router::new().fallback(serve).with_state(site)),
        listener: Some(listener),
        ..Options::default()
    })
    .await;
    assert!(r.base.starts_with(&origin));
    let out = screenshots();
    // OHIF sends the browser to the provider first; back on the study
    // list, the session (oidc-client-ts's) serves the following steps.
    let login =
        json!({ "name": "login", "url": format!("{origin}/"), "wait": { "text": "Study List" } });
    let viewer = |uid: &str| format!("{origin}/viewer?StudyInstanceUIDs={uid}");

    // Permitted: listed under the patient's name, and the image renders.
    let seen = drive(
        "radiologist",
        &out.join("permitted"),
        json!([
            login.clone(),
            { "name": "list", "url": format!("{origin}/?mrn={pid}"), "wait": { "text": "Viewed" } },
            { "name": "viewer", "url": viewer(&study.study_uid), "wait": { "image": true }, "timeoutMs": 90000 },
        ]),
    )
    .await;
    assert!(seen.text("list").contains("Canary, Viewed"), "{}", seen.0);
    let shot = seen.step("viewer");
    assert_eq!(shot["ok"], true, "no image rendered: {}", seen.0);
    let viewport = PathBuf::from(shot["viewport"].as_str().unwrap());
    let spread = grey_stddev(&viewport);
    assert!(
        spread > 5.0,
        "the viewport is uniform (σ = {spread:.2}): {}",
        viewport.display()
    );
    assert!(
        seen.statuses("/frames/").contains(&200),
        "no frame fetched: {}",
        seen.0
    );
    assert!(r.events().iter().any(|e| e.action() == Action::Read
        && e.outcome() == Outcome::Success
        && e.subject().map(|s| s.expose()) == Some(pid.as_str())));

    // Denied: nothing listed; the study opened by its UID is refused and recorded.
    let seen = drive(
        "clerk",
        &out.join("denied"),
        json!([
            login.clone(),
            { "name": "list", "url": format!("{origin}/?mrn={pid}"), "wait": { "noRows": true } },
            { "name": "viewer", "url": viewer(&study.study_uid), "wait": { "status": 403 } },
        ]),
    )
    .await;
    assert_eq!(
        seen.step("list")["ok"],
        true,
        "the denied list is not empty: {}",
        seen.0
    );
    assert!(!seen.text("list").contains(name) && !seen.text("viewer").contains(name));
    assert!(seen.statuses(&study.study_uid).contains(&403), "{}", seen.0);
    let refused: Vec<_> = r
        .events()
        .into_iter()
        .filter(|e| e.outcome() == Outcome::MinorFailure)
        .filter(|e| e.subject().map(|s| s.expose()) == Some(pid.as_str()))
        .map(|e| e.action())
        .collect();
    assert!(!refused.is_empty(), "no refusal recorded: {}", seen.0);

    // Research: the pseudonym, never the name; the pseudonymised study renders.
    let batch = Pseudonymiser::new(&key);
    let pseudonym = batch.patient_pseudonym("", &pid);
    let seen = drive(
        "researcher",
        &out.join("research"),
        json!([
            login.clone(),
            { "name": "list", "url": format!("{origin}/?modalities=MR"), "wait": { "text": pseudonym } },
            { "name": "viewer", "url": viewer(&batch.uid(&study.study_uid)), "wait": { "image": true }, "timeoutMs": 90000 },
        ]),
    )
    .await;
    let list = seen.text("list");
    assert!(
        list.contains(&pseudonym),
        "the pseudonym is not listed: {}",
        seen.0
    );
    for value in [name, "Canary", pid.as_str()] {
        assert!(
            !list.contains(value) && !seen.text("viewer").contains(value),
            "{value} shown to research"
        );
    }
    let shot = seen.step("viewer");
    assert_eq!(
        shot["ok"], true,
        "no image rendered for research: {}",
        seen.0
    );
    assert!(grey_stddev(Path::new(shot["viewport"].as_str().unwrap())) > 5.0);
}
