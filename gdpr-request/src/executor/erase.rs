//! Erasure (Art. 17): assess every record found, erase exactly those
//! assessed `erase`, restrict the kept ones, verify, shred the subject's
//! audit key.

use std::collections::BTreeMap;
use std::sync::Arc;

use gdpr_core::request::{
    Assessment, Event, Findings, FindingsFile, FoundRecord, RecordAssessment, RecordOutcome,
    RequestId, RequestKind, Stage, SystemName, assess_erasure,
};
use gdpr_core::retention::{HoldSet, RulePack};
use gdpr_core::store::{
    ErasedItem, ErasureAttempt, ErasureReport, RecordHandle, RecordId, StoreError, SubjectRef,
    SubjectStore, Verification,
};
use jiff::civil::Date;
use tokio::task::JoinSet;

use super::Executor;
use super::audit::{self, AuditRecord};
use super::outcome::{KeptRecord, RestrictedIn, RunOutcome, SystemOutcome};
use super::steps::{Steps, retry};
use crate::Error;
use crate::journal::StepKey;
use crate::register::{RestrictionEntry, RestrictionRegister};
use crate::request_dir::OUTCOME_FILE;

/// Legal holds on records, by system and record id.
pub type Holds = BTreeMap<(SystemName, RecordId), HoldSet>;

/// Checks `file` against the `located` records and `pack`'s jurisdiction.
fn check_against(
    file: &FindingsFile,
    pack: &RulePack,
    located: &[(SystemName, Vec<RecordHandle>)],
) -> Result<(), Error> {
    let systems: Vec<&SystemName> = located.iter().map(|(n, _)| n).collect();
    let holds = |system: &SystemName, record: &RecordId| {
        located
            .iter()
            .any(|(n, hs)| n == system && hs.iter().any(|h| h.id() == record))
    };
    file.check_scopes(&systems, holds, pack.jurisdiction().as_str())?;
    Ok(())
}

/// One system's share of the work, owned so that it can run on its own task.
struct Job {
    name: SystemName,
    subject: SubjectRef,
    store: Arc<dyn SubjectStore>,
    records: Vec<RecordAssessment>,
    steps: Steps,
    register: Arc<dyn RestrictionRegister>,
    request: RequestId,
    attempts: u32,
}

fn store_err(system: &SystemName) -> impl FnOnce(StoreError) -> Error + '_ {
    move |source| Error::store(system, source)
}

impl Executor {
    /// Finds every record on every system and assesses it
    /// ([`assess_erasure`]); saves the assessment and steps to `assessed`.
    ///
    /// # Errors
    /// [`Error::WrongStage`] for a request that is not an erasure;
    /// [`Error::Store`] when a system cannot be searched (nothing is
    /// assessed then: the assessment must list every record);
    /// [`Error::Request`].
    pub async fn assess(
        &mut self,
        pack: &RulePack,
        findings: &Findings,
        holds: &Holds,
        on: Date,
    ) -> Result<Assessment, Error> {
        self.assess_with_birth_date(pack, findings, holds, None, on)
            .await
    }

    /// As [`Self::assess`], with the subject's date of birth from the
    /// controller's own register (retention rules that count from it are
    /// then decided instead of left to a person).
    ///
    /// # Errors
    /// As [`Self::assess`].
    pub async fn assess_with_birth_date(
        &mut self,
        pack: &RulePack,
        findings: &Findings,
        holds: &Holds,
        birth_date: Option<Date>,
        on: Date,
    ) -> Result<Assessment, Error> {
        self.assess_found(
            pack,
            (findings, &FindingsFile::default()),
            holds,
            birth_date,
            on,
        )
        .await
    }

    /// As [`Self::assess_with_birth_date`], with the controller's findings
    /// from a findings file: each checked against what exists
    /// ([`Self::check_findings`]), then kept beside the assessment in
    /// `findings.json`, their reasons sealed under the request's key.
    ///
    /// # Errors
    /// As [`Self::assess`]; [`Error::Request`] with
    /// `RequestError::FindingDoesNotApply` naming a finding whose system or
    /// record does not exist (nothing is assessed then).
    pub async fn assess_with_findings(
        &mut self,
        pack: &RulePack,
        file: &FindingsFile,
        holds: &Holds,
        birth_date: Option<Date>,
        on: Date,
    ) -> Result<Assessment, Error> {
        let findings = file.to_findings();
        self.assess_found(pack, (&findings, file), holds, birth_date, on)
            .await
    }

