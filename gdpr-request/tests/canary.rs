//! No patient identifier in anything a request prints or stores: outcomes,
//! errors, `Debug`, the request file (sealed), the journal (locate results
//! sealed), the register, the certificate; restriction and lifting; the
//! errors after the request key is shredded.

mod support;

use gdpr_core::request::Event;
use gdpr_request::{Error, FileRegister, RestrictionRegister};
use support::*;

fn assert_clean(what: &str, text: &str) {
    for id in [TARGET, OTHER, "Synthetic^Patient"] {
        assert!(!text.contains(id), "{what} shows a patient value: {text}");
    }
}

#[tokio::test]
async fn no_identifier_in_outcomes_errors_debug_or_files() {
    let fx = Fixture::new();
    approved_erasure(&fx, "dsr-c").await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-c", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();
    assert_clean("outcome Debug", &format!("{outcome:?}"));
    assert_clean("outcome JSON", &serde_json::to_string(&outcome).unwrap());
    let cert =
        gdpr_request::certificate::issue(ex.dir(), &log, &fx.signer(), jiff::Timestamp::now())
            .unwrap();
    assert_clean("certificate", &serde_json::to_string(&cert).unwrap());
    assert_clean("certificate Debug", &format!("{cert:?}"));
    let dir = ex.dir().path().to_owned();
    for file in [
        "request.json",
        "journal.jsonl",
        "outcome.json",
        "assessment.json",
    ] {
        assert_clean(file, &std::fs::read_to_string(dir.join(file)).unwrap());
    }
    let register = FileRegister::open(&fx.path("register")).unwrap();
    assert_clean("register", &format!("{:?}", register.entries().unwrap()));

    let none = register
        .lookup(&pacs(), &record_id(TARGET, 1))
        .await
        .unwrap();
    assert_eq!(none, None);
    drop(ex);

    gdpr_request::RequestDir::create(&fx.path("requests"), &request("dsr-d", erasure())).unwrap();
    // Errors: a run in the wrong stage, a step the request model refuses.
    let mut ex = open(&fx, "dsr-d", log, None).await;
    let err = ex.run().await.unwrap_err();
    assert!(matches!(err, Error::WrongStage { .. }));
    assert_clean("error", &format!("{err} {err:?}"));
    let err = ex.step(Event::Approved).await.unwrap_err();
    assert!(matches!(err, Error::Request(_)), "{err}");
    assert_clean("error", &format!("{err} {err:?}"));
    let journal =
        std::fs::read_to_string(ex.dir().path().join("journal.jsonl")).unwrap_or_default();
    assert!(journal.is_empty(), "a refused step left a journal record");
}

#[tokio::test]
async fn no_identifier_in_restriction_lifting_or_after_shredding() {
    let fx = Fixture::new();
    approved_request(&fx, "dsr-r", restriction()).await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-r", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();
    assert_clean("restriction outcome", &format!("{outcome:?}"));
    assert_clean(
        "restriction outcome JSON",
        &serde_json::to_string(&outcome).unwrap(),
    );
    assert_clean("request Debug", &format!("{:?}", ex.request()));
    let cert =
        gdpr_request::certificate::issue(ex.dir(), &log, &fx.signer(), jiff::Timestamp::now())
            .unwrap();
    assert_clean(
        "restriction certificate",
        &serde_json::to_string(&cert).unwrap(),
    );
    let register = FileRegister::open(&fx.path("register")).unwrap();
    let in_force = register
        .in_force(&pacs(), &record_id(TARGET, 1))
        .await
        .unwrap();
    assert_eq!(in_force.len(), 1);
    assert_clean("register entry Debug", &format!("{in_force:?}"));
    assert_clean(
        "register file",
        &std::fs::read_to_string(fx.path("register/restrictions.jsonl")).unwrap(),
    );
    let dir = ex.dir().path().to_owned();
    for file in ["request.json", "journal.jsonl", "outcome.json"] {
        assert_clean(file, &std::fs::read_to_string(dir.join(file)).unwrap());
    }
    drop(ex);

    // After the key is shredded: a new step is refused, cleanly.
    gdpr_request::RequestDir::create(&fx.path("requests"), &request("dsr-x", erasure())).unwrap();
    let keys = gdpr_request::sealing::RequestKeys::at(&fx.path("requests"));
    assert!(
        keys.shred(&gdpr_core::request::RequestId::new("dsr-x").unwrap())
            .unwrap()
    );
    let dir = gdpr_request::RequestDir::open(
        &fx.path("requests"),
        &gdpr_core::request::RequestId::new("dsr-x").unwrap(),
    )
    .unwrap();
    let request = dir.load_request().unwrap();
    assert!(request.subjects().is_empty());
    let err = dir.save_request(&request).unwrap_err();
    assert!(matches!(err, Error::Shredded), "{err}");
    assert_clean("shredded error", &format!("{err} {err:?}"));
    // A setup derived from a shredded request names no audit subject.
    let err = gdpr_request::Setup::for_request(actor("dpo-1"), &request).unwrap_err();
    assert_clean("no audit subject", &format!("{err} {err:?}"));
}

#[tokio::test]
async fn no_identifier_in_the_access_report_or_the_subject_log() {
    use gdpr_audit::report::StaffIdentities;
    use gdpr_request::package::access::read_subject_log;
    let fx = Fixture::new();
    approved_request(&fx, "dsr-ac", gdpr_core::request::RequestKind::Access).await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-ac", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();
    assert_clean("access outcome", &format!("{outcome:?}"));
    let package = ex.dir().path().join(gdpr_request::PACKAGE_DIR);
    for file in [
        gdpr_request::package::ACCESS_REPORT_JSON,
        gdpr_request::package::ACCESS_REPORT_HTML,
        "manifest.json",
    ] {
        assert_clean(file, &std::fs::read_to_string(package.join(file)).unwrap());
    }
    let subject = gdpr_core::subject::PatientId::new(TARGET).unwrap();
    let read = read_subject_log(
        log.store(),
        &*log.keys(),
        &subject,
        StaffIdentities::Include,
    )
    .unwrap();
    assert!(!read.report.entries.is_empty());
    assert_clean("subject log Debug", &format!("{read:?}"));
    assert_clean(
        "subject log JSON",
        &serde_json::to_string(&read.report).unwrap(),
    );
}
