//! `gdpr request assess --findings FILE` on a folder store: the
//! controller's findings (GDPR Art. 17(3)(c)–(e), § 35 BDSG) turn an erase
//! into keep + restrict with the finding's citation, are kept beside the
//! assessment with their reasons sealed, and shown by `show` and the
//! certificate; a bad findings file, or a finding for a record that does
//! not exist, fails with exit 2 naming it and changes nothing. No patient
//! identifier and no reason text in any output.

mod support;

use std::path::Path;

use gdpr_dicom::synthetic::SyntheticInstance;
use support::{Run, with_ctx};

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.79";
const TARGET: &str = "CANARY-CLI-FIND-1";
/// The reason may hold health data: it must never be printed.
const REASON: &str = "CANARY-REASON outbreak contact, hepatitis B";

fn gdpr(dir: &Path, args: &[&str], stdin: &str) -> Run {
    support::run(
        dir,
        args,
        stdin,
        &[],
        &[TARGET, "CANARY-REASON", "hepatitis"],
    )
}

fn setup() -> tempfile::TempDir {
    let studies = [
        (TARGET, 1, Some("19900105")),
        (TARGET, 2, Some("19910105")),
        (TARGET, 3, Some("20240105")),
        ("OTHER-CLI-FIND-2", 1, Some("19900105")),
    ];
    let dir = support::request_fixture(gdpr, ROOT, &studies);
    let request = ("dsr-f", "erasure-no-longer-necessary");
    support::new_request(gdpr, dir.path(), request, TARGET);
    dir
}

/// The folder store's record id of the target's study `n`.
fn record(n: u32) -> String {
    let uid = SyntheticInstance::new(ROOT, TARGET, n, 1, 1).study_uid;
    gdpr_dicom::store::folder_study_id(&gdpr_core::store::StudyUid::new(uid).unwrap()).to_string()
}

fn assess(d: &Path, findings: &str) -> Run {
    gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "assess",
                "dsr-f",
                "--pack",
                "pack.toml",
                "--findings",
                findings,
                "--json",
            ],
            "dpo-1",
        ),
        "",
    )
}

fn stage(d: &Path) -> String {
    let show = gdpr(d, &["request", "show", "dsr-f", "--json"], "");
    let v: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    v["stage"].as_str().unwrap().to_owned()
}

