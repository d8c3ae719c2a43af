//! Benchmarks of one patient's export, each against a baseline measured
//! side by side in the same run. Run by scripts/bench_ehr.sh (which starts
//! a throw-away Helios HFS); not part of the test suite.
//!
//! - `writer N`: N Observations written three ways side by side, each
//!   round in a rotated order, every side starting from the same owned
//!   resources (cloned in the timed part, as an export owns what it
//!   writes) and using the same file protocol (64 KiB-buffered file under a
//!   temporary name, fsync, rename, fsync of the directory):
//!   baseline = plain `serde_json::to_writer` of each resource as one
//!   Bundle; (b1) ours, the Bundle only (`ExportWriter::bundle_only`: the
//!   conformance split and serialisation in one walk, the Bundle entry),
//!   target >= 0.8x the baseline's throughput; (b2) ours, the whole writer
//!   as an export runs it (`ExportWriter::create`: b1 plus the NDJSON file
//!   and SHA-256 of both), reported against the baseline without a target;
//!   (b3) b2's time over b1's: the cost of NDJSON + hashing. Median and
//!   spread of the per-round ratios.
//! - `helios N` (needs `GDPR_TEST_FHIR_URL`): seeds one patient with N
//!   resources (the Patient and N-1 Observations, transaction Bundles of
//!   1000), then exports it with `FhirStore::export` and fetches the same
//!   `$everything` pages with plain reqwest GETs (bodies read, not parsed),
//!   alternating which goes first. Wall-time ratio, target <= 1.2x.
//! - `seed N` (needs `GDPR_TEST_FHIR_URL`): seeds as above, prints the
//!   Patient's id; `export ID` exports it once (the script measures its
//!   peak RSS with /usr/bin/time -v). `serve N PORT` generates a patient
//!   `p1` with N Observations' `$everything` pages locally, for the same
//!   RSS measurement where loading the real server is too slow.

use std::io::Write;
use std::time::{Duration, Instant};

use gdpr_core::store::{FhirId, FhirSubject, SubjectRef, SubjectStore};
use gdpr_ehr::export::ExportWriter;
use gdpr_ehr::store::{FhirConfig, FhirStore};
use serde_json::{Value, json};

const ROUNDS: usize = 5;
/// Rounds of the writer benchmark (three sides each).
const WRITER_ROUNDS: usize = 9;
const PAGE_SIZE: u32 = 100;

fn observation(patient: &str, n: usize) -> Value {
    json!({"resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": "2020-01-02T10:00:00Z",
        "valueQuantity": {"value": 90 + (n % 40), "unit": "mg/dL",
            "system": "http://unitsofmeasure.org", "code": "mg/dL"}})
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Prints each round's ratio, the median and the spread.
fn report(
    what: &str,
    ours: &[Duration],
    base: &[Duration],
    per_round: impl Fn(Duration, Duration) -> f64,
) {
    let ratios: Vec<f64> = ours
        .iter()
        .zip(base)
        .map(|(o, b)| per_round(*o, *b))
        .collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{what}: ours median {:?}, baseline median {:?}; ratio per round {:?}; median {:.2}x, spread {:.2}-{:.2}x ({} runs)",
        median(ours.to_vec()),
        median(base.to_vec()),
        ratios.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>(),
        sorted[sorted.len() / 2],
        sorted[0],
        sorted[sorted.len() - 1],
        ratios.len()
    );
}

/// One side of the writer benchmark.
type Side = fn(&std::path::Path, &[serde_json::Map<String, Value>]);

/// Times one side of the writer benchmark: writes `resources` (cloned, as each
/// side owns what it writes) into a fresh directory; returns the time.
fn timed(resources: &[serde_json::Map<String, Value>], side: Side) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    side(dir.path(), resources);
    start.elapsed()
}

