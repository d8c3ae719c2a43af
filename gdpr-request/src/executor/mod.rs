//! The executor: a request's stages, its assessment and its execution on
//! every system, each step journaled and each transition audited.

mod audit;
mod erase;
mod export;
mod extend;
mod grounds;
mod manual;
mod outcome;
mod recipients;
mod refuse;
mod restrict;
mod steps;

use std::collections::BTreeMap;
use std::sync::Arc;

use gdpr_audit::{AuditContext, AuditSink, Audited, Signer};
use gdpr_core::actor::Actor;
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{Calendar, DataSubjectRequest, Event, RequestKind, Stage, SystemName};
use gdpr_core::store::SubjectStore;
use gdpr_core::subject::PatientId;

pub use audit::{AuditRecord, SHREDDED, SOURCE};
pub use erase::Holds;
pub use export::PACKAGE_DIR;
pub use grounds::GroundsOutcome;
pub use manual::SUBJECT_STATE_FILE;
pub use outcome::{KeptRecord, RestrictedIn, RestrictionDone, RunOutcome, SystemOutcome};
pub use steps::{BoundaryHook, Phase};

use crate::Error;
use crate::audit_log::RequestLog;
use crate::journal::{Journal, StepKey};
use crate::register::RestrictionRegister;
use crate::request_dir::RequestDir;
use steps::Steps;

/// Who executes, as whom the subject is known to the audit log, and how
/// hard to try.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Setup {
    /// The person or service acting (recorded in the history and the
    /// audit log).
    pub actor: Actor,
    /// The subject as the audit log knows it: its events are sealed under
    /// this subject's key, which an erasure shreds at the end. Derived
    /// from the request by [`Setup::for_request`]
    /// ([`SubjectMap::audit_subject`](gdpr_core::request::SubjectMap::audit_subject)),
    /// or named by the host.
    pub audit_subject: PatientId,
    /// Attempts per store operation while it fails transiently (at least 1).
    pub attempts: u32,
    /// What an access or portability package holds besides the exports.
    pub package: crate::package::PackageOptions,
}

impl Setup {
    /// Three attempts per operation.
    pub fn new(actor: Actor, audit_subject: PatientId) -> Self {
        Self {
            actor,
            audit_subject,
            attempts: 3,
            package: crate::package::PackageOptions::default(),
        }
    }

    /// Three attempts per operation; the audit subject derived from the
    /// request's subject map by its documented rule (a DICOM patient id,
    /// else a FHIR identifier, else a FHIR logical id scoped to its system),
    /// so a request on FHIR systems alone needs no DICOM id.
    ///
    /// # Errors
    /// [`Error::Request`] ([`RequestError::NoAuditSubject`](gdpr_core::request::RequestError::NoAuditSubject)).
    pub fn for_request(actor: Actor, request: &DataSubjectRequest) -> Result<Self, Error> {
        Ok(Self::new(actor, request.subjects().audit_subject()?))
    }
}

/// Executes one request on its systems.
pub struct Executor {
    dir: RequestDir,
    request: DataSubjectRequest,
    systems: BTreeMap<SystemName, Arc<dyn SubjectStore>>,
    log: Arc<dyn RequestLog>,
    signer: Arc<Signer>,
    register: Arc<dyn RestrictionRegister>,
    setup: Setup,
    steps: Steps,
}

/// What the executor is given besides the request directory.
#[non_exhaustive]
pub struct Resources {
    /// The journal of this request.
    pub journal: Arc<dyn Journal>,
    /// One store per system the request names (more are ignored).
    pub stores: BTreeMap<SystemName, Box<dyn SubjectStore>>,
    /// The audit log every transition and store operation is recorded in
    /// (the embedded `AuditLog`, or any other [`RequestLog`]).
    pub log: Arc<dyn RequestLog>,
    /// The key that signs manifests and certificates (the audit log's).
    pub signer: Arc<Signer>,
    /// Where restrictions go that a system cannot mark.
    pub register: Arc<dyn RestrictionRegister>,
}

