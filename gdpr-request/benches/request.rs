//! One erasure request over one subject with 50 studies on the real
//! Orthanc and 500 FHIR resources (a Patient and 499 Observations) on the
//! real Helios HFS: the whole request's wall time (receive, assess,
//! approve, run — locate, erase, verify on both systems, journal, audit
//! log, crypto-shredding — and the signed certificate) against the sum of
//! the raw HTTP calls the same work needs, same run, same servers. Also
//! the journal's cost per step. Run by scripts/bench_request.sh.
//!
//! Each round seeds two fresh subjects alike; one is erased by the
//! request, the other by plain reqwest calls, alternating which goes
//! first. The raw sequence: Orthanc `/tools/lookup`, the patient's
//! studies, each study's `PatientID` read back, `DELETE` each study and
//! the patient, lookup again; FHIR `Patient?identifier=`, the
//! Observations by subject (pages of 100), `DELETE` each resource, the
//! searches again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gdpr_audit::{AuditLog, Signer};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::erasure::ErasureGround;
use gdpr_core::request::{
    ApprovalPolicy, DataSubjectRequest, Event, Findings, RequestId, RequestKind, SubjectMap,
    SystemName,
};
use gdpr_core::retention::RulePack;
use gdpr_core::store::{FhirIdentifier, FhirSubject, SubjectRef, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{Credentials, OrthancConfig, OrthancStore, SecretSource};
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_ehr::store::{FhirConfig, FhirStore};
use gdpr_request::journal::StepKey;
use gdpr_request::{
    Executor, FileJournal, FileRegister, Holds, Journal, RequestDir, Resources, Setup,
};
use reqwest::Method;

const STUDIES: u32 = 50;
const OBSERVATIONS: usize = 499;
const ROUNDS: usize = 3;

/// Everything seeded is due: imaging and patient records 10 years after
/// the event, demographics 10 years after birth (a bench pack, not law).
const PACK: &str = r#"
jurisdiction = "DE"
name = "Bench"
convention = "month-end"
convention_source = "§§ 187(1), 188(2) BGB"

[[rule]]
id = "bench-imaging"
category = "imaging-examination"
years = 10
from = "event_date"
keeps_for = ["legal-claims"]
source = "§ 85(2) StrlSchG"
description = "bench"

[[rule]]
id = "bench-record"
category = "patient-record"
years = 10
from = "event_date"
keeps_for = ["legal-claims"]
source = "§ 630f(3) BGB"
description = "bench"

[[rule]]
id = "bench-demographics"
category = "demographics"
years = 10
from = "birth_date"
keeps_for = ["legal-claims"]
source = "§ 630f(3) BGB"
description = "bench"
"#;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run scripts/bench_request.sh, which starts the servers")
    })
}

struct Raw {
    http: reqwest::Client,
    orthanc: String,
    user: String,
    password: String,
    fhir: String,
}

impl Raw {
    async fn orthanc_json(&self, method: Method, path: &str, body: &str) -> serde_json::Value {
        let r = self
            .http
            .request(method, format!("{}/{path}", self.orthanc))
            .basic_auth(&self.user, Some(&self.password))
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        r.json().await.unwrap_or(serde_json::Value::Null)
    }

    async fn fhir_json(&self, method: Method, path: &str) -> serde_json::Value {
        let r = self
            .http
            .request(method, format!("{}/{path}", self.fhir))
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .unwrap();
        r.json().await.unwrap_or(serde_json::Value::Null)
    }

