//! `gdpr request` end to end on a folder store: new (identifiers from
//! stdin), assess, approve by a second actor, run, certificate,
//! verify-certificate; exit codes; no patient identifier in any output.

mod support;

use std::path::Path;

use gdpr_dicom::synthetic::SyntheticInstance;
use support::{Run, with_ctx};

const ROOT: &str = "1.2.826.0.1.3680043.10.1234.78";
const TARGET: &str = "CANARY-CLI-REQ-1";

fn gdpr(dir: &Path, args: &[&str], stdin: &str) -> Run {
    support::run(dir, args, stdin, &[], &[TARGET])
}

fn setup() -> tempfile::TempDir {
    let studies = [
        (TARGET, 1, Some("19900105")),
        (TARGET, 2, Some("20240105")),
        ("OTHER-CLI-2", 1, Some("19900105")),
    ];
    support::request_fixture(gdpr, ROOT, &studies)
}

/// `gdpr request new` with the patient index on stdin.
fn new_request(d: &Path, id: &str, kind: &str) {
    support::new_request(gdpr, d, (id, kind), TARGET);
}

#[test]
fn an_erasure_request_from_the_command_line_ends_verified_with_a_certificate() {
    let dir = setup();
    let d = dir.path();
    new_request(d, "dsr-1", "erasure-consent-withdrawn");

    let assess = gdpr(
        d,
        &with_ctx(
            &["request", "assess", "dsr-1", "--pack", "pack.toml"],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(assess.code, 0, "{}", assess.stderr);
    assert!(assess.stdout.contains("erase") && assess.stdout.contains("keep"));

    // Four eyes: the assessor cannot approve.
    let same = gdpr(d, &with_ctx(&["request", "approve", "dsr-1"], "dpo-1"), "");
    assert_eq!(same.code, 2, "{}", same.stderr);
    let approve = gdpr(d, &with_ctx(&["request", "approve", "dsr-1"], "dpo-2"), "");
    assert_eq!(approve.code, 0, "{}", approve.stderr);

    let run = gdpr(
        d,
        &with_ctx(&["request", "run", "dsr-1", "--json"], "dpo-1"),
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["stage"], "completed");
    assert!(!d.join(format!("store/{TARGET}-1.dcm")).exists());
    assert!(d.join(format!("store/{TARGET}-2.dcm")).exists());
    assert!(d.join("store/OTHER-CLI-2-1.dcm").exists());

    let resume = gdpr(d, &with_ctx(&["request", "resume", "dsr-1"], "dpo-1"), "");
    assert_eq!(resume.code, 0, "{}", resume.stderr);

    certificate(d, "dsr-1", "cert.json");
    let verify = support::verify_certificate(gdpr, d, "cert.json");
    assert_eq!(verify.code, 0, "{}", verify.stderr);

    let text = std::fs::read_to_string(d.join("cert.json")).unwrap();
    std::fs::write(
        d.join("forged.json"),
        text.replacen("\"verified\": true", "\"verified\": false", 1),
    )
    .unwrap();
    let forged = support::verify_certificate(gdpr, d, "forged.json");
    assert_eq!(forged.code, 1, "{}", forged.stdout);

    // A completed request cannot be refused: a clear error, exit 2.
    let late = gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "refuse",
                "dsr-1",
                "--ground",
                "manifestly-unfounded-or-excessive",
            ],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(late.code, 2, "{}", late.stderr);
    assert!(
        late.stderr.contains("completed") && late.stderr.contains("refused"),
        "{}",
        late.stderr
    );

    let status = gdpr(d, &["request", "status", "dsr-1", "--json"], "");
    assert_eq!(status.code, 0, "{}", status.stderr);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["deadline"]["overdue"], false);
    assert!(status["deadline"]["due"].is_string());
    let show = gdpr(
        d,
        &[
            "request",
            "show",
            "dsr-1",
            "--time-zone",
            "Nowhere/Atlantis",
        ],
        "",
    );
    assert_eq!(show.code, 2);
    let list = gdpr(d, &["request", "list"], "");
    assert!(list.stdout.contains("dsr-1\tcompleted"));
    support::audit_verifies(gdpr, d);
}

