//! The controller's findings file (`gdpr request assess --findings`):
//! every ground mapped to its type and citation, the reason never shown,
//! wrong findings refused naming the finding, scopes checked against what
//! exists.

use gdpr_core::request::{FindingsFile, RequestError, SystemName};
use gdpr_core::store::RecordId;
const SECRET: &str = "CANARY-REASON HIV positive";

fn file(body: &str) -> String {
    format!("version = 1\n\n[[finding]]\n{body}")
}

#[test]
fn every_ground_maps_to_its_type_and_citation() {
    let cases = [
        ("public-health", Some("IfSG § 25"), "GDPR Art. 17(3)(c)"),
        (
            "research",
            Some("Protocol 7"),
            "GDPR Art. 17(3)(d), Art. 89(1)",
        ),
        ("legal-claims", None, "GDPR Art. 17(3)(e)"),
        ("statute", Some("§ 28 RöV"), "GDPR Art. 17(3)(b)"),
        ("non-automated-archive", None, "§ 35(1) BDSG"),
        ("subject-interests", None, "§ 35(2) BDSG"),
        ("bylaw-or-contract", Some("Satzung § 4"), "§ 35(3) BDSG"),
    ];
    for (ground, source, cite) in cases {
        let source = source.map_or(String::new(), |s| format!("source = \"{s}\"\n"));
        let text = file(&format!(
            "id = \"f\"\nscope = \"subject\"\nground = \"{ground}\"\n{source}by = \"dpo-1\"\nreason = \"{SECRET}\"\n"
        ));
        let f = FindingsFile::from_toml(&text).unwrap();
        let g = &f.findings[0].ground;
        assert_eq!(g.name(), ground);
        assert_eq!(g.citation().as_str(), cite);
        let findings = f.to_findings();
        let sys = SystemName::new("pacs").unwrap();
        let rec = RecordId::new("r1").unwrap();
        let n = findings.exemptions_for(&sys, &rec).count()
            + findings.obstacles_for(&sys, &rec).count();
        assert_eq!(n, 1, "{ground}");
    }
}

#[test]
fn the_reason_is_never_shown() {
    let text = file(&format!(
        "id = \"f\"\nscope = \"subject\"\nground = \"legal-claims\"\nby = \"dpo-1\"\nreason = \"{SECRET}\"\n"
    ));
    let f = FindingsFile::from_toml(&text).unwrap();
    assert_eq!(f.findings[0].reason.expose(), SECRET);
    assert!(!format!("{f:?}").contains("CANARY"));
    // A broken file: the error names the line, not the text.
    let broken = file(&format!(
        "id = \"f\"\nscope = \"subject\"\nground = \"legal-claims\"\nby = \"dpo-1\"\nreason = {SECRET}\n"
    ));
    let err = FindingsFile::from_toml(&broken).unwrap_err().to_string();
    assert!(!err.contains("CANARY") && !err.contains("HIV"), "{err}");
    assert!(err.contains("line 8"), "{err}");
}

#[test]
fn wrong_findings_are_refused_naming_the_finding() {
    for (body, expect) in [
        (
            "id = \"a\"\nscope = \"record\"\nsystem = \"pacs\"\nground = \"legal-claims\"\nby = \"d\"\nreason = \"x\"\n",
            "finding a: scope `record` takes",
        ),
        (
            "id = \"b\"\nscope = \"subject\"\nground = \"public-health\"\nby = \"d\"\nreason = \"x\"\n",
            "finding b: ground `public-health` needs a `source`",
        ),
        (
            "id = \"c\"\nscope = \"subject\"\nground = \"legal-claims\"\nsource = \"s\"\nby = \"d\"\nreason = \"x\"\n",
            "takes no `source`",
        ),
        (
            "id = \"d\"\nscope = \"subject\"\nground = \"gut-feeling\"\nby = \"d\"\nreason = \"x\"\n",
            "`ground` is not one of",
        ),
        (
            "id = \"e\"\nscope = \"subject\"\nground = \"legal-claims\"\nby = \"d\"\nreason = \" \"\n",
            "`reason` must be given",
        ),
        (
            "id = \"bad id\"\nscope = \"subject\"\nground = \"legal-claims\"\nby = \"d\"\nreason = \"x\"\n",
            "finding #1",
        ),
        (
            "id = \"f\"\nscope = \"everything\"\nground = \"legal-claims\"\nby = \"d\"\nreason = \"x\"\n",
            "`scope` is one of",
        ),
    ] {
        let err = FindingsFile::from_toml(&file(body))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{err}");
    }
    let twice = format!(
        "{}\n[[finding]]\nid = \"a\"\nscope = \"subject\"\nground = \"legal-claims\"\nby = \"d\"\nreason = \"x\"\n",
        file(
            "id = \"a\"\nscope = \"subject\"\nground = \"legal-claims\"\nby = \"d\"\nreason = \"x\"\n"
        )
    );
    let err = FindingsFile::from_toml(&twice).unwrap_err().to_string();
    assert!(err.contains("given twice"), "{err}");
    let v2 = FindingsFile::from_toml("version = 2\n").unwrap_err();
    assert!(matches!(
        v2,
        RequestError::UnsupportedVersion { found: 2, .. }
    ));
}

#[test]
fn a_system_finding_covers_that_system_only() {
    let text = file(
        "id = \"s\"\nscope = \"system\"\nsystem = \"pacs\"\nground = \"legal-claims\"\nby = \"d\"\nreason = \"x\"\n",
    );
    let f = FindingsFile::from_toml(&text).unwrap();
    let findings = f.to_findings();
    let (pacs, ehr) = (
        SystemName::new("pacs").unwrap(),
        SystemName::new("ehr").unwrap(),
    );
    let r = RecordId::new("r1").unwrap();
    assert_eq!(findings.exemptions_for(&pacs, &r).count(), 1);
    assert_eq!(findings.exemptions_for(&ehr, &r).count(), 0);
    f.check_scopes(&[&pacs], |_, _| false, "NL").unwrap();
    let err = f.check_scopes(&[&ehr], |_, _| false, "NL").unwrap_err();
    assert!(err.to_string().contains("finding s"), "{err}");
}

#[test]
fn scopes_are_checked_against_what_exists() {
    let text = file(
        "id = \"r\"\nscope = \"record\"\nsystem = \"pacs\"\nrecord = \"r1\"\nground = \"subject-interests\"\nby = \"d\"\nreason = \"x\"\n",
    );
    let f = FindingsFile::from_toml(&text).unwrap();
    let pacs = SystemName::new("pacs").unwrap();
    let ehr = SystemName::new("ehr").unwrap();
    let r1 = RecordId::new("r1").unwrap();
    let has = |s: &SystemName, r: &RecordId| *s == pacs && *r == r1;
    f.check_scopes(&[&pacs], has, "DE").unwrap();
    f.check_scopes(&[&pacs], has, "DE-HH").unwrap();
    let err = f.check_scopes(&[&ehr], has, "DE").unwrap_err().to_string();
    assert!(
        err.contains("finding r") && err.contains("no system pacs"),
        "{err}"
    );
    let err = f.check_scopes(&[&pacs], |_, _| false, "DE").unwrap_err();
    assert!(err.to_string().contains("no record r1"), "{err}");
    let err = f.check_scopes(&[&pacs], has, "NL").unwrap_err();
    assert!(
        err.to_string().contains("§ 35(2) BDSG is German law"),
        "{err}"
    );
}
