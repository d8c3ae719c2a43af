//! Access (Art. 15) and portability (Art. 20): every system exports into
//! the request's package, which gets a signed manifest.

use gdpr_core::request::{Event, Stage};

use super::Executor;
use super::outcome::{RunOutcome, SystemOutcome};
use super::steps::retry;
use crate::Error;
use crate::journal::StepKey;
use crate::package::{SEALED_PACKAGE, verify_package, write_manifest_with};
use crate::request_dir::OUTCOME_FILE;

/// The package's folder in the request directory.
pub const PACKAGE_DIR: &str = "package";

impl Executor {
    /// Runs (or resumes) an approved access or portability request.
    pub(super) async fn run_export(&mut self) -> Result<RunOutcome, Error> {
        if self.request.stage() == Stage::Approved {
            self.step(Event::ExecutionStarted).await?;
        }
        let root = self.dir.path().join(PACKAGE_DIR);
        let mut systems = Vec::new();
        for (name, subject) in self.request.subjects().iter() {
            let store = self.systems[name].clone();
            let dest = root.join(name.as_str());
            let attempts = self.setup.attempts;
            let key = StepKey::new(&["export", name.as_str()])?;
            let done: Result<u64, Error> = self
                .steps
                .run(key, || async move {
                    // A partial export of a run that died is replaced whole.
                    if dest.exists() {
                        std::fs::remove_dir_all(&dest)
                            .map_err(Error::io("clear a partial export"))?;
                    }
                    let report = retry(attempts, || store.export(subject, &dest))
                        .await
                        .map_err(|source| Error::store(name, source))?;
                    // DICOM studies become a file-set with a DICOMDIR.
                    crate::package::fileset::build_blocking(dest, report.manifest).await?;
                    Ok(report.files as u64)
                })
                .await;
            let mut o = SystemOutcome::new(name.clone());
            match done {
                Ok(n) => o.exported_files = Some(n),
                Err(e) => o.failure = Some(e.to_string()),
            }
            systems.push(o);
        }
        std::fs::create_dir_all(&root).map_err(Error::io("create the package"))?;
        let (summary_root, id) = (root.clone(), self.request.id().clone());
        let names: Vec<String> = self
            .request
            .subjects()
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        let options = self.setup.package.clone();
        let (log, subject) = (self.log.clone(), self.setup.audit_subject.clone());
        self.steps
            .run(StepKey::new(&["summary"])?, move || async move {
                tokio::task::spawn_blocking(move || {
                    let mut read = None;
                    log.read(&mut |store, keys| {
                        read = Some(crate::package::access::read_subject_log(
                            store,
                            keys,
                            &subject,
                            options.staff,
                        )?);
                        Ok(())
                    })?;
                    let read = read.ok_or_else(|| {
                        Error::io("read the subject's records")(std::io::Error::other(
                            "the audit log was not read",
                        ))
                    })?;
                    crate::package::write_summary(&summary_root, &id, &names, &options, &read)
                })
                .await
                .map_err(|_| {
                    Error::io("write the summary")(std::io::Error::other("worker stopped"))
                })?
            })
            .await?;
        let (signer, id) = (self.signer.clone(), self.request.id().clone());
        let manifest_root = root.clone();
        let key = StepKey::new(&["manifest"])?;
        let progress = self.setup.package.progress.clone();
        self.steps
            .run(key, move || async move {
                tokio::task::spawn_blocking(move || {
                    write_manifest_with(&manifest_root, &id, &signer, &progress)
                        .map(|m| m.files.len())
                })
                .await
                .map_err(|_| {
                    Error::io("hash the package")(std::io::Error::other("worker stopped"))
                })?
            })
            .await?;
        if self.request.stage() == Stage::Executing {
            self.step(Event::VerificationStarted).await?;
        }
        // A sealed package was verified before it was sealed.
        let sealed = self.dir.path().join(SEALED_PACKAGE);
        let intact = sealed.exists() || verify_package(&root, &self.signer.verifier()).is_ok();
        if let (true, Some(to)) = (intact, self.setup.package.encryption.clone()) {
            let (from, progress) = (root.clone(), self.setup.package.progress.clone());
            self.steps
                .run(StepKey::new(&["seal"])?, move || {
                    crate::package::seal_blocking(from, sealed, to, progress)
                })
                .await?;
        }
        let complete = intact && systems.iter().all(SystemOutcome::is_complete);
        if self.request.stage() == Stage::Verifying {
            let end = if complete {
                Event::Completed
            } else {
                Event::PartiallyCompleted
            };
            self.step(end).await?;
        }
        let outcome = RunOutcome {
            request: self.request.id().clone(),
            stage: self.request.stage(),
            systems,
            audit_records: self.audit_records().await?,
            replayed_steps: self.steps.replayed(),
            torn_tail: self.steps.replay().torn_tail,
            notifications: Vec::new(),
        };
        self.dir
            .save(OUTCOME_FILE, &outcome, "write outcome.json")?;
        Ok(outcome)
    }
}