#[test]
fn bad_input_exits_2_naming_the_input() {
    let dir = setup();
    let d = dir.path();
    let r = gdpr(
        d,
        &[
            "request", "new", "--id", "dsr-2", "--kind", "access", "--index", "-",
        ],
        "version = 1\n[systems.archive]\ndicom-patient-id = 7\n",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("stdin"), "{}", r.stderr);
    let r = gdpr(
        d,
        &[
            "request", "new", "--id", "bad id", "--kind", "access", "--index", "-",
        ],
        "",
    );
    assert_eq!(r.code, 2);
    let r = gdpr(d, &with_ctx(&["request", "run", "missing"], "dpo-1"), "");
    assert_eq!(r.code, 2);
}

#[test]
fn a_held_record_is_kept_and_restricted_not_erased() {
    let dir = setup();
    let d = dir.path();
    new_request(d, "dsr-h", "erasure-no-longer-necessary");
    let uid = SyntheticInstance::new(ROOT, TARGET, 1, 1, 1).study_uid;
    let record = gdpr_dicom::store::folder_study_id(&gdpr_core::store::StudyUid::new(uid).unwrap());
    let hold = format!("archive:{record}:litigation");
    let assess = gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "assess",
                "dsr-h",
                "--pack",
                "pack.toml",
                "--hold",
                &hold,
            ],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(assess.code, 0, "{}", assess.stderr);
    assert!(!assess.stdout.contains("\terase"), "{}", assess.stdout);
    let bad = gdpr(
        d,
        &with_ctx(
            &["request", "assess", "dsr-h", "--hold", "archive:x:forever"],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--hold"), "{}", bad.stderr);
    assert_eq!(
        gdpr(d, &with_ctx(&["request", "approve", "dsr-h"], "dpo-2"), "").code,
        0
    );
    let run = gdpr(d, &with_ctx(&["request", "run", "dsr-h"], "dpo-1"), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        d.join(format!("store/{TARGET}-1.dcm")).exists(),
        "the held study was erased"
    );
    let register = std::fs::read_to_string(d.join("restrictions/restrictions.jsonl")).unwrap();
    assert!(register.contains(&record.to_string()) && register.contains("legal-claims"));
}

fn verify_cert(d: &Path, file: &str) -> Run {
    gdpr(
        d,
        &[
            "request",
            "verify-certificate",
            file,
            "--public-key",
            "audit/public.key",
            "--json",
        ],
        "",
    )
}

#[test]
fn a_refused_request_exits_3_everywhere_and_its_certificate_verifies() {
    let dir = setup();
    let d = dir.path();
    new_request(d, "dsr-r", "erasure-consent-withdrawn");
    let refuse = |extra: &[&str]| {
        let mut args = vec!["request", "refuse", "dsr-r"];
        args.extend_from_slice(extra);
        gdpr(d, &with_ctx(&args, "dpo-1"), "")
    };
    // No reason, or a ground that answers another kind: exit 2, no trace.
    let none = refuse(&[]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("Art. 12(4)"), "{}", none.stderr);
    let wrong = refuse(&["--ground", "portability-conditions-not-met"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("portability-conditions-not-met"),
        "{}",
        wrong.stderr
    );
    assert!(
        !d.join("requests/dsr-r/journal.jsonl").exists() || {
            let j = std::fs::read_to_string(d.join("requests/dsr-r/journal.jsonl")).unwrap();
            !j.contains("refused")
        }
    );

    let refused = refuse(&[
        "--ground",
        "manifestly-unfounded-or-excessive",
        "--provision",
        "§ 34 BDSG",
    ]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    for needle in [
        "refused",
        "GDPR Art. 12(5)(b)",
        "§ 34 BDSG",
        "GDPR Art. 77",
        "GDPR Art. 79",
    ] {
        assert!(
            refused.stdout.contains(needle),
            "{needle}: {}",
            refused.stdout
        );
    }
    // The same refusal again has no second effect; another one is illegal.
    let again = refuse(&[
        "--ground",
        "manifestly-unfounded-or-excessive",
        "--provision",
        "§ 34 BDSG",
    ]);
    assert_eq!(again.code, 3, "{}", again.stderr);
    let other = refuse(&["--ground", "erasure-exemption"]);
    assert_eq!(other.code, 2, "{}", other.stderr);

    let status = gdpr(d, &["request", "status", "dsr-r", "--json"], "");
    assert_eq!(status.code, 3, "{}", status.stderr);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["stage"], "refused");
    assert_eq!(
        v["refusal"]["grounds"][0]["citation"], "GDPR Art. 12(5)(b)",
        "{v}"
    );
    assert_eq!(v["refusal"]["remedies"]["complaint"], "GDPR Art. 77");
    let show = gdpr(d, &["request", "show", "dsr-r"], "");
    assert_eq!(show.code, 3, "{}", show.stderr);
    assert!(
        show.stdout.contains("ground: other (§ 34 BDSG)"),
        "{}",
        show.stdout
    );
    let list = gdpr(d, &["request", "list", "--json"], "");
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("\"refused\""), "{}", list.stdout);

    for cmd in ["run", "resume"] {
        let run = gdpr(
            d,
            &with_ctx(&["request", cmd, "dsr-r", "--json"], "dpo-2"),
            "",
        );
        assert_eq!(run.code, 3, "{cmd}: {}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(v["stage"], "refused");
        assert_eq!(v["systems"], serde_json::json!([]), "no system acted on");
    }
    assert!(d.join(format!("store/{TARGET}-1.dcm")).exists());
    let approve = gdpr(d, &with_ctx(&["request", "approve", "dsr-r"], "dpo-2"), "");
    assert_eq!(approve.code, 2, "{}", approve.stderr);

    let cert = gdpr(
        d,
        &with_ctx(
            &[
                "request",
                "certificate",
                "dsr-r",
                "--out",
                "refused.json",
                "--html",
                "refused.html",
            ],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(cert.code, 3, "{}", cert.stderr);
    let text = std::fs::read_to_string(d.join("refused.json")).unwrap();
    let html = std::fs::read_to_string(d.join("refused.html")).unwrap();
    for file in [&text, &html] {
        assert!(!file.contains(TARGET), "a certificate holds the identifier");
        assert!(file.contains("GDPR Art. 12(5)(b)") && file.contains("GDPR Art. 79"));
    }
    let c: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(c["request"]["stage"], "refused");
    let events: Vec<&str> = c["audit"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["received", "refused"],
        "the refusal is audited and proved"
    );
    let verified = verify_cert(d, "refused.json");
    assert_eq!(verified.code, 3, "{}", verified.stderr);
    let v: serde_json::Value = serde_json::from_str(&verified.stdout).unwrap();
    assert_eq!(
        (v["verified"].as_bool(), v["stage"].as_str()),
        (Some(true), Some("refused"))
    );
    // A certificate claiming work on a system for a refused request fails.
    std::fs::write(
        d.join("forged.json"),
        text.replacen("\"refused\"", "\"completed\"", 1),
    )
    .unwrap();
    assert_eq!(verify_cert(d, "forged.json").code, 1);

    support::audit_verifies(gdpr, d);
}

#[test]
fn a_restriction_and_its_lifting_from_the_command_line() {
    let dir = setup();
    let d = dir.path();
    for (id, kind) in [
        ("dsr-rs", "restriction-accuracy-contested"),
        ("dsr-lift", "lift-restriction"),
    ] {
        new_request(d, id, kind);
        for (cmd, by) in [("assess", "dpo-1"), ("approve", "dpo-2"), ("run", "dpo-1")] {
            let r = gdpr(d, &with_ctx(&["request", cmd, id], by), "");
            assert_eq!(r.code, 0, "{cmd} {id}: {}", r.stderr);
        }
        let register = std::fs::read_to_string(d.join("restrictions/restrictions.jsonl")).unwrap();
        let subject_wide = register
            .lines()
            .filter(|l| l.contains("gdpr-subject:") && l.contains("accuracy-contested"))
            .collect::<Vec<_>>();
        assert!(!subject_wide.is_empty(), "{register}");
        if id == "dsr-lift" {
            assert!(
                subject_wide.last().unwrap().contains("\"lifted\""),
                "{register}"
            );
        }
    }
    assert!(
        d.join(format!("store/{TARGET}-1.dcm")).exists(),
        "nothing erased"
    );
}

/// Journal lines of request `id` that name `what` (0 without a journal).
fn journaled(d: &Path, id: &str, what: &str) -> usize {
    std::fs::read_to_string(d.join(format!("requests/{id}/journal.jsonl")))
        .map_or(0, |j| j.lines().filter(|l| l.contains(what)).count())
}

#[test]
fn the_deadline_is_extended_once_within_the_first_month() {
    let dir = setup();
    let d = dir.path();
    new_request(d, "dsr-x", "erasure-consent-withdrawn");
    let extend = |id: &str, extra: &[&str]| {
        let mut args = vec!["request", "extend", id];
        args.extend_from_slice(extra);
        gdpr(d, &with_ctx(&args, "dpo-1"), "")
    };
    let before = gdpr(d, &["request", "status", "dsr-x", "--json"], "");
    let before: serde_json::Value = serde_json::from_str(&before.stdout).unwrap();
    // Three months, or no reason: bad input, nothing journaled.
    for bad in [
        &["--months", "3", "--reason", "complexity"][..],
        &["--months", "2"][..],
    ] {
        let r = extend("dsr-x", bad);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
    }
    assert_eq!(journaled(d, "dsr-x", "extended"), 0);

    let ok = extend(
        "dsr-x",
        &["--months", "2", "--reason", "complexity", "--json"],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let v: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(v["deadline"]["extended-by"], 2, "{v}");
    assert_eq!(v["extension"]["grounds"][0]["citation"], "GDPR Art. 12(3)");
    let (first, due) = (
        v["deadline"]["first-period-ends"].as_str().unwrap(),
        v["deadline"]["due"].as_str().unwrap(),
    );
    assert!(due > first, "{v}");
    assert_eq!(before["deadline"]["due"].as_str(), Some(first));
    let status = gdpr(d, &["request", "status", "dsr-x", "--json"], "");
    assert_eq!(status.code, 0, "{}", status.stderr);
    let s: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(s["deadline"]["due"].as_str(), Some(due));
    assert_eq!(s["extension"]["months"], 2);
    let show = gdpr(d, &["request", "show", "dsr-x"], "");
    assert!(
        show.stdout.contains(&format!("due {due}"))
            && show.stdout.contains("complexity (GDPR Art. 12(3))"),
        "{}",
        show.stdout
    );
    assert_eq!(journaled(d, "dsr-x", "extended"), 2, "begun and done");

    // A second extension: exit 2, no trace.
    let twice = extend(
        "dsr-x",
        &["--months", "1", "--reason", "number-of-requests"],
    );
    assert_eq!(twice.code, 2, "{}", twice.stderr);
    assert!(twice.stderr.contains("Art. 12(3)"), "{}", twice.stderr);
    assert_eq!(journaled(d, "dsr-x", "extended"), 2);

    // The request still runs to a certificate that verifies.
    for (cmd, by) in [("assess", "dpo-1"), ("approve", "dpo-2"), ("run", "dpo-1")] {
        let mut args = vec!["request", cmd, "dsr-x"];
        if cmd == "assess" {
            args.extend_from_slice(&["--pack", "pack.toml"]);
        }
        let r = gdpr(d, &with_ctx(&args, by), "");
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
    }
    let events = certified_events(d, "dsr-x", "x.json");
    assert!(events.contains(&"extended".to_owned()), "{events:?}");

    // Received two months ago: the first month is over, too late.
    new_request(d, "dsr-late", "access");
    let file = d.join("requests/dsr-late/request.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut req: serde_json::Value = serde_json::from_str(&text).unwrap();
    let long_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 62);
    req["history"][0]["at"] = serde_json::json!(long_ago.to_string());
    std::fs::write(&file, serde_json::to_string(&req).unwrap()).unwrap();
    let late = extend("dsr-late", &["--months", "1", "--reason", "complexity"]);
    assert_eq!(late.code, 2, "{}", late.stderr);
    assert!(late.stderr.contains("first month"), "{}", late.stderr);
    assert_eq!(journaled(d, "dsr-late", "extended"), 0);
    let status = gdpr(d, &["request", "status", "dsr-late", "--json"], "");
    let s: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(s["deadline"]["overdue"], true, "{s}");
    assert_eq!(s["extension"], serde_json::Value::Null);

    support::audit_verifies(gdpr, d);
}

/// `gdpr request certificate ID --out FILE` by dpo-1, which must succeed.
fn certificate(d: &Path, id: &str, file: &str) {
    let cert = gdpr(
        d,
        &with_ctx(&["request", "certificate", id, "--out", file], "dpo-1"),
        "",
    );
    assert_eq!(cert.code, 0, "{}", cert.stderr);
}

/// A certificate of `id` written to `file`, its audited events.
fn certified_events(d: &Path, id: &str, file: &str) -> Vec<String> {
    certificate(d, id, file);
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join(file)).unwrap()).unwrap();
    assert_eq!(c["request"]["stage"], "completed");
    assert_eq!(verify_cert(d, file).code, 0);
    c["audit"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn rectification_is_a_manual_task_and_objection_is_recorded() {
    let dir = setup();
    let d = dir.path();
    new_request(d, "dsr-rect", "rectification");
    for (cmd, by) in [("assess", "dpo-1"), ("approve", "dpo-2")] {
        let r = gdpr(d, &with_ctx(&["request", cmd, "dsr-rect"], by), "");
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
    }
    // Not run on the systems; not completed without the declaration.
    let run = gdpr(d, &with_ctx(&["request", "run", "dsr-rect"], "dpo-1"), "");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--task-done"), "{}", run.stderr);
    let bare = gdpr(
        d,
        &with_ctx(&["request", "complete", "dsr-rect"], "dpo-1"),
        "",
    );
    assert_eq!(bare.code, 2, "{}", bare.stderr);
    let status = gdpr(d, &["request", "status", "dsr-rect", "--json"], "");
    let s: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(s["stage"], "approved");
    let done = gdpr(
        d,
        &with_ctx(
            &["request", "complete", "dsr-rect", "--task-done", "--json"],
            "dpo-1",
        ),
        "",
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    let v: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(v["stage"], "completed");
    assert_eq!(v["systems"], serde_json::json!([]));
    let events = certified_events(d, "dsr-rect", "rect.json");
    assert!(
        events.ends_with(&[
            "execution-started".into(),
            "verification-started".into(),
            "completed".into()
        ]),
        "{events:?}"
    );
    // An erasure is not a manual task.
    new_request(d, "dsr-e", "erasure-consent-withdrawn");
    let wrong = gdpr(
        d,
        &with_ctx(&["request", "complete", "dsr-e", "--task-done"], "dpo-1"),
        "",
    );
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);

    // Objection to research: recorded into the subject's state.
    let index = support::index(TARGET);
    let args = [
        "request",
        "new",
        "--id",
        "dsr-obj",
        "--kind",
        "objection",
        "--objection-purpose",
        "research",
        "--index",
        "-",
    ];
    assert_eq!(gdpr(d, &args, &index).code, 0);
    let mut bad_args = args.to_vec();
    bad_args[3] = "dsr-obj2";
    bad_args[7] = "astrology";
    let bad = gdpr(d, &bad_args, &index);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--objection-purpose"), "{}", bad.stderr);
    for (cmd, by) in [("assess", "dpo-1"), ("approve", "dpo-2"), ("run", "dpo-1")] {
        let r = gdpr(d, &with_ctx(&["request", cmd, "dsr-obj"], by), "");
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
    }
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("requests/dsr-obj/subject-state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state[0]["purposes"],
        serde_json::json!(["research"]),
        "{state}"
    );
    let events = certified_events(d, "dsr-obj", "obj.json");
    assert!(events.contains(&"completed".to_owned()), "{events:?}");
    assert!(
        d.join(format!("store/{TARGET}-1.dcm")).exists(),
        "nothing erased"
    );
    support::audit_verifies(gdpr, d);
}

/// An objection `gdpr request run` records reaches the next
/// `gdpr authorize` that reads the register: quality assurance on
/// legitimate interests is refused citing Art. 21(1); a documentation duty
/// (Art. 6(1)(c)) is not reached; another patient is untouched.
#[test]
fn an_objection_run_is_honoured_by_the_next_authorize() {
    let dir = setup();
    let d = dir.path();
    let activity = |name: &str, purpose: &str, art6: &str| {
        let file = format!("{name}.json");
        let national = if art6 == "legal-obligation" {
            r#","national":[{"jurisdiction":"DE","citation":"§ 630f BGB","summary":"documentation duty"}]"#
        } else {
            ""
        };
        std::fs::write(
            d.join(&file),
            format!(
                r#"{{"name":"{name}","purpose":"{purpose}","basis":{{"kind":"special-category",
                "art6":"{art6}","art9":"health-care"{national}}},
                "categories":["imaging-examination"],"identifiability":"identified"}}"#
            ),
        )
        .unwrap();
        file
    };
    let qa = activity("qa", "quality-assurance", "legitimate-interests");
    let duty = activity("duty", "legal-obligation", "legal-obligation");
    let ask = |file: &str, patient: &str, purpose: &str| {
        let request = format!("{file}-ask.json");
        support::ask_file(d, &request, patient, purpose);
        let place = ["--register", "restrictions", "--audit-log", "audit"];
        support::authorize(gdpr, d, (file, &request), &place)
    };
    assert_eq!(ask(&qa, TARGET, "quality-assurance").0, 0, "before");

    let index = support::index(TARGET);
    let new = ["request", "new", "--id", "dsr-o", "--kind", "objection"];
    let new = [&new[..], &["--index", "-"]].concat();
    assert_eq!(gdpr(d, &new, &index).code, 0);
    for (cmd, by) in [("assess", "dpo-1"), ("approve", "dpo-2"), ("run", "dpo-1")] {
        let r = gdpr(d, &with_ctx(&["request", cmd, "dsr-o"], by), "");
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
    }
    let register = std::fs::read_to_string(d.join("restrictions/objections.jsonl")).unwrap();
    assert_eq!(register.lines().count(), 1, "{register}");
    assert!(
        register.contains("gdpr-subject:"),
        "keyed by the subject-wide id"
    );

    let (code, v) = ask(&qa, TARGET, "quality-assurance");
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["reasons"][0]["code"], "objection", "{v}");
    assert_eq!(v["reasons"][0]["citation"], "GDPR Art. 21(1)", "{v}");
    let (code, v) = ask(&duty, TARGET, "legal-obligation");
    assert_eq!(code, 0, "{v}");
    let not_reached = v["safeguards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "objection-not-reached")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(not_reached["citation"], "GDPR Art. 21(1)");
    let (code, v) = ask(&qa, "OTHER-CLI-2", "quality-assurance");
    assert_eq!(code, 0, "another patient: {v}");
    // Without the register the request file's own state decides.
    let bare = gdpr(
        d,
        &[
            "authorize",
            "--activity",
            &qa,
            "--request",
            "qa.json-ask.json",
        ],
        "",
    );
    assert_eq!(bare.code, 0, "{}", bare.stderr);
}
