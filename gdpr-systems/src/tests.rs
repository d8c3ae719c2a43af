//! Known-answer tests of `systems.toml`: every kind parses into its entry,
//! every refusal names what is wrong (file, line, key) and never a value.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use gdpr_core::store::StoreError;

use crate::{SystemConfig, SystemsConfig};

const ALL_KINDS: &str = r#"
[systems.archive]
kind = "folder"
path = "/nonexistent"

[systems.pacs]
kind = "orthanc"
url = "https://pacs.example.org/"
derived = "report"

[systems.web]
kind = "dicomweb"
url = "https://pacs.example.org/dicom-web/"

[systems.arc]
kind = "dcm4chee"
url = "https://arc.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/"
rejection_code = "113001^DCM"

[systems.ehr]
kind = "fhir"
url = "https://ehr.example.org/fhir/r4"
bearer_token_env = "EHR_TOKEN"
page_size = 50
max_pages = 20

[systems.emr]
kind = "openemr"
url = "https://emr.example.org"
site = "clinic-2"
client_id = "gdpr-health"
client_secret_env = "EMR_SECRET"
scopes = ["system/*.read"]
"#;

/// A P-384 key made for tests only (the same as gdpr-ehr's OpenEMR tests;
/// no server trusts it).
const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBhIrktUtnhigJJB7ks
NgrDRxZcIsCccewVySfti4f64d3ySRBsECTdM7ADlHQMih+hZANiAAT2qQ/LH/Cp
miiEe1Pb0y5IppfI99OO50HbYLvMHueJpG+kOCFr7nSjQoPQDculCbTcah/4PzBv
3a0k9JyUFa44ezJt2QUQFVEqx1y3U27pIbOwdv3ENmcehnMS5ahkIb0=
-----END PRIVATE KEY-----
";

fn err(text: &str) -> String {
    SystemsConfig::from_toml(text).unwrap_err().to_string()
}

fn open_err(text: &str, name: &str) -> String {
    SystemsConfig::from_toml(text)
        .unwrap()
        .open(name)
        .err()
        .unwrap()
        .to_string()
}

#[test]
fn every_kind_parses_into_its_entry() {
    let config = SystemsConfig::from_toml(ALL_KINDS).unwrap();
    let kinds: Vec<(&str, &str)> = config
        .names()
        .map(|n| (n, config.get(n).unwrap().kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("arc", "dcm4chee"),
            ("archive", "folder"),
            ("ehr", "fhir"),
            ("emr", "openemr"),
            ("pacs", "orthanc"),
            ("web", "dicomweb"),
        ]
    );
    let Some(SystemConfig::Fhir(fhir)) = config.get("ehr") else {
        panic!("ehr is a fhir entry");
    };
    assert_eq!(fhir.endpoint.url, "https://ehr.example.org/fhir/r4");
    assert_eq!(fhir.endpoint.bearer_token_env.as_deref(), Some("EHR_TOKEN"));
    assert_eq!(
        (fhir.system.page_size, fhir.system.max_pages),
        (Some(50), Some(20))
    );
    let Some(SystemConfig::OpenEmr(emr)) = config.get("emr") else {
        panic!("emr is an openemr entry");
    };
    assert_eq!(emr.system.site.as_deref(), Some("clinic-2"));
    assert_eq!(emr.endpoint.client_id.as_deref(), Some("gdpr-health"));
    let Some(SystemConfig::Dicom(gdpr_dicom::store::SystemConfig::Orthanc(pacs))) =
        config.get("pacs")
    else {
        panic!("pacs is an orthanc entry");
    };
    assert_eq!(pacs.system.derived, gdpr_core::store::DerivedPolicy::Report);
}

#[test]
fn ehr_systems_open_as_stores_with_their_identity() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = format!("_file = \"{}\"", secret.display());
    let text = ALL_KINDS
        .replace("_env = \"EHR_TOKEN\"", &file)
        .replace("_env = \"EMR_SECRET\"", &file);
    let config = SystemsConfig::from_toml(&text).unwrap();
    let ehr = config.open("ehr").unwrap();
    assert_eq!(
        (ehr.identity().name(), ehr.identity().kind()),
        ("ehr", "fhir")
    );
    assert_eq!(
        ehr.identity().endpoint(),
        "https://ehr.example.org/fhir/r4/"
    );
    let emr = config.open("emr").unwrap();
    assert_eq!(emr.identity().kind(), "openemr");
    assert_eq!(
        emr.identity().endpoint(),
        "https://emr.example.org/apis/clinic-2/fhir"
    );
    // The PACS kinds are opened by gdpr-dicom, as before.
    assert_eq!(config.open("pacs").unwrap().identity().kind(), "orthanc");
    let missing = config.open("archive").err().unwrap();
    assert!(matches!(missing, StoreError::Configuration { .. }));
    let unknown = config.open("nope").err().unwrap().to_string();
    assert!(
        unknown.contains("no system named `nope`")
            && unknown.contains("arc, archive, ehr, emr, pacs, web"),
        "{unknown}"
    );
}

