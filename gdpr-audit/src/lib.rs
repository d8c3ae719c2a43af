//! # gdpr-audit — tamper-evident audit log for health-data processing
//!
//! **Not implemented yet** (tracked as the audit-log issue): hash-chained,
//! Merkle-proved, Ed25519-signed audit records with crash-safe storage and
//! erasable personal fields. This crate currently exports nothing.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
