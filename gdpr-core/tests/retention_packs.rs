//! Rule packs as files: Land variants on a federal base, and the errors a
//! broken variant or rule gets.

use gdpr_core::retention::{Jurisdiction, RulePack};

#[test]
fn variants_extend_their_base_and_say_what_is_wrong() {
    let hh = RulePack::builtin(&"DE-HH".parse::<Jurisdiction>().unwrap())
        .unwrap()
        .unwrap();
    let de = RulePack::builtin(&"DE".parse::<Jurisdiction>().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(hh.jurisdiction().as_str(), "DE-HH");
    assert_eq!(hh.rules().len(), de.rules().len() + 1);
    assert_eq!(hh.convention(), de.convention());
    let hosp = hh.rule("de-hh-hospital-record").unwrap();
    assert_eq!(hosp.replaces(), ["de-patient-record"]);
    let rule = |extra: &str| {
        format!(
            "[[rule]]\nid = \"x\"\ncategory = \"billing\"\nyears = 1\nfrom = \"event_date\"\nsource = \"s\"\n{extra}"
        )
    };
    let cases = [
        (
            format!("jurisdiction = \"AT-W\"\nbase = \"DE\"\n{}", rule("")),
            "DE-…",
        ),
        (
            format!("jurisdiction = \"DE-BE\"\nbase = \"CH\"\n{}", rule("")),
            "no built-in pack",
        ),
        (
            format!(
                "jurisdiction = \"DE-BE\"\nbase = \"DE\"\n{}",
                rule("replaces = [\"nope\"]")
            ),
            "replaces nope",
        ),
        (
            rule("[rule.death]\nwithin_years = 10\nbefore_age = 18\nyears = 8"),
            "exactly one of",
        ),
        (rule("reading = \" \""), "reading"),
    ];
    for (i, (text, needle)) in cases.into_iter().enumerate() {
        // The first three are complete variant packs, the rest user packs.
        let err = if i < 3 {
            RulePack::from_toml(&text).unwrap_err()
        } else {
            de.clone().extended_with_toml(&text).unwrap_err()
        };
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    let err = de
        .extended_with_toml(&format!("base = \"DE\"\n{}", rule("")))
        .unwrap_err();
    assert!(err.to_string().contains("base"), "{err}");
}