impl Resources {
    /// Bundles the resources.
    pub fn new(
        journal: Arc<dyn Journal>,
        stores: BTreeMap<SystemName, Box<dyn SubjectStore>>,
        log: Arc<dyn RequestLog>,
        signer: Arc<Signer>,
        register: Arc<dyn RestrictionRegister>,
    ) -> Self {
        Self {
            journal,
            stores,
            log,
            signer,
            register,
        }
    }
}

impl Executor {
    /// Opens the request in `dir`, wrapping every store in [`Audited`]
    /// (events under the audit subject, correlated by the request id), and
    /// reads the journal.
    ///
    /// # Errors
    /// [`Error::UnknownSystem`] when the request names a system without a
    /// store; the errors of reading the request and the journal.
    pub async fn open(
        dir: RequestDir,
        resources: Resources,
        setup: Setup,
        hook: Option<BoundaryHook>,
    ) -> Result<Self, Error> {
        let request = dir.load_request()?;
        let Resources {
            journal,
            mut stores,
            log,
            signer,
            register,
        } = resources;
        let mut context = AuditContext::new(
            setup.actor.clone(),
            Purpose::DataSubjectRequest,
            // Answering a request is the controller's legal obligation
            // (Art. 6(1)(c) with Art. 12, 15, 17, 20).
            LawfulBasis::Ordinary {
                art6: Art6Basis::LegalObligation,
            },
        )
        .with_subject(setup.audit_subject.clone());
        context.correlation_id = Some(audit::correlation(request.id())?);
        let sink: Arc<dyn AuditSink> = log.clone();
        let mut systems = BTreeMap::new();
        for (name, _) in request.subjects().iter() {
            let store = stores.remove(name).ok_or_else(|| Error::UnknownSystem {
                system: name.to_string(),
            })?;
            let audited = Audited::new(store, sink.clone(), context.clone())
                .map_err(|source| Error::store(name, source))?;
            systems.insert(name.clone(), Arc::new(audited) as Arc<dyn SubjectStore>);
        }
        let replay = journal.replay().await?;
        let sealer = steps::Sealer {
            keys: crate::sealing::RequestKeys::at(dir.path().parent().unwrap_or(dir.path())),
            request: request.id().clone(),
        };
        Ok(Self {
            dir,
            request,
            systems,
            log,
            signer,
            register,
            setup,
            steps: Steps::new(journal, replay, hook, sealer),
        })
    }

    /// The request as it stands.
    pub fn request(&self) -> &DataSubjectRequest {
        &self.request
    }

    /// The request's directory.
    pub fn dir(&self) -> &RequestDir {
        &self.dir
    }

    /// Takes a stage step by the executor's actor: journaled, saved, and
    /// written to the audit log. Already taken (after a crash): nothing
    /// happens again.
    ///
    /// # Errors
    /// The request model's refusal ([`Error::Request`]); [`Error::Audit`],
    /// [`Error::Io`].
    pub async fn step(&mut self, event: Event) -> Result<(), Error> {
        let actor = self.setup.actor.clone();
        self.step_by(event, actor).await
    }

    /// As [`Self::step`], by another actor (the approver under four eyes).
    ///
    /// # Errors
    /// As [`Self::step`].
    pub async fn step_by(&mut self, event: Event, actor: Actor) -> Result<(), Error> {
        if matches!(event, Event::Extended { .. }) {
            // Checked against the calendar by `extend`, before any trace.
            return Err(self.wrong("an extension given through Executor::extend"));
        }
        self.take(event, actor, None).await
    }

