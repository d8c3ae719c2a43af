//! A folder store with two patients, an audit log and a request, on disk.
#![allow(dead_code)]

pub mod hooked;
pub mod kill;
pub mod stopping;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gdpr_audit::{AuditLog, Signer};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::erasure::ErasureGround;
use gdpr_core::request::{
    ApprovalPolicy, DataSubjectRequest, Event, Findings, RequestId, RequestKind, SubjectMap,
    SystemName,
};
use gdpr_core::retention::{HoldSet, LegalHold, RulePack};
use gdpr_core::store::{RecordId, StudyUid, SubjectStore};
use gdpr_core::subject::PatientId;
use gdpr_dicom::store::{FolderStore, folder_study_id};
use gdpr_dicom::synthetic::SyntheticInstance;
use gdpr_request::{
    BoundaryHook, Executor, FileJournal, FileRegister, Holds, RequestDir, Resources,
    RestrictionRegister, Setup,
};

pub const TARGET: &str = "CANARY-DSR-7731";
pub const OTHER: &str = "OTHER-DSR-2";
pub const UID_ROOT: &str = "1.2.826.0.1.3680043.10.543";
pub const ORIGIN: &str = "hospital.example/audit";

const PACK: &str = include_str!("../../../docs/samples/imaging-pack.toml");

pub struct Fixture {
    root: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub secret: String,
}

/// The studies of the fixture: (folder, patient, study number, date).
pub const STUDIES: [(&str, &str, u32, &str); 4] = [
    ("due", TARGET, 1, "19900105"),
    ("held", TARGET, 2, "19900106"),
    ("recent", TARGET, 3, "20240107"),
    ("other", OTHER, 1, "19900105"),
];

pub fn study_uid(patient: &str, n: u32) -> String {
    SyntheticInstance::new(UID_ROOT, patient, n, 1, 1).study_uid
}

pub fn record_id(patient: &str, n: u32) -> RecordId {
    folder_study_id(&StudyUid::new(study_uid(patient, n)).unwrap())
}

impl Fixture {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        for (folder, patient, n, date) in STUDIES {
            let dir = tmp.path().join("archive").join(folder);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 1..=2 {
                let mut inst = SyntheticInstance::new(UID_ROOT, patient, n, 1, i);
                inst.study_date = date.into();
                inst.write_to(&dir.join(format!("{i}.dcm"))).unwrap();
            }
        }
        let signer = Signer::generate(ORIGIN).unwrap();
        let secret = signer.to_secret_text().to_string();
        std::fs::write(tmp.path().join("secret.key"), &secret).unwrap();
        drop(AuditLog::create(tmp.path().join("audit"), signer).unwrap());
        Self {
            root: tmp.path().to_owned(),
            _tmp: Some(tmp),
            secret,
        }
    }

    /// The fixture another process made in `root`.
    pub fn at(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            _tmp: None,
            secret: std::fs::read_to_string(root.join("secret.key")).unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.root.join(p)
    }

    pub fn signer(&self) -> Signer {
        Signer::parse(&self.secret).unwrap()
    }

    pub fn log(&self) -> Arc<AuditLog> {
        Arc::new(AuditLog::open(self.path("audit"), self.signer()).unwrap())
    }

    /// Every file of the other patient, with its bytes.
    pub fn other_files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        files(&self.path("archive/other"))
    }
}

pub fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

pub fn actor(id: &str) -> Actor {
    Actor {
        id: ActorId::new(id).unwrap(),
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    }
}

pub fn pacs() -> SystemName {
    SystemName::new("pacs").unwrap()
}

pub fn request(id: &str, kind: RequestKind) -> DataSubjectRequest {
    let mut subjects = SubjectMap::new();
    subjects.insert(pacs(), PatientId::new(TARGET).unwrap().into());
    DataSubjectRequest::receive(
        RequestId::new(id).unwrap(),
        kind,
        subjects,
        ApprovalPolicy::SecondActor,
        jiff::Timestamp::now(),
        ActorId::new("clerk").unwrap(),
    )
}

pub fn erasure() -> RequestKind {
    RequestKind::Erasure {
        ground: ErasureGround::ConsentWithdrawn,
    }
}

pub fn pack() -> RulePack {
    RulePack::from_toml(PACK).unwrap()
}

pub fn holds() -> Holds {
    let mut h = Holds::new();
    h.insert(
        (pacs(), record_id(TARGET, 2)),
        HoldSet::EMPTY.with(LegalHold::Litigation),
    );
    h
}

/// A request on `systems` (each with the target patient), received now.
pub fn request_on(id: &str, systems: &[&SystemName]) -> DataSubjectRequest {
    let mut subjects = SubjectMap::new();
    for s in systems {
        subjects.insert((*s).clone(), PatientId::new(TARGET).unwrap().into());
    }
    DataSubjectRequest::receive(
        RequestId::new(id).unwrap(),
        erasure(),
        subjects,
        ApprovalPolicy::AnyActor,
        jiff::Timestamp::now(),
        ActorId::new("clerk").unwrap(),
    )
}

