//! The `gdpr` binary end to end: sample files, exit codes, and messages that
//! name what is wrong with bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gdpr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .output()
        .expect("run gdpr")
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/samples")
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to a file in a fresh temporary directory.
fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn authorize_with_request(text: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let req = file(&dir, "request.json", text);
    gdpr(&[
        "authorize",
        "--activity",
        &sample("activity.json"),
        "--request",
        req.to_str().unwrap(),
    ])
}

const GOOD_ACTOR: &str = r#"{"id": "dr-x", "role": "physician", "secrecy": {"kind": "professional", "source": "§ 203(1) Nr. 1 StGB"}}"#;

#[test]
fn sample_request_is_permitted_with_exit_0() {
    let o = gdpr(&[
        "authorize",
        "--activity",
        &sample("activity.json"),
        "--request",
        &sample("request.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["decision"], "permit");
    assert_eq!(v["basis"]["art9"], "health-care");
    assert_eq!(v["safeguards"][0]["citation"], "GDPR Art. 9(3)");
}

#[test]
fn sample_denied_request_exits_3_with_every_reason() {
    let o = gdpr(&[
        "authorize",
        "--activity",
        &sample("activity.json"),
        "--request",
        &sample("request-denied.json"),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["decision"], "deny");
    let codes: Vec<_> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        codes,
        [
            "category-not-covered",
            "no-professional-secrecy",
            "restricted"
        ]
    );
    assert!(!stdout(&o).contains("it-helpdesk-3"), "actor id leaked");
}

#[test]
fn unknown_enum_value_exits_2_naming_field_and_choices() {
    let o = authorize_with_request(
        r#"{"at": "2026-03-02T09:30:00Z",
            "actor": {"id": "x", "role": "surgeon", "secrecy": {"kind": "none"}},
            "purpose": "diagnosis", "categories": ["imaging-examination"]}"#,
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("`actor.role`") && e.contains("line 2"), "{e}");
    // The allowed values are listed; the value given is not repeated.
    assert!(e.contains("`physician`, `nurse`"), "{e}");
    assert!(!e.contains("surgeon"), "{e}");
}

#[test]
fn unknown_purpose_and_category_are_named() {
    let o = authorize_with_request(&format!(
        r#"{{"at": "2026-03-02T09:30:00Z", "actor": {GOOD_ACTOR},
            "purpose": "marketing", "categories": ["imaging-examination"]}}"#
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`purpose`"), "{}", stderr(&o));
    let o = authorize_with_request(&format!(
        r#"{{"at": "2026-03-02T09:30:00Z", "actor": {GOOD_ACTOR},
            "purpose": "diagnosis", "categories": ["x-ray"]}}"#
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`categories[0]`"), "{}", stderr(&o));
}

#[test]
fn missing_field_exits_2_naming_it() {
    let o = authorize_with_request(
        r#"{"at": "2026-03-02T09:30:00Z",
            "actor": {"id": "x", "role": "physician"},
            "purpose": "diagnosis", "categories": ["imaging-examination"]}"#,
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("`actor`") && e.contains("missing field `secrecy`"),
        "{e}"
    );

    let o = authorize_with_request(&format!(
        r#"{{"actor": {GOOD_ACTOR}, "purpose": "diagnosis", "categories": []}}"#
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing field `at`"), "{}", stderr(&o));
}

#[test]
fn malformed_json_exits_2_saying_so() {
    let o = authorize_with_request(r#"{"at": "2026-03-02T09:30:00Z", "actor": "#);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("not valid JSON") && e.contains("request.json"),
        "{e}"
    );
}

#[test]
fn inconsistent_consent_exits_2_naming_it() {
    let o = authorize_with_request(&format!(
        r#"{{"at": "2026-03-02T09:30:00Z", "actor": {GOOD_ACTOR},
            "purpose": "diagnosis", "categories": ["imaging-examination"],
            "subject": {{"consents": [{{"purposes": ["diagnosis"],
                "given-at": "2026-02-01T00:00:00Z", "withdrawn-at": "2026-01-01T00:00:00Z"}}]}}}}"#
    ));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("`subject.consents[0]`") && e.contains("withdrawn-at"),
        "{e}"
    );
}

