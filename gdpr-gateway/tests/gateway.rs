//! The gateway end to end, against the real Orthanc (DICOMweb plugin) and
//! the real OpenID provider (RS256 JWT access tokens through resource
//! indicators). Enabled by the `gateway-tests` feature (on under
//! `--all-features` in scripts/test.sh); without the servers they fail.
#![cfg(feature = "gateway-tests")]

mod support;

use gdpr_audit::action::{Action, EventType, Outcome};
use std::sync::Arc;

use jiff::SignedDuration;
use support::{Options, Tokens, get, orthanc, provider, start, study};

const GATEWAY: &str = "urn:gdpr:gateway";

#[tokio::test(flavor = "multi_thread")]
async fn permitted_radiologist_searches_and_retrieves_with_urls_rewritten() {
    let (o, p) = (orthanc(), provider());
    let pid = format!("CANARY-PID-{}", support::unique());
    let name = "Canary^Permitted";
    let instances = study(&o, &pid, name, 3).await;
    let uid = instances[0].study_uid.clone();
    let r = start(Options::default()).await;
    let token = p.token("gw-radiologist", GATEWAY).await;

    let found = get(&r, &format!("/studies?PatientID={pid}"), &token).await;
    assert_eq!(found.status(), 200);
    let found: serde_json::Value = found.json().await.unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["0020000D"]["Value"][0], uid.as_str());

    let series = instances[0].series_uid.clone();
    let meta = get(
        &r,
        &format!("/studies/{uid}/series/{series}/metadata"),
        &token,
    )
    .await;
    assert_eq!(meta.status(), 200);
    let text = meta.text().await.unwrap();
    let upstream_host = r.upstream_base.trim_end_matches("/dicom-web/");
    assert!(!text.contains(upstream_host), "an upstream URL survived");
    assert!(
        text.contains(&format!("{}/studies/{uid}", r.base)),
        "no URL points at the gateway"
    );

    for inst in &instances {
        let path = format!("/studies/{uid}/series/{series}/instances/{}", inst.sop_uid);
        let answer = get(&r, &path, &token).await;
        assert_eq!(answer.status(), 200);
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("multipart/related")
        );
        let body = answer.bytes().await.unwrap();
        let needle = inst.sop_uid.as_bytes();
        assert!(
            body.windows(needle.len()).any(|w| w == needle),
            "the instance came through"
        );
    }
    let whole = get(&r, &format!("/studies/{uid}"), &token).await;
    assert_eq!(whole.status(), 200);
    assert!(whole.bytes().await.unwrap().len() > 3 * 64);

    // One query record and one read record (metadata + 3 instances + the
    // study, coalesced), each naming the patient; the count after a flush.
    let events = r.events();
    let reads: Vec<_> = events
        .iter()
        .filter(|e| e.action() == Action::Read)
        .collect();
    let queries: Vec<_> = events
        .iter()
        .filter(|e| e.action() == Action::Query)
        .collect();
    assert_eq!(
        (reads.len(), queries.len()),
        (1, 1),
        "{} events",
        events.len()
    );
    assert_eq!(reads[0].subject().unwrap().expose(), pid);
    assert_eq!(reads[0].event_type(), EventType::DicomInstancesAccessed);
    assert_eq!(reads[0].outcome(), Outcome::Success);
    r.gateway.flush().await.unwrap();
    let events = r.events();
    let counted: Vec<_> = events
        .iter()
        .filter_map(|e| e.text())
        .map(|t| t.expose().to_owned())
        .collect();
    assert_eq!(counted, vec!["coalesced 5 accesses".to_owned()]);
    assert_no_canary(&r.log(), &[&pid, name, &uid]);
}

