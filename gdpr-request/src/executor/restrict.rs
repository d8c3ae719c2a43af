//! Restriction (Art. 18) and its lifting (Art. 18(3)): each system marks
//! the subject itself where it can (`SubjectStore::restrict`, read back by
//! the store), and the register records every record of the subject
//! either way, so hosts consult one place
//! ([`consult`](crate::register::consult)), plus one subject-wide entry
//! per system ([`subject_record`]) that covers records the system gains
//! later. Each step is journaled; a resumed run takes the done ones from
//! the journal.

use std::sync::Arc;

use gdpr_core::request::{Event, RequestId, Stage, SystemName};
use gdpr_core::restriction::{Restriction, RestrictionGround};
use gdpr_core::store::{RecordHandle, RecordId, RestrictionOutcome, SubjectRef, SubjectStore};
use jiff::Timestamp;
use tokio::task::JoinSet;

use super::Executor;
use super::outcome::{RestrictionDone, RunOutcome, SystemOutcome};
use super::steps::{Steps, retry};
use crate::Error;
use crate::journal::StepKey;
use crate::register::{RestrictionEntry, RestrictionRegister, subject_record};

/// One system's share of a restriction or a lifting.
struct Job {
    name: SystemName,
    subject: SubjectRef,
    store: Arc<dyn SubjectStore>,
    steps: Steps,
    register: Arc<dyn RestrictionRegister>,
    request: RequestId,
    /// `Some` to restrict on this ground, `None` to lift.
    ground: Option<RestrictionGround>,
    /// The subject-wide entry's record id (none when lifting for a
    /// subject without an audit-log key: nothing can be registered).
    subject_wide: Option<RecordId>,
    since: Timestamp,
    attempts: u32,
}

impl Executor {
    /// Runs (or resumes) an approved restriction (`Some(ground)`) or
    /// lifting (`None`) on every system concurrently.
    pub(super) async fn run_restriction(
        &mut self,
        ground: Option<RestrictionGround>,
    ) -> Result<RunOutcome, Error> {
        if self.request.stage() == Stage::Approved {
            self.step(Event::ExecutionStarted).await?;
        }
        // The restriction is in force from the start of execution (the
        // same instant on a resumed run: it is in the history).
        let since = self
            .request
            .history()
            .transitions()
            .iter()
            .find(|t| t.event == Event::ExecutionStarted)
            .map_or_else(Timestamp::now, |t| t.at);
        let subject_wide = self
            .log
            .subject_key(&self.setup.audit_subject, ground.is_some())?
            .map(|id| subject_record(&id));
        let mut set = JoinSet::new();
        for (name, subject) in self.request.subjects().iter() {
            let job = Job {
                subject_wide: subject_wide.clone(),
                name: name.clone(),
                subject: subject.clone(),
                store: self.systems[name].clone(),
                steps: self.steps.clone(),
                register: self.register.clone(),
                request: self.request.id().clone(),
                ground,
                since,
                attempts: self.setup.attempts,
            };
            set.spawn(job.run());
        }
        let systems = self.join_systems(set).await.into_values().collect();
        if self.request.stage() == Stage::Executing {
            self.step(Event::VerificationStarted).await?;
        }
        self.finish(systems).await
    }
}

impl Job {
    fn key(&self, parts: &[&str]) -> Result<StepKey, Error> {
        let mut all = vec![parts[0], self.name.as_str()];
        all.extend_from_slice(&parts[1..]);
        StepKey::new(&all)
    }

    async fn run(self) -> SystemOutcome {
        match self.try_run().await {
            Ok(o) => o,
            Err(e) => {
                let mut o = SystemOutcome::new(self.name.clone());
                o.failure = Some(e.to_string());
                o
            }
        }
    }

    async fn try_run(&self) -> Result<SystemOutcome, Error> {
        let (store, subject, attempts, name) =
            (&self.store, &self.subject, self.attempts, &self.name);
        let handles: Vec<RecordHandle> = self
            .steps
            .run(self.key(&["locate"])?, || async move {
                retry(attempts, || store.locate(subject))
                    .await
                    .map_err(|e| Error::store(name, e))
            })
            .await?;
        let restriction = self.ground.map(|g| Restriction::new(g, self.since));
        let mark: RestrictionOutcome = self
            .steps
            .run(self.key(&["mark"])?, || async move {
                let r = match &restriction {
                    Some(r) => retry(attempts, || store.restrict(subject, r)).await,
                    None => retry(attempts, || store.lift_restriction(subject)).await,
                };
                r.map_err(|e| Error::store(name, e))
            })
            .await?;
        let system_mark = match &mark {
            RestrictionOutcome::Marked { mark, .. } => Some(mark.clone()),
            _ => None,
        };
        for h in &handles {
            self.register_one(h.id(), system_mark.clone()).await?;
        }
        if let Some(wide) = &self.subject_wide {
            self.register_one(wide, system_mark.clone()).await?;
        }
        let mut in_register = 0;
        for h in &handles {
            let art18 = self
                .register
                .in_force(name, h.id())
                .await?
                .iter()
                .any(RestrictionEntry::is_art18);
            in_register += u64::from(art18 == self.ground.is_some());
        }
        let mut o = SystemOutcome::new(self.name.clone());
        if in_register != handles.len() as u64 {
            o.failure = Some(format!(
                "the register reads back {in_register} of {} records as asked",
                handles.len()
            ));
        } else if !self.subject_wide_as_asked().await? {
            o.failure =
                Some("the register does not read back the subject-wide entry as asked".into());
        }
        o.restriction = Some(RestrictionDone {
            lifted: self.ground.is_none(),
            system_mark,
            unsupported: match mark {
                RestrictionOutcome::Unsupported { reason } => Some(reason),
                _ => None,
            },
            register_records: in_register,
        });
        Ok(o)
    }

    /// Whether the subject-wide entry reads back as asked (in force after
    /// a restriction, not after a lifting).
    async fn subject_wide_as_asked(&self) -> Result<bool, Error> {
        let Some(wide) = &self.subject_wide else {
            return Ok(self.ground.is_none());
        };
        let art18 = self
            .register
            .in_force(&self.name, wide)
            .await?
            .iter()
            .any(RestrictionEntry::is_art18);
        Ok(art18 == self.ground.is_some())
    }

    /// Records (or lifts) the Art. 18 entry of one record (or of the
    /// subject as a whole), journaled.
    async fn register_one(&self, record: &RecordId, mark: Option<String>) -> Result<(), Error> {
        let (register, name) = (&self.register, &self.name);
        let entry = match self.ground {
            Some(ground) => {
                let mut e = RestrictionEntry::art18(
                    name.clone(),
                    record.clone(),
                    ground,
                    self.request.clone(),
                    self.since,
                );
                e.marked_on_system = mark;
                Some(e)
            }
            None => register
                .in_force(name, record)
                .await?
                .into_iter()
                .find(RestrictionEntry::is_art18)
                .map(|mut e| {
                    e.lifted = Some(self.since.max(e.since));
                    e
                }),
        };
        let Some(entry) = entry else {
            return Ok(()); // Nothing in force to lift.
        };
        let verb = if self.ground.is_some() {
            "restrict"
        } else {
            "lift"
        };
        let key = self.key(&[verb, record.as_str()])?;
        self.steps
            .run(key, || async move { register.record(&entry).await })
            .await
    }
}