#[test]
fn activity_without_art9_pair_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let act = file(
        &dir,
        "activity.json",
        r#"{"name": "Lab", "purpose": "diagnosis", "basis": {"kind": "ordinary", "art6": "contract"},
            "categories": ["lab-result"], "identifiability": "identified"}"#,
    );
    let o = gdpr(&[
        "authorize",
        "--activity",
        act.to_str().unwrap(),
        "--request",
        &sample("request.json"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Art. 6 + Art. 9 pair"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_file_exits_2_naming_it() {
    let o = gdpr(&[
        "authorize",
        "--activity",
        "/nonexistent/activity.json",
        "--request",
        &sample("request.json"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/activity.json"));
}

#[test]
fn ropa_sample_exports_json_and_markdown() {
    let o = gdpr(&["ropa", &sample("ropa.json")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["activities"][0]["name"], "Radiology reporting");
    let o = gdpr(&["ropa", &sample("ropa.json"), "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("| (g) | security measures |"));
}

#[test]
fn ropa_with_missing_fields_exits_2_naming_each_with_its_letter() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "ropa.json",
        r#"{"controller": {"name": "K"}, "activities": [{"name": "A", "purposes": ["diagnosis"]}]}"#,
    );
    let o = gdpr(&["ropa", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    for needle in [
        "controller.contact (GDPR Art. 30(1)(a))",
        "activities[0].data-subjects (GDPR Art. 30(1)(c))",
        "activities[0].recipients (GDPR Art. 30(1)(d))",
        "activities[0].transfers (GDPR Art. 30(1)(e))",
        "activities[0].erasure-time-limits (GDPR Art. 30(1)(f))",
        "activities[0].security-measures (GDPR Art. 30(1)(g))",
    ] {
        assert!(e.contains(needle), "{needle} not in {e}");
    }
    assert!(
        stdout(&o).is_empty(),
        "an incomplete register must not be exported"
    );
}

#[test]
fn dpia_sample_is_required_with_its_criteria() {
    let o = gdpr(&["dpia", &sample("dpia.json")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["outcome"], "required");
    assert_eq!(v["triggers"].as_array().unwrap().len(), 4);
    assert_eq!(v["triggers"][0]["code"], "dsk-artificial-intelligence");
    assert_eq!(
        v["triggers"][0]["citation"],
        "GDPR Art. 35(4); DSK Muss-Liste v1.1"
    );
    let o = gdpr(&["dpia", &sample("dpia.json"), "--format", "text"]);
    assert!(stdout(&o).contains("DPIA REQUIRED"));
}

#[test]
fn dpia_two_criteria_are_likely_required_and_lists_load() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "dpia.json",
        r#"{"activity": "x", "criteria": ["sensitive-data", "vulnerable-subjects"]}"#,
    );
    let o = gdpr(&["dpia", f.to_str().unwrap(), "--format", "text"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("DPIA LIKELY REQUIRED"),
        "{}",
        stdout(&o)
    );

    let unknown = file(
        &dir,
        "entry.json",
        r#"{"activity": "x", "art35-4": ["hh-telemedicine"]}"#,
    );
    let o = gdpr(&["dpia", unknown.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("hh-telemedicine"), "{}", stderr(&o));
    let list = file(
        &dir,
        "hh.json",
        r#"{"jurisdiction": "DE-HH", "title": "t", "citation": "GDPR Art. 35(4); HmbBfDI",
            "reading": "test", "entries": [{"code": "hh-telemedicine", "description": "d"}]}"#,
    );
    let o = gdpr(&[
        "dpia",
        unknown.to_str().unwrap(),
        "--list",
        list.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["outcome"], "required");
    assert_eq!(v["triggers"][0]["citation"], "GDPR Art. 35(4); HmbBfDI");
}

#[test]
fn dpia_unknown_criterion_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "dpia.json",
        r#"{"activity": "x", "criteria": ["big-data"]}"#,
    );
    let o = gdpr(&["dpia", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("`criteria[0]`") && e.contains("large-scale"),
        "{e}"
    );
}

#[test]
fn help_explains_files_and_exit_codes() {
    let o = gdpr(&["authorize", "--help"]);
    let h = stdout(&o);
    assert!(
        h.contains("Exit codes: 0 permit, 3 deny, 2 bad input"),
        "{h}"
    );
    assert!(h.contains("docs/samples/activity.json"), "{h}");
}

#[test]
fn staff_identity_never_appears_in_decisions_or_errors() {
    const CANARY: &str = "CANARY-STAFF-4711";
    let requests = [
        // permit
        format!(
            r#"{{"at": "2026-03-02T09:30:00Z", "actor": {{"id": "{CANARY}", "role": "physician",
                "secrecy": {{"kind": "professional", "source": "§ 203(1) Nr. 1 StGB"}}}},
                "purpose": "diagnosis", "categories": ["imaging-examination"]}}"#
        ),
        // deny
        format!(
            r#"{{"at": "2026-03-02T09:30:00Z", "actor": {{"id": "{CANARY}", "role": "system",
                "secrecy": {{"kind": "none"}}}},
                "purpose": "diagnosis", "categories": ["imaging-examination"]}}"#
        ),
        // bad input next to the identity
        format!(
            r#"{{"at": "2026-03-02T09:30:00Z", "actor": {{"id": "{CANARY}", "role": "surgeon",
                "secrecy": {{"kind": "none"}}}}, "purpose": "diagnosis", "categories": []}}"#
        ),
        // a malformed identity
        format!(
            r#"{{"at": "2026-03-02T09:30:00Z", "actor": {{"id": "{CANARY}\u0007", "role": "system",
                "secrecy": {{"kind": "none"}}}}, "purpose": "diagnosis", "categories": []}}"#
        ),
    ];
    let mut codes = Vec::new();
    for r in &requests {
        let o = authorize_with_request(r);
        codes.push(o.status.code());
        assert!(
            !stdout(&o).contains(CANARY),
            "stdout leaked: {}",
            stdout(&o)
        );
        assert!(
            !stderr(&o).contains(CANARY),
            "stderr leaked: {}",
            stderr(&o)
        );
    }
    assert_eq!(codes, [Some(0), Some(3), Some(2), Some(2)]);
}

