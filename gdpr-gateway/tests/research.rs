//! A research caller through the gateway sees pseudonyms only: the same
//! keyed UIDs and patient pseudonym as gdpr-dicom's batch de-identifier
//! under the same project key, consistent across gateways; instances are
//! de-identified as they stream, one whose pixels may carry burned-in
//! text is withheld; identifying search keys are refused. Real Orthanc and
//! real OpenID provider (feature `gateway-tests`).
#![cfg(feature = "gateway-tests")]

mod support;

use gdpr_dicom::deid::Pseudonymiser;
use serde_json::Value;
use support::{Options, Tokens, Upstream, get, orthanc, project_key, provider, start, study};

const GATEWAY: &str = "urn:gdpr:gateway";

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn research_sees_the_batch_pseudonyms_only_and_burned_in_pixels_are_withheld() {
    let (o, p) = (orthanc(), provider());
    let pid = format!("CANARY-RES-{}", support::unique());
    let name = "Canary^Researched";
    let instances = study(&o, &pid, name, 1).await;
    let clean = &instances[0];
    let mut burned = clean.clone();
    burned.sop_uid = format!("{}.99", clean.series_uid);
    o.store_bytes(support::burned_in(&burned)).await;
    let dir = tempfile::tempdir().unwrap();
    let (key_file, key) = project_key(dir.path());
    let batch = Pseudonymiser::new(&key);
    let (ps_study, ps_series) = (batch.uid(&clean.study_uid), batch.uid(&clean.series_uid));
    let (ps_clean, ps_burned) = (batch.uid(&clean.sop_uid), batch.uid(&burned.sop_uid));

    let r = start(Options {
        key_file: Some(key_file.clone()),
        ..Options::default()
    })
    .await;
    let token = p.token("gw-research", GATEWAY).await;
    let by_patient = get(&r, &format!("/studies?PatientID={pid}"), &token).await;
    assert_eq!(by_patient.status(), 400, "searching by patient is refused");
    let unknown = get(
        &r,
        &format!("/studies/{}/metadata", clean.study_uid),
        &token,
    )
    .await;
    assert_eq!(unknown.status(), 404, "originals are not pseudonyms");

    let listed = get(&r, "/studies?ModalitiesInStudy=CT", &token).await;
    assert_eq!(listed.status(), 200);
    let text = listed.text().await.unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    let ours: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["0020000D"]["Value"][0] == ps_study.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "the study is listed under its pseudonym");
    assert_eq!(
        ours[0]["00100020"]["Value"][0],
        batch.patient_pseudonym("", &pid).as_str()
    );
    for value in [pid.as_str(), name, clean.study_uid.as_str()] {
        assert!(
            !text.contains(value),
            "identifying value in the search answer"
        );
    }

    // A pseudonym is known once the gateway has answered with it: the
    // series are found by a search below the study.
    let early = format!("/studies/{ps_study}/series/{ps_series}/metadata");
    assert_eq!(get(&r, &early, &token).await.status(), 404);
    let series_list: Value = get(&r, &format!("/studies/{ps_study}/series"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(series_list[0]["0020000E"]["Value"][0], ps_series.as_str());
    let meta = get(
        &r,
        &format!("/studies/{ps_study}/series/{ps_series}/metadata"),
        &token,
    )
    .await;
    assert_eq!(meta.status(), 200);
    let text = meta.text().await.unwrap();
    for value in [
        pid.as_str(),
        name,
        clean.study_uid.as_str(),
        clean.sop_uid.as_str(),
        o.url.as_str(),
    ] {
        assert!(
            !text.contains(value),
            "identifying value or upstream URL in the metadata"
        );
    }
    assert!(
        text.contains(&ps_clean) && text.contains(&ps_burned),
        "both instances described"
    );

    // The series: the clean instance de-identified, the burned-in one withheld.
    let series = get(
        &r,
        &format!("/studies/{ps_study}/series/{ps_series}"),
        &token,
    )
    .await;
    assert_eq!(series.status(), 200);
    let body = series.bytes().await.unwrap();
    assert!(contains(&body, &ps_clean), "the de-identified instance");
    assert!(
        !contains(&body, &ps_burned),
        "the burned-in instance is withheld"
    );
    for value in [pid.as_str(), name, clean.sop_uid.as_str()] {
        assert!(!contains(&body, value), "identifying value in the instance");
    }
    let frames =
        |sop: &str| format!("/studies/{ps_study}/series/{ps_series}/instances/{sop}/frames/1");
    let clean_frames = get(&r, &frames(&ps_clean), &token).await;
    assert_eq!(clean_frames.status(), 200, "{}", r.log());
    let refused = get(&r, &frames(&ps_burned), &token).await;
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("burned-in-annotation")
    );

    // Another gateway with the same key gives the same pseudonyms.
    let again = start(Options {
        key_file: Some(key_file),
        ..Options::default()
    })
    .await;
    let listed: Value = get(&again, "/studies?ModalitiesInStudy=CT", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["0020000D"]["Value"][0] == ps_study.as_str())
    );
    assert!(!r.log().contains(&pid) && !r.log().contains(&ps_study));
}
