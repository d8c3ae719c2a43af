//! The request journal on PostgreSQL: gdpr-request's [`Journal`] for
//! many nodes. Same resume guarantees as the embedded `FileJournal` (a
//! step is recorded begun before it runs and done, with its result, after
//! it ran, each acknowledged after `COMMIT`), and one more: a node runs a
//! request only under its lease ([`PgJournal::claim`]), and every entry it
//! records names the lease's epoch in the same transaction that checks
//! it, so when two nodes pick up the same request exactly one executes
//! each step, and a node whose lease expired (taken over or not) records
//! nothing more
//! ([`PgError::Fenced`]).
//!
//! Claim before opening the executor: the executor reads the journal once
//! when it opens, so it must read it under the lease.

pub mod lease;

use std::time::Duration;

use gdpr_core::request::RequestId;
use gdpr_request::Error as RequestError;
use gdpr_request::journal::{Journal, Replay, StepKey, StepState};
use postgres::Client;
use serde_json::Value;

use crate::config::PgConfig;
use crate::db_thread::{DbThread, Upkeep};
use crate::error::PgError;
use lease::{LeaseSettings, NodeName};

/// What the journal says when it is damaged.
const DAMAGED: &str = "the PostgreSQL journal";

/// The journal of one request, held under this node's lease until dropped
/// (dropping it releases the lease).
#[derive(Debug)]
pub struct PgJournal {
    db: DbThread,
    request: String,
    epoch: i64,
    ttl: Duration,
}

/// Keeps the lease alive while the node runs, releases it at the end.
struct KeepLease {
    request: String,
    epoch: i64,
    ttl: Duration,
}

impl Upkeep for KeepLease {
    fn every(&self) -> Option<Duration> {
        Some(self.ttl / 3)
    }
    fn tick(&mut self, client: &mut Client) {
        // A failed renewal needs no action here: the next write checks
        // the epoch itself and fails.
        let _ = lease::renew(client, &self.request, self.epoch, self.ttl);
    }
    fn finish(&mut self, client: &mut Client) {
        // If this fails the lease simply expires after its ttl.
        let _ = lease::release(client, &self.request, self.epoch);
    }
}

impl PgJournal {
    /// Connects as the tenant of `config`, checks the schema version and
    /// claims `request` for `node`, waiting up to `settings.wait` while
    /// another node holds it. Works in any async runtime (the connection
    /// has a thread of its own).
    ///
    /// # Errors
    /// [`PgError::Busy`] when another node still holds the request;
    /// [`PgError::OlderSchema`], [`PgError::NewerSchema`],
    /// [`PgError::Backend`].
    pub async fn claim(
        config: &PgConfig,
        request: &RequestId,
        node: &NodeName,
        settings: LeaseSettings,
    ) -> Result<Self, PgError> {
        let (config, id, node) = (config.clone(), request.as_str().to_owned(), node.clone());
        let ttl = settings.ttl;
        let (db, epoch) = DbThread::start("gdpr-pg-journal", move || {
            let mut client = config.connect()?;
            crate::migrate::check(&mut client)?;
            let epoch = lease::claim(&mut client, &id, &node, settings)?;
            let keep = KeepLease {
                request: id,
                epoch,
                ttl,
            };
            Ok((client, epoch, keep))
        })
        .await?;
        Ok(Self {
            db,
            request: request.as_str().to_owned(),
            epoch,
            ttl,
        })
    }

    /// The lease's epoch (the fencing token every entry carries).
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// The rows of the journal, in order.
    async fn rows(&self) -> Result<Vec<(i64, String, String, Option<String>)>, PgError> {
        let request = self.request.clone();
        self.db
            .call(move |c| {
                let rows = c
                    .query(
                        "SELECT seq, step, phase, result FROM gdpr.journal_entry
                         WHERE request = $1 ORDER BY seq",
                        &[&request],
                    )
                    .map_err(PgError::backend("reading the journal"))?;
                Ok(rows
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                    .collect())
            })
            .await
    }

    async fn append(&self, step: &StepKey, result: Option<&Value>) -> Result<(), RequestError> {
        let result = result
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| backend("encoding a journal result", e))?;
        let (request, epoch, ttl) = (self.request.clone(), self.epoch, self.ttl);
        let step = step.as_str().to_owned();
        self.db
            .call(move |c| record(c, &request, epoch, ttl, &step, result.as_deref()))
            .await
            .map_err(|e| backend("recording a journal step in PostgreSQL", e))
    }
}

