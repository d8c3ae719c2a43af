//! # gdpr-audit — tamper-evident audit log for health-data processing
//!
//! Accountability (GDPR Art. 5(2)), records of processing (Art. 30),
//! security of processing (Art. 32) and breach documentation (Art. 33(5))
//! all rest on an audit log that cannot be quietly changed. This crate
//! provides the audit event model ([`event::AuditEvent`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
pub mod checkpoint;
pub(crate) mod encoding;
pub mod error;
pub mod event;
pub mod export;
pub mod file_store;
pub mod keystore;
pub mod label;
pub mod log;
pub mod merkle;
pub mod object;
pub mod record;
pub mod report;
pub mod seal;
pub mod signing;
pub mod store;
pub mod verify;

pub use error::Error;
