//! Shared resources on the real server (Helios HFS, scripts/fhir.sh): a
//! Group listing the subject and another patient is never deleted; the
//! subject's member entry is removed (conditional update with `If-Match`,
//! read back), the other member stays, and what the server still keeps of
//! the entry (earlier versions in `_history`) is reported as left.
//! Compiled with the feature `fhir-tests`; with it on and no server, they fail.
#![cfg(feature = "fhir-tests")]

mod support;

use gdpr_core::store::{DerivedPolicy, Item, ItemOutcome, ItemStatus, SubjectStore};
use serde_json::json;
use support::*;

/// Whether `item` is the resource named `id`.
fn is(item: &ItemOutcome<'_>, id: &str) -> bool {
    matches!(item.item, Item::Resource { id: r, .. } if r.as_str() == id)
}

/// How many versions in `Group/{id}/_history` name `patient`.
async fn versions_naming(server: &Server, group: &str, patient: &str) -> usize {
    let (status, bundle) = server.get(&format!("Group/{group}/_history")).await;
    assert_eq!(status, 200, "{bundle}");
    let needle = format!("Patient/{patient}");
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"].to_string().contains(&needle))
        .count()
}

#[tokio::test]
async fn a_group_keeps_its_other_member_and_loses_the_subjects_entry() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let other = planted.others[0].clone();
    let group = server
        .create(
            json!({"resourceType": "Group", "type": "person", "actual": true,
            "quantity": 2, "member": [
                {"entity": {"reference": format!("Patient/{}", planted.patient)}},
                {"entity": {"reference": format!("Patient/{other}")}}
            ]}),
        )
        .await;
    let store = store(&url, 3);
    let located = store.locate(&planted.by_identifier()).await.unwrap();
    let group_id = format!("Group:{group}");
    assert!(
        located.iter().any(|h| h.id().as_str() == group_id),
        "the Group is located as shared"
    );

    let report = store
        .erase_subject(&planted.by_identifier(), DerivedPolicy::Erase)
        .await
        .unwrap();

    // The Group is still there, with the other member only.
    let (status, now) = server.get(&format!("Group/{group}")).await;
    assert_eq!(status, 200, "the shared Group was deleted: {now}");
    let members = now["member"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{now}");
    assert_eq!(
        members[0]["entity"]["reference"],
        format!("Patient/{other}")
    );
    assert_eq!(now["quantity"], 1);
    // The erasure names the removed part, not the Group; whether it is
    // erased or left depends on what the server's history still serves.
    let part = format!("Group.member:{group}");
    let items = report.items();
    let item = items
        .iter()
        .find(|i| is(i, &part))
        .unwrap_or_else(|| panic!("no item for the Group's member entry: {items:?}"));
    assert!(
        !items
            .iter()
            .any(|i| is(i, &group_id) && i.status == ItemStatus::Erased)
    );
    let in_history = versions_naming(&server, &group, &planted.patient).await;
    if in_history > 0 {
        assert_eq!(item.status, ItemStatus::Left, "{item:?}");
        let reason = item.reason.unwrap();
        assert!(
            reason.contains("_history") && reason.contains("entry was removed"),
            "{reason}"
        );
        assert!(!report.is_verified());
    } else {
        assert_eq!(item.status, ItemStatus::Erased, "{item:?}");
    }

    // The verification of the located handles says the same of the Group.
    let verification = store
        .verify_erasure(&planted.by_id(), &located)
        .await
        .unwrap();
    let group_left = verification
        .remaining()
        .iter()
        .any(|r| r.id.as_str() == group_id);
    assert_eq!(group_left, in_history > 0);
    // The other member's own Patient is untouched.
    assert!(
        store
            .client()
            .read("Patient", &other)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_group_naming_only_the_subject_stays_without_members() {
    let url = fhir_url();
    let server = Server::new(&url);
    let planted = plant(&server).await;
    let group = server
        .create(
            json!({"resourceType": "Group", "type": "person", "actual": true,
            "member": [{"entity": {"reference": format!("Patient/{}", planted.patient)}}]}),
        )
        .await;
    let store = store(&url, 50);
    store
        .erase_subject(&planted.by_id(), DerivedPolicy::Erase)
        .await
        .unwrap();
    let (status, now) = server.get(&format!("Group/{group}")).await;
    assert_eq!(status, 200, "{now}");
    assert!(now.get("member").is_none(), "{now}");
}
