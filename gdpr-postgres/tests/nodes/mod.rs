//! A shared deployment in miniature for the two-node tests: a folder
//! store with two patients and the requests' directory on disk that both
//! nodes see, and one tenant on the real PostgreSQL for the audit log (its
//! records and subject keys), the journal and the register. A node is an
//! executor with connections of its own.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gdpr_audit::{CheckpointPolicy, Signer};
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
use gdpr_postgres::{
    KekRing, LeaseSettings, NodeName, PgAuditLog, PgConfig, PgJournal, PgRegister,
};
use gdpr_request::{BoundaryHook, Executor, Holds, RequestDir, RequestLog, Resources, Setup};

pub const TARGET: &str = "CANARY-NODES-7731";
pub const OTHER: &str = "OTHER-NODES-2";
pub const ID: &str = "dsr-nodes";
const UID_ROOT: &str = "1.2.826.0.1.3680043.10.543";
const PACK: &str = include_str!("../../../docs/samples/imaging-pack.toml");

/// The studies: (folder, patient, study number, date).
const STUDIES: [(&str, &str, u32, &str); 4] = [
    ("due", TARGET, 1, "19900105"),
    ("held", TARGET, 2, "19900106"),
    ("recent", TARGET, 3, "20240107"),
    ("other", OTHER, 1, "19900105"),
];

pub struct Site {
    root: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub config: PgConfig,
}

impl Site {
    /// A fresh site for the tenant of `config` (whose password is
    /// `password`, kept in a 0600 file for child nodes).
    pub fn new(config: PgConfig, password: &str) -> Self {
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
        let signer = Signer::generate("hospital.example/audit").unwrap();
        std::fs::write(
            tmp.path().join("secret.key"),
            signer.to_secret_text().as_str(),
        )
        .unwrap();
        write_private(&tmp.path().join("tenant.password"), password);
        write_private(&tmp.path().join("kek"), &KekRing::generate_line(1).unwrap());
        Self {
            root: tmp.path().to_owned(),
            _tmp: Some(tmp),
            config,
        }
    }