/// Every file under `dir`, as text (lossy).
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.push_str(&all_text(&path));
        } else {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn a_finding_keeps_and_restricts_what_would_be_erased_and_is_certified() {
    let dir = setup();
    let d = dir.path();
    // Study 1 and 2 are due under the pack (10 years after 1990/1991);
    // the public-health finding keeps study 1, the § 35(2) finding
    // restricts study 2 instead of erasing it.
    let (one, two, three) = (record(1), record(2), record(3));
    std::fs::write(
        d.join("findings.toml"),
        format!(
            "version = 1\n\n\
             [[finding]]\nid = \"outbreak-17\"\nscope = \"record\"\nsystem = \"archive\"\n\
             record = \"{one}\"\nground = \"public-health\"\nsource = \"IfSG § 25, order 17\"\n\
             by = \"dpo-1\"\nreason = \"{REASON}\"\n\n\
             [[finding]]\nid = \"harm-1\"\nscope = \"record\"\nsystem = \"archive\"\n\
             record = \"{two}\"\nground = \"subject-interests\"\nby = \"dpo-1\"\n\
             reason = \"{REASON}\"\n"
        ),
    )
    .unwrap();
    let run = assess(d, "findings.toml");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let a: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let of = |id: &str| {
        a["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["record"] == id)
            .unwrap_or_else(|| panic!("{id} assessed: {a}"))
            .clone()
    };
    let kept = of(&one);
    assert_eq!(kept["outcome"]["outcome"], "keep", "{kept}");
    assert_eq!(
        kept["outcome"]["purposes"],
        serde_json::json!(["public-health"])
    );
    let cites: Vec<(&str, bool)> = kept["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["citation"].as_str().unwrap(),
                r["applied"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(cites.contains(&("GDPR Art. 17(3)(c)", true)), "{cites:?}");
    assert!(
        !cites.contains(&("GDPR Art. 17(1)(a)", true)),
        "the erase is not applied: {cites:?}"
    );
    let restricted = of(&two);
    assert_eq!(restricted["outcome"]["outcome"], "restrict-instead");
    assert!(restricted["inform-subject"].as_bool().unwrap());
    assert!(restricted.to_string().contains("§ 35(2) BDSG"));
    assert_eq!(of(&three)["outcome"]["outcome"], "keep");
    assert_eq!(a["findings"].as_array().unwrap().len(), 2, "{a}");

    // Kept beside the assessment, the reason sealed.
    let stored = std::fs::read_to_string(d.join("requests/dsr-f/findings.json")).unwrap();
    assert!(stored.contains("outbreak-17") && stored.contains("reason-sealed"));
    assert!(!stored.contains("CANARY-REASON"), "{stored}");

    let show = gdpr(d, &["request", "show", "dsr-f"], "");
    assert!(
        show.stdout.contains(
            "finding outbreak-17: public-health (GDPR Art. 17(3)(c), IfSG § 25, order 17)"
        ) && show
            .stdout
            .contains("finding harm-1: subject-interests (§ 35(2) BDSG)")
            && show.stdout.contains("reason sealed"),
        "{}",
        show.stdout
    );

    let approve = gdpr(d, &with_ctx(&["request", "approve", "dsr-f"], "dpo-2"), "");
    assert_eq!(approve.code, 0, "{}", approve.stderr);
    let run = gdpr(d, &with_ctx(&["request", "run", "dsr-f"], "dpo-1"), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    for n in 1..=3 {
        assert!(
            d.join(format!("store/{TARGET}-{n}.dcm")).exists(),
            "study {n}"
        );
    }
    assert!(d.join("store/OTHER-CLI-FIND-2-1.dcm").exists());
    let register = std::fs::read_to_string(d.join("restrictions/restrictions.jsonl")).unwrap();
    for id in [&one, &two, &three] {
        assert!(
            register.contains(id.as_str()),
            "{id} restricted: {register}"
        );
    }
    assert!(register.contains("public-health"), "{register}");

    let cert = gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "certificate",
                "dsr-f",
                "--out",
                "cert.json",
                "--html",
                "cert.html",
            ],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(cert.code, 0, "{}", cert.stderr);
    let verify = support::verify_certificate(gdpr, d, "cert.json");
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("cert.json")).unwrap()).unwrap();
    let f = &c["findings"];
    assert_eq!(f[0]["id"], "outbreak-17");
    assert_eq!(f[0]["ground"], "public-health");
    assert_eq!(f[0]["citation"], "GDPR Art. 17(3)(c)");
    assert_eq!(f[0]["source"], "IfSG § 25, order 17");
    assert_eq!(f[0]["by"], "dpo-1");
    assert_eq!(f[0]["scope"]["record"], one.as_str());
    assert_eq!(f[1]["citation"], "§ 35(2) BDSG");
    let kept = c["systems"][0]["kept"].as_array().unwrap();
    let kept_one = kept.iter().find(|k| k["record"] == one.as_str()).unwrap();
    assert!(
        kept_one.to_string().contains("GDPR Art. 17(3)(c)"),
        "{kept_one}"
    );
    let html = std::fs::read_to_string(d.join("cert.html")).unwrap();
    assert!(html.contains("outbreak-17") && html.contains("GDPR Art. 17(3)(c)"));
    // The reason is nowhere in clear: not in the certificate, the page,
    // the request's files or the audit log.
    for text in [
        std::fs::read_to_string(d.join("cert.json")).unwrap(),
        html,
        all_text(&d.join("requests")),
        all_text(&d.join("audit")),
    ] {
        assert!(!text.contains("CANARY-REASON"));
    }
}

#[test]
fn a_bad_findings_file_fails_naming_it_and_changes_nothing() {
    let dir = setup();
    let d = dir.path();
    let one = record(1);
    let finding = |id: &str, rec: &str, ground: &str| {
        format!(
            "[[finding]]\nid = \"{id}\"\nscope = \"record\"\nsystem = \"archive\"\n\
             record = \"{rec}\"\nground = \"{ground}\"\nby = \"dpo-1\"\nreason = \"{REASON}\"\n"
        )
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // Hostile files: named by the file, never quoted.
        ("binary.toml", vec![0xff, 0xfe, 0x00, 0x80], "binary.toml"),
        (
            "broken.toml",
            format!("version = 1\n[[finding]]\nreason = {REASON}\n").into_bytes(),
            "broken.toml",
        ),
        ("huge.toml", vec![b'#'; 5 << 20], "huge.toml"),
        (
            "unknown-ground.toml",
            format!("version = 1\n{}", finding("g-1", &one, "gut-feeling")).into_bytes(),
            "finding g-1",
        ),
        // A finding for a record the subject does not have.
        (
            "no-such-record.toml",
            format!(
                "version = 1\n{}",
                finding("ghost-1", "study-0000", "legal-claims")
            )
            .into_bytes(),
            "finding ghost-1",
        ),
        (
            "no-such-system.toml",
            format!(
                "version = 1\n{}",
                finding("elsewhere-1", &one, "legal-claims").replace("\"archive\"", "\"ehr\"")
            )
            .into_bytes(),
            "finding elsewhere-1",
        ),
    ];
    for (file, bytes, named) in cases {
        std::fs::write(d.join(file), bytes).unwrap();
        let run = assess(d, file);
        assert_eq!(run.code, 2, "{file}: {}", run.stderr);
        assert!(run.stderr.contains(named), "{file}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{file}: {}", run.stdout);
        assert_eq!(stage(d), "received", "{file} changed the request");
        assert!(!d.join("requests/dsr-f/assessment.json").exists(), "{file}");
        assert!(!d.join("requests/dsr-f/findings.json").exists(), "{file}");
    }
    let register =
        std::fs::read_to_string(d.join("restrictions/restrictions.jsonl")).unwrap_or_default();
    assert!(register.is_empty(), "{register}");
    // The same request assesses normally afterwards.
    std::fs::write(
        d.join("ok.toml"),
        format!("version = 1\n{}", finding("ok-1", &one, "legal-claims")),
    )
    .unwrap();
    let run = assess(d, "ok.toml");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(stage(d), "assessed");
}

/// The `assessed` audit record names the findings — ground, citation and
/// scope kind — and nothing else of them (no id, system, record or
/// reason); read back from the log with the subject's key (`gdpr audit
/// export`), before any erasure shreds it.
#[test]
fn the_assessed_audit_record_names_the_findings_without_their_reasons() {
    let dir = setup();
    let d = dir.path();
    let (one, two) = (record(1), record(2));
    std::fs::write(
        d.join("findings.toml"),
        format!(
            "version = 1\n\n\
             [[finding]]\nid = \"outbreak-17\"\nscope = \"record\"\nsystem = \"archive\"\n\
             record = \"{one}\"\nground = \"public-health\"\nsource = \"IfSG § 25, order 17\"\n\
             by = \"dpo-1\"\nreason = \"{REASON}\"\n\n\
             [[finding]]\nid = \"harm-1\"\nscope = \"system\"\nsystem = \"archive\"\n\
             ground = \"subject-interests\"\nby = \"dpo-1\"\nreason = \"{REASON}\"\n"
        ),
    )
    .unwrap();
    let run = assess(d, "findings.toml");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .current_dir(d)
        .args(["audit", "export", "audit", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout).unwrap();
    let assessed: Vec<&str> = lines
        .lines()
        .filter(|l| l.contains("data-subject request") && l.contains("): assessed"))
        .collect();
    assert_eq!(assessed.len(), 1, "{lines}");
    let expected = "findings: public-health (GDPR Art. 17(3)(c)) for a record; \
                    subject-interests (§ 35(2) BDSG) for a system";
    assert!(assessed[0].contains(expected), "{}", assessed[0]);
    // The reason nowhere in the log; the finding ids, system and record
    // ids not in this record (the store's own records name the records).
    assert!(!lines.contains("CANARY-REASON"), "a reason in the log");
    let text = assessed[0].split("\"text\":").nth(1).unwrap();
    for absent in [
        "outbreak-17",
        "harm-1",
        "archive",
        one.as_str(),
        two.as_str(),
    ] {
        assert!(!text.contains(absent), "{absent} in the record: {text}");
    }
    // Without findings the record is as before: no `findings:` line.
    let other = setup_assessed_without_findings();
    assert!(!other.contains("findings:"), "{other}");
}

/// The `assessed` record's line of a request assessed without findings.
fn setup_assessed_without_findings() -> String {
    let dir = setup();
    let d = dir.path();
    let run = gdpr(
        d,
        &with_ctx(
            &["request", "assess", "dsr-f", "--pack", "pack.toml"],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .current_dir(d)
        .args(["audit", "export", "audit", "--format", "jsonl"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find(|l| l.contains("): assessed"))
        .unwrap_or_default()
        .to_owned()
}