fn assert_no_canary(log: &str, values: &[&str]) {
    assert!(!log.is_empty(), "the gateway logged nothing");
    for v in values {
        assert!(!log.contains(v), "an identifying value in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_clerk_sees_nothing_gets_403_and_is_recorded() {
    let (o, p) = (orthanc(), provider());
    let pid = format!("CANARY-PID-{}", support::unique());
    let instances = study(&o, &pid, "Canary^Denied", 1).await;
    let uid = instances[0].study_uid.clone();
    let r = start(Options::default()).await;
    let token = p.token("gw-clerk", GATEWAY).await;

    let found = get(&r, &format!("/studies?PatientID={pid}"), &token).await;
    assert_eq!(found.status(), 200);
    assert_eq!(
        found.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!([])
    );
    let answer = get(&r, &format!("/studies/{uid}"), &token).await;
    assert_eq!(answer.status(), 403);
    let body = answer.text().await.unwrap();
    assert!(body.contains("category-not-covered"), "{body}");
    assert!(!body.contains(&pid) && !body.contains(&uid), "{body}");
    let refused: Vec<_> = r
        .events()
        .into_iter()
        .filter(|e| e.outcome() == Outcome::MinorFailure)
        .collect();
    assert!(
        refused.iter().any(|e| e.action() == Action::Read),
        "the refused read is recorded"
    );
    assert!(
        refused
            .iter()
            .all(|e| e.subject().map(|s| s.expose()) == Some(pid.as_str()))
    );
    assert_no_canary(&r.log(), &[&pid, &uid]);
}

#[tokio::test(flavor = "multi_thread")]
async fn restricted_subject_and_register_kept_study_are_neither_listed_nor_served() {
    let (o, p) = (orthanc(), provider());
    let restricted = format!("RESTRICTED-{}", support::unique());
    let kept = format!("KEPT-{}", support::unique());
    let r_uid = study(&o, &restricted, "Canary^Restricted", 1).await[0]
        .study_uid
        .clone();
    let k_uid = study(&o, &kept, "Canary^Kept", 1).await[0]
        .study_uid
        .clone();
    let subjects = format!(
        r#"{{"subjects": [{{"patient": {{"id": "{restricted}"}},
            "state": {{"restrictions": [{{"ground": "accuracy-contested", "since": "2026-01-01T00:00:00Z"}}]}}}}]}}"#
    );
    let register = tempfile::tempdir().unwrap();
    {
        use gdpr_request::register::{RestrictionEntry, RestrictionRegister};
        let reg = gdpr_request::register::FileRegister::open(register.path()).unwrap();
        let entry = RestrictionEntry::new(
            gdpr_core::request::SystemName::new("pacs").unwrap(),
            gdpr_gateway::decide::study_record_id(
                &gdpr_core::store::StudyUid::new(k_uid.clone()).unwrap(),
            ),
            vec![gdpr_core::purpose::Purpose::LegalClaims],
            gdpr_core::request::RequestId::new("req-1").unwrap(),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        );
        reg.record(&entry).await.unwrap();
    }
    let r = start(Options {
        subjects,
        register: Some(register),
        ..Options::default()
    })
    .await;
    let token = p.token("gw-radiologist", GATEWAY).await;
    for (pid, uid, code) in [
        (&restricted, &r_uid, "restricted"),
        (&kept, &k_uid, "outside-retention-purpose"),
    ] {
        let found = get(&r, &format!("/studies?PatientID={pid}"), &token).await;
        assert_eq!(
            found.json::<serde_json::Value>().await.unwrap(),
            serde_json::json!([])
        );
        let answer = get(&r, &format!("/studies/{uid}/metadata"), &token).await;
        assert_eq!(answer.status(), 403);
        assert!(answer.text().await.unwrap().contains(code));
    }
}