/// An executor of `dir` over the given stores, subject `subject`.
pub async fn open_with(
    fx: &Fixture,
    dir: &RequestDir,
    stores: BTreeMap<SystemName, Box<dyn SubjectStore>>,
    log: Arc<AuditLog>,
    subject: &str,
) -> Executor {
    open_hooked(fx, dir, stores, log, subject, None).await
}

async fn open_hooked(
    fx: &Fixture,
    dir: &RequestDir,
    stores: BTreeMap<SystemName, Box<dyn SubjectStore>>,
    log: Arc<AuditLog>,
    subject: &str,
    hook: Option<BoundaryHook>,
) -> Executor {
    let register = Arc::new(FileRegister::open(&fx.path("register")).unwrap());
    open_full(fx, dir, stores, (log, register), subject, hook).await
}

async fn open_full(
    fx: &Fixture,
    dir: &RequestDir,
    stores: BTreeMap<SystemName, Box<dyn SubjectStore>>,
    (log, register): (Arc<AuditLog>, Arc<dyn RestrictionRegister>),
    subject: &str,
    hook: Option<BoundaryHook>,
) -> Executor {
    let resources = Resources::new(
        Arc::new(FileJournal::open(dir.path()).unwrap()),
        stores,
        log,
        Arc::new(fx.signer()),
        register,
    );
    let setup = Setup::new(actor("dpo-1"), PatientId::new(subject).unwrap());
    Executor::open(dir.clone(), resources, setup, hook)
        .await
        .unwrap()
}

pub async fn open(
    fx: &Fixture,
    id: &str,
    log: Arc<AuditLog>,
    hook: Option<BoundaryHook>,
) -> Executor {
    let register = Arc::new(FileRegister::open(&fx.path("register")).unwrap());
    open_over(fx, id, log, register, hook).await
}

/// The executor of request `id` on the folder store (subject [`TARGET`])
/// over `register`.
pub async fn open_over(
    fx: &Fixture,
    id: &str,
    log: Arc<AuditLog>,
    register: Arc<dyn RestrictionRegister>,
    hook: Option<BoundaryHook>,
) -> Executor {
    let dir = RequestDir::open(&fx.path("requests"), &RequestId::new(id).unwrap()).unwrap();
    let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
    stores.insert(
        pacs(),
        Box::new(FolderStore::open("pacs", fx.path("archive")).unwrap()),
    );
    open_full(fx, &dir, stores, (log, register), TARGET, hook).await
}

/// Creates the erasure request `id` and takes it to `approved` (assessed
/// by dpo-1, approved by dpo-2).
pub async fn approved_erasure(fx: &Fixture, id: &str) {
    RequestDir::create(&fx.path("requests"), &request(id, erasure())).unwrap();
    let mut ex = open(fx, id, fx.log(), None).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    let on = jiff::civil::date(2026, 3, 2);
    ex.assess(&pack(), &Findings::none(), &holds(), on)
        .await
        .unwrap();
    ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
}

/// The recorded times of the request's stage records in the log (source
/// `gdpr-request`, action `execute`), in log order.
pub fn stage_records(log: &AuditLog) -> Vec<jiff::Timestamp> {
    use gdpr_audit::action::Action;
    use gdpr_audit::store::{Entry, EntrySource};
    let mut out = Vec::new();
    EntrySource::entries(log.store(), &mut |_, e| {
        if let Entry::Record(bytes) = e {
            let r = gdpr_audit::record::Record::decode(&bytes).unwrap();
            if r.source().as_str() == gdpr_request::SOURCE && r.action() == Action::Execute {
                out.push(r.recorded());
            }
        }
        Ok(())
    })
    .unwrap();
    out
}

/// Creates request `id` of `kind` on the folder store and takes it to
/// `approved` (no erasure assessment: identity verified, assessed,
/// approved by a second actor).
pub async fn approved_request(fx: &Fixture, id: &str, kind: RequestKind) {
    RequestDir::create(&fx.path("requests"), &request(id, kind)).unwrap();
    let mut ex = open(fx, id, fx.log(), None).await;
    ex.step(Event::IdentityVerified).await.unwrap();
    ex.step(Event::Assessed).await.unwrap();
    ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
}

/// An Art. 18(1)(a) restriction.
pub fn restriction() -> RequestKind {
    RequestKind::Restriction {
        ground: gdpr_core::restriction::RestrictionGround::AccuracyContested,
    }
}

/// The journal of request `id` as it is on disk; replaying it fails on a
/// step recorded done twice.
pub async fn journal(fx: &Fixture, id: &str) -> gdpr_request::journal::Replay {
    use gdpr_request::Journal;
    let dir = fx.path("requests").join(id);
    FileJournal::open(&dir).unwrap().replay().await.unwrap()
}

/// The state of step `step` (its key, `objection/register`) in the
/// journal of request `id` on disk.
pub async fn step_state(
    fx: &Fixture,
    id: &str,
    step: &str,
) -> Option<gdpr_request::journal::StepState> {
    let replay = journal(fx, id).await;
    let found = replay.steps.iter().find(|(k, _)| k.as_str() == step);
    found.map(|(_, v)| v.clone())
}
