//! One audit record per access, coalesced: a viewer fetches a study frame
//! by frame, so the accesses of the same actor to the same study for the
//! same purpose (and the same action and outcome) within the configured
//! window are covered by the record written for the first of them.
//!
//! The record that opens a window is durable **before** the access is
//! served; if it cannot be written the request fails (fail closed). When
//! more accesses fell into a window, one more record closes it with their
//! count ("coalesced N accesses"), written when the next access after the
//! window comes or when the gateway flushes (shutdown, or
//! [`Recorder::flush`]). So a window is one record, or two when it
//! covered more than one access — never one per frame.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gdpr_audit::AuditSink;
use gdpr_audit::action::{Action, EventType, Outcome};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::label::SourceSystem;
use gdpr_audit::object::{FreeText, ObjectId, ObjectKind, ObjectRef};
use gdpr_core::actor::Actor;
use gdpr_core::basis::LawfulBasis;
use gdpr_core::purpose::Purpose;
use gdpr_core::store::StudyUid;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;

use crate::route::AccessKind;

/// One access to record.
#[derive(Debug, Clone)]
pub struct Access {
    /// Query, read or create.
    pub kind: AccessKind,
    /// Who.
    pub actor: Actor,
    /// Why.
    pub purpose: Purpose,
    /// On which basis (the permit's; for a denial, the activity's).
    pub basis: LawfulBasis,
    /// The study, when known.
    pub study: Option<StudyUid>,
    /// The patient (the audit log's erasable field), when known.
    pub patient: Option<PatientId>,
    /// Whether it was permitted.
    pub permitted: bool,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    actor: String,
    study: Option<String>,
    purpose: Purpose,
    kind: AccessKind,
    permitted: bool,
}

struct Window {
    opened: Timestamp,
    count: u64,
    last: Access,
}

/// Why an access could not be recorded.
#[derive(Debug, thiserror::Error)]
#[error("the audit record could not be written")]
pub struct AuditFailed;

/// The coalescing recorder in front of an [`AuditSink`].
pub struct Recorder {
    sink: Arc<dyn AuditSink>,
    source: SourceSystem,
    window: Duration,
    open: Mutex<HashMap<Key, Window>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

fn event(a: &Access, at: Timestamp, source: &SourceSystem, count: Option<u64>) -> AuditEvent {
    let (event_type, action) = match a.kind {
        AccessKind::Query => (EventType::Query, Action::Query),
        AccessKind::Read => (EventType::DicomInstancesAccessed, Action::Read),
        AccessKind::Create => (EventType::Import, Action::Create),
    };
    let outcome = if a.permitted {
        Outcome::Success
    } else {
        Outcome::MinorFailure
    };
    let mut b = AuditEvent::builder(
        event_type,
        action,
        a.actor.clone(),
        a.purpose,
        a.basis.clone(),
        source.clone(),
    )
    .outcome(outcome);
    if let Some(p) = &a.patient {
        b = b.subject(p.clone());
    }
    if let Some(object) = a
        .study
        .as_ref()
        .and_then(|s| ObjectId::new(s.expose()).ok())
    {
        b = b.object(ObjectRef::new(ObjectKind::Study, object));
    }
    if let Some(text) = count.and_then(|n| FreeText::new(format!("coalesced {n} accesses")).ok()) {
        b = b.text(text);
    }
    b.build(at)
}

impl Recorder {
    /// A recorder writing to `sink` as `source`, coalescing within `window`.
    pub fn new(sink: Arc<dyn AuditSink>, source: SourceSystem, window: Duration) -> Self {
        Self {
            sink,
            source,
            window,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Records `access` at `now`: durably when it opens a window.
    ///
    /// # Errors
    /// [`AuditFailed`] when a record could not be written; the caller
    /// must then refuse the access.
    pub async fn record(&self, access: Access, now: Timestamp) -> Result<(), AuditFailed> {
        let key = Key {
            actor: access.actor.id.expose().to_owned(),
            study: access.study.as_ref().map(|s| s.expose().to_owned()),
            purpose: access.purpose,
            kind: access.kind,
            permitted: access.permitted,
        };
        let (closing, covered) = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let closing = self.take_expired(&mut open, now);
            let covered = match open.get_mut(&key) {
                Some(w) => {
                    w.count += 1;
                    w.last = access.clone();
                    true
                }
                None => false,
            };
            (closing, covered)
        };
        self.write_closing(closing).await;
        if covered {
            return Ok(());
        }
        let opening = event(&access, now, &self.source, None);
        self.write(opening).await?;
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.entry(key)
            .and_modify(|w| w.count += 1)
            .or_insert(Window {
                opened: now,
                count: 1,
                last: access,
            });
        Ok(())
    }

    /// Closes every window now, writing the count records of those that
    /// covered more than one access.
    ///
    /// # Errors
    /// [`AuditFailed`] when one of them could not be written.
    pub async fn flush(&self) -> Result<(), AuditFailed> {
        let all: Vec<(Timestamp, Window)> = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            open.drain().map(|(_, w)| (Timestamp::now(), w)).collect()
        };
        let mut result = Ok(());
        for (at, w) in all.into_iter().filter(|(_, w)| w.count > 1) {
            if self
                .write(event(
                    &w.last,
                    at.max(w.opened),
                    &self.source,
                    Some(w.count),
                ))
                .await
                .is_err()
            {
                result = Err(AuditFailed);
            }
        }
        result
    }

    fn take_expired(
        &self,
        open: &mut HashMap<Key, Window>,
        now: Timestamp,
    ) -> Vec<(Timestamp, Window)> {
        let window =
            jiff::SignedDuration::try_from(self.window).unwrap_or(jiff::SignedDuration::MAX);
        let expired: Vec<Key> = open
            .iter()
            .filter(|(_, w)| now.duration_since(w.opened) >= window)
            .map(|(k, _)| k.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|k| open.remove(&k))
            .map(|w| (now, w))
            .collect()
    }

    async fn write_closing(&self, closing: Vec<(Timestamp, Window)>) {
        for (at, w) in closing.into_iter().filter(|(_, w)| w.count > 1) {
            // The accesses it counts were covered by the window's durable
            // opening record; a failure here loses only the count.
            let _ = self
                .write(event(&w.last, at, &self.source, Some(w.count)))
                .await;
        }
    }

    async fn write(&self, event: AuditEvent) -> Result<(), AuditFailed> {
        let sink = Arc::clone(&self.sink);
        tokio::task::spawn_blocking(move || sink.record(&event).map(|_| ()))
            .await
            .map_err(|_| AuditFailed)?
            .map_err(|_| AuditFailed)
    }
}