/// Each command that reads one JSON document, with the document's path.
fn json_commands(path: &str) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        s(&[
            "authorize",
            "--activity",
            path,
            "--request",
            &sample("request.json"),
        ]),
        s(&[
            "authorize",
            "--activity",
            &sample("activity.json"),
            "--request",
            path,
        ]),
        s(&["ropa", path]),
        s(&["dpia", path]),
    ]
}

fn run(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .output()
        .expect("run gdpr")
}

#[test]
fn trailing_text_after_the_document_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for (i, args) in json_commands("PLACEHOLDER").into_iter().enumerate() {
        let which = args.iter().position(|a| a == "PLACEHOLDER").unwrap();
        let good = match (args[0].as_str(), which) {
            ("authorize", 2) => sample("activity.json"),
            ("authorize", _) => sample("request.json"),
            ("ropa", _) => sample("ropa.json"),
            _ => sample("dpia.json"),
        };
        let text = std::fs::read_to_string(&good).unwrap() + "\n{\"x\": 1}\n";
        let f = file(&dir, &format!("trailing-{i}.json"), &text);
        let mut args = args.clone();
        args[which] = f.display().to_string();
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("trailing-{i}.json")),
            "{}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    }
}

#[test]
fn a_key_given_twice_exits_2_in_every_command() {
    let o = authorize_with_request(&format!(
        r#"{{"at": "2026-03-02T09:30:00Z", "actor": {GOOD_ACTOR},
            "purpose": "diagnosis", "purpose": "research", "categories": ["imaging-examination"]}}"#
    ));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("twice"), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "dpia.json",
        r#"{"activity": "x", "criteria": [], "criteria": ["large-scale"]}"#,
    );
    let o = gdpr(&["dpia", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("twice"), "{}", stderr(&o));
}

#[test]
fn endless_or_oversized_input_stops_at_the_limit_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(17 << 20).unwrap();
    for path in ["/dev/zero", big.to_str().unwrap()] {
        for args in json_commands(path) {
            let o = run(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(path), "{}", stderr(&o));
            assert!(stderr(&o).contains("larger than"), "{}", stderr(&o));
        }
    }
}

#[test]
fn bases_say_which_need_member_state_law() {
    let o = gdpr(&["bases", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let needs = |list: &str| -> Vec<String> {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["needs-member-state-law"] == true)
            .map(|b| b["citation"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(needs("art6"), ["GDPR Art. 6(1)(c)", "GDPR Art. 6(1)(e)"]);
    assert_eq!(
        needs("art9"),
        [
            "GDPR Art. 9(2)(b)",
            "GDPR Art. 9(2)(g)",
            "GDPR Art. 9(2)(i)",
            "GDPR Art. 9(2)(j)"
        ]
    );
    let o = gdpr(&["bases"]);
    assert!(stdout(&o).contains("`national`"), "{}", stdout(&o));
}

#[test]
fn authorize_reads_a_retention_phase_and_denies_other_purposes() {
    let o = authorize_with_request(
        r#"{"at": "2026-03-02T09:30:00Z",
            "actor": {"id": "dr-weber", "role": "physician",
                      "secrecy": {"kind": "professional", "source": "§ 203(1) Nr. 1 StGB"}},
            "purpose": "care-coordination", "categories": ["imaging-examination"],
            "retention-phase": {"duty": "§ 630f(3) BGB", "purposes": ["legal-claims", "treatment"]}}"#,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reasons"][0]["code"], "outside-retention-purpose");
    assert_eq!(
        v["reasons"][0]["citation"],
        "GDPR Art. 5(1)(b), Art. 17(3)(b)"
    );
    let o = authorize_with_request(
        r#"{"at": "2026-03-02T09:30:00Z",
            "actor": {"id": "dr-weber", "role": "physician",
                      "secrecy": {"kind": "professional", "source": "§ 203(1) Nr. 1 StGB"}},
            "purpose": "care-coordination", "categories": ["imaging-examination"],
            "retention-phase": {"duty": "§ 630f(3) BGB", "purposes": []}}"#,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("purposes"), "{}", stderr(&o));
}