    /// The raw Orthanc part: lookup, studies, re-check, delete, verify.
    async fn erase_orthanc(&self, pid: &str) {
        let hits = self.orthanc_json(Method::POST, "tools/lookup", pid).await;
        let patient = hits[0]["ID"].as_str().unwrap().to_owned();
        let studies = self
            .orthanc_json(Method::GET, &format!("patients/{patient}/studies"), "")
            .await;
        for s in studies.as_array().unwrap() {
            let id = s["ID"].as_str().unwrap();
            let study = self
                .orthanc_json(Method::GET, &format!("studies/{id}"), "")
                .await;
            assert_eq!(study["PatientMainDicomTags"]["PatientID"], pid);
            self.orthanc_json(Method::DELETE, &format!("studies/{id}"), "")
                .await;
        }
        self.orthanc_json(Method::DELETE, &format!("patients/{patient}"), "")
            .await;
        let after = self.orthanc_json(Method::POST, "tools/lookup", pid).await;
        assert!(after.as_array().unwrap().is_empty(), "raw erase left data");
    }

    /// The ids of every resource a search finds, following `next` links.
    async fn search_all(&self, first: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut page = self.fhir_json(Method::GET, first).await;
        loop {
            for e in page["entry"].as_array().into_iter().flatten() {
                let r = &e["resource"];
                out.push(format!(
                    "{}/{}",
                    r["resourceType"].as_str().unwrap(),
                    r["id"].as_str().unwrap()
                ));
            }
            let next = page["link"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["relation"] == "next")
                .and_then(|l| l["url"].as_str())
                .map(str::to_owned);
            let Some(next) = next else { break };
            let r = self.http.get(next).send().await.unwrap();
            page = r.json().await.unwrap();
        }
        out
    }

    /// The raw FHIR part: find, list, delete, verify.
    async fn erase_fhir(&self, system: &str, value: &str) {
        let query = format!("Patient?identifier={system}|{value}");
        let patients = self.search_all(&query).await;
        assert_eq!(patients.len(), 1);
        let id = patients[0].trim_start_matches("Patient/");
        let mut all = self
            .search_all(&format!("Observation?subject=Patient/{id}&_count=100"))
            .await;
        assert_eq!(all.len(), OBSERVATIONS);
        all.push(patients[0].clone());
        for r in &all {
            self.fhir_json(Method::DELETE, r).await;
        }
        assert!(
            self.search_all(&query).await.is_empty(),
            "raw erase left data"
        );
    }
}

struct Subject {
    pid: String,
    system: String,
    value: String,
}

async fn seed(raw: &Raw, orthanc: &OrthancStore, s: &Subject, tag: &str) {
    for study in 1..=STUDIES {
        let root = format!("1.2.826.0.1.3680043.10.1234.8.{tag}");
        let mut inst = SyntheticInstance::new(&root, &s.pid, study, 1, 1);
        inst.study_date = "19900105".into();
        orthanc
            .store_instance(inst.to_bytes().unwrap())
            .await
            .unwrap();
    }
    let post = |body: serde_json::Value| {
        let kind = body["resourceType"].as_str().unwrap().to_owned();
        raw.http
            .post(format!("{}/{kind}", raw.fhir))
            .header("Content-Type", "application/fhir+json")
            .json(&body)
            .send()
    };
    let patient: serde_json::Value = post(serde_json::json!({"resourceType": "Patient",
        "identifier": [{"system": s.system, "value": s.value}], "birthDate": "1950-01-01"}))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let reference = format!("Patient/{}", patient["id"].as_str().unwrap());
    for chunk in (0..OBSERVATIONS).collect::<Vec<_>>().chunks(25) {
        let sends = chunk.iter().map(|_| {
            post(
                serde_json::json!({"resourceType": "Observation", "status": "final",
                "code": {"text": "bench"}, "subject": {"reference": reference},
                "effectiveDateTime": "1995-01-02"}),
            )
        });
        for r in futures_join(sends).await {
            assert_eq!(r.unwrap().status(), 201);
        }
    }
}

/// Awaits every future (in order), a few at a time.
async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = fs.collect();
    let mut out = Vec::with_capacity(handles.len());
    for f in handles {
        out.push(f.await);
    }
    out
}

fn dpo(id: &str) -> Actor {
    Actor {
        id: ActorId::new(id).unwrap(),
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    }
}

