//! The HTML for people: the package's summary and the certificate's page.
//! Hostile strings come out escaped, every letter of Art. 15(1) has its
//! section, nothing is loaded from outside, and fixed inputs give the
//! known answers `vectors/summary-v1.html` and `vectors/certificate-v1.html`
//! (made again with `GDPR_REQUEST_WRITE_VECTORS=1`; a change is reviewed as
//! a diff of those files).

use gdpr_core::category::RecordCategory;
use gdpr_core::request::{Disclosure, Recipient, RequestId};
use gdpr_core::ropa::{Controller, ErasureLimit, Record, Transfer};
use gdpr_core::store::{ExportManifest, ExportedRecord, ExportedStudy, RecordId, StudyUid};
use gdpr_request::Certificate;
use gdpr_request::render::certificate::render_certificate;
use gdpr_request::render::summary::{Notice, SummaryFacts, render_summary};

const HOSTILE: &str = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>&amp;";

fn notice(text: &str) -> Notice {
    Notice {
        controller: Controller {
            name: format!("Klinikum Nord {text}"),
            contact: "Nordstraße 1, 20000 Hamburg".into(),
            data_protection_officer: Some(format!("dpo@klinikum.example {text}")),
            ..Controller::default()
        },
        activities: vec![Record {
            name: format!("Radiology {text}"),
            purposes: vec![gdpr_core::purpose::Purpose::Diagnosis],
            data_categories: vec![RecordCategory::ImagingExamination],
            recipients: Some(vec![format!("referring physicians {text}")]),
            transfers: Some(vec![Transfer {
                destination: "Switzerland".into(),
                recipient: format!("Teleradiology AG {text}"),
                safeguards: "GDPR Art. 45 adequacy decision".into(),
            }]),
            erasure_time_limits: vec![ErasureLimit {
                category: RecordCategory::ImagingExamination,
                limit: format!("10 years after the examination {text}"),
                source: Some(gdpr_core::Citation::from_static("§ 630f(3) BGB")),
            }],
            ..Record::default()
        }],
        supervisory_authority: format!("HmbBfDI {text}"),
        sources: vec![format!("referral letter {text}")],
        automated_decision_making: None,
    }
}

fn export() -> ExportManifest {
    let at = jiff::Timestamp::from_second(1_767_225_600).unwrap();
    let system = gdpr_core::store::SystemIdentity::new("pacs", "folder", "/srv/archive");
    let mut m = ExportManifest::new(system, at);
    m.studies.push(ExportedStudy {
        folder: "DICOM/ST000001".into(),
        id: RecordId::new("study-0001").unwrap(),
        study_uid: StudyUid::new("1.2.3.4").unwrap(),
        study_date: Some(jiff::civil::date(2025, 3, 1)),
        modalities: vec!["CT".parse().unwrap()],
        category: RecordCategory::ImagingExamination,
        files: vec![],
    });
    m.records.push(ExportedRecord {
        id: RecordId::new("Observation-1").unwrap(),
        resource_type: None,
        category: RecordCategory::LabResult,
    });
    m
}

fn summary(text: &str) -> String {
    let request = RequestId::new("dsr-2026-0042").unwrap();
    let systems = vec![("pacs".to_owned(), export())];
    let disclosures = vec![Disclosure::new(
        Recipient::new(format!("Radiologie Dr. Beispiel {text}")).unwrap(),
        jiff::civil::date(2025, 3, 2),
        format!("CT report {text}"),
    )];
    let n = notice(text);
    render_summary(&SummaryFacts {
        request: &request,
        made: jiff::civil::date(2026, 1, 15),
        systems: &systems,
        disclosures: &disclosures,
        notice: &n,
    })
}

fn assert_self_contained(html: &str) {
    for bad in [
        "<script",
        "<img",
        "src=\"",
        "href=\"http",
        "url(",
        "@import",
        "<link",
        "<iframe",
    ] {
        assert!(!html.contains(bad), "{bad} in the page");
    }
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let html = summary(HOSTILE);
    assert_self_contained(&html);
    // Every place a value goes shows it escaped: title, heading, controller,
    // DPO, activity, recipient, what, kind of recipient, transfer, time
    // limit, authority, source.
    let escaped = "&lt;script&gt;alert('x')&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;";
    assert_eq!(html.matches(escaped).count(), 12, "{html}");
    assert!(!html.contains(HOSTILE));
}