/// A restriction request registers one subject-wide entry per system
/// (under the id of the subject's key in the audit log) besides its
/// per-study entries: a study the register does not name — one the PACS
/// gained after the restriction — is still neither listed nor served.
#[tokio::test(flavor = "multi_thread")]
async fn a_subject_wide_register_entry_restricts_studies_it_does_not_name() {
    use gdpr_audit::KeyStore as _;
    use gdpr_request::register::{RestrictionEntry, RestrictionRegister, subject_record};
    let (o, p) = (orthanc(), provider());
    let (wide, free) = (
        format!("WIDE-{}", support::unique()),
        format!("FREE-{}", support::unique()),
    );
    let w_uid = study(&o, &wide, "Canary^Wide", 1).await[0]
        .study_uid
        .clone();
    let f_uid = study(&o, &free, "Canary^Free", 1).await[0]
        .study_uid
        .clone();
    // The audit log the request workflow writes to names the subject by a
    // random key id; the register's subject-wide entry uses it.
    let audit = tempfile::tempdir().unwrap();
    let signer = gdpr_audit::Signer::generate("gateway.test/audit").unwrap();
    let log = Arc::new(gdpr_audit::AuditLog::create(audit.path().join("log"), signer).unwrap());
    let patient = gdpr_core::subject::PatientId::new(wide.clone()).unwrap();
    let (key, _) = log.keys().key_for(&patient).unwrap();
    let register = || {
        let dir = tempfile::tempdir().unwrap();
        let reg = gdpr_request::register::FileRegister::open(dir.path()).unwrap();
        (dir, reg)
    };
    let entry = RestrictionEntry::art18(
        gdpr_core::request::SystemName::new("pacs").unwrap(),
        subject_record(&key),
        gdpr_core::restriction::RestrictionGround::AccuracyContested,
        gdpr_core::request::RequestId::new("dsr-wide").unwrap(),
        "2026-01-01T00:00:00Z".parse().unwrap(),
    );
    let token = p.token("gw-radiologist", GATEWAY).await;
    for honoured in [true, false] {
        let (dir, reg) = register();
        reg.record(&entry).await.unwrap();
        let records: Option<Arc<dyn gdpr_gateway::decide::SubjectRecords>> =
            honoured.then(|| log.clone() as Arc<dyn gdpr_gateway::decide::SubjectRecords>);
        let r = start(Options {
            register: Some(dir),
            subject_records: records,
            ..Options::default()
        })
        .await;
        let found = get(&r, &format!("/studies?PatientID={wide}"), &token).await;
        let listed = found.json::<serde_json::Value>().await.unwrap();
        let answer = get(&r, &format!("/studies/{w_uid}/metadata"), &token).await;
        if honoured {
            assert_eq!(
                listed,
                serde_json::json!([]),
                "a restricted study is listed"
            );
            assert_eq!(answer.status(), 403);
            assert!(answer.text().await.unwrap().contains("restricted"));
        } else {
            // Without the key store the gateway sees per-study entries only:
            // the wiring above is what restricts.
            assert_eq!(listed.as_array().map(Vec::len), Some(1));
            assert_eq!(answer.status(), 200);
        }
        let other = get(&r, &format!("/studies/{f_uid}/metadata"), &token).await;
        assert_eq!(other.status(), 200, "another subject is not restricted");
        assert_no_canary(&r.log(), &[&wide, &w_uid]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_failure_fails_the_request_closed() {
    let (o, p) = (orthanc(), provider());
    let pid = format!("AUDIT-{}", support::unique());
    let uid = study(&o, &pid, "Canary^Audit", 1).await[0]
        .study_uid
        .clone();
    let r = start(Options {
        failing_audit: true,
        ..Options::default()
    })
    .await;
    let token = p.token("gw-radiologist", GATEWAY).await;
    let answer = get(&r, &format!("/studies/{uid}"), &token).await;
    assert_eq!(answer.status(), 503);
    assert!(answer.text().await.unwrap().contains("audit-unavailable"));
    let search = get(&r, &format!("/studies?PatientID={pid}"), &token).await;
    assert_eq!(
        search.status(),
        503,
        "a search that would list the study fails too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn research_role_is_refused_without_a_pseudonymisation_key() {
    let (o, p) = (orthanc(), provider());
    let pid = format!("RESEARCH-{}", support::unique());
    let uid = study(&o, &pid, "Canary^Research", 1).await[0]
        .study_uid
        .clone();
    let r = start(Options::default()).await;
    let token = p.token("gw-research", GATEWAY).await;
    let answer = get(&r, &format!("/studies/{uid}/metadata"), &token).await;
    assert_eq!(answer.status(), 403);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("pseudonymisation-unavailable")
    );
    let found = get(&r, "/studies", &token).await;
    assert_eq!(found.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_attacks_are_refused() {
    let p = provider();
    let pid = format!("TOKEN-{}", support::unique());
    let uid = study(&orthanc(), &pid, "Canary^Token", 1).await[0]
        .study_uid
        .clone();
    let path = format!("/studies/{uid}/metadata");
    let good = p.token("gw-radiologist", GATEWAY).await;

    // Expired and not yet valid: the same real token, judged an hour later
    // and an hour earlier.
    for (offset, code) in [(3600, "token-expired"), (-3600, "token-not-yet-valid")] {
        let r = start(Options {
            clock: SignedDuration::from_secs(offset),
            ..Options::default()
        })
        .await;
        let answer = get(&r, &path, &good).await;
        assert_eq!(answer.status(), 401);
        assert!(answer.headers().contains_key("www-authenticate"));
        assert!(answer.text().await.unwrap().contains(code), "{code}");
    }
    let r = start(Options::default()).await;
    assert_eq!(
        get(&r, &path, &good).await.status(),
        200,
        "the same token is fine now"
    );

    let now = jiff::Timestamp::now().as_second();
    let claims = serde_json::json!({
        "iss": p.issuer, "aud": GATEWAY, "sub": "mallory", "iat": now, "exp": now + 60,
        "gdpr_role": "radiologist",
        "extensions": {"ihe_iua": {"purpose_of_use": {"code": "TREAT"}}}
    });
    let unknown = p.forged("not-the-providers-key", &claims);
    let same_kid = p.forged("gdpr-provider", &claims);
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","kid":"gdpr-provider"}"#),
        b64(&claims.to_string())
    );
    let hs = format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"HS256","kid":"gdpr-provider"}"#),
        b64(&claims.to_string())
    );
    let other_audience = p.token("gw-radiologist", "urn:gdpr:other").await;
    let no_purpose = p.token("gw-nopurpose", GATEWAY).await;
    for (token, status, code) in [
        (unknown.as_str(), 401, "token-unknown-key"),
        (same_kid.as_str(), 401, "token-signature"),
        (none.as_str(), 401, "token-algorithm"),
        (hs.as_str(), 401, "token-algorithm"),
        (other_audience.as_str(), 401, "token-audience"),
        (no_purpose.as_str(), 403, "no-purpose"),
        ("garbage", 401, "token-malformed"),
    ] {
        let answer = get(&r, &path, token).await;
        assert_eq!(answer.status(), status, "{code}");
        assert!(answer.text().await.unwrap().contains(code), "{code}");
    }
    let anonymous = support::http()
        .get(format!("{}{path}", r.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(
        r.events()
            .iter()
            .all(|e| e.actor().id.expose() != "mallory")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn path_tricks_are_refused_before_the_upstream() {
    let p = provider();
    let r = start(Options::default()).await;
    let token = p.token("gw-radiologist", GATEWAY).await;
    for (path, status) in [
        ("/studies/1.2.3/../../../tools/find", 400),
        ("/studies/1.2.3%2F..%2Fpatients", 400),
        ("/studies/1.2.3/series/x1", 400),
        ("/studies?StudyInstanceUID=1.2.3%26PatientID%3D*", 400),
        ("/studies?0020000D=*", 400),
        ("/studies/1.2.3/instances/1.2/frames/1;2", 404),
        ("/series", 400),
        ("/../system", 400),
    ] {
        assert_eq!(
            support::raw_get(&r.base, path, &token).await,
            status,
            "{path}"
        );
    }
    assert!(r.events().is_empty(), "nothing was accessed");
}
