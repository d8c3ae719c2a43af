//! `gdpr request shred-expired` (the sealed identifiers' retention ends:
//! a dry run lists, `--apply` shreds) and `assess --index` (the subject's
//! birth date from the patient index decides rules that count from it).

mod support;

use std::path::Path;

use support::{Run, with_ctx};

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.79";
const TARGET: &str = "CANARY-CLI-SEAL-1";
const BORN: &str = "1985-06-01";

fn gdpr(dir: &Path, args: &[&str], stdin: &str) -> Run {
    support::run(dir, args, stdin, &[], &[TARGET, BORN])
}

/// A folder store with one study of the target (examined 1990, at the age
/// of four when born in 1985), the sample pack with a minors clause, an
/// audit log.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::folder_store(dir.path(), ROOT, &[(TARGET, 1, Some("19900105"))]);
    // 10 years after the examination; under 18 then: at least until
    // completing the 28th year of life (needs the birth date).
    let pack = "jurisdiction = \"DE\"\nname = \"Minors\"\nconvention = \"month-end\"\n\
        convention_source = \"§§ 187(1), 188(2) BGB\"\n\n[[rule]]\nid = \"t-imaging\"\n\
        category = \"imaging-examination\"\nyears = 10\nfrom = \"event_date\"\n\
        keeps_for = [\"legal-claims\"]\nsource = \"§ 85(2) StrlSchG\"\ndescription = \"t\"\n\n\
        [rule.minors]\nunder_age = 18\nage_at = \"event_date\"\nuntil_age = 28\n\
        until = \"day-before-birthday\"\n";
    std::fs::write(dir.path().join("pack.toml"), pack).unwrap();
    support::audit_init(gdpr, dir.path());
    dir
}

fn index(patient: &str, born: Option<&str>) -> String {
    let born = born.map_or(String::new(), |b| format!("birth-date = \"{b}\"\n"));
    format!("version = 1\n{born}\n[systems.archive]\ndicom-patient-id = \"{patient}\"\n")
}

fn new_erasure(d: &Path, id: &str) {
    let new = gdpr(
        d,
        &[
            "request",
            "new",
            "--id",
            id,
            "--kind",
            "erasure-consent-withdrawn",
            "--index",
            "-",
        ],
        &index(TARGET, Some(BORN)),
    );
    assert_eq!(new.code, 0, "{}", new.stderr);
}

fn assess(d: &Path, id: &str, index_text: Option<&str>) -> Run {
    let mut args = vec!["request", "assess", id, "--pack", "pack.toml"];
    if index_text.is_some() {
        args.extend_from_slice(&["--index", "-"]);
    }
    gdpr(d, &with_ctx(&args, "dpo-1"), index_text.unwrap_or(""))
}

#[test]
fn the_birth_date_from_the_index_decides_a_minors_rule() {
    let dir = setup();
    let d = dir.path();
    new_erasure(d, "dsr-a");
    let without = assess(d, "dsr-a", None);
    assert_eq!(without.code, 0, "{}", without.stderr);
    assert!(
        without.stdout.contains("\tdecide-manually"),
        "{}",
        without.stdout
    );

    new_erasure(d, "dsr-b");
    let other = assess(d, "dsr-b", Some(&index("SOMEONE-ELSE-9", Some(BORN))));
    assert_eq!(other.code, 2);
    assert!(other.stderr.contains("--index"), "{}", other.stderr);
    let future = assess(d, "dsr-b", Some(&index(TARGET, Some("2999-01-01"))));
    assert_eq!(future.code, 2, "{}", future.stdout);
    let broken = assess(d, "dsr-b", Some(&index(TARGET, Some("01.06.1985"))));
    assert_eq!(broken.code, 2);
    assert!(broken.stderr.contains("birth-date"), "{}", broken.stderr);
    let with = assess(d, "dsr-b", Some(&index(TARGET, Some(BORN))));
    assert_eq!(with.code, 0, "{}", with.stderr);
    assert!(with.stdout.ends_with("\terase\n"), "{}", with.stdout);
}

#[test]
fn shred_expired_lists_by_default_and_shreds_with_apply() {
    let dir = setup();
    let d = dir.path();
    new_erasure(d, "dsr-s");
    assert_eq!(assess(d, "dsr-s", Some(&index(TARGET, Some(BORN)))).code, 0);
    let approve = gdpr(d, &with_ctx(&["request", "approve", "dsr-s"], "dpo-2"), "");
    assert_eq!(approve.code, 0, "{}", approve.stderr);
    let run = gdpr(d, &with_ctx(&["request", "run", "dsr-s"], "dpo-1"), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // An open request is never due.
    new_erasure(d, "dsr-open");

    let soon = gdpr(d, &["request", "shred-expired", "--json"], "");
    assert_eq!(soon.code, 0, "{}", soon.stderr);
    let soon: serde_json::Value = serde_json::from_str(&soon.stdout).unwrap();
    assert_eq!(soon["requests"], serde_json::json!([]), "not yet 3 years");

    let later = ["request", "shred-expired", "--now", "2999-01-01T00:00:00Z"];
    let dry = gdpr(d, &later, "");
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("dsr-s\t") && dry.stdout.contains("would shred"));
    assert!(!dry.stdout.contains("dsr-open"), "{}", dry.stdout);
    let show = gdpr(d, &["request", "show", "dsr-s", "--json"], "");
    assert_eq!(show.code, 0, "{}", show.stderr);
    let systems =
        serde_json::from_str::<serde_json::Value>(&show.stdout).unwrap()["systems"].clone();
    assert_eq!(systems, serde_json::json!(["archive"]), "still readable");

    let mut apply = later.to_vec();
    apply.extend_from_slice(&["--apply", "--json"]);
    let shred = gdpr(d, &apply, "");
    assert_eq!(shred.code, 0, "{}", shred.stderr);
    let v: serde_json::Value = serde_json::from_str(&shred.stdout).unwrap();
    assert_eq!(v["requests"][0]["id"], "dsr-s");
    assert_eq!(v["requests"][0]["action"], "shredded");
    let show = gdpr(d, &["request", "show", "dsr-s", "--json"], "");
    assert_eq!(show.code, 0, "{}", show.stderr);
    let systems =
        serde_json::from_str::<serde_json::Value>(&show.stdout).unwrap()["systems"].clone();
    assert_eq!(systems, serde_json::json!([]), "the identifiers are gone");
    let again = gdpr(d, &apply, "");
    let v: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(v["requests"][0]["action"], "already shredded");

    let bad = gdpr(d, &["request", "shred-expired", "--now", "tomorrow"], "");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--now"), "{}", bad.stderr);
}