/// Baseline: plain serde_json serialisation of the same resources as one
/// Bundle (`fullUrl` and `resource` per entry), each serialised straight
/// into a 64 KiB-buffered file, with the same file protocol as ours: a
/// temporary name, fsync, rename into place, fsync of the directory.
fn serde_bundle(dir: &std::path::Path, resources: &[serde_json::Map<String, Value>]) {
    let temp = dir.join(".bundle.json.partial");
    let file = std::fs::File::create(&temp).unwrap();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    out.write_all(br#"{"resourceType":"Bundle","type":"collection","entry":["#)
        .unwrap();
    for (i, res) in resources.iter().cloned().enumerate() {
        if i > 0 {
            out.write_all(b",").unwrap();
        }
        let id = res["id"].as_str().unwrap();
        write!(
            out,
            r#"{{"fullUrl":"http://bench/fhir/Observation/{id}","resource":"#
        )
        .unwrap();
        serde_json::to_writer(&mut out, &res).unwrap();
        out.write_all(b"}").unwrap();
    }
    out.write_all(b"]}\n").unwrap();
    out.flush().unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
    std::fs::rename(&temp, dir.join("bundle.json")).unwrap();
    std::fs::File::open(dir).unwrap().sync_all().unwrap();
}

/// Ours, the Bundle only (`ExportWriter::bundle_only`): per resource the
/// conformance split and the serialisation in one walk, the entry written
/// into the same 64 KiB-buffered file with the same file protocol (temporary
/// name, fsync, rename, directory fsync); no NDJSON, no hashing.
fn our_bundle(dir: &std::path::Path, resources: &[serde_json::Map<String, Value>]) {
    let mut w = ExportWriter::bundle_only(dir, "http://bench/fhir").unwrap();
    for resource in resources.iter().cloned() {
        w.add(resource).unwrap();
    }
    w.finish().unwrap();
}

/// Ours, the whole export writer (`ExportWriter::create`, as an export
/// runs it): the above, plus the NDJSON file of the same resources and
/// SHA-256 of both files as they are written, both synced.
fn our_export(dir: &std::path::Path, resources: &[serde_json::Map<String, Value>]) {
    let mut w = ExportWriter::create(dir, "http://bench/fhir").unwrap();
    for resource in resources.iter().cloned() {
        w.add(resource).unwrap();
    }
    w.finish().unwrap();
}

fn writer(n: usize) {
    let resources: Vec<serde_json::Map<String, Value>> = (0..n)
        .map(|i| {
            let mut o = observation("p1", i);
            o["id"] = json!(format!("o{i}"));
            o.as_object().unwrap().clone()
        })
        .collect();
    let sides: [Side; 3] = [serde_bundle, our_bundle, our_export];
    let mut times: [Vec<Duration>; 3] = Default::default();
    for round in 0..WRITER_ROUNDS {
        // Each round runs the three sides in a rotated order.
        for k in 0..3 {
            let which = (round + k) % 3;
            times[which].push(timed(&resources, sides[which]));
        }
    }
    let throughput = |o: Duration, b: Duration| b.as_secs_f64() / o.as_secs_f64();
    report(
        &format!(
            "(b1) Bundle writing incl. conformance split, {n} resources (throughput ours/serde_json, target >= 0.8x)"
        ),
        &times[1],
        &times[0],
        throughput,
    );
    report(
        &format!(
            "(b2) whole export writer: Bundle + NDJSON + SHA-256 of both, {n} resources (throughput ours/serde_json Bundle, no target)"
        ),
        &times[2],
        &times[0],
        throughput,
    );
    report(
        &format!(
            "(b3) NDJSON + SHA-256 on top of the Bundle, {n} resources (time whole writer / Bundle only)"
        ),
        &times[2],
        &times[1],
        |o, b| o.as_secs_f64() / b.as_secs_f64(),
    );
}

fn url() -> String {
    std::env::var("GDPR_TEST_FHIR_URL")
        .expect("GDPR_TEST_FHIR_URL (scripts/bench_ehr.sh starts Helios)")
}

async fn seed(http: &reqwest::Client, base: &str, n: usize) -> String {
    let patient: Value = http
        .post(format!("{base}/Patient"))
        .header("Content-Type", "application/fhir+json")
        .body(json!({"resourceType": "Patient", "birthDate": "1970-01-01"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = patient["id"].as_str().unwrap().to_owned();
    let total = n.saturating_sub(1);
    let mut made = 0;
    while made < total {
        let batch = (total - made).min(1000);
        let entries: Vec<Value> = (made..made + batch)
            .map(|i| json!({"resource": observation(&id, i), "request": {"method": "POST", "url": "Observation"}}))
            .collect();
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        let status = http
            .post(base)
            .header("Content-Type", "application/fhir+json")
            .body(bundle.to_string())
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "seeding: HTTP {status}");
        made += batch;
    }
    id
}

fn store(base: &str) -> FhirStore {
    let mut config = FhirConfig::new("bench", base);
    config.page_size = PAGE_SIZE;
    FhirStore::connect(&config).unwrap()
}

async fn ours(store: &FhirStore, id: &str) -> (Duration, usize) {
    let dir = tempfile::tempdir().unwrap();
    let subject = SubjectRef::Fhir(FhirSubject::LogicalId(FhirId::new(id).unwrap()));
    let start = Instant::now();
    let report = store.export(&subject, dir.path()).await.unwrap();
    (start.elapsed(), report.manifest.records.len())
}

/// The same pages with plain GETs: `$everything` and its `next` links.
async fn raw(http: &reqwest::Client, base: &str, id: &str) -> (Duration, usize) {
    let start = Instant::now();
    let mut next = Some(format!(
        "{base}/Patient/{id}/$everything?_count={PAGE_SIZE}"
    ));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let body = http
            .get(&url)
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        pages += 1;
        // Only the next link is looked for (no parsing of the resources).
        let text = std::str::from_utf8(&body).unwrap();
        if let Some(at) = text.find("\"relation\":\"next\"") {
            let rest = &text[at..];
            let u = rest.find("\"url\":\"").map(|i| &rest[i + 7..]).unwrap();
            next = Some(u[..u.find('"').unwrap()].replace("\\/", "/"));
        }
    }
    (start.elapsed(), pages)
}

async fn helios(n: usize) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (base, http) = (url(), reqwest::Client::new());
    let seeded = Instant::now();
    let id = seed(&http, &base, n).await;
    println!("seeded {n} resources in {:?}", seeded.elapsed());
    let store = store(&base);
    let (mut o, mut b) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let ((ot, records), (bt, pages)) = if round % 2 == 0 {
            let x = ours(&store, &id).await;
            (x, raw(&http, &base, &id).await)
        } else {
            let y = raw(&http, &base, &id).await;
            (ours(&store, &id).await, y)
        };
        assert_eq!(records, n, "the export has every resource");
        println!("round {round}: ours {ot:?} ({records} records), raw GETs {bt:?} ({pages} pages)");
        o.push(ot);
        b.push(bt);
    }
    report(
        &format!("export of {n} resources from Helios (wall time ours/raw GETs)"),
        &o,
        &b,
        |o, b| o.as_secs_f64() / b.as_secs_f64(),
    );
}

