//! `gdpr retention` end to end: the real binary, real files, real pipes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn gdpr(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdpr"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gdpr runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `gdpr retention evaluate --jurisdiction J --at AT` of the catalog
/// lines `input` (standard input).
fn evaluate(jurisdiction: &str, at: &str, input: &str) -> Output {
    let args = [
        "retention",
        "evaluate",
        "--jurisdiction",
        jurisdiction,
        "--at",
        at,
    ];
    gdpr(&args, input)
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn rules_lists_every_pack_with_its_sources() {
    let out = gdpr(&["retention", "rules"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "§ 630f(3) BGB",
        "§ 85(2) S. 1 Nr. 2, Nr. 3 StrlSchG",
        "§ 85(2) S. 1 Nr. 1 StrlSchG",
        "§ 14(3) S. 1 TFG with § 14(2) TFG",
        "§ 15(2), (3) TPG",
        "§ 12(1) GenDG",
        "§ 10(1) Z 3 KAKuG",
        "§ 51(3) ÄrzteG",
        "§ 4a HmbKHG",
        "Art. R1112-7 CSP",
        "Art. 7:454(3) BW",
        "Records Management Code of Practice 2021 (updated 2023)",
        "Regulation (EU) No 536/2014 (CTR) Art. 58",
        "§§ 187(1), 187(2), 188(2), 188(3) BGB",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
}

#[test]
fn rules_of_one_jurisdiction_as_json() {
    let out = gdpr(
        &["retention", "rules", "--jurisdiction", "de", "--json"],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["jurisdiction"], "DE");
    assert_eq!(v[0]["rules"].as_array().unwrap().len(), 12);
    assert_eq!(v[0]["rules"][0]["source"], "§ 630f(3) BGB");
    assert_eq!(v[0]["data_protection_law"], "GDPR");
    assert_eq!(v[0]["rules"][0]["keeps_for"][0], "diagnosis");
    assert!(
        v[0]["rules"][1]["reading"]
            .as_str()
            .unwrap()
            .contains("last examination")
    );
    assert_eq!(v.as_array().unwrap().len(), 1);
}

const CATALOG: &str = r#"{"id":"ct-child","subject":"p1","category":"imaging-examination","modality":"CT","birth_date":"2010-05-01","event_date":"2015-01-10"}
{"id":"broken", "category":
{"id":"old-record","category":"patient-record","treatment_end":"2010-01-01"}

{"id":"held","category":"patient-record","treatment_end":"2010-01-01","holds":["litigation"]}
{"id":"no-birth","subject":"p2","category":"imaging-examination","modality":"CT","event_date":"2015-01-10"}
{"id":"bad-date","category":"patient-record","treatment_end":"2010-02-30"}
"#;

#[test]
fn evaluate_decides_every_good_line_and_reports_bad_ones_by_number() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("catalog.jsonl");
    std::fs::write(&input, CATALOG).unwrap();
    let out = gdpr(
        &[
            "retention",
            "evaluate",
            "--jurisdiction",
            "DE",
            "--at",
            "2026-01-01",
            "--input",
            input.to_str().unwrap(),
        ],
        "",
    );
    // Some lines were not decided: exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = lines(&out);
    assert_eq!(v.len(), 6, "one output line per non-blank input line");
    assert_eq!(v[0]["id"], "ct-child");
    assert_eq!(v[0]["status"], "retain");
    assert_eq!(v[0]["retain_until"], "2038-04-30");
    assert_eq!(
        v[0]["rules"][0]["source"],
        "§ 85(2) S. 1 Nr. 2, Nr. 3 StrlSchG"
    );
    assert_eq!(v[0]["keeps_for"][0], "diagnosis");
    assert_eq!(v[1]["status"], "malformed");
    assert_eq!(v[1]["line"], 2);
    assert_eq!(v[2]["id"], "old-record");
    assert_eq!(v[2]["status"], "due");
    assert_eq!(v[2]["retain_until"], "2020-01-01");
    assert_eq!(v[3]["status"], "held");
    assert_eq!(v[3]["holds"][0]["source"], "GDPR Art. 17(3)(e)");
    assert_eq!(v[4]["status"], "undetermined");
    assert!(v[4]["retain_until"].is_null());
    assert!(v[4]["reasons"][0].as_str().unwrap().contains("birth_date"));
    assert_eq!(v[5]["status"], "malformed");
    assert_eq!(v[5]["line"], 7);
    let err = stderr(&out);
    assert!(err.contains("line 2:"), "{err}");
    assert!(
        err.contains("line 7: invalid retention record: invalid treatment_end"),
        "{err}"
    );
    assert!(
        err.contains(
            "1 retain, 1 due, 0 review, 1 held, 0 elimination-procedure, 1 undetermined, 2 malformed"
        ),
        "{err}"
    );
}

#[test]
fn evaluate_exits_0_when_every_line_is_decided_reading_stdin() {
    let input = "{\"id\":\"a\",\"category\":\"patient-record\",\"last_change\":\"2004-02-29\"}\n\
                 {\"id\":\"b\",\"category\":\"patient-record\",\"last_change\":\"1990-01-01\"}\n";
    let out = gdpr(
        &[
            "retention",
            "evaluate",
            "--jurisdiction",
            "NL",
            "--at",
            "2024-02-29",
            "--input",
            "-",
        ],
        input,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = lines(&out);
    assert_eq!(v[0]["status"], "retain");
    assert_eq!(v[0]["retain_until"], "2024-02-29");
    assert_eq!(v[1]["status"], "due");
}

#[test]
fn evaluate_defaults_to_today() {
    let input = "{\"id\":\"a\",\"category\":\"patient-record\",\"setting\":\"practice\",\"treatment_end\":\"1990-01-01\"}\n";
    let out = gdpr(&["retention", "evaluate", "--jurisdiction", "AT"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(lines(&out)[0]["status"], "due");
}

#[test]
fn a_user_rules_file_extends_or_replaces_the_pack() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("house.toml");
    std::fs::write(
        &extra,
        r#"
        [[rule]]
        id = "de-imaging-other"
        category = "imaging-examination"
        modalities = ["MR"]
        years = 10
        from = "event_date"
        source = "§ 630f(3) BGB"

        [[rule]]
        id = "house-us"
        category = "imaging-examination"
        modalities = ["US"]
        years = 5
        from = "event_date"
        source = "house rule"
        "#,
    )
    .unwrap();
    let input = "{\"id\":\"mr\",\"category\":\"imaging-examination\",\"modality\":\"MR\",\"event_date\":\"2020-03-01\"}\n\
                 {\"id\":\"us\",\"category\":\"imaging-examination\",\"modality\":\"US\",\"event_date\":\"2020-03-01\"}\n";
    let out = gdpr(
        &[
            "retention",
            "evaluate",
            "--jurisdiction",
            "DE",
            "--at",
            "2026-01-01",
            "--rules",
            extra.to_str().unwrap(),
        ],
        input,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = lines(&out);
    // The built-in MR rule replaced by id: 2020-03-01 + 10 y.
    assert_eq!(v[0]["status"], "retain");
    assert_eq!(v[0]["retain_until"], "2030-03-01");
    assert_eq!(v[0]["rules"][0]["id"], "de-imaging-other");
    // A rule added next to it: the replaced rule now covers MR only, so US
    // falls to the house rule: 2020-03-01 + 5 y.
    assert_eq!(v[1]["rules"][0]["id"], "house-us");
    assert_eq!(v[1]["retain_until"], "2025-03-01");

    // A jurisdiction without a built-in pack works with a complete file.
    let ch = dir.path().join("ch.toml");
    std::fs::write(
        &ch,
        r#"
        jurisdiction = "CH"
        convention = "month-end"
        convention_source = "Art. 77 OR"
        [[rule]]
        id = "ch-patient-record"
        category = "patient-record"
        years = 20
        from = "treatment_end"
        source = "Art. 128 OR (house reading)"
        "#,
    )
    .unwrap();
    let out = gdpr(
        &[
            "retention",
            "rules",
            "--jurisdiction",
            "CH",
            "--rules",
            ch.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("ch-patient-record")
    );
}

#[test]
fn bad_arguments_exit_2_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[[rule]]\nid = \"x\"\n").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["retention", "evaluate", "--jurisdiction", "CH"],
            "--rules",
        ),
        (
            &[
                "retention",
                "evaluate",
                "--jurisdiction",
                "DE",
                "--at",
                "2026-13-01",
            ],
            "--at",
        ),
        (&["retention", "evaluate"], "--jurisdiction"),
        (
            &[
                "retention",
                "evaluate",
                "--jurisdiction",
                "DE",
                "--rules",
                "/nonexistent/rules.toml",
            ],
            "/nonexistent/rules.toml",
        ),
        (
            &[
                "retention",
                "evaluate",
                "--jurisdiction",
                "DE",
                "--rules",
                broken.to_str().unwrap(),
            ],
            "fix the pack file",
        ),
    ];
    for (args, needle) in cases {
        let out = gdpr(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn no_birth_date_leaks_into_errors() {
    let input = "{\"id\":\"x\",\"category\":\"patient-record\",\"birth_date\":19870605}\n\
                 {\"id\":\"y\",\"category\":\"patient-record\",\"birth_date\":\"1987-06-55\"}\n\
                 {\"id\":\"z\",\"category\":\"x-1987-06-05\"}\n";
    let out = evaluate("DE", "2026-01-01", input);
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!all.contains("1987"), "{all}");
    assert_eq!(all.matches("\"malformed\"").count(), 3, "{all}");
}

#[test]
fn a_misspelt_field_is_malformed_not_due() {
    // `hold` for `holds`: ignoring it would report a held record as due.
    let input = "{\"id\":\"r1\",\"category\":\"imaging-examination\",\"modality\":\"CT\",\
                 \"birth_date\":\"1950-05-01\",\"event_date\":\"1980-01-10\",\
                 \"hold\":[\"litigation\"]}\n";
    let out = evaluate("DE", "2026-01-01", input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 1"), "{err}");
    assert!(err.contains("unknown field `hold`"), "{err}");
    assert_eq!(lines(&out)[0]["status"], "malformed");
}

#[test]
fn an_endless_line_or_a_directory_as_input_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    for (input, needle) in [("/dev/zero", "longer than"), (dir_arg, "directory")] {
        let out = gdpr(
            &[
                "retention",
                "evaluate",
                "--jurisdiction",
                "DE",
                "--input",
                input,
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(2), "{input}: {}", stderr(&out));
        assert!(stderr(&out).contains(input), "{}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
    let out = gdpr(
        &[
            "retention",
            "rules",
            "--jurisdiction",
            "DE",
            "--rules",
            "/dev/zero",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
}

#[test]
fn evaluate_groups_a_file_by_subject_for_the_last_examination() {
    // Patient p1: CTs in 2012 and 2019 → both kept until the last
    // examination 2019-06-30 + 10 y = 2029-06-30 (§ 85(2) StrlSchG).
    // Patient p2: one CT in 2012 → 2012-03-01 + 10 y = 2022-03-01, due.
    let catalog = r#"{"id":"p1-old","subject":"p1","category":"imaging-examination","modality":"CT","birth_date":"1960-01-01","event_date":"2012-03-01"}
{"id":"p2","subject":"p2","category":"imaging-examination","modality":"CT","birth_date":"1960-01-01","event_date":"2012-03-01"}
{"id":"p1-new","subject":"p1","category":"imaging-examination","modality":"CT","birth_date":"1960-01-01","event_date":"2019-06-30"}
"#;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("catalog.jsonl");
    std::fs::write(&input, catalog).unwrap();
    let args = [
        "retention",
        "evaluate",
        "--jurisdiction",
        "DE",
        "--at",
        "2026-01-01",
        "--input",
        input.to_str().unwrap(),
    ];
    let out = gdpr(&args, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = lines(&out);
    assert_eq!(v[0]["retain_until"], "2029-06-30");
    assert_eq!(v[0]["status"], "retain");
    assert_eq!(v[1]["retain_until"], "2022-03-01");
    assert_eq!(v[1]["status"], "due");
    assert_eq!(v[2]["retain_until"], "2029-06-30");
    // From standard input there is no second pass: the fact is named.
    let out = gdpr(&args[..6], catalog);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        lines(&out)[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("last_examination"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn evaluate_reports_the_elimination_procedure_and_the_uk_gdpr() {
    // FR: last visit 2000-01-10 + 20 y = 2020-01-10, past: elimination.
    let fr = "{\"id\":\"f\",\"category\":\"patient-record\",\"birth_date\":\"1960-01-01\",\"last_visit\":\"2000-01-10\"}\n";
    let out = evaluate("FR", "2026-01-01", fr);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = lines(&out);
    assert_eq!(v[0]["status"], "elimination-procedure");
    assert!(stderr(&out).contains("1 elimination-procedure"));
    // UK-ENG: 2010-01-01 + 8 y = 2018-01-01, due under the UK GDPR.
    let uk = "{\"id\":\"u\",\"category\":\"patient-record\",\"birth_date\":\"1960-01-01\",\"treatment_end\":\"2010-01-01\"}\n";
    let out = evaluate("UK-ENG", "2026-01-01", uk);
    let v = lines(&out);
    assert_eq!(v[0]["status"], "due");
    let reasons = v[0]["reasons"].to_string();
    assert!(reasons.contains("UK GDPR Art. 5(1)(e)"), "{reasons}");
    let held = uk.replace("}\n", ",\"holds\":[\"litigation\"]}\n");
    let out = evaluate("UK-ENG", "2026-01-01", &held);
    assert_eq!(
        lines(&out)[0]["holds"][0]["source"],
        "UK GDPR Art. 17(3)(e)"
    );
}
