//! What a retention decision hands to the rest of the system: the purposes
//! the running duties keep a record for (read by authorization in the
//! retention phase), and the answer to a patient's request to destroy the
//! file early (Art. 7:455 BW). Expected dates are worked out in comments.

mod retention_support;

use gdpr_core::Citation;
use gdpr_core::purpose::Purpose;
use gdpr_core::retention::{
    DestructionRequest, Refusal, RequestOutcome, RulePack, Status, parse_record_line,
};
use retention_support::{day, pack};

fn record(line: &str) -> gdpr_core::retention::RetentionRecord {
    parse_record_line(line).unwrap().record
}

#[test]
fn every_builtin_rule_names_what_it_keeps_the_record_for() {
    for p in RulePack::all_builtin().unwrap() {
        for rule in p.rules() {
            let keeps = rule.keeps_for();
            assert!(
                keeps.contains(Purpose::LegalObligation),
                "{}: a duty always keeps a record for itself",
                rule.id()
            );
            for never in [Purpose::Research, Purpose::Billing, Purpose::Statistics] {
                assert!(!keeps.contains(never), "{} keeps for {never:?}", rule.id());
            }
        }
    }
}

#[test]
fn keeps_for_follows_the_duties_still_running() {
    let de = pack("DE");
    // Treatment ended 2015-01-10: the § 630f(3) duty runs to 2025-01-10.
    let r = record(r#"{"id":"1","category":"patient-record","treatment_end":"2015-01-10"}"#);
    let running = de.decide(&r, day("2025-01-10"));
    assert_eq!(running.status(), Status::Retain);
    let k = running.keeps_for();
    assert!(k.contains(Purpose::LegalClaims), "evidence");
    assert!(
        k.contains(Purpose::Treatment) && k.contains(Purpose::Diagnosis),
        "care continuity"
    );
    assert!(!k.contains(Purpose::Research) && !k.contains(Purpose::PublicHealth));
    // The day after, no duty keeps it: nothing is kept for.
    let ended = de.decide(&r, day("2025-01-11"));
    assert_eq!(ended.status(), Status::Due);
    assert!(ended.keeps_for().is_empty());

    // Traceability data (2016-02-29 + 30 y → 2046-02-28) and the rest of
    // the documentation (+ 15 y → 2031-02-28): in 2035 only the
    // traceability duty runs, and it keeps the record for public health
    // (look-back, recall) too.
    let t = record(
        r#"{"id":"t","category":"transfusion","facets":["traceability","documentation-only"],"event_date":"2016-02-29"}"#,
    );
    let d = de.decide(&t, day("2035-01-01"));
    assert!(d.keeps_for().contains(Purpose::PublicHealth));
    let after = de.decide(&t, day("2046-03-01"));
    assert!(after.keeps_for().is_empty());

    // An undetermined decision keeps for nothing: the data must be fixed.
    let u = record(r#"{"id":"u","category":"patient-record"}"#);
    assert!(de.decide(&u, day("2026-01-01")).keeps_for().is_empty());
}

/// The retention decision gives the authorization request its retention
/// phase: the governing rule's source as the duty and the purposes of the
/// duties still running.
#[test]
fn the_decision_gives_the_retention_phase_for_authorization() {
    let de = pack("DE");
    // Treatment ended 2015-01-10: the § 630f(3) duty runs to 2025-01-10.
    let r = record(r#"{"id":"1","category":"patient-record","treatment_end":"2015-01-10"}"#);
    let phase = de.decide(&r, day("2020-06-01")).retention_phase().unwrap();
    assert!(phase.duty().as_str().contains("630f"), "{}", phase.duty());
    assert!(phase.serves(Purpose::LegalClaims) && phase.serves(Purpose::Treatment));
    assert!(!phase.serves(Purpose::Research) && !phase.serves(Purpose::Billing));
    // After the duty ended, or when undetermined, there is no phase.
    assert!(de.decide(&r, day("2025-01-11")).retention_phase().is_none());
    let u = record(r#"{"id":"u","category":"patient-record"}"#);
    assert!(de.decide(&u, day("2020-06-01")).retention_phase().is_none());
}

#[test]
fn a_user_rule_without_keeps_for_keeps_only_for_the_duty_itself() {
    let de = pack("DE")
        .extended_with_toml(
            r#"
            [[rule]]
            id = "house-billing"
            category = "billing"
            years = 10
            from = "event_date"
            source = "§ 147(3) AO"
            "#,
        )
        .unwrap();
    let keeps: Vec<_> = de
        .rule("house-billing")
        .unwrap()
        .keeps_for()
        .iter()
        .collect();
    assert_eq!(keeps, vec![Purpose::LegalObligation]);
    let err = pack("DE")
        .extended_with_toml(
            "[[rule]]\nid = \"x\"\ncategory = \"billing\"\nyears = 1\nfrom = \"event_date\"\nkeeps_for = []\nsource = \"s\"",
        )
        .unwrap_err();
    assert!(err.to_string().contains("keeps_for"), "{err}");
}

const NL_FILE: &str = r#"{"id":"n","category":"patient-record","last_change":"2015-01-01"}"#;

#[test]
fn nl_destruction_request_is_granted_within_three_months() {
    let nl = pack("NL");
    let r = record(NL_FILE);
    // Inside the 20 years (to 2035-01-01). Received 2025-11-30: + 3 months
    // = 2026-02-30, which does not exist → 2026-02-28, the earlier day.
    let req = DestructionRequest::received(day("2025-11-30"));
    match nl.decide_destruction_request(&r, &req) {
        RequestOutcome::Destroy { by, source } => {
            assert_eq!(by, day("2026-02-28"));
            assert!(source.as_str().contains("7:455"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    // Received 2024-05-31: + 3 months = 2024-08-31.
    let req = DestructionRequest::received(day("2024-05-31"));
    assert!(matches!(
        nl.decide_destruction_request(&r, &req),
        RequestOutcome::Destroy { by, .. } if by == day("2024-08-31")
    ));
}

#[test]
fn nl_destruction_request_is_refused_for_the_reasons_the_law_names() {
    let nl = pack("NL");
    let r = record(NL_FILE);
    let at = day("2025-11-30");
    let other = DestructionRequest::received(at).with_other_persons_interest();
    assert_eq!(
        nl.decide_destruction_request(&r, &other),
        RequestOutcome::Refuse(Refusal::OtherPersonsInterest)
    );
    let statute = Citation::new("Art. 12 Wet op de lijkbezorging (example)");
    let forbidden = DestructionRequest::received(at).with_statute_forbidding(statute.clone());
    assert_eq!(
        nl.decide_destruction_request(&r, &forbidden),
        RequestOutcome::Refuse(Refusal::StatuteForbids(statute))
    );
    // A legal hold keeps it.
    let held = record(
        r#"{"id":"n","category":"patient-record","last_change":"2015-01-01","holds":["litigation"]}"#,
    );
    assert!(matches!(
        nl.decide_destruction_request(&held, &DestructionRequest::received(at)),
        RequestOutcome::Refuse(Refusal::Held(_))
    ));
    // Another statute in the pack that does not yield: the CTR keeps a
    // trial master file 25 y (end of trial 2020-01-01 → 2045-01-01).
    let tmf = record(
        r#"{"id":"n","category":["patient-record","trial-master-file"],"last_change":"2015-01-01","event_date":"2020-01-01"}"#,
    );
    match nl.decide_destruction_request(&tmf, &DestructionRequest::received(at)) {
        RequestOutcome::Refuse(Refusal::RuleForbids(rule)) => {
            assert_eq!(rule.id(), "eu-ctr-trial-master-file")
        }
        other => panic!("{other:?}"),
    }
    // A record that cannot be decided is not destroyed either.
    let unknown = record(r#"{"id":"n","category":"patient-record"}"#);
    assert!(matches!(
        nl.decide_destruction_request(&unknown, &DestructionRequest::received(at)),
        RequestOutcome::Refuse(Refusal::Undetermined(_))
    ));
}

#[test]
fn other_packs_grant_no_such_right() {
    // § 630f(3) BGB has no early-destruction right: an Art. 17 request.
    let de = pack("DE");
    let r = record(r#"{"id":"d","category":"patient-record","treatment_end":"2020-01-01"}"#);
    assert_eq!(
        de.decide_destruction_request(&r, &DestructionRequest::received(day("2025-01-01"))),
        RequestOutcome::Refuse(Refusal::NoSuchRight)
    );
}
