//! One system failing does not stop the others: the request ends partially
//! completed with the exact residue, the certificate says so, and the
//! subject's audit key is kept (it is shredded only after a completed
//! erasure).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use gdpr_core::request::{Event, Findings, Stage, SystemName};
use gdpr_core::store::{StoreError, SubjectStore};
use gdpr_dicom::store::FolderStore;
use gdpr_request::{RequestDir, verify_certificate};
use support::hooked::{Hooked, When};
use support::*;

#[tokio::test]
async fn a_down_system_leaves_its_residue_and_the_other_completes() {
    let fx = Fixture::new();
    // A second archive holding a copy of the due study, on a system that is down.
    let mirror = fx.path("mirror");
    std::fs::create_dir_all(mirror.join("due")).unwrap();
    for f in ["1.dcm", "2.dcm"] {
        std::fs::copy(fx.path("archive/due").join(f), mirror.join("due").join(f)).unwrap();
    }
    let mirror_name = SystemName::new("mirror").unwrap();
    let req = request_on("dsr-f", &[&pacs(), &mirror_name]);
    let dir = RequestDir::create(&fx.path("requests"), &req).unwrap();
    let attempts = Arc::new(AtomicU32::new(0));
    let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
    stores.insert(
        pacs(),
        Box::new(FolderStore::open("pacs", fx.path("archive")).unwrap()),
    );
    let counter = attempts.clone();
    let down = Hooked {
        inner: FolderStore::open("mirror", &mirror).unwrap(),
        hook: Arc::new(move |when| {
            assert_eq!(when, When::Before, "nothing may be erased on the mirror");
            counter.fetch_add(1, Ordering::SeqCst);
            Err(StoreError::Transient {
                operation: "DELETE /studies/{id}",
                attempts: 1,
                detail: "connection refused".into(),
            })
        }),
    };
    stores.insert(mirror_name.clone(), Box::new(down));
    let log = fx.log();
    let mut ex = open_with(&fx, &dir, stores, log.clone(), TARGET).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    let on = jiff::civil::date(2026, 3, 2);
    ex.assess(&pack(), &Findings::none(), &holds(), on)
        .await
        .unwrap();
    ex.step(Event::Approved).await.unwrap();
    let outcome = ex.run().await.unwrap();

    assert_eq!(outcome.stage, Stage::PartiallyCompleted);
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "bounded retries");
    let by = |n: &SystemName| outcome.systems.iter().find(|s| &s.system == n).unwrap();
    assert!(by(&pacs()).is_complete());
    assert!(
        !fx.path("archive/due/1.dcm").exists(),
        "the working system erased"
    );
    let m = by(&mirror_name);
    assert!(m.failure.as_deref().unwrap().contains("connection refused"));
    let residue = m.report.as_ref().unwrap();
    assert!(!residue.is_verified());
    assert_eq!(residue.left().len(), 1, "exactly the due study is left");
    assert!(residue.erased().is_empty());

    let cert =
        gdpr_request::certificate::issue(&dir, &log, &fx.signer(), jiff::Timestamp::now()).unwrap();
    let text = serde_json::to_vec(&cert).unwrap();
    let cert = verify_certificate(&text, &fx.signer().verifier()).unwrap();
    let mirror_cert = cert
        .systems
        .iter()
        .find(|s| s.system == mirror_name)
        .unwrap();
    assert!(!mirror_cert.verified);
    assert!(
        mirror_cert
            .items
            .iter()
            .all(|i| i.status != gdpr_request::certificate::CertifiedStatus::Erased)
    );
    assert!(
        cert.audit
            .records
            .iter()
            .all(|r| r.event != gdpr_request::SHREDDED)
    );
}