    /// Checks the controller's findings against the request's systems, the
    /// records found on them (the journaled lookup that `assess` then
    /// reuses) and the pack's jurisdiction (§ 35 BDSG only in Germany).
    ///
    /// # Errors
    /// [`Error::Store`] when a system cannot be searched; [`Error::Request`]
    /// naming the first finding that does not apply.
    pub async fn check_findings(&self, file: &FindingsFile, pack: &RulePack) -> Result<(), Error> {
        check_against(file, pack, &self.locate_all().await?)
    }

    async fn assess_found(
        &mut self,
        pack: &RulePack,
        (findings, recorded): (&Findings, &FindingsFile),
        holds: &Holds,
        birth_date: Option<Date>,
        on: Date,
    ) -> Result<Assessment, Error> {
        let RequestKind::Erasure { ground } = *self.request.kind() else {
            return Err(self.wrong("an erasure request"));
        };
        let located = self.locate_all().await?;
        check_against(recorded, pack, &located)?;
        let mut found = Vec::new();
        for (name, handles) in located {
            for handle in handles {
                let key = (name.clone(), handle.id().clone());
                let mut record = FoundRecord::new(name.clone(), handle);
                record.holds = holds.get(&key).copied().unwrap_or(HoldSet::EMPTY);
                record.birth_date = birth_date;
                found.push(record);
            }
        }
        let assessment = assess_erasure(ground, &found, pack, findings, on)?;
        self.dir.save_findings(recorded, self.request.id())?;
        self.dir.save_assessment(&assessment)?;
        self.step(Event::Assessed).await?;
        Ok(assessment)
    }

    /// Locates the subject on every system at once, each as the journaled
    /// step `locate/<system>` that `run` reuses (so the systems are
    /// searched once for assessment and execution; a resumed or repeated
    /// assessment uses the same handles). Every record is re-checked right
    /// before its deletion, and verification searches afresh.
    async fn locate_all(&self) -> Result<Vec<(SystemName, Vec<RecordHandle>)>, Error> {
        let each = self.request.subjects().iter().map(|(name, subject)| {
            let store = &self.systems[name];
            let attempts = self.setup.attempts;
            async move {
                let key = StepKey::new(&["locate", name.as_str()])?;
                let handles = self
                    .steps
                    .run(key, || async {
                        retry(attempts, || store.locate(subject))
                            .await
                            .map_err(store_err(name))
                    })
                    .await?;
                Ok::<_, Error>((name.clone(), handles))
            }
        });
        // In the request's order of systems, whichever answers first.
        futures_util::future::try_join_all(each).await
    }

    pub(super) fn wrong(&self, needed: &'static str) -> Error {
        Error::WrongStage {
            stage: self.request.stage(),
            needed,
        }
    }

    /// Runs (or resumes) an approved erasure.
    pub(super) async fn run_erasure(&mut self) -> Result<RunOutcome, Error> {
        let assessment = self
            .dir
            .load_assessment()?
            .ok_or_else(|| self.wrong("an assessment (run `assess` first)"))?;
        if !assessment.is_decided() {
            return Err(self.wrong("every record decided (some wait for a person)"));
        }
        if self.request.stage() == Stage::Approved {
            self.step(Event::ExecutionStarted).await?;
        }
        let mut outcomes = self.each_system(&assessment, Job::erase).await;
        if self.request.stage() == Stage::Executing {
            self.step(Event::VerificationStarted).await?;
        }
        // Every system is verified, a failed one too: its residue is exact.
        let verified = self.each_system(&assessment, Job::verify).await;
        for (name, o) in &mut outcomes {
            if let Some(v) = verified.get(name) {
                o.report = v.report.clone();
                o.failure = o.failure.take().or_else(|| v.failure.clone());
            }
        }
        self.finish(outcomes.into_values().collect()).await
    }

    /// Runs `work` for every system concurrently; one failing system does
    /// not stop the others.
    async fn each_system<F, Fut>(
        &self,
        assessment: &Assessment,
        work: F,
    ) -> BTreeMap<SystemName, SystemOutcome>
    where
        F: Fn(Job) -> Fut,
        Fut: std::future::Future<Output = SystemOutcome> + Send + 'static,
    {
        let mut set = JoinSet::new();
        for (name, subject) in self.request.subjects().iter() {
            let job = Job {
                name: name.clone(),
                subject: subject.clone(),
                store: self.systems[name].clone(),
                records: assessment
                    .records
                    .iter()
                    .filter(|r| &r.system == name)
                    .cloned()
                    .collect(),
                steps: self.steps.clone(),
                register: self.register.clone(),
                request: self.request.id().clone(),
                attempts: self.setup.attempts,
            };
            set.spawn(work(job));
        }
        self.join_systems(set).await
    }