#[test]
fn unknown_keys_are_errors_for_every_kind_naming_the_key_not_the_value() {
    for (kind, url, typo, allowed) in [
        ("fhir", "https://x/", "pagesize", "`page_size`"),
        ("openemr", "https://x", "sites", "`site`"),
        ("orthanc", "https://x/", "site", "`restriction_metadata`"),
    ] {
        let text =
            format!("[systems.s]\nkind = \"{kind}\"\nurl = \"{url}\"\n{typo} = \"CANARY-7\"\n");
        let e = err(&text);
        assert!(
            e.contains(&format!("unknown field `{typo}`")) && e.contains(allowed),
            "{kind}: {e}"
        );
        assert!(e.contains("`bearer_token_file`"), "{kind}: {e}");
        assert!(
            !e.contains("CANARY") && e.contains("line 1:"),
            "{kind}: {e}"
        );
    }
}

#[test]
fn secrets_written_into_the_file_are_refused_without_echo() {
    for (kind, key) in [
        ("fhir", "bearer_token"),
        ("fhir", "client_secret"),
        ("openemr", "password"),
    ] {
        let text = format!(
            "[systems.s]\nkind = \"{kind}\"\nurl = \"https://x/\"\n{key} = \"CANARY-secret\"\n"
        );
        let e = err(&text);
        assert!(e.contains(&format!("unknown field `{key}`")), "{e}");
        assert!(!e.contains("CANARY"), "{e}");
    }
}

#[test]
fn unknown_or_missing_kinds_list_every_kind_but_never_the_value() {
    let e = err("[systems.p]\nurl = \"https://x/\"\nkind = \"CANARY\"\n");
    for kind in [
        "folder", "orthanc", "dicomweb", "dcm4chee", "fhir", "openemr",
    ] {
        assert!(e.contains(&format!("`{kind}`")), "{e}");
    }
    assert!(!e.contains("CANARY") && e.contains("line 1:"), "{e}");
    let e = err("[systems.p]\nurl = \"https://x/\"\n");
    assert!(e.contains("missing field `kind`"), "{e}");
    let e = err("[systems.p]\nkind = 3\n");
    assert!(
        e.contains("`kind` is a string") && e.contains("`openemr`"),
        "{e}"
    );
    let e = err("[system.p]\nkind = \"fhir\"\n");
    assert!(e.contains("unknown field `system`"), "{e}");
}

#[test]
fn counts_are_bounded_by_name() {
    for (key, value) in [
        ("page_size", "0"),
        ("page_size", "1001"),
        ("page_size", "-1"),
        ("max_pages", "0"),
        ("max_pages", "1000001"),
        ("max_attempts", "11"),
    ] {
        for kind in ["fhir", "openemr"] {
            let text =
                format!("[systems.s]\nkind = \"{kind}\"\nurl = \"https://x/\"\n{key} = {value}\n");
            let e = err(&text);
            assert!(
                e.contains(key) && e.contains("line 1:"),
                "{kind} {key}={value}: {e}"
            );
        }
    }
    let ok =
        "[systems.s]\nkind = \"fhir\"\nurl = \"https://x/\"\npage_size = 1000\nmax_pages = 1\n";
    SystemsConfig::from_toml(ok).unwrap();
}

#[test]
fn plain_http_to_a_remote_host_is_refused_for_ehr_kinds_too() {
    for kind in ["fhir", "openemr"] {
        let remote = format!("[systems.s]\nkind = \"{kind}\"\nurl = \"http://ehr.example.org/\"\n");
        let e = open_err(&remote, "s");
        assert!(e.contains("https"), "{kind}: {e}");
        let loopback = format!("[systems.s]\nkind = \"{kind}\"\nurl = \"http://127.0.0.1:9/\"\n");
        SystemsConfig::from_toml(&loopback)
            .unwrap()
            .open("s")
            .unwrap();
        let allowed = format!("{remote}danger_allow_insecure_http = true\n");
        SystemsConfig::from_toml(&allowed)
            .unwrap()
            .open("s")
            .unwrap();
    }
}

