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
//! first. The raw side makes the checks the request must make (a search is
//! a hint; "erased" is verified), one call after the other. Orthanc:
//! `/tools/find` (case-sensitive) for the studies, each candidate's
//! `module-patient` (PatientID and issuer from its own data), the series
//! (modalities, for retention), each study re-read right before its
//! `DELETE`, the search again, one derived-copy scan (every remaining
//! study's and patient's metadata). FHIR: `Patient?identifier=`, the
//! compartment type by type (the server has no `$everything`, and nothing
//! tells either side which types hold the subject's data), each resource
//! re-read right before its `DELETE`; then the search again, each deleted
//! resource read and its `_history`, the compartment again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
use gdpr_request::journal::{Replay, StepKey};
use gdpr_request::{
    Executor, FileJournal, FileRegister, Holds, Journal, RequestDir, Resources, Setup,
};
use reqwest::Method;

const STUDIES: u32 = 50;
const OBSERVATIONS: usize = 499;
const ROUNDS: usize = 3;

/// Everything seeded is due: imaging and patient records 10 years after
/// the event, demographics (the Patient resource, which has no event date)
/// 10 years after the patient's last examination (a bench pack, not law;
/// a rule counts from one of the triggers of gdpr-core's `Trigger`:
/// event_date, treatment_end, last_visit, last_change, last_examination).
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
from = "last_examination"
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

    /// `POST /tools/find` at `level` for exactly `pid` (case-sensitive).
    async fn orthanc_find(&self, level: &str, pid: &str) -> serde_json::Value {
        let body = serde_json::json!({"Level": level, "Query": {"PatientID": pid},
            "Expand": true, "CaseSensitive": true});
        self.orthanc_json(Method::POST, "tools/find", &body.to_string())
            .await
    }

    /// Reads `GET /{level}` and then every resource's metadata: the
    /// derived-copy scan (Orthanc keeps no reverse index of
    /// AnonymizedFrom/ModifiedFrom).
    async fn orthanc_scan(&self, level: &str) {
        let all = self.orthanc_json(Method::GET, level, "").await;
        for id in all.as_array().unwrap() {
            let id = id.as_str().unwrap();
            self.orthanc_json(Method::GET, &format!("{level}/{id}/metadata?expand"), "")
                .await;
        }
    }

    /// The raw Orthanc part: find the studies (the search is a hint: each
    /// candidate's PatientID and issuer read from its own data), their
    /// series (modalities, for retention), each study re-read before its
    /// DELETE, then the search again and one derived-copy scan of the
    /// studies and patients left.
    async fn erase_orthanc(&self, pid: &str) {
        let studies = self.orthanc_find("Study", pid).await;
        let studies = studies.as_array().unwrap();
        assert_eq!(studies.len(), STUDIES as usize);
        for s in studies {
            let id = s["ID"].as_str().unwrap();
            let owner = self
                .orthanc_json(
                    Method::GET,
                    &format!("studies/{id}/module-patient?simplify"),
                    "",
                )
                .await;
            assert_eq!(owner["PatientID"], pid);
        }
        self.orthanc_find("Series", pid).await;
        for s in studies {
            let id = s["ID"].as_str().unwrap();
            let study = self
                .orthanc_json(Method::GET, &format!("studies/{id}"), "")
                .await;
            assert_eq!(study["PatientMainDicomTags"]["PatientID"], pid);
            assert_eq!(
                study["MainDicomTags"]["StudyInstanceUID"],
                s["MainDicomTags"]["StudyInstanceUID"]
            );
            self.orthanc_json(Method::DELETE, &format!("studies/{id}"), "")
                .await;
        }
        let after = self.orthanc_find("Study", pid).await;
        assert!(after.as_array().unwrap().is_empty(), "raw erase left data");
        self.orthanc_scan("studies").await;
        self.orthanc_scan("patients").await;
    }

    /// The previous baseline's Orthanc part (kept to show what the
    /// baseline change did): `/tools/lookup` (case-insensitive, no issuer
    /// check), the patient's studies, each re-read and deleted, the patient
    /// deleted, lookup again, the studies' metadata scan only.
    async fn erase_orthanc_previous(&self, pid: &str) {
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
        self.orthanc_scan("studies").await;
    }

    /// The previous baseline's FHIR part: the Observations alone (a type
    /// known in advance), read/DELETE/read/`_history` each, the Patient
    /// search again; no compartment search after.
    async fn erase_fhir_previous(&self, system: &str, value: &str) {
        let query = format!("Patient?identifier={system}|{value}");
        let patients = self.search_all(&query).await;
        let id = patients[0].trim_start_matches("Patient/");
        let mut all = self
            .search_all(&format!("Observation?subject=Patient/{id}&_count=100"))
            .await;
        assert_eq!(all.len(), OBSERVATIONS);
        all.push(patients[0].clone());
        for r in &all {
            self.fhir_json(Method::GET, r).await;
            self.fhir_json(Method::DELETE, r).await;
            self.fhir_json(Method::GET, r).await;
            self.fhir_json(Method::GET, &format!("{r}/_history")).await;
        }
        assert!(self.search_all(&query).await.is_empty());
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

    /// Every resource of the compartment of Patient `id` that a per-type
    /// search finds (the server has no `$everything`): the searches the
    /// request makes, since nothing tells it which types hold the
    /// subject's data.
    async fn compartment(&self, id: &str) -> Vec<String> {
        let reference = format!("Patient/{id}");
        let mut out = Vec::new();
        let own = gdpr_ehr::compartment::table::OWN
            .iter()
            .filter(|t| t.name != "Patient")
            .map(|t| (t.name, t.patient_paths[0]));
        for (kind, parameter) in own.chain(gdpr_ehr::compartment::SHARED_SEARCHES.iter().copied()) {
            out.extend(
                self.search_all(&format!("{kind}?{parameter}={reference}&_count=100"))
                    .await,
            );
        }
        out
    }

    /// The raw FHIR part: the Patient by identifier, its compartment type
    /// by type; each resource re-read right before its DELETE; then the
    /// search again, each deleted resource read and its `_history`, and the
    /// compartment searched again.
    async fn erase_fhir(&self, system: &str, value: &str) {
        let query = format!("Patient?identifier={system}|{value}");
        let patients = self.search_all(&query).await;
        assert_eq!(patients.len(), 1);
        let id = patients[0].trim_start_matches("Patient/").to_owned();
        let mut all = self.compartment(&id).await;
        assert_eq!(all.len(), OBSERVATIONS);
        all.push(patients[0].clone());
        for r in &all {
            // Re-read right before the deletion (the search is a hint).
            let current = self.fhir_json(Method::GET, r).await;
            assert!(current["resourceType"].is_string());
            self.fhir_json(Method::DELETE, r).await;
        }
        assert!(
            self.search_all(&query).await.is_empty(),
            "raw erase left data"
        );
        // Verified: unreadable, and what _history still serves.
        for r in &all {
            self.fhir_json(Method::GET, r).await;
            self.fhir_json(Method::GET, &format!("{r}/_history")).await;
        }
        assert!(
            self.compartment(&id).await.is_empty(),
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

/// The request's own journal, timed: every `begin` and `done` (each a
/// write and an `fdatasync`) is measured where the executor calls it.
struct TimedJournal {
    inner: FileJournal,
    nanos: AtomicU64,
    writes: AtomicU64,
}

impl TimedJournal {
    async fn timed<F: std::future::Future<Output = Result<(), gdpr_request::Error>>>(
        &self,
        f: F,
    ) -> Result<(), gdpr_request::Error> {
        let start = Instant::now();
        let r = f.await;
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(ns, Ordering::Relaxed);
        self.writes.fetch_add(1, Ordering::Relaxed);
        r
    }
}

#[async_trait::async_trait]
impl Journal for TimedJournal {
    async fn replay(&self) -> Result<Replay, gdpr_request::Error> {
        self.inner.replay().await
    }
    async fn begin(&self, step: &StepKey) -> Result<(), gdpr_request::Error> {
        self.timed(self.inner.begin(step)).await
    }
    async fn done(
        &self,
        step: &StepKey,
        result: &serde_json::Value,
    ) -> Result<(), gdpr_request::Error> {
        self.timed(self.inner.done(step, result)).await
    }
}

/// What one request took: its wall time, and its journal's writes and
/// their summed time.
struct RequestRun {
    wall: Duration,
    journal_writes: u64,
    journal_time: Duration,
}

/// The whole request; returns its wall time and its journal's cost.
async fn request(
    root: &std::path::Path,
    log: &Arc<AuditLog>,
    signer: &Arc<Signer>,
    stores: [Box<dyn SubjectStore>; 2],
    s: &Subject,
    id: &str,
) -> RequestRun {
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
    let journal = Arc::new(TimedJournal {
        inner: FileJournal::open(dir.path()).unwrap(),
        nanos: AtomicU64::new(0),
        writes: AtomicU64::new(0),
    });
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
    // Every record erased; Helios keeps deleted versions in _history and
    // offers no $expunge, so the request honestly ends partially
    // completed with those versions as its only residue.
    let mut erased = 0;
    for system in &outcome.systems {
        assert!(
            system.failure.is_none(),
            "{}: {:?}",
            system.system,
            system.failure
        );
        let report = system.report.as_ref().unwrap();
        // A resource whose earlier versions _history still serves is
        // deleted but reported as left, with that reason.
        erased += report.erased().len() + report.left().len();
        assert!(report.refused().is_empty());
        for left in report.left() {
            let why = left.reason.as_deref().unwrap_or_default();
            assert!(why.contains("_history"), "{}: {why}", system.system);
        }
    }
    assert!(erased > STUDIES as usize + OBSERVATIONS, "{erased}");
    gdpr_request::certificate::issue(&dir, log, signer, jiff::Timestamp::now()).unwrap();
    let wall = start.elapsed();
    let journal_writes = journal.writes.load(Ordering::Relaxed);
    assert_eq!(journal_writes, journal.replay().await.unwrap().records);
    RequestRun {
        wall,
        journal_writes,
        journal_time: Duration::from_nanos(journal.nanos.load(Ordering::Relaxed)),
    }
}

/// Median and spread (min–max) of `v`, in ms.
fn stats(v: &[Duration]) -> (f64, f64, f64) {
    median_min_max(v.iter().map(|d| d.as_secs_f64() * 1e3).collect())
}

/// Median, min and max of `v`.
fn median_min_max(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
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
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let (mut whole, mut rawt, mut journal) = (Vec::new(), Vec::new(), Vec::new());
    let mut previous = Vec::new();
    for round in 0..rounds {
        let tag = format!("{}{}", std::process::id(), round);
        let mk = |who: &str| Subject {
            pid: format!("BENCH-{who}-{tag}"),
            system: format!("urn:bench:{tag}"),
            value: format!("MRN-{who}-{tag}"),
        };
        let (a, b, c) = (mk("A"), mk("B"), mk("C"));
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
        let steps = w.journal_writes / 2;
        println!(
            "round {round}: request {:.0} ms, raw {:.0} ms, ratio {:.2}x; journal {} steps, {:.0} ms in its writes",
            w.wall.as_secs_f64() * 1e3,
            r.as_secs_f64() * 1e3,
            w.wall.as_secs_f64() / r.as_secs_f64(),
            steps,
            w.journal_time.as_secs_f64() * 1e3,
        );
        // The previous baseline, on a third subject seeded once the other
        // two are erased (so that every run's scans see the same server).
        seed(&raw, &uploader, &c, &format!("{tag}3")).await;
        let start = Instant::now();
        raw.erase_orthanc_previous(&c.pid).await;
        raw.erase_fhir_previous(&c.system, &c.value).await;
        previous.push(start.elapsed());
        whole.push(w.wall);
        rawt.push(r);
        journal.push(w);
    }
    let ratios: Vec<f64> = whole
        .iter()
        .zip(&rawt)
        .map(|(w, r)| w.as_secs_f64() / r.as_secs_f64())
        .collect();
    let (wm, wl, wh) = stats(&whole);
    let (rm, rl, rh) = stats(&rawt);
    let (qm, ql, qh) = median_min_max(ratios);
    let (pm, pl, ph) = stats(&previous);
    let (om, ol, oh) = median_min_max(
        whole
            .iter()
            .zip(&previous)
            .map(|(w, p)| w.as_secs_f64() / p.as_secs_f64())
            .collect(),
    );
    let per_step = median_min_max(
        journal
            .iter()
            .map(|j| j.journal_time.as_secs_f64() * 1e6 / (j.journal_writes as f64 / 2.0))
            .collect(),
    );
    let share = median_min_max(
        journal
            .iter()
            .map(|j| j.journal_time.as_secs_f64() / j.wall.as_secs_f64() * 100.0)
            .collect(),
    );
    println!(
        "request over 1 subject: {STUDIES} studies on Orthanc + {} FHIR resources on Helios, {rounds} rounds",
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
        "  previous baseline (lookup, Observations only; see the bench's docs)  median {pm:.0} ms  (min {pl:.0}, max {ph:.0}); ratio median {om:.2}x (min {ol:.2}, max {oh:.2})"
    );
    println!(
        "  journal, measured in the request: {} steps; per step (begin + done, each a write + fdatasync) median {:.0} µs (min {:.0}, max {:.0}); {:.1}% of the request's wall time (min {:.1}, max {:.1})",
        journal[0].journal_writes / 2,
        per_step.0,
        per_step.1,
        per_step.2,
        share.0,
        share.1,
        share.2
    );
}
