//! What the audit log says about the subject reaches the patient and the
//! recipients: the Art. 15 access report in the package (HTML and JSON,
//! listed and hashed in the signed manifest, staff by role), and the
//! Art. 19 recipients derived from the log's disclosure events — this
//! subject's only, never another subject's — in the summary, the outcome
//! and the certificate of an erasure and of a restriction.

mod support;

use gdpr_audit::AuditEvent;
use gdpr_audit::AuditLog;
use gdpr_audit::action::{Action, EventType};
use gdpr_audit::label::SourceSystem;
use gdpr_audit::object::{FreeText, ObjectId, ObjectKind, ObjectRef};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{Event, RequestKind, Stage};
use gdpr_core::subject::PatientId;
use gdpr_request::package::{ACCESS_REPORT_HTML, ACCESS_REPORT_JSON, SUMMARY_FILE, verify_package};
use gdpr_request::{PACKAGE_DIR, RequestDir, verify_certificate};
use support::*;

/// The staff id that must not reach the patient by default.
const STAFF: &str = "dr-hidden-4411";
/// Recipients of this subject's data.
const NAMED: &str = "Klinik Nord Radiologie";
/// A recipient of the other subject's data only.
const OTHERS: &str = "Praxis of the other patient";

fn at(day: i8) -> jiff::Timestamp {
    jiff::tz::TimeZone::UTC
        .to_timestamp(jiff::civil::date(2026, 2, day).at(10, 0, 0, 0))
        .unwrap()
}

fn event(patient: &str, action: Action, text: Option<&str>, day: i8) -> AuditEvent {
    let physician = Actor {
        id: ActorId::new(STAFF).unwrap(),
        role: Role::Physician,
        secrecy: Secrecy::None,
    };
    let care = LawfulBasis::SpecialCategory(HealthBasis::new(
        Art6Basis::Contract,
        Art9Condition::HealthCare,
    ));
    let mut b = AuditEvent::builder(
        EventType::DicomInstancesAccessed,
        action,
        physician,
        Purpose::CareCoordination,
        care,
        SourceSystem::new("PACS-1").unwrap(),
    )
    .subject(PatientId::new(patient).unwrap())
    .object(ObjectRef::new(
        ObjectKind::Study,
        ObjectId::new("1.2.3.4").unwrap(),
    ));
    if let Some(t) = text {
        b = b.text(FreeText::new(t).unwrap());
    }
    b.build(at(day))
}

/// The log before the request: a read and two disclosures of the target
/// (one naming its recipient, one not), and a disclosure of the other
/// patient to another recipient.
fn history(log: &AuditLog) {
    for e in [
        event(TARGET, Action::Read, None, 2),
        event(
            TARGET,
            Action::Disclosure,
            Some(&format!("referral {TARGET}\nrecipient: {NAMED}")),
            3,
        ),
        event(
            OTHER,
            Action::Disclosure,
            Some(&format!("recipient: {OTHERS}")),
            4,
        ),
        event(TARGET, Action::Disclosure, Some("to the tumour board"), 5),
    ] {
        log.append(&e).unwrap();
    }
}

fn assert_clean(what: &str, text: &str) {
    for v in [TARGET, OTHER, OTHERS, STAFF] {
        assert!(!text.contains(v), "{what} shows {v}");
    }
}

#[tokio::test]
async fn the_package_holds_the_access_report_and_the_logs_recipients() {
    let fx = Fixture::new();
    history(&fx.log());
    approved_request(&fx, "dsr-ar", RequestKind::Access).await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-ar", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();
    assert_eq!(outcome.stage, Stage::Completed);
    assert_clean("outcome", &format!("{outcome:?}"));

    let package = ex.dir().path().join(PACKAGE_DIR);
    let manifest = verify_package(&package, &fx.signer().verifier()).unwrap();
    for name in [ACCESS_REPORT_HTML, ACCESS_REPORT_JSON] {
        let listed = manifest.files.iter().find(|f| f.path == name);
        let listed = listed.unwrap_or_else(|| panic!("{name} is not in the manifest"));
        assert_eq!(
            listed.bytes,
            std::fs::metadata(package.join(name)).unwrap().len()
        );
    }

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(package.join(ACCESS_REPORT_JSON)).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["report"]["staff_identities"], false);
    let entries = json["report"]["entries"].as_array().unwrap();
    // The read, the two disclosures, and the request's own export events;
    // not the other patient's disclosure.
    let by_physician = entries
        .iter()
        .filter(|e| e["actor_role"] == "physician")
        .count();
    assert_eq!(by_physician, 3);
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "read" && e["purpose"] == "care-coordination")
    );
    assert!(entries.iter().all(|e| e.get("actor_id").is_none()));
    let recipients: Vec<&str> = json["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(
        recipients,
        [NAMED, gdpr_request::package::access::UNNAMED_RECIPIENT]
    );
    assert_eq!(json["disclosures"][0]["on"], "2026-02-03");
    assert_eq!(json["disclosures"][0]["what"], "study (care-coordination)");

    for file in [ACCESS_REPORT_JSON, ACCESS_REPORT_HTML, SUMMARY_FILE] {
        let text = std::fs::read_to_string(package.join(file)).unwrap();
        assert_clean(file, &text);
        assert!(text.contains(NAMED), "{file} does not name the recipient");
    }
    let html = std::fs::read_to_string(package.join(ACCESS_REPORT_HTML)).unwrap();
    assert!(html.contains("physician") && html.contains("C-579/21"));
    for file in ["journal.jsonl", "outcome.json"] {
        assert_clean(
            file,
            &std::fs::read_to_string(ex.dir().path().join(file)).unwrap(),
        );
    }
}