    /// [`Self::step_by`] without its guard; `calendar` checks an extension.
    async fn take(
        &mut self,
        event: Event,
        actor: Actor,
        calendar: Option<&Calendar>,
    ) -> Result<(), Error> {
        // A stage step a killed process left begun (say `assessed`, its
        // audit record appended) is journaled before another is recorded:
        // its record is looked for before the next one moves the fence.
        self.complete_begun_stages().await?;
        let key = StepKey::new(&["stage", event.name()])?;
        let taken = self
            .request
            .history()
            .transitions()
            .iter()
            .any(|t| t.event == event);
        // Refused before anything is journaled: an illegal step leaves no trace.
        if !taken
            && self.steps.result(&key).is_none()
            && event.next_stage(self.request.stage()).is_none()
        {
            return Err(gdpr_core::request::RequestError::IllegalTransition {
                from: self.request.stage(),
                step: event.name(),
            }
            .into());
        }
        // The receipt is in the history from the start; its audit record is
        // written before the first step taken here.
        if event != Event::Received {
            let receipt = StepKey::new(&["stage", Event::Received.name()])?;
            let by = self.setup.actor.clone();
            self.record(receipt, Event::Received, by, None).await?;
        }
        self.record(key, event, actor, calendar).await
    }

    /// Takes `event` (unless the history holds it) and writes its audit
    /// record, as journaled step `key`. The record is dated with the
    /// transition's own time; a step the journal holds as begun (the
    /// process died inside it) first looks for that record in the log, so
    /// a crash between the append and the journal's `done` leaves one
    /// record, not two.
    async fn record(
        &mut self,
        key: StepKey,
        event: Event,
        actor: Actor,
        calendar: Option<&Calendar>,
    ) -> Result<(), Error> {
        let steps = self.steps.clone();
        let rerun = matches!(
            steps.replay().steps.get(&key),
            Some(crate::journal::StepState::Begun)
        );
        let fence = self.audit_fence();
        // Strictly after the last transition: the time names the step.
        let next = self
            .last_at()
            .checked_add(jiff::SignedDuration::from_nanos(1))
            .unwrap_or_else(|_| self.last_at());
        let now = jiff::Timestamp::now().max(next);
        let request = &mut self.request;
        let (dir, log, subject) = (&self.dir, &self.log, &self.setup.audit_subject);
        let hook = steps.clone();
        let boundary = key.clone();
        steps
            .run(key, move || async move {
                // Taken before a crash that hit before the audit record:
                // the history already holds it, only the record is due.
                if !request
                    .history()
                    .transitions()
                    .iter()
                    .any(|t| t.event == event)
                {
                    match (&event, calendar) {
                        (Event::Extended { extension }, Some(cal)) => {
                            request.extend(extension.clone(), cal, actor.id.clone(), now)?
                        }
                        _ => request.step(event.clone(), actor.id.clone(), now)?,
                    };
                    dir.save_request(request)?;
                }
                let at = request
                    .history()
                    .transitions()
                    .iter()
                    .find(|t| t.event == event)
                    .map_or(now, |t| t.at);
                if rerun
                    && let Some(found) =
                        audit::find_transition(&**log, request.id(), event.name(), at, fence)?
                {
                    return Ok(found);
                }
                let findings = if event == Event::Assessed {
                    dir.load_findings()?
                } else {
                    Vec::new()
                };
                let step = (&event, findings.as_slice());
                let record = audit::transition(&**log, request, step, &actor, subject, at)?;
                hook.boundary(&boundary, Phase::Recorded);
                Ok(record)
            })
            .await?;
        Ok(())
    }

