//! The seam through which other crates record what they did: adapters
//! (DICOM stores, EHR exporters) take a `&dyn AuditSink` and never need to
//! know how the log is stored.

use std::sync::{Mutex, PoisonError};

use crate::Error;
use crate::event::AuditEvent;
use crate::keys::KeyStore;
use crate::log::{AuditLog, Receipt};
use crate::store::AuditStore;

/// Something that records audit events durably.
pub trait AuditSink: Send + Sync {
    /// Records `event`; returns once it is durable.
    ///
    /// # Errors
    /// Whatever the log reports ([`Error::Io`], …); the caller must then
    /// treat the audited operation as not recorded.
    fn record(&self, event: &AuditEvent) -> Result<Receipt, Error>;
}

impl<S: AuditStore, K: KeyStore> AuditSink for AuditLog<S, K> {
    fn record(&self, event: &AuditEvent) -> Result<Receipt, Error> {
        self.append(event)
    }
}

/// An in-memory sink for tests of code that audits: it keeps the events,
/// in order, and is **not** tamper-evident or durable. Production code
/// uses an [`AuditLog`].
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events recorded so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) -> Result<Receipt, Error> {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events.push(event.clone());
        Ok(Receipt {
            position: events.len() as u64 - 1,
            leaf_hash: crate::merkle::leaf_hash(&[]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;

    #[test]
    fn memory_sink_keeps_events_in_order() {
        let memory = MemorySink::new();
        let sink: &dyn AuditSink = &memory;
        assert_eq!(sink.record(&sample("P-1")).unwrap().position, 0);
        assert_eq!(sink.record(&sample("P-2")).unwrap().position, 1);
        let events = memory.events();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1], sample("P-2"));
    }
}