/// Records one entry under the lease of `epoch`, in one transaction.
fn record(
    client: &mut Client,
    request: &str,
    epoch: i64,
    ttl: Duration,
    step: &str,
    result: Option<&str>,
) -> Result<(), PgError> {
    let phase = if result.is_some() { "done" } else { "begin" };
    let mut tx = client
        .transaction()
        .map_err(PgError::backend("recording a journal step"))?;
    // Locks the lease row: a claim by another node waits for this commit
    // and then sees the renewed lease.
    if !lease::renew(&mut tx, request, epoch, ttl)? {
        return Err(PgError::Fenced);
    }
    tx.execute(
        "INSERT INTO gdpr.journal_entry (request, seq, step, phase, result, epoch)
         SELECT $1, coalesce(max(seq) + 1, 0), $2, $3, $4, $5
         FROM gdpr.journal_entry WHERE request = $1",
        &[&request, &step, &phase, &result, &epoch],
    )
    .map_err(PgError::backend("recording a journal step"))?;
    tx.commit()
        .map_err(PgError::backend("committing a journal step"))
}

fn backend(what: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> RequestError {
    RequestError::Backend {
        what,
        source: Box::new(e),
    }
}

/// The journal's rows as a [`Replay`], checked as the file journal checks
/// its lines (consecutive numbers, a result exactly on `done`, no step
/// done twice).
fn parse(rows: Vec<(i64, String, String, Option<String>)>) -> Result<Replay, RequestError> {
    let mut replay = Replay::default();
    for (i, (seq, step, phase, result)) in rows.into_iter().enumerate() {
        let damaged = RequestError::Damaged {
            what: DAMAGED,
            line: i as u64 + 1,
        };
        if seq != i as i64 {
            return Err(damaged);
        }
        let Ok(step) = StepKey::try_from(step) else {
            return Err(damaged);
        };
        let state = match (phase.as_str(), result) {
            ("begin", None) => StepState::Begun,
            ("done", Some(text)) => match serde_json::from_str(&text) {
                Ok(v) => StepState::Done(v),
                Err(_) => return Err(damaged),
            },
            _ => return Err(damaged),
        };
        if matches!(replay.steps.get(&step), Some(StepState::Done(_))) {
            return Err(damaged);
        }
        replay.steps.insert(step, state);
        replay.records += 1;
    }
    Ok(replay)
}

#[async_trait::async_trait]
impl Journal for PgJournal {
    async fn replay(&self) -> Result<Replay, RequestError> {
        let rows = self
            .rows()
            .await
            .map_err(|e| backend("reading the PostgreSQL journal", e))?;
        parse(rows)
    }

    async fn begin(&self, step: &StepKey) -> Result<(), RequestError> {
        self.append(step, None).await
    }

    async fn done(&self, step: &StepKey, result: &Value) -> Result<(), RequestError> {
        self.append(step, Some(result)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        seq: i64,
        step: &str,
        phase: &str,
        result: Option<&str>,
    ) -> (i64, String, String, Option<String>) {
        (seq, step.into(), phase.into(), result.map(Into::into))
    }

    #[test]
    fn rows_replay_as_the_file_journal_does() {
        let r = parse(vec![
            row(0, "a", "begin", None),
            row(1, "a", "done", Some("{\"n\":1}")),
            row(2, "b", "begin", None),
        ])
        .unwrap();
        let a = StepKey::new(&["a"]).unwrap();
        assert_eq!(r.done(&a), Some(&serde_json::json!({"n": 1})));
        assert_eq!(r.records, 3);
        assert_eq!(r.torn_tail, None);
    }

    #[test]
    fn damage_is_reported_with_its_row() {
        for (rows, line) in [
            (vec![row(1, "a", "begin", None)], 1),
            (vec![row(0, "a", "done", None)], 1),
            (vec![row(0, "a b", "begin", None)], 1),
            (
                vec![row(0, "a", "done", Some("{")), row(1, "b", "begin", None)],
                1,
            ),
            (
                vec![
                    row(0, "a", "done", Some("1")),
                    row(1, "a", "done", Some("1")),
                ],
                2,
            ),
        ] {
            let e = parse(rows).unwrap_err();
            assert!(
                matches!(e, RequestError::Damaged { line: l, .. } if l == line),
                "{e}"
            );
        }
    }
}
