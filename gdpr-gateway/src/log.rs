//! The gateway's log lines and its clock, both given by the host.
//!
//! A log line names the route's template (`GET /studies/{study}/series`),
//! the status, the codes and the duration — never a path, a query, a UID,
//! a patient value or a token.

use jiff::Timestamp;

/// Where log lines go.
pub trait LogSink: Send + Sync {
    /// Writes one line (it holds no identifying value).
    fn line(&self, line: &str);
}

/// Log lines on standard error.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrLog;

impl LogSink for StderrLog {
    fn line(&self, line: &str) {
        eprintln!("gdpr-gateway: {line}");
    }
}

/// The time decisions are made for.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
