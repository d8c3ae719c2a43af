//! # gdpr-request — data-subject requests executed on every system
//!
//! `gdpr_core::request` decides (kinds, stages, deadlines, the erasure
//! assessment); this crate acts, on every configured `SubjectStore` at
//! once, and proves what it did:
//!
//! - **Journal** ([`journal`]): each step recorded durably before and after
//!   it runs, so a process killed anywhere resumes without skipping a step
//!   or running a finished one again ([`FileJournal`], one directory per
//!   request).
//! - **Executor** ([`Executor`]): erasure = locate → assess → erase exactly
//!   the records assessed `erase` → record the kept ones in the
//!   [`RestrictionRegister`] → verify → crypto-shred the subject's audit
//!   key; access and portability = export every system into one package
//!   with a signed manifest ([`package`]). Systems run concurrently with
//!   bounded retries; a failing system leaves the request partially
//!   completed with its exact residue. Every stage transition is an audit
//!   record (written once across a crash); every store operation goes
//!   through `gdpr_audit::Audited`, under the audit subject derived from
//!   the request ([`Setup::for_request`]). Restriction (Art. 18) and its
//!   lifting: the system's own mark where it has one, an entry in the
//!   register for every record either way; [`register::consult`] feeds
//!   the register to `gdpr_core::authorization::authorize`.
//! - **Sealing** ([`sealing`]): the subject's identifiers in `request.json`
//!   and the journal are encrypted under the request's own key, shredded
//!   when its retention ends ([`sealing::shred_expired`]).
//! - **Certificate** ([`certificate`]): signed JSON (schema in
//!   `docs/certificate.schema.json`), verified offline by
//!   [`verify_certificate`].
//!
//! ## The front door
//!
//! ```no_run
//! # async fn f(dir: gdpr_request::RequestDir, resources: gdpr_request::Resources,
//! #            setup: gdpr_request::Setup, log: &gdpr_audit::AuditLog,
//! #            signer: &gdpr_audit::Signer) -> Result<(), gdpr_request::Error> {
//! use gdpr_request::{Executor, certificate};
//! let mut executor = Executor::open(dir.clone(), resources, setup, None).await?;
//! let outcome = executor.run().await?; // or resumes after a crash
//! let cert = certificate::issue(&dir, log, signer, jiff::Timestamp::now())?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit_log;
pub mod certificate;
mod error;
mod executor;
mod fault;
pub mod findings;
mod fsio;
pub mod grounds;
pub mod journal;
pub mod objections;
pub mod package;
pub mod register;
pub mod render;
mod request_dir;
pub mod sealing;
mod sign;

pub use audit_log::{LogReader, RequestLog};
pub use certificate::{Certificate, verify_certificate};
pub use error::Error;
pub use executor::{
    AuditRecord, BoundaryHook, Executor, GroundsOutcome, Holds, KeptRecord, PACKAGE_DIR, Phase,
    Resources, RestrictedIn, RestrictionDone, RunOutcome, SHREDDED, SOURCE, SUBJECT_STATE_FILE,
    Setup, SystemOutcome,
};
pub use fault::Fault;
pub use journal::{FileJournal, Journal};
pub use objections::{ObjectionEntry, ObjectionRegister};
pub use register::{FileRegister, RestrictionRegister};
pub use request_dir::{ASSESSMENT_FILE, OUTCOME_FILE, REQUEST_FILE, RequestDir};
pub use sign::DocumentSignature;
