//! The upstream named in `systems.toml` (issue 16: "proxies DICOMweb to one
//! configured upstream from systems.toml"): the gateway's `system` is an
//! entry of the host's systems file, of kind `orthanc` (the DICOMweb root
//! derived from Orthanc's root) or `dicomweb`, with its Basic credentials
//! from a 0600 file; against the real Orthanc (feature `gateway-tests`).
#![cfg(feature = "gateway-tests")]

mod support;

use support::{Options, Tokens, Upstream, get, orthanc, provider, start, study};

fn systems_file(dir: &std::path::Path, kind: &str, url: &str) -> std::path::PathBuf {
    let o = orthanc();
    let path = dir.join("systems.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[systems.ehr]
kind = "fhir"
url = "https://ehr.example.org/fhir"

[systems.pacs]
kind = "{kind}"
url = "{url}"
username = "{user}"
password_file = "{password}"
"#,
            user = o.user,
            password = o.password_file.display(),
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn the_upstream_comes_from_systems_toml_for_orthanc_and_dicomweb_kinds() {
    let (o, p) = (orthanc(), provider());
    let pid = format!("SYSTEMS-{}", support::unique());
    let instances = study(&o, &pid, "Canary^Systems", 1).await;
    let (uid, series) = (
        instances[0].study_uid.clone(),
        instances[0].series_uid.clone(),
    );
    let token = p.token("gw-radiologist", "urn:gdpr:gateway").await;
    for (kind, url) in [("orthanc", o.url.clone()), ("dicomweb", o.dicom_web())] {
        let dir = tempfile::tempdir().unwrap();
        let r = start(Options {
            systems_file: Some(systems_file(dir.path(), kind, &url)),
            ..Default::default()
        })
        .await;
        let meta = get(
            &r,
            &format!("/studies/{uid}/series/{series}/metadata"),
            &token,
        )
        .await;
        assert_eq!(meta.status(), 200, "{kind}");
        let text = meta.text().await.unwrap();
        assert!(
            text.contains(&format!("{}/studies/{uid}", r.base)),
            "{kind}: upstream URLs are rewritten to the gateway"
        );
        assert!(!text.contains(&o.url), "{kind}: an upstream URL survived");
        let whole = get(&r, &format!("/studies/{uid}"), &token).await;
        assert_eq!(whole.status(), 200, "{kind}");
        let body = whole.bytes().await.unwrap();
        let needle = instances[0].sop_uid.as_bytes();
        assert!(body.windows(needle.len()).any(|w| w == needle), "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_systems_entry_is_a_configuration_error() {
    let (o, p) = (orthanc(), provider());
    let dir = tempfile::tempdir().unwrap();
    let base = "http://127.0.0.1:9/dicom-web";
    let config = |systems: &std::path::Path, system: &str| {
        let opts = Options {
            systems_file: Some(systems.to_owned()),
            ..Default::default()
        };
        support::config_text(base, "", &o, &p, &opts)
            .replace("system = \"pacs\"", &format!("system = \"{system}\""))
    };
    let systems = systems_file(dir.path(), "dicomweb", &o.dicom_web());
    let parts = || {
        gdpr_gateway::Parts::new(
            std::sync::Arc::new(gdpr_audit::MemorySink::new()),
            std::sync::Arc::new(gdpr_gateway::subjects::FileSubjectStates::empty()),
            std::sync::Arc::new(
                gdpr_request::register::FileRegister::open(&dir.path().join("register")).unwrap(),
            ),
        )
    };
    let build = |text: String| {
        let config = gdpr_gateway::GatewayConfig::from_toml(&text).expect("parses");
        gdpr_gateway::Gateway::new(config, parts())
            .expect_err("refused")
            .to_string()
    };
    // An EHR system is not a DICOMweb server; an unknown name lists the known.
    assert!(build(config(&systems, "ehr")).contains("kind `fhir`"));
    assert!(build(config(&systems, "nope")).contains("ehr, pacs"));
    // A password file others can read is refused, as gdpr-connect does.
    let shared = dir.path().join("shared.password");
    std::fs::copy(&o.password_file, &shared).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let text = std::fs::read_to_string(&systems).unwrap().replace(
        &o.password_file.display().to_string(),
        &shared.display().to_string(),
    );
    let loose = dir.path().join("loose.toml");
    std::fs::write(&loose, text).unwrap();
    let err = build(config(&loose, "pacs"));
    assert!(err.contains("shared.password"), "{err}");
    // Both ways of naming the upstream at once: refused when parsing.
    let both = config(&systems, "pacs").replace(
        "[upstream]\n",
        &format!("[upstream]\nurl = \"{}\"\n", o.dicom_web()),
    );
    assert!(gdpr_gateway::GatewayConfig::from_toml(&both).is_err());
}