    /// The site another process made in `root`, as tenant `role`.
    pub fn at(root: &Path, role: &str) -> Self {
        let config = crate::support::owner()
            .user(role)
            .password_file(&root.join("tenant.password"))
            .unwrap();
        Self {
            root: root.to_owned(),
            _tmp: None,
            config,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.root.join(p)
    }

    pub fn signer(&self) -> Signer {
        Signer::parse(&std::fs::read_to_string(self.path("secret.key")).unwrap()).unwrap()
    }

    /// The tenant's audit log on PostgreSQL, opened as one more writer
    /// (its own connections; verified when opened).
    pub fn log(&self) -> Arc<PgAuditLog> {
        let kek = KekRing::load(&self.path("kek")).unwrap();
        Arc::new(
            PgAuditLog::open(
                &self.config,
                kek,
                self.signer(),
                CheckpointPolicy::default(),
            )
            .unwrap(),
        )
    }

    /// Every file of the archive, with its bytes.
    pub fn files(&self, folder: &str) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(self.path("archive").join(folder)) {
            for e in entries {
                let p = e.unwrap().path();
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
        out
    }

    /// A node: claims the request as `node` (waiting as `lease` says) and
    /// opens its executor over its own store, journal and register
    /// connections, sharing the site's files, recording in `log`.
    pub async fn node(
        &self,
        node: &str,
        lease: LeaseSettings,
        log: Arc<PgAuditLog>,
        hook: Option<BoundaryHook>,
    ) -> Result<(Executor, i64), gdpr_postgres::PgError> {
        let id = RequestId::new(ID).unwrap();
        let journal = PgJournal::claim(&self.config, &id, &NodeName::new(node)?, lease).await?;
        let epoch = journal.epoch();
        let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
        stores.insert(
            pacs(),
            Box::new(FolderStore::open("pacs", self.path("archive")).unwrap()),
        );
        let resources = Resources::new(
            Arc::new(journal),
            stores,
            log,
            Arc::new(self.signer()),
            Arc::new(PgRegister::open(&self.config).await?),
        );
        let dir = RequestDir::open(&self.path("requests"), &id).unwrap();
        let setup = Setup::new(actor("dpo-1"), PatientId::new(TARGET).unwrap());
        let ex = Executor::open(dir, resources, setup, hook).await.unwrap();
        Ok((ex, epoch))
    }

    /// Creates the erasure request and takes it to `approved` on node
    /// `setup` (assessed by dpo-1, approved by dpo-2), journaled in
    /// PostgreSQL like the rest.
    pub async fn approved_erasure(&self) {
        self.approved(RequestKind::Erasure {
            ground: ErasureGround::ConsentWithdrawn,
        })
        .await;
    }

    /// As [`Site::approved_erasure`], for an objection to every purpose
    /// (GDPR Art. 21): it acts on no system, only on the register.
    pub async fn approved_objection(&self) {
        self.approved(RequestKind::Objection {
            purposes: Vec::new(),
        })
        .await;
    }

    async fn approved(&self, kind: RequestKind) {
        RequestDir::create(&self.path("requests"), &request(kind)).unwrap();
        let (mut ex, _) = self.node("setup", quick(), self.log(), None).await.unwrap();
        ex.step(Event::IdentityVerified).await.unwrap();
        if matches!(ex.request().kind(), RequestKind::Erasure { .. }) {
            let on = jiff::civil::date(2026, 3, 2);
            ex.assess(&pack(), &Findings::none(), &holds(), on)
                .await
                .unwrap();
        } else {
            // Nothing to decide per record: the assessment is the step.
            ex.step(Event::Assessed).await.unwrap();
        }
        ex.step_by(Event::Approved, actor("dpo-2")).await.unwrap();
    }
}

fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A 1 s lease, waiting up to a minute for another node's.
pub fn quick() -> LeaseSettings {
    LeaseSettings::new(Duration::from_secs(1), Duration::from_secs(60)).unwrap()
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

fn request(kind: RequestKind) -> DataSubjectRequest {
    let mut subjects = SubjectMap::new();
    subjects.insert(pacs(), PatientId::new(TARGET).unwrap().into());
    DataSubjectRequest::receive(
        RequestId::new(ID).unwrap(),
        kind,
        subjects,
        ApprovalPolicy::SecondActor,
        jiff::Timestamp::now(),
        ActorId::new("clerk").unwrap(),
    )
}

fn pack() -> RulePack {
    RulePack::from_toml(PACK).unwrap()
}

fn record_id(patient: &str, n: u32) -> RecordId {
    let uid = SyntheticInstance::new(UID_ROOT, patient, n, 1, 1).study_uid;
    folder_study_id(&StudyUid::new(uid).unwrap())
}

fn holds() -> Holds {
    let mut h = Holds::new();
    h.insert(
        (pacs(), record_id(TARGET, 2)),
        HoldSet::EMPTY.with(LegalHold::Litigation),
    );
    h
}

/// The recorded times of the request's stage records in the log.
pub fn stage_records(log: &PgAuditLog) -> Vec<jiff::Timestamp> {
    use gdpr_audit::action::Action;
    use gdpr_audit::store::Entry;
    let mut out = Vec::new();
    log.read(&mut |store, _| {
        store.entries(&mut |_, e| {
            if let Entry::Record(bytes) = e {
                let r = gdpr_audit::record::Record::decode(&bytes).unwrap();
                if r.source().as_str() == gdpr_request::SOURCE && r.action() == Action::Execute {
                    out.push(r.recorded());
                }
            }
            Ok(())
        })?;
        Ok(())
    })
    .unwrap();
    out
}

/// The times of the request's transitions in its history.
pub fn history(site: &Site) -> Vec<jiff::Timestamp> {
    let id = RequestId::new(ID).unwrap();
    RequestDir::open(&site.path("requests"), &id)
        .unwrap()
        .load_request()
        .unwrap()
        .history()
        .transitions()
        .iter()
        .map(|t| t.at)
        .collect()
}