    /// Finishes the stage steps a killed run left begun after the
    /// transition was saved: their audit record is found in the log (or
    /// written, as the transition's actor), and the journal records them
    /// done. Without this a resumed run would see the stage already taken
    /// and never journal its record.
    async fn complete_begun_stages(&mut self) -> Result<(), Error> {
        let begun: Vec<StepKey> = self
            .steps
            .replay()
            .steps
            .iter()
            .filter(|(k, v)| {
                k.as_str().starts_with("stage/") && matches!(v, crate::journal::StepState::Begun)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in begun {
            let taken = self
                .request
                .history()
                .transitions()
                .iter()
                .find(|t| key.as_str() == format!("stage/{}", t.event.name()))
                .cloned();
            if let Some(t) = taken {
                let actor = Actor {
                    id: t.actor,
                    ..self.setup.actor.clone()
                };
                self.record(key, t.event, actor, None).await?;
            }
        }
        Ok(())
    }

    /// The first log position a stage record not yet journaled can have:
    /// after every stage record the journal holds.
    fn audit_fence(&self) -> u64 {
        self.steps
            .replay()
            .steps
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("stage/"))
            .filter_map(|(k, _)| self.steps.replay().done(k))
            .filter_map(|v| v.get("position").and_then(serde_json::Value::as_u64))
            .map(|p| p + 1)
            .max()
            .unwrap_or(0)
    }

    /// Runs (or resumes after a crash) an approved request: erasure,
    /// access or portability. A resumed run takes every step the journal
    /// holds as done from the journal, and runs a step that began but did
    /// not finish again (the stores' operations are idempotent). An
    /// answered request returns its saved outcome and touches no system; a
    /// refused one ([`Self::refuse`]) its refusal's outcome.
    ///
    /// # Errors
    /// [`Error::WrongStage`] before approval or for another kind of
    /// request; [`Error::Audit`], [`Error::Io`] (nothing proceeds
    /// unrecorded). A failing system is not an error: it is reported in
    /// its [`SystemOutcome`] and the request ends partially completed.
    pub async fn run(&mut self) -> Result<RunOutcome, Error> {
        self.complete_begun_stages().await?;
        // Answered and its outcome saved: nothing runs again (the residue
        // of a partially completed request is a new request's work).
        if self.request.stage().is_answered()
            && self
                .dir
                .path()
                .join(crate::request_dir::OUTCOME_FILE)
                .exists()
        {
            return self
                .dir
                .load(crate::request_dir::OUTCOME_FILE, "outcome.json");
        }
        if self.request.stage() == Stage::Refused {
            // Refused, and stopped before its outcome was saved: no system
            // is acted on, the refusal is the answer.
            return self.refused_outcome().await;
        }
        let approved = matches!(
            self.request.stage(),
            Stage::Approved | Stage::Executing | Stage::Verifying
        ) || self.request.stage().is_answered()
            && self.request.stage() != Stage::Refused;
        if !approved {
            return Err(self.wrong("an approved request"));
        }
        match self.request.kind() {
            RequestKind::Erasure { .. } => self.run_erasure().await,
            RequestKind::Access | RequestKind::Portability => self.run_export().await,
            RequestKind::Restriction { ground } => self.run_restriction(Some(*ground)).await,
            RequestKind::LiftRestriction => self.run_restriction(None).await,
            RequestKind::Objection { .. } => self.run_objection().await,
            RequestKind::Rectification => Err(self.wrong(
                "a request run on its systems; a rectification is a manual task, declared done \
                 with Executor::complete_task (`gdpr request complete --task-done`)",
            )),
            _ => Err(self.wrong(
                "an erasure, access, portability, restriction, lifting or objection request",
            )),
        }
    }

    /// The request's own audit records so far (stage transitions), in log
    /// order, from the journal.
    pub(crate) async fn audit_records(&self) -> Result<Vec<AuditRecord>, Error> {
        let journal = self.steps.current().await?;
        let mut out = Vec::new();
        for key in journal.steps.keys() {
            if key.as_str().starts_with("stage/")
                && let Some(v) = journal.done(key)
            {
                out.push(
                    serde_json::from_value::<AuditRecord>(v.clone())
                        .map_err(Error::format("a journaled audit record"))?,
                );
            }
        }
        out.sort_by_key(|r| r.position);
        Ok(out)
    }

    fn last_at(&self) -> jiff::Timestamp {
        self.request
            .history()
            .transitions()
            .last()
            .map_or(jiff::Timestamp::UNIX_EPOCH, |t| t.at)
    }
}
