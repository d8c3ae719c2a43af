//! # gdpr-audit — tamper-evident audit log for health-data processing
//!
//! Accountability (GDPR Art. 5(2)), records of processing (Art. 30),
//! security of processing (Art. 32) and breach documentation (Art. 33(5))
//! all rest on an audit log that cannot be quietly changed. This crate
//! provides the audit event model ([`event::AuditEvent`]).
//!
//! Being built (tracked as the audit-log issue): the canonical encoding,
//! hash chain, RFC 9162 Merkle tree, signed checkpoints, crash-safe storage
//! and erasable personal fields.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
pub mod error;
pub mod event;
pub mod label;
pub mod object;

pub use error::Error;