#[tokio::test]
async fn erasure_and_restriction_list_the_logs_recipients_for_notification() {
    let fx = Fixture::new();
    history(&fx.log());
    approved_erasure(&fx, "dsr-er").await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-er", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();
    let names: Vec<&str> = outcome
        .notifications
        .iter()
        .map(|n| n.recipient.as_str())
        .collect();
    assert_eq!(
        names,
        [NAMED, gdpr_request::package::access::UNNAMED_RECIPIENT]
    );
    assert_eq!(
        outcome.notifications[0].disclosures,
        [(
            jiff::civil::date(2026, 2, 3),
            "study (care-coordination)".to_owned()
        )]
    );
    assert_eq!(outcome.notifications[0].citation.as_str(), "GDPR Art. 19");
    // Enough for the recipient to act on: the category of data, the
    // instant and the system that disclosed it (no patient value).
    let detail = &outcome.notifications[0].details[0];
    assert_eq!(
        detail.category,
        Some(gdpr_core::category::RecordCategory::ImagingExamination)
    );
    assert_eq!(detail.on, jiff::civil::date(2026, 2, 3));
    assert!(detail.at.is_some() && detail.source.is_some(), "{detail:?}");
    assert_clean("outcome", &serde_json::to_string(&outcome).unwrap());

    let cert =
        gdpr_request::certificate::issue(ex.dir(), &log, &fx.signer(), jiff::Timestamp::now())
            .unwrap();
    let text = serde_json::to_vec(&cert).unwrap();
    let checked = verify_certificate(&text, &fx.signer().verifier()).unwrap();
    assert_eq!(checked.notifications, outcome.notifications);
    assert_clean("certificate", &String::from_utf8_lossy(&text));
    let page = gdpr_request::render::certificate::render_certificate(&cert);
    assert!(page.contains(NAMED) && page.contains("GDPR Art. 19"));
    assert!(page.contains("imaging-examination"), "{page}");
    assert_clean("certificate page", &page);
    drop(ex);

    // Resumed after the subject's key was shredded: the list comes from
    // the journal, unchanged.
    let mut again = open(&fx, "dsr-er", log.clone(), None).await;
    assert_eq!(
        again.run().await.unwrap().notifications,
        outcome.notifications
    );

    // A restriction of the other patient lists only the other's recipient.
    let mut subjects = gdpr_core::request::SubjectMap::new();
    subjects.insert(pacs(), PatientId::new(OTHER).unwrap().into());
    let other = gdpr_core::request::DataSubjectRequest::receive(
        gdpr_core::request::RequestId::new("dsr-rs").unwrap(),
        restriction(),
        subjects,
        gdpr_core::request::ApprovalPolicy::AnyActor,
        jiff::Timestamp::now(),
        ActorId::new("clerk").unwrap(),
    );
    let dir = RequestDir::create(&fx.path("requests"), &other).unwrap();
    let mut stores: std::collections::BTreeMap<_, Box<dyn gdpr_core::store::SubjectStore>> =
        std::collections::BTreeMap::new();
    stores.insert(
        pacs(),
        Box::new(gdpr_dicom::store::FolderStore::open("pacs", fx.path("archive")).unwrap()),
    );
    let mut ex = open_with(&fx, &dir, stores, log.clone(), OTHER).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    ex.step(Event::Assessed).await.unwrap();
    ex.step(Event::Approved).await.unwrap();
    let outcome = ex.run().await.unwrap();
    let names: Vec<&str> = outcome
        .notifications
        .iter()
        .map(|n| n.recipient.as_str())
        .collect();
    assert_eq!(names, [OTHERS]);
}