    /// Every system's outcome from `set`; a system whose task panicked is
    /// reported failed (nothing is claimed for it).
    pub(super) async fn join_systems(
        &self,
        mut set: JoinSet<SystemOutcome>,
    ) -> BTreeMap<SystemName, SystemOutcome> {
        let mut out = BTreeMap::new();
        while let Some(joined) = set.join_next().await {
            if let Ok(o) = joined {
                out.insert(o.system.clone(), o);
            }
        }
        for (name, _) in self.request.subjects().iter() {
            out.entry(name.clone()).or_insert_with(|| {
                let mut o = SystemOutcome::new(name.clone());
                o.failure = Some("the system's task stopped unexpectedly".into());
                o
            });
        }
        out
    }

    /// Ends the request (completed only when every system is), shreds the
    /// subject's audit key after a completed erasure, saves the outcome.
    pub(super) async fn finish(
        &mut self,
        systems: Vec<SystemOutcome>,
    ) -> Result<RunOutcome, Error> {
        let complete = systems.iter().all(SystemOutcome::is_complete);
        match self.request.stage() {
            Stage::Verifying if complete => self.step(Event::Completed).await?,
            Stage::Verifying => self.step(Event::PartiallyCompleted).await?,
            _ => {}
        }
        let mut records = self.audit_records().await?;
        // Read before the shredding below: it needs the subject's key.
        let notifications = self.notifications().await?;
        if self.request.stage() == Stage::Completed && self.is_erasure() {
            let (log, request, actor, subject) = (
                self.log.clone(),
                self.request.clone(),
                self.setup.actor.clone(),
                self.setup.audit_subject.clone(),
            );
            let key = StepKey::new(&["audit", audit::SHREDDED])?;
            let shredded: Option<AuditRecord> = self
                .steps
                .run(key, move || async move {
                    audit::shred(&*log, &request, &actor, &subject, jiff::Timestamp::now())
                })
                .await?;
            records.extend(shredded);
        }
        let outcome = RunOutcome {
            request: self.request.id().clone(),
            stage: self.request.stage(),
            systems,
            audit_records: records,
            replayed_steps: self.steps.replayed(),
            torn_tail: self.steps.replay().torn_tail,
            notifications,
        };
        self.dir
            .save(OUTCOME_FILE, &outcome, "write outcome.json")?;
        Ok(outcome)
    }

    fn is_erasure(&self) -> bool {
        matches!(self.request.kind(), RequestKind::Erasure { .. })
    }
}

impl Job {
    fn key(&self, parts: &[&str]) -> Result<StepKey, Error> {
        let mut all = vec![parts[0], self.name.as_str()];
        all.extend_from_slice(&parts[1..]);
        StepKey::new(&all)
    }

    fn failed(&self, e: &Error) -> SystemOutcome {
        let mut o = SystemOutcome::new(self.name.clone());
        o.failure = Some(e.to_string());
        o
    }

    /// Locates (journaled, so a resumed run uses the same handles), erases
    /// each record assessed `erase`, records the kept ones' restrictions.
    async fn erase(self) -> SystemOutcome {
        match self.try_erase().await {
            Ok(o) => o,
            Err(e) => self.failed(&e),
        }
    }

    async fn handles(&self) -> Result<Vec<RecordHandle>, Error> {
        let (store, subject, attempts) = (&self.store, &self.subject, self.attempts);
        self.steps
            .run(self.key(&["locate"])?, || async move {
                retry(attempts, || store.locate(subject))
                    .await
                    .map_err(store_err(&self.name))
            })
            .await
    }

    /// The located handles of the records assessed `erase`, in the
    /// assessment's order. A record assessed but not located (gone before
    /// the search) has nothing to erase: verification confirms it.
    fn to_erase(&self, handles: &[RecordHandle]) -> Vec<RecordHandle> {
        self.records
            .iter()
            .filter(|r| r.outcome == RecordOutcome::Erase)
            .filter_map(|r| handles.iter().find(|h| h.id() == &r.record).cloned())
            .collect()
    }

