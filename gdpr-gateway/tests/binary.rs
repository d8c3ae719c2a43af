//! The `gdpr-gateway` binary end to end: a real audit log made with
//! gdpr-audit, the real Orthanc and the real OpenID provider; a search and
//! reads through it; SIGTERM; the log verifies and holds the coalesced
//! records, the count one written by the shutdown flush (feature
//! `gateway-tests`).
#![cfg(feature = "gateway-tests")]

mod support;

use std::process::{Command, Stdio};

use support::{Options, Tokens, Upstream, config_text, orthanc, provider, study};

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_serves_records_and_flushes_on_sigterm() {
    let (o, p) = (orthanc(), provider());
    let pid = format!("BINARY-{}", support::unique());
    let instances = study(&o, &pid, "Canary^Binary", 2).await;
    let (uid, series) = (
        instances[0].study_uid.clone(),
        instances[0].series_uid.clone(),
    );

    let dir = tempfile::tempdir().unwrap();
    let log = support::binary_log(dir.path(), "gateway-test/audit");
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}/dicom-web");
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        config_text(&base, &o.dicom_web(), &o, &p, &Options::default()),
    )
    .unwrap();
    let register = dir.path().join("register");
    let mut child = support::spawn_binary(&config, port, (&log, &register), Stdio::piped()).await;
    let token = p.token("gw-radiologist", "urn:gdpr:gateway").await;
    let http = support::http();
    let found = http
        .get(format!("{base}/studies?PatientID={pid}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    assert_eq!(
        found
            .json::<serde_json::Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for inst in &instances {
        let url = format!(
            "{base}/studies/{uid}/series/{series}/instances/{}",
            inst.sop_uid
        );
        let answer = http.get(url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        answer.bytes().await.unwrap();
    }

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || {
        let exit = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        (exit, err)
    })
    .await
    .unwrap();
    assert!(exit.0.success(), "exit {:?}: {}", exit.0, exit.1);
    for value in [pid.as_str(), uid.as_str(), "Canary^Binary"] {
        assert!(
            !exit.1.contains(value),
            "identifying value in the log: {}",
            exit.1
        );
    }
    // One query, one read opening its window, one count record (flushed).
    let report = gdpr_audit::verify_dir(&log.dir, &log.verifier, None).unwrap();
    assert_eq!(report.records, 3);
}

#[test]
fn bad_input_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, "public_base = 1\n").unwrap();
    let key = dir.path().join("missing.key");
    for (args, named) in [
        (vec!["--config", "/nonexistent/gateway.toml"], "--config"),
        (vec!["--config", config.to_str().unwrap()], "--config"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_gdpr-gateway"))
            .args(&args)
            .args(["--audit-log", "/nonexistent", "--audit-key"])
            .arg(&key)
            .args(["--register"])
            .arg(dir.path().join("register"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(named));
    }
}