/// The whole request; returns its wall time and its journal's records.
async fn request(
    root: &std::path::Path,
    log: &Arc<AuditLog>,
    signer: &Arc<Signer>,
    stores: [Box<dyn SubjectStore>; 2],
    s: &Subject,
    id: &str,
) -> (Duration, u64) {
    let start = Instant::now();
    let (pacs, ehr) = (
        SystemName::new("pacs").unwrap(),
        SystemName::new("ehr").unwrap(),
    );
    let mut subjects = SubjectMap::new();
    subjects.insert(pacs.clone(), PatientId::new(&s.pid).unwrap().into());
    subjects.insert(
        ehr.clone(),
        SubjectRef::Fhir(FhirSubject::Identifier(
            FhirIdentifier::new(Some(s.system.clone()), s.value.clone()).unwrap(),
        )),
    );
    let req = DataSubjectRequest::receive(
        RequestId::new(id).unwrap(),
        RequestKind::Erasure {
            ground: ErasureGround::ConsentWithdrawn,
        },
        subjects,
        ApprovalPolicy::SecondActor,
        jiff::Timestamp::now(),
        ActorId::new("clerk").unwrap(),
    );
    let dir = RequestDir::create(&root.join("requests"), &req).unwrap();
    let [o, f] = stores;
    let mut map = BTreeMap::new();
    map.insert(pacs, o);
    map.insert(ehr, f);
    let journal = Arc::new(FileJournal::open(dir.path()).unwrap());
    let resources = Resources::new(
        journal.clone(),
        map,
        log.clone(),
        signer.clone(),
        Arc::new(FileRegister::open(&root.join("register")).unwrap()),
    );
    let setup = Setup::for_request(dpo("dpo-1"), &req).unwrap();
    let mut ex = Executor::open(dir.clone(), resources, setup, None)
        .await
        .unwrap();
    ex.step(Event::IdentityVerified).await.unwrap();
    let pack = RulePack::from_toml(PACK).unwrap();
    let today = jiff::civil::date(2026, 3, 2);
    let a = ex
        .assess(&pack, &Findings::none(), &Holds::new(), today)
        .await
        .unwrap();
    assert_eq!(a.records.len(), STUDIES as usize + OBSERVATIONS + 1);
    assert!(a.is_decided());
    ex.step_by(Event::Approved, dpo("dpo-2")).await.unwrap();
    let outcome = ex.run().await.unwrap();
    assert_eq!(
        outcome.stage,
        gdpr_core::request::Stage::Completed,
        "{outcome:?}"
    );
    gdpr_request::certificate::issue(&dir, log, signer, jiff::Timestamp::now()).unwrap();
    let elapsed = start.elapsed();
    let records = journal.replay().await.unwrap().records;
    (elapsed, records)
}

/// Median and spread (min–max) of `v`, in ms.
fn stats(v: &[Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = v.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[0], ms[ms.len() - 1])
}