/// A local server that generates Patient `p1`'s `$everything` pages:
/// `total` Observations, `_count` per page (a stand-in where loading the
/// real server is too slow; it measures our side only).
async fn serve(total: usize, port: u16) {
    use axum::extract::{Query, State};
    use std::collections::HashMap;
    async fn page(
        State((base, total)): State<(String, usize)>,
        Query(q): Query<HashMap<String, String>>,
    ) -> axum::Json<Value> {
        let count: usize = q.get("_count").and_then(|c| c.parse().ok()).unwrap_or(100);
        let offset: usize = q.get("_offset").and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut entries = Vec::new();
        if offset == 0 {
            entries.push(json!({"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"}}));
        }
        for i in offset..(offset + count).min(total) {
            let mut o = observation("p1", i);
            o["id"] = json!(format!("o{i}"));
            entries.push(json!({"resource": o}));
        }
        let mut links = vec![];
        if offset + count < total {
            links.push(json!({"relation": "next", "url": format!(
                "{base}/Patient/p1/$everything?_count={count}&_offset={}", offset + count)}));
        }
        axum::Json(
            json!({"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}),
        )
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/fhir");
    let app = axum::Router::new()
        .route("/fhir/metadata", axum::routing::get(|| async {
            axum::Json(json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server",
                "resource": [{"type": "Patient", "operation": [{"name": "everything", "definition": "x"}]}]}]}))
        }))
        .route("/fhir/Patient/p1", axum::routing::get(|| async {
            axum::Json(json!({"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"}))
        }))
        .route("/fhir/Patient/p1/$everything", axum::routing::get(page))
        .with_state((base, total));
    axum::serve(listener, app).await.unwrap();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n = |i: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    match args.first().map(String::as_str) {
        Some("writer") => writer(n(1)),
        Some("helios") => helios(n(1)).await,
        Some("seed") => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            println!("{}", seed(&reqwest::Client::new(), &url(), n(1)).await);
        }
        Some("export") => {
            let (t, records) = ours(&store(&url()), &args[1]).await;
            println!("exported {records} records in {t:?}");
        }
        Some("serve") => serve(n(1), args[2].parse().unwrap()).await,
        _ => eprintln!("usage: ehr_export writer N | helios N | seed N | export ID | serve N PORT"),
    }
}