    /// Erases every record assessed `erase` as one journaled step
    /// (`erase/<system>`): the store re-checks each right before its
    /// deletion and handles derived copies once for all; a step re-run
    /// after a crash finds the erased ones gone (`already_absent`).
    async fn try_erase(&self) -> Result<SystemOutcome, Error> {
        let handles = self.handles().await?;
        let due = self.to_erase(&handles);
        if !due.is_empty() {
            let (store, subject, attempts) = (&self.store, &self.subject, self.attempts);
            let due = &due;
            let _attempt: ErasureAttempt = self
                .steps
                .run(self.key(&["erase"])?, || async move {
                    retry(attempts, || store.erase_records(subject, due))
                        .await
                        .map_err(store_err(&self.name))
                })
                .await?;
        }
        let mut out = SystemOutcome::new(self.name.clone());
        out.kept = self.restrict_kept().await?;
        Ok(out)
    }

    /// Records every kept record in the register, restricted to the
    /// purposes that keep it. A subject-wide mark on the system would stop
    /// those purposes too, so kept records always go to the register.
    async fn restrict_kept(&self) -> Result<Vec<KeptRecord>, Error> {
        let mut kept = Vec::new();
        for record in &self.records {
            let purposes = match &record.outcome {
                RecordOutcome::Keep { purposes } => purposes.clone(),
                RecordOutcome::RestrictInstead => Vec::new(),
                _ => continue,
            };
            let mut entry = RestrictionEntry::new(
                self.name.clone(),
                record.record.clone(),
                purposes.clone(),
                self.request.clone(),
                jiff::Timestamp::now(),
            );
            entry.citation = record
                .reasons
                .iter()
                .find(|r| r.applied)
                .map(|r| r.citation.clone());
            let register = &self.register;
            let key = self.key(&["restrict", record.record.as_str()])?;
            self.steps
                .run(key, || async move { register.record(&entry).await })
                .await?;
            kept.push(KeptRecord {
                record: record.record.clone(),
                outcome: record.outcome.name().to_owned(),
                purposes,
                reasons: record
                    .reasons
                    .iter()
                    .filter(|r| r.applied)
                    .cloned()
                    .collect(),
                restricted_in: RestrictedIn::Register,
            });
        }
        Ok(kept)
    }

    /// Verifies (journaled): what verification still finds of the subject,
    /// less the records kept on purpose, reconciled with every erasure.
    async fn verify(self) -> SystemOutcome {
        match self.try_verify().await {
            Ok(report) => {
                let mut o = SystemOutcome::new(self.name.clone());
                o.report = Some(report);
                o
            }
            Err(e) => self.failed(&e),
        }
    }

    async fn try_verify(&self) -> Result<ErasureReport, Error> {
        let handles = self.handles().await?;
        let mut attempted: Vec<ErasedItem> = Vec::new();
        let mut refused = Vec::new();
        if let Some(v) = self.steps.result(&self.key(&["erase"])?) {
            let a: ErasureAttempt =
                serde_json::from_value(v).map_err(Error::format("a journaled erasure"))?;
            attempted.extend(a.deleted);
            refused.extend(a.refused);
        }
        for record in self
            .records
            .iter()
            .filter(|r| r.outcome == RecordOutcome::Erase)
        {
            // A journal written before erasures were batched: one step per
            // record.
            let key = self.key(&["erase", record.record.as_str()])?;
            if let Some(v) = self.steps.result(&key) {
                let r: ErasureReport =
                    serde_json::from_value(v).map_err(Error::format("a journaled report"))?;
                for item in r.erased() {
                    if !attempted.iter().any(|a| a.id == item.id) {
                        attempted.push(item.clone());
                    }
                }
                refused.extend(r.refused().iter().cloned());
            }
        }
        let erased_handles = self.to_erase(&handles);
        let kept: Vec<&RecordId> = self
            .records
            .iter()
            .filter(|r| r.outcome != RecordOutcome::Erase)
            .map(|r| &r.record)
            .collect();
        let (store, subject, attempts) = (&self.store, &self.subject, self.attempts);
        let key = self.key(&["verify"])?;
        self.steps
            .run(key, || async move {
                let v = retry(attempts, || store.verify_erasure(subject, &erased_handles))
                    .await
                    .map_err(store_err(&self.name))?;
                Ok(ErasureReport::reconcile(
                    attempted,
                    refused,
                    without_kept(v, &kept),
                ))
            })
            .await
    }
}

/// The verification without the records kept on purpose (they are
/// reported as kept, with their reasons, not as residue).
fn without_kept(v: Verification, kept: &[&RecordId]) -> Verification {
    let remaining = v
        .remaining()
        .iter()
        .filter(|r| !kept.contains(&&r.id))
        .cloned()
        .collect();
    v.not_checked().iter().fold(
        Verification::new(remaining)
            .with_unreadable(v.unreadable().to_vec())
            .with_ignored(v.ignored()),
        |acc, nc| acc.with_not_checked(*nc),
    )
}