/// One journaled step's own cost (begin + done, each synced), in µs.
async fn journal_step_cost(dir: &std::path::Path) -> f64 {
    std::fs::create_dir_all(dir).unwrap();
    let j = FileJournal::open(dir).unwrap();
    let n = 200;
    let result =
        serde_json::json!({"erased": [{"id": "study-0123456789abcdef0123", "kind": "study"}]});
    let start = Instant::now();
    for i in 0..n {
        let key = StepKey::new(&["erase", "pacs", &format!("study-{i}")]).unwrap();
        j.begin(&key).await.unwrap();
        j.done(&key, &result).await.unwrap();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orthanc_url = var("GDPR_TEST_ORTHANC_URL");
    let fhir_url = var("GDPR_TEST_FHIR_URL").trim_end_matches('/').to_owned();
    let password_file = var("GDPR_TEST_ORTHANC_PASSWORD_FILE");
    let orthanc = || {
        let mut c = OrthancConfig::new("pacs", &orthanc_url);
        c.endpoint.credentials = Credentials::basic(
            var("GDPR_TEST_ORTHANC_USER"),
            SecretSource::File(password_file.clone().into()),
        );
        OrthancStore::connect(&c).unwrap()
    };
    let fhir = || FhirStore::connect(&FhirConfig::new("ehr", &fhir_url)).unwrap();
    let uploader = orthanc();
    let raw = Raw {
        http: reqwest::Client::new(),
        orthanc: orthanc_url.trim_end_matches('/').to_owned(),
        user: var("GDPR_TEST_ORTHANC_USER"),
        password: std::fs::read_to_string(&password_file)
            .unwrap()
            .trim()
            .to_owned(),
        fhir: fhir_url.clone(),
    };
    let work = tempfile::tempdir().unwrap();
    let secret = Signer::generate("bench.example/audit")
        .unwrap()
        .to_secret_text();
    let signer = Arc::new(Signer::parse(&secret).unwrap());
    let log = Arc::new(
        AuditLog::create(work.path().join("audit"), Signer::parse(&secret).unwrap()).unwrap(),
    );
    let (mut whole, mut rawt, mut steps) = (Vec::new(), Vec::new(), 0);
    for round in 0..ROUNDS {
        let tag = format!("{}{}", std::process::id(), round);
        let mk = |who: &str| Subject {
            pid: format!("BENCH-{who}-{tag}"),
            system: format!("urn:bench:{tag}"),
            value: format!("MRN-{who}-{tag}"),
        };
        let (a, b) = (mk("A"), mk("B"));
        seed(&raw, &uploader, &a, &format!("{tag}1")).await;
        seed(&raw, &uploader, &b, &format!("{tag}2")).await;
        let raw_run = || async {
            let start = Instant::now();
            raw.erase_orthanc(&b.pid).await;
            raw.erase_fhir(&b.system, &b.value).await;
            start.elapsed()
        };
        let req_run = || async {
            request(
                work.path(),
                &log,
                &signer,
                [Box::new(orthanc()), Box::new(fhir())],
                &a,
                &format!("bench-{tag}"),
            )
            .await
        };
        let (w, r) = if round % 2 == 0 {
            let r = raw_run().await;
            (req_run().await, r)
        } else {
            let w = req_run().await;
            (w, raw_run().await)
        };
        println!(
            "round {round}: request {:.0} ms, raw {:.0} ms, ratio {:.2}x",
            w.0.as_secs_f64() * 1e3,
            r.as_secs_f64() * 1e3,
            w.0.as_secs_f64() / r.as_secs_f64()
        );
        whole.push(w.0);
        rawt.push(r);
        steps = w.1 / 2;
    }
    let ratios: Vec<Duration> = whole
        .iter()
        .zip(&rawt)
        .map(|(w, r)| Duration::from_secs_f64(w.as_secs_f64() / r.as_secs_f64() / 1e3))
        .collect();
    let (wm, wl, wh) = stats(&whole);
    let (rm, rl, rh) = stats(&rawt);
    let (qm, ql, qh) = stats(&ratios);
    let per_step = journal_step_cost(&work.path().join("journal-bench")).await;
    println!(
        "request over 1 subject: {STUDIES} studies on Orthanc + {} FHIR resources on Helios, {ROUNDS} rounds",
        OBSERVATIONS + 1
    );
    println!(
        "  whole request (receive .. certificate)  median {wm:>8.0} ms  (min {wl:.0}, max {wh:.0})"
    );
    println!(
        "  raw HTTP calls, same work (sum)         median {rm:>8.0} ms  (min {rl:.0}, max {rh:.0})"
    );
    println!(
        "  ratio request / raw                     median {qm:>8.2}x  (min {ql:.2}, max {qh:.2})  (target <= 1.3x)"
    );
    println!(
        "  journal: {steps} steps in this request; {per_step:.0} µs per step (begin + done, each fdatasync) = {:.0} ms, {:.1}% of the median request",
        per_step * steps as f64 / 1e3,
        per_step * steps as f64 / 1e3 / wm * 100.0
    );
}
