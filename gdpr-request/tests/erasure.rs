//! An erasure request end to end on the folder store: two patients, a
//! record due, one under a legal hold, one under a running statute.

mod support;

use gdpr_audit::{Signer, verify_dir};
use gdpr_core::request::{RecordOutcome, Stage};
use gdpr_core::store::ItemStatus;
use gdpr_request::{Error, Fault, FileRegister, RestrictionRegister, verify_certificate};
use support::*;

#[tokio::test]
async fn erases_exactly_what_is_due_keeps_the_rest_restricted_and_certifies_it() {
    let fx = Fixture::new();
    let other_before = fx.other_files();
    approved_erasure(&fx, "dsr-1").await;
    let log = fx.log();
    let mut ex = open(&fx, "dsr-1", log.clone(), None).await;
    let outcome = ex.run().await.unwrap();

    assert_eq!(outcome.stage, Stage::Completed);
    let pacs_out = &outcome.systems[0];
    let report = pacs_out.report.as_ref().unwrap();
    assert!(report.is_verified());
    let items = report.items();
    assert_eq!(items.len(), 1, "only the due study was erased");
    assert_eq!(items[0].status, ItemStatus::Erased);
    assert!(!fx.path("archive/due").join("1.dcm").exists());
    assert!(fx.path("archive/held/1.dcm").exists());
    assert!(fx.path("archive/recent/1.dcm").exists());
    assert_eq!(
        fx.other_files(),
        other_before,
        "the other patient is untouched"
    );

    // The held and the recent study are kept, restricted in the register.
    let kept: Vec<_> = pacs_out.kept.iter().map(|k| k.record.clone()).collect();
    assert_eq!(kept, vec![record_id(TARGET, 2), record_id(TARGET, 3)]);
    let register = FileRegister::open(&fx.path("register")).unwrap();
    let held = register
        .lookup(&pacs(), &record_id(TARGET, 2))
        .await
        .unwrap();
    assert!(
        held.unwrap()
            .purposes
            .contains(&gdpr_core::purpose::Purpose::LegalClaims)
    );
    let due = register
        .lookup(&pacs(), &record_id(TARGET, 1))
        .await
        .unwrap();
    assert_eq!(due, None);

    // The certificate verifies offline; a tampered one does not.
    let cert =
        gdpr_request::certificate::issue(ex.dir(), &log, &fx.signer(), jiff::Timestamp::now())
            .unwrap();
    let events: Vec<&str> = cert
        .audit
        .records
        .iter()
        .map(|r| r.event.as_str())
        .collect();
    // Every transition, the receipt too, then the shredding, in log order.
    assert_eq!(
        events,
        [
            "received",
            "identity-verified",
            "assessed",
            "approved",
            "execution-started",
            "verification-started",
            "completed",
            "subject-key-shredded"
        ]
    );
    let assessed = cert.assessment.as_ref().unwrap();
    assert!(matches!(
        assessed.records[1].outcome,
        RecordOutcome::Keep { .. }
    ));
    let text = serde_json::to_vec_pretty(&cert).unwrap();
    let verifier = fx.signer().verifier();
    verify_certificate(&text, &verifier).unwrap();

    let mut forged: serde_json::Value = serde_json::from_slice(&text).unwrap();
    forged["systems"][0]["kept"] = serde_json::json!([]);
    let forged = serde_json::to_vec(&forged).unwrap();
    let err = verify_certificate(&forged, &verifier).unwrap_err();
    assert!(
        matches!(err, Error::Unverified(Fault::BadSignature)),
        "{err}"
    );

    let stranger = Signer::generate(ORIGIN).unwrap().verifier();
    let err = verify_certificate(&text, &stranger).unwrap_err();
    assert!(matches!(err, Error::Unverified(Fault::ForeignKey)), "{err}");

    // The audit log still verifies after the subject's key was shredded.
    drop(ex);
    drop(log);
    verify_dir(fx.path("audit"), &verifier, None).unwrap();
}

#[tokio::test]
async fn the_same_request_delivered_twice_is_created_once_and_run_once() {
    let fx = Fixture::new();
    approved_erasure(&fx, "dsr-2").await;
    let again =
        gdpr_request::RequestDir::create(&fx.path("requests"), &request("dsr-2", erasure()));
    assert!(matches!(again, Err(Error::Io { .. })));
    let log = fx.log();
    let first = open(&fx, "dsr-2", log.clone(), None)
        .await
        .run()
        .await
        .unwrap();
    let len = log.len();
    let second = open(&fx, "dsr-2", log.clone(), None)
        .await
        .run()
        .await
        .unwrap();
    assert_eq!(log.len(), len, "a second run writes nothing");
    assert_eq!(second, first, "reported once, the same");
}

#[tokio::test]
async fn a_run_before_approval_is_refused_and_changes_nothing() {
    let fx = Fixture::new();
    gdpr_request::RequestDir::create(&fx.path("requests"), &request("dsr-3", erasure())).unwrap();
    let before = support::files(&fx.path("archive"));
    let err = open(&fx, "dsr-3", fx.log(), None)
        .await
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WrongStage { .. }), "{err}");
    assert_eq!(support::files(&fx.path("archive")), before);
}
