//! Journaled steps: recorded before they run and after they ran; a step
//! the journal holds as done is never run again, its recorded result is
//! used instead (and counted once, as replayed).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gdpr_core::store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;
use crate::journal::{Journal, Replay, StepKey};
use crate::sealing::{RequestKeys, Sealed};
use gdpr_core::request::RequestId;

/// Seals the results of the steps whose key starts with `locate/` (they
/// hold the systems' handles, with study UIDs) under the request's key.
#[derive(Clone)]
pub(crate) struct Sealer {
    pub(crate) keys: RequestKeys,
    pub(crate) request: RequestId,
}

impl Sealer {
    fn applies(key: &StepKey) -> bool {
        key.as_str().starts_with("locate/")
    }

    fn seal(&self, key: &StepKey, value: Value) -> Result<Value, Error> {
        if !Self::applies(key) {
            return Ok(value);
        }
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&value).map_err(Error::format("a journaled result"))?,
        );
        let sealed = self.keys.seal(&self.request, &plain)?;
        Ok(serde_json::json!({ "sealed": sealed }))
    }

    fn open(&self, value: Value) -> Result<Value, Error> {
        let Some(sealed) = value.get("sealed") else {
            return Ok(value);
        };
        let sealed: Sealed = serde_json::from_value(sealed.clone())
            .map_err(Error::format("a sealed journal result"))?;
        let plain = self.keys.unseal(&self.request, &sealed)?;
        serde_json::from_slice(&plain).map_err(Error::format("a sealed journal result"))
    }
}

/// Where a boundary lies relative to its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// The step is recorded as begun and is about to run.
    Before,
    /// The step ran and is recorded as done.
    After,
    /// Inside a stage step or the grounds' audit step: its audit record
    /// is appended, the journal does not hold the step as done yet.
    Recorded,
}

/// Called at every step boundary (tests kill the process there).
pub type BoundaryHook = Arc<dyn Fn(&StepKey, Phase) + Send + Sync>;

/// The journal, what it held when execution began, and the hook.
#[derive(Clone)]
pub(crate) struct Steps {
    journal: Arc<dyn Journal>,
    replay: Arc<Replay>,
    hook: Option<BoundaryHook>,
    replayed: Arc<AtomicU64>,
    fresh: Arc<Mutex<BTreeMap<StepKey, Value>>>,
    sealer: Sealer,
}

impl Steps {
    pub(crate) fn new(
        journal: Arc<dyn Journal>,
        replay: Replay,
        hook: Option<BoundaryHook>,
        sealer: Sealer,
    ) -> Self {
        Self {
            journal,
            replay: Arc::new(replay),
            hook,
            replayed: Arc::new(AtomicU64::new(0)),
            fresh: Arc::default(),
            sealer,
        }
    }

    pub(crate) fn replay(&self) -> &Replay {
        &self.replay
    }

    /// The journal as it is now (with the steps done in this run).
    pub(crate) async fn current(&self) -> Result<Replay, Error> {
        self.journal.replay().await
    }

    /// The result of `key`, done before this run or in it.
    pub(crate) fn result(&self, key: &StepKey) -> Option<Value> {
        self.replay.done(key).cloned().or_else(|| {
            // Poisoned: a step panicked; the map itself is intact.
            let fresh = self.fresh.lock().unwrap_or_else(|p| p.into_inner());
            fresh.get(key).cloned()
        })
    }

    /// Steps whose results came from the journal in this run.
    pub(crate) fn replayed(&self) -> u64 {
        self.replayed.load(Ordering::Relaxed)
    }

    /// Runs `op` as step `key`, unless the journal holds it as done.
    pub(crate) async fn run<T, F, Fut>(&self, key: StepKey, op: F) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        if let Some(v) = self.replay.done(&key) {
            self.replayed.fetch_add(1, Ordering::Relaxed);
            let v = self.sealer.open(v.clone())?;
            return serde_json::from_value(v).map_err(Error::format("a journaled result"));
        }
        if let Some(v) = self.result(&key) {
            let v = self.sealer.open(v)?;
            return serde_json::from_value(v).map_err(Error::format("a journaled result"));
        }
        self.journal.begin(&key).await?;
        self.boundary(&key, Phase::Before);
        let out = op().await?;
        let value = serde_json::to_value(&out).map_err(Error::format("a journaled result"))?;
        let value = self.sealer.seal(&key, value)?;
        self.journal.done(&key, &value).await?;
        self.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), value);
        self.boundary(&key, Phase::After);
        Ok(out)
    }

    pub(crate) fn boundary(&self, key: &StepKey, phase: Phase) {
        if let Some(hook) = &self.hook {
            hook(key, phase);
        }
    }
}

/// Runs `op` up to `attempts` times while it fails transiently, backing off
/// 50 ms, 100 ms, 200 ms, … between attempts.
pub(crate) async fn retry<T, F, Fut>(attempts: u32, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut n = 1;
    loop {
        match op().await {
            Err(e) if e.is_transient() && n < attempts.max(1) => {
                tokio::time::sleep(std::time::Duration::from_millis(50 << n.min(6))).await;
                n += 1;
            }
            other => return other,
        }
    }
}