#[test]
fn every_letter_of_art_15_1_has_its_section() {
    let html = summary("");
    for letter in 'a'..='h' {
        assert!(
            html.contains(&format!("id=\"art-15-1-{letter}\"")),
            "no section ({letter})"
        );
        assert!(
            html.contains(&format!("GDPR Art. 15(1)({letter})")),
            "no citation ({letter})"
        );
    }
    // The facts themselves are there, with their sources.
    for fact in [
        "Radiologie Dr. Beispiel",
        "2025-03-02",
        "10 years after the examination",
        "§ 630f(3) BGB",
        "HmbBfDI",
        "GDPR Art. 77",
        "2025-03-01",
        "GDPR Art. 45 adequacy decision",
    ] {
        assert!(html.contains(fact), "{fact} missing");
    }
}

fn known_answer(name: &str, html: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    if std::env::var("GDPR_REQUEST_WRITE_VECTORS").is_ok() {
        std::fs::write(&path, html).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        html, expected,
        "{name} changed: review the diff, then write it again"
    );
}

#[test]
fn the_summary_of_a_fixed_package_is_known() {
    known_answer("summary-v1.html", &summary(""));
}

#[test]
fn the_certificate_page_of_the_v1_vector_is_known() {
    let cert: Certificate =
        serde_json::from_str(include_str!("vectors/certificate-v1.json")).unwrap();
    let html = render_certificate(&cert);
    assert_self_contained(&html);
    assert!(html.contains("erased (verified gone)"));
    assert!(html.contains("Kept, and used only for these purposes"));
    known_answer("certificate-v1.html", &html);
}

#[test]
fn a_hostile_failure_text_in_a_certificate_is_escaped() {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("vectors/certificate-v1.json")).unwrap();
    v["systems"][0]["failure"] = serde_json::Value::String(HOSTILE.into());
    let cert: Certificate = serde_json::from_value(v).unwrap();
    let html = render_certificate(&cert);
    assert_self_contained(&html);
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn the_access_report_escapes_and_names_staff_only_when_asked() {
    use gdpr_audit::report::{AccessEntry, SubjectReport};
    use gdpr_request::render::access::{AccessFacts, render_access_report};
    let request = RequestId::new("dsr-2026-0042").unwrap();
    let entry = AccessEntry {
        position: 7,
        recorded: jiff::Timestamp::from_second(1_795_000_000).unwrap(),
        event_type: gdpr_audit::action::EventType::DicomInstancesAccessed,
        action: gdpr_audit::action::Action::Read,
        outcome: gdpr_audit::action::Outcome::Success,
        purpose: gdpr_core::purpose::Purpose::Diagnosis,
        lawful_basis: gdpr_core::basis::LawfulBasis::SpecialCategory(
            gdpr_core::basis::HealthBasis::new(
                gdpr_core::basis::Art6Basis::Contract,
                gdpr_core::basis::Art9Condition::HealthCare,
            ),
        ),
        actor_role: gdpr_core::actor::Role::Radiographer,
        actor_id: Some(gdpr_core::actor::ActorId::new("mta-17").unwrap()),
        source: "PACS-1".into(),
        object_kind: Some(gdpr_audit::object::ObjectKind::Study),
    };
    let disclosures = vec![Disclosure::new(
        Recipient::new(format!("Praxis {HOSTILE}")).unwrap(),
        jiff::civil::date(2025, 3, 2),
        "study (care-coordination)",
    )];
    let page = |staff: bool| {
        let mut e = entry.clone();
        if !staff {
            e.actor_id = None;
        }
        let report = SubjectReport {
            citation: gdpr_core::Citation::from_static("GDPR Art. 15(1)(a), (c); CJEU C-579/21"),
            staff_identities: staff,
            entries: vec![e],
        };
        render_access_report(&AccessFacts {
            request: &request,
            report: &report,
            disclosures: &disclosures,
        })
    };
    let html = page(false);
    assert_self_contained(&html);
    assert!(!html.contains(HOSTILE));
    assert!(html.contains("&lt;script&gt;"));
    for fact in [
        "radiographer",
        "diagnosis",
        "GDPR Art. 6(1)(b), GDPR Art. 9(2)(h)",
        "PACS-1",
        "read (study)",
        "2025-03-02",
        "CJEU C-579/21",
    ] {
        assert!(html.contains(fact), "{fact} missing");
    }
    assert!(!html.contains("mta-17") && !html.contains("User id"));
    let named = page(true);
    assert!(named.contains("mta-17") && named.contains("User id"));
}