#[test]
fn secret_files_others_can_read_are_refused_for_ehr_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "CANARY-SECRET\n").unwrap();
    let key = dir.path().join("client.pem");
    std::fs::write(&key, TEST_KEY).unwrap();
    let (path, key_path) = (file.display(), key.display());
    let entries = [
        format!("kind = \"fhir\"\nurl = \"https://x/\"\nbearer_token_file = \"{path}\"\n"),
        format!(
            "kind = \"fhir\"\nurl = \"https://x/\"\nsmart_discovery = true\nclient_id = \"c\"\n\
             client_key_file = \"{key_path}\"\nclient_key_algorithm = \"ES384\"\n"
        ),
        format!(
            "kind = \"openemr\"\nurl = \"https://x\"\nclient_id = \"c\"\n\
             client_secret_file = \"{path}\"\n"
        ),
        format!(
            "kind = \"openemr\"\nurl = \"https://x\"\nclient_id = \"c\"\ngrant = \"password\"\n\
             username = \"u\"\npassword_file = \"{path}\"\n"
        ),
    ];
    for entry in &entries {
        let text = format!("[systems.s]\n{entry}");
        let secret = if entry.contains("client_key_file") {
            &key
        } else {
            &file
        };
        std::fs::set_permissions(secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = open_err(&text, "s");
        assert!(e.contains(&secret.display().to_string()), "{entry}: {e}");
        assert!(!e.contains("CANARY") && !e.contains("PRIVATE"), "{e}");
        let shared = format!("{text}danger_allow_shared_secret_file = true\n");
        SystemsConfig::from_toml(&shared)
            .unwrap()
            .open("s")
            .unwrap();
        std::fs::set_permissions(secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        SystemsConfig::from_toml(&text).unwrap().open("s").unwrap();
    }
}

#[test]
fn half_given_credentials_are_refused_with_what_to_add() {
    for (kind, extra, says) in [
        (
            "fhir",
            "username = \"u\"\n",
            "`username` is set but no password",
        ),
        (
            "fhir",
            "client_id = \"c\"\ntoken_url = \"https://x/t\"\n",
            "needs a client secret",
        ),
        ("fhir", "client_secret_env = \"S\"\n", "need `client_id`"),
        ("openemr", "client_id = \"c\"\n", "needs a client secret"),
        (
            "openemr",
            "client_id = \"c\"\ngrant = \"password\"\n",
            "`grant = \"password\"` needs `username`",
        ),
        (
            "fhir",
            "bearer_token_env = \"T\"\nbearer_token_file = \"/x\"\n",
            "not both",
        ),
    ] {
        let text = format!("[systems.s]\nkind = \"{kind}\"\nurl = \"https://x/\"\n{extra}");
        let e = open_err(&text, "s");
        assert!(
            e.contains(says) && e.contains("system `s`"),
            "{kind} {extra}: {e}"
        );
    }
}

#[test]
fn openemr_site_names_are_checked() {
    for bad in ["../x", "", "a b"] {
        let text =
            format!("[systems.s]\nkind = \"openemr\"\nurl = \"https://x\"\nsite = \"{bad}\"\n");
        let e = open_err(&text, "s");
        assert!(
            e.contains("system `s`: `site`") && e.contains("sites/"),
            "{e}"
        );
    }
    let text = "[systems.s]\nkind = \"openemr\"\nurl = \"https://x/openemr/\"\n";
    let store = SystemsConfig::from_toml(text).unwrap().open("s").unwrap();
    assert_eq!(
        store.identity().endpoint(),
        "https://x/openemr/apis/default/fhir"
    );
}

#[test]
fn errors_name_the_real_file_and_line_but_never_quote_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site-b-systems.toml");
    std::fs::write(
        &path,
        "[systems.e]\nkind = \"fhir\"\nurl = \"https://x/\"\nbearer_token = CANARY-hunter2\n",
    )
    .unwrap();
    let e = SystemsConfig::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("site-b-systems.toml") && e.contains("line 4"),
        "{e}"
    );
    assert!(!e.contains("CANARY"), "{e}");
    let huge = dir.path().join("huge.toml");
    let mut text = ALL_KINDS.to_owned();
    while text.len() <= 1 << 20 {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&huge, text).unwrap();
    let e = SystemsConfig::load(&huge).unwrap_err().to_string();
    assert!(e.contains("huge.toml") && e.contains("larger than"), "{e}");
    for path in ["/dev/zero", "/nonexistent/systems-x.toml"] {
        let e = SystemsConfig::load(Path::new(path))
            .unwrap_err()
            .to_string();
        assert!(e.contains(path), "{e}");
    }
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    let e = SystemsConfig::load(&binary).unwrap_err().to_string();
    assert!(e.contains("binary.toml") && e.contains("UTF-8"), "{e}");
}

#[test]
fn the_documented_sample_parses_with_every_kind() {
    let sample = include_str!("../../docs/samples/systems.toml");
    let config = SystemsConfig::from_toml(sample).unwrap();
    let mut kinds: Vec<&str> = config
        .names()
        .map(|n| config.get(n).unwrap().kind())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "dcm4chee", "dicomweb", "fhir", "folder", "openemr", "orthanc"
        ]
    );
}
