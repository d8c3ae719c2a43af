//! Gateway against Orthanc directly: requests per second and p99 latency
//! for QIDO (a study search by UID) and WADO (the whole 50-instance study,
//! multipart), closed loop with a few concurrent clients for a few seconds
//! per phase, phases interleaved over several rounds so both sides see the
//! same machine load; then the same through the gateway as a research
//! caller (pseudonymised answers). Prints medians and ranges, and the
//! ratios the issue targets (≥ 0.8× throughput, ≤ 1.2× p99).
//!
//! `cargo bench -p gdpr-gateway --features gateway-tests --bench gateway`
//! with Orthanc and the OpenID provider started (scripts/orthanc.sh,
//! scripts/oidc.sh).

#[path = "../tests/support/mod.rs"]
mod support;
use support::{Tokens as _, Upstream as _};

use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;
const PHASE: Duration = Duration::from_secs(4);
const CLIENTS: usize = 4;
const INSTANCES: u32 = 50;

#[derive(Clone)]
struct Target {
    url: String,
    auth: String,
}

struct Phase {
    rate: f64,
    p99: Duration,
}

async fn phase(target: Target) -> Phase {
    let http = support::http();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (http, target) = (http.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while started.elapsed() < PHASE {
                let t = Instant::now();
                let answer = http
                    .get(&target.url)
                    .header("authorization", &target.auth)
                    .send()
                    .await
                    .unwrap();
                assert!(answer.status().is_success(), "{}", answer.status());
                answer.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    Phase {
        rate: all.len() as f64 / elapsed,
        p99,
    }
}

fn summary(name: &str, phases: &[Phase]) -> (f64, f64) {
    let mut rates: Vec<f64> = phases.iter().map(|p| p.rate).collect();
    let mut p99s: Vec<f64> = phases
        .iter()
        .map(|p| p.p99.as_secs_f64() * 1000.0)
        .collect();
    rates.sort_by(f64::total_cmp);
    p99s.sort_by(f64::total_cmp);
    let (rate, p99) = (rates[rates.len() / 2], p99s[p99s.len() / 2]);
    println!(
        "{name:<34} {rate:8.1} req/s ({:.1}-{:.1})   p99 {p99:7.1} ms ({:.1}-{:.1})",
        rates[0],
        rates[rates.len() - 1],
        p99s[0],
        p99s[p99s.len() - 1]
    );
    (rate, p99)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (o, p) = (support::orthanc(), support::provider());
    let pid = format!("BENCH-{}", support::unique());
    let study = support::study(&o, &pid, "Bench^Patient", INSTANCES).await;
    let uid = study[0].study_uid.clone();
    let dir = tempfile::tempdir().unwrap();
    let (key_file, key) = support::project_key(dir.path());
    let r = support::start(support::Options {
        key_file: Some(key_file),
        window: 3600,
        ..Default::default()
    })
    .await;
    let password = std::fs::read_to_string(&o.password_file).unwrap();
    let basic = {
        use base64::Engine as _;
        let pair = format!("{}:{}", o.user, password.trim());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let pseudonym = gdpr_dicom::deid::Pseudonymiser::new(&key).uid(&uid);
    let kinds = [
        (
            "QIDO",
            format!("/studies?StudyInstanceUID={uid}"),
            format!("/studies?StudyInstanceUID={pseudonym}"),
        ),
        (
            "WADO 50 instances",
            format!("/studies/{uid}"),
            format!("/studies/{pseudonym}"),
        ),
    ];
    let direct_base = o.dicom_web().trim_end_matches('/').to_owned();
    let results: Arc<std::sync::Mutex<Vec<(String, Phase)>>> = Arc::default();
    for _ in 0..ROUNDS {
        let research = format!(
            "Bearer {}",
            p.token("gw-research", "urn:gdpr:gateway").await
        );
        // The research caller learns the pseudonym by searching first.
        let listed = support::http()
            .get(format!("{}/studies?ModalitiesInStudy=CT", r.base))
            .header("authorization", &research)
            .send()
            .await
            .unwrap();
        assert!(listed.status().is_success());
        listed.bytes().await.unwrap();
        for (kind, path, pseudo_path) in &kinds {
            // Tokens live 10 s on the test provider: fresh ones per kind.
            let plain = format!(
                "Bearer {}",
                p.token("gw-radiologist", "urn:gdpr:gateway").await
            );
            let research = format!(
                "Bearer {}",
                p.token("gw-research", "urn:gdpr:gateway").await
            );
            let runs = [
                (
                    "direct",
                    Target {
                        url: format!("{direct_base}{path}"),
                        auth: basic.clone(),
                    },
                ),
                (
                    "gateway",
                    Target {
                        url: format!("{}{path}", r.base),
                        auth: plain.clone(),
                    },
                ),
                (
                    "gateway, pseudonymised",
                    Target {
                        url: format!("{}{pseudo_path}", r.base),
                        auth: research.clone(),
                    },
                ),
            ];
            for (how, target) in runs {
                let result = phase(target).await;
                results
                    .lock()
                    .unwrap()
                    .push((format!("{kind}: {how}"), result));
            }
        }
    }
    let results = std::mem::take(&mut *results.lock().unwrap());
    println!(
        "{ROUNDS} rounds x {} s per phase, {CLIENTS} clients, loopback; median (range)",
        PHASE.as_secs()
    );
    for (kind, _, _) in &kinds {
        let mut medians = Vec::new();
        for how in ["direct", "gateway", "gateway, pseudonymised"] {
            let name = format!("{kind}: {how}");
            let phases: Vec<Phase> = results
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, p)| Phase {
                    rate: p.rate,
                    p99: p.p99,
                })
                .collect();
            medians.push(summary(&name, &phases));
        }
        println!(
            "{kind}: gateway/direct throughput {:.2}x, p99 {:.2}x; pseudonymised/direct throughput {:.2}x, p99 {:.2}x",
            medians[1].0 / medians[0].0,
            medians[1].1 / medians[0].1,
            medians[2].0 / medians[0].0,
            medians[2].1 / medians[0].1,
        );
    }
}
