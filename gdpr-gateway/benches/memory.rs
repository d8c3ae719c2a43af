//! Peak memory of the gateway while a client pulls a ~500 MB study through
//! it (issue 16: "peak memory under 64 MB for a 500 MB study"): the release
//! `gdpr-gateway` binary in front of the real Orthanc, a study of
//! `INSTANCES` multi-frame MR instances of ~52 MB each, one WADO-RS
//! retrieve of the whole study read chunk by chunk by the client. Prints
//! the gateway's peak resident set (VmHWM from /proc) before and after the
//! pull, and the bytes and time. Deletes the study from Orthanc at the end.
//!
//! `cargo bench -p gdpr-gateway --features gateway-tests --bench memory`
//! with Orthanc and the OpenID provider started (scripts/bench_gateway.sh
//! starts and stops them).

#[path = "../tests/support/mod.rs"]
mod support;
use support::{Tokens as _, Upstream as _};

use std::process::Stdio;
use std::time::Instant;

use futures_util::StreamExt as _;
use gdpr_dicom::synthetic::{self, Instance, Kind};

const INSTANCES: u32 = 10;
const FRAMES: u32 = 100;
const LIMIT_MB: f64 = 64.0;

fn peak_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb / 1024.0
}

/// Writes and stores the study; gives its UID.
async fn big_study(o: &support::Orthanc, dir: &std::path::Path) -> String {
    let root = format!("1.2.826.0.1.3680043.10.1235.{}", support::unique());
    let password = std::fs::read_to_string(&o.password_file).unwrap();
    let patient = format!("MEM-{}", support::unique());
    let mut uid = String::new();
    for n in 1..=INSTANCES {
        let mut i = Instance::numbered(&root, n);
        i.patient_id = patient.clone();
        let path = dir.join(format!("{n}.dcm"));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let kind = Kind::Mr {
            rows: 512,
            cols: 512,
            frames: FRAMES,
        };
        synthetic::write(kind, &i, &mut file).unwrap();
        std::io::Write::flush(&mut file).unwrap();
        let body = tokio::fs::File::open(&path).await.unwrap();
        let answer = support::http()
            .post(format!("{}/instances", o.url))
            .basic_auth(&o.user, Some(password.trim()))
            .body(reqwest::Body::from(body))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        std::fs::remove_file(&path).unwrap();
        eprintln!("stored instance {n}/{INSTANCES}");
        uid = i.study_uid;
    }
    uid
}

async fn delete_study(o: &support::Orthanc, uid: &str) {
    let password = std::fs::read_to_string(&o.password_file).unwrap();
    let http = support::http();
    let found: serde_json::Value = http
        .post(format!("{}/tools/lookup", o.url))
        .basic_auth(&o.user, Some(password.trim()))
        .body(uid.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for item in found.as_array().into_iter().flatten() {
        if let Some(id) = item["ID"].as_str() {
            let _ = http
                .delete(format!("{}/studies/{id}", o.url))
                .basic_auth(&o.user, Some(password.trim()))
                .send()
                .await;
        }
    }
}

/// The gateway process, killed when the bench ends or fails.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (o, p) = (support::orthanc(), support::provider());
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let uid = big_study(&o, dir.path()).await;
    println!(
        "stored {INSTANCES} instances x {FRAMES} frames of 512x512x16 bit in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let log = support::binary_log(dir.path(), "gateway-bench/audit");
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}/dicom-web");
    let config = dir.path().join("gateway.toml");
    // Orthanc assembles the whole multipart answer before its first byte.
    let opts = support::Options {
        read_timeout: 180,
        ..Default::default()
    };
    let text = support::config_text(&base, &o.dicom_web(), &o, &p, &opts);
    std::fs::write(&config, text).unwrap();
    let register = dir.path().join("register");
    let child = support::spawn_binary(&config, port, (&log, &register), Stdio::null()).await;
    let child = Killed(child);
    let token = p.token("gw-radiologist", "urn:gdpr:gateway").await;
    let http = support::http();
    // A small request first: the process's footprint once warmed up.
    let warm = http
        .get(format!("{base}/studies?StudyInstanceUID={uid}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    warm.bytes().await.unwrap();
    let before = peak_mb(child.0.id());

    eprintln!("pulling the study through the gateway");
    let pulled = Instant::now();
    let answer = http
        .get(format!("{base}/studies/{uid}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    if answer.status() != 200 {
        delete_study(&o, &uid).await;
        panic!("the gateway answered {}", answer.status());
    }
    let mut bytes = 0u64;
    let mut body = answer.bytes_stream();
    while let Some(chunk) = body.next().await {
        bytes += chunk.unwrap().len() as u64;
    }
    let seconds = pulled.elapsed().as_secs_f64();
    let after = peak_mb(child.0.id());
    drop(child);
    delete_study(&o, &uid).await;

    let mb = bytes as f64 / 1e6;
    assert!(mb > 500.0, "only {mb:.0} MB came through");
    println!(
        "pulled {mb:.0} MB through the gateway in {seconds:.1} s ({:.0} MB/s)",
        mb / seconds
    );
    println!(
        "gateway peak RSS (VmHWM): {before:.1} MB warmed up, {after:.1} MB after the pull \
         (target < {LIMIT_MB:.0} MB): {}",
        if after < LIMIT_MB { "met" } else { "MISSED" }
    );
}
