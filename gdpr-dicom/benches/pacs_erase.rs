//! Erasing a patient with 50 studies on a real Orthanc: the adapter's wall
//! time against the minimal raw HTTP sequence for the same work, same run,
//! same server. Run by scripts/bench_pacs.sh (which starts Orthanc).
//!
//! Each round uploads two fresh patients with STUDIES studies each, erases
//! one with `OrthancStore::erase_subject` and the other with plain reqwest
//! calls, alternating which goes first. Printed: the median of each and
//! the ratios against two baselines:
//! - raw (lookup + delete + verify): `/tools/lookup`, `GET
//!   /patients/{id}/studies`, `DELETE /studies/{id}` × N, `DELETE
//!   /patients/{id}`, `/tools/lookup` again;
//! - raw + derived-copy scan: the same plus what the adapter also does to
//!   prove no anonymised/modified copy is left (`GET /studies`, `GET
//!   /patients`, the metadata of each).

use std::time::{Duration, Instant};

use gdpr_core::store::DerivedPolicy;
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::StudyStore;
use gdpr_dicom::store::{Credentials, OrthancConfig, OrthancStore, SecretSource};
use gdpr_dicom::synthetic::SyntheticInstance;

const STUDIES: u32 = 50;
const ROUNDS: usize = 5;

struct Raw {
    client: reqwest::Client,
    url: String,
    user: String,
    password: String,
}

impl Raw {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/{path}", self.url))
            .basic_auth(&self.user, Some(&self.password))
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: &str) -> serde_json::Value {
        self.req(method, path)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// lookup + delete + verify, optionally with the derived-copy scan.
    async fn erase(&self, pid: &str, scan: bool) -> Duration {
        use reqwest::Method;
        let start = Instant::now();
        let hits = self.json(Method::POST, "tools/lookup", pid).await;
        let patient = hits[0]["ID"].as_str().unwrap().to_owned();
        let studies = self
            .json(Method::GET, &format!("patients/{patient}/studies"), "")
            .await;
        let mut ids = Vec::new();
        for s in studies.as_array().unwrap() {
            let id = s["ID"].as_str().unwrap();
            ids.push(id.to_owned());
            self.req(Method::DELETE, &format!("studies/{id}"))
                .send()
                .await
                .unwrap();
        }
        self.req(Method::DELETE, &format!("patients/{patient}"))
            .send()
            .await
            .unwrap();
        let after = self.json(Method::POST, "tools/lookup", pid).await;
        assert!(after.as_array().unwrap().is_empty(), "raw erase left data");
        if scan {
            for level in ["studies", "patients"] {
                let all = self.json(Method::GET, level, "").await;
                for id in all.as_array().unwrap() {
                    let id = id.as_str().unwrap();
                    let meta = self
                        .json(Method::GET, &format!("{level}/{id}/metadata?expand"), "")
                        .await;
                    let from = meta["AnonymizedFrom"].as_str().unwrap_or("");
                    assert!(from != patient && !ids.iter().any(|i| i == from));
                }
            }
        }
        start.elapsed()
    }
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run scripts/bench_pacs.sh, which starts Orthanc")
    })
}

async fn upload(store: &OrthancStore, pid: &str, tag: &str) {
    for study in 1..=STUDIES {
        let root = format!("1.2.826.0.1.3680043.10.1234.9.{tag}");
        let inst = SyntheticInstance::new(&root, pid, study, 1, 1);
        store
            .store_instance(inst.to_bytes().unwrap())
            .await
            .unwrap();
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = var("GDPR_TEST_ORTHANC_URL");
    let mut config = OrthancConfig::new("bench", &url);
    let password_file = var("GDPR_TEST_ORTHANC_PASSWORD_FILE");
    config.endpoint.credentials = Credentials::basic(
        var("GDPR_TEST_ORTHANC_USER"),
        SecretSource::File(password_file.clone().into()),
    );
    let store = OrthancStore::connect(&config).unwrap();
    let raw = Raw {
        client: reqwest::Client::new(),
        url: url.trim_end_matches('/').to_owned(),
        user: var("GDPR_TEST_ORTHANC_USER"),
        password: std::fs::read_to_string(&password_file)
            .unwrap()
            .trim()
            .to_owned(),
    };
    // Bystanders: other patients the derived-copy scan has to read.
    for n in 0..5 {
        upload(&store, &format!("BENCH-BYSTANDER-{n}"), &format!("7{n}")).await;
    }
    let run = std::process::id();
    let (mut adapter, mut lookup, mut scanned) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let a = format!("BENCH-A-{run}-{round}");
        let b = format!("BENCH-B-{run}-{round}");
        let c = format!("BENCH-C-{run}-{round}");
        upload(&store, &a, &format!("1{round}")).await;
        upload(&store, &b, &format!("2{round}")).await;
        upload(&store, &c, &format!("3{round}")).await;
        let subject = PatientId::new(&a).unwrap();
        let time_adapter = async {
            let start = Instant::now();
            let report = store
                .erase_patient(&subject, DerivedPolicy::Erase)
                .await
                .unwrap();
            assert!(report.is_verified());
            assert!(report.erased().len() as u32 >= STUDIES);
            start.elapsed()
        };
        if round % 2 == 0 {
            adapter.push(time_adapter.await);
            lookup.push(raw.erase(&b, false).await);
            scanned.push(raw.erase(&c, true).await);
        } else {
            scanned.push(raw.erase(&c, true).await);
            lookup.push(raw.erase(&b, false).await);
            adapter.push(time_adapter.await);
        }
    }
    let (a, l, s) = (median(adapter), median(lookup), median(scanned));
    println!("erase one patient with {STUDIES} studies on Orthanc (median of {ROUNDS} rounds)");
    println!(
        "  adapter (erase_subject, verified)       {:>8.1} ms",
        a.as_secs_f64() * 1e3
    );
    println!(
        "  raw lookup + delete + verify            {:>8.1} ms",
        l.as_secs_f64() * 1e3
    );
    println!(
        "  raw ... + derived-copy scan             {:>8.1} ms",
        s.as_secs_f64() * 1e3
    );
    println!(
        "  ratio adapter / raw (same work, scan)   {:>8.2}x  (target <= 1.2x)",
        a.as_secs_f64() / s.as_secs_f64()
    );
    println!(
        "  ratio adapter / raw (no scan)           {:>8.2}x",
        a.as_secs_f64() / l.as_secs_f64()
    );
}
