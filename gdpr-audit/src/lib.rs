//! # gdpr-audit — tamper-evident audit log for health-data processing
//!
//! Accountability (GDPR Art. 5(2)), records of processing (Art. 30),
//! security of processing (Art. 32) and breach documentation (Art. 33(5))
//! rest on an audit log that cannot be quietly changed. Here any change,
//! deletion, reordering or rollback is detected by anyone holding the
//! log's public key — and the log still honours erasure (Art. 17).
//!
//! - **Records** ([`event::AuditEvent`]): IHE BALP / FHIR `AuditEvent` /
//!   DICOM PS3.15 A.5 fields, in a versioned canonical encoding
//!   ([`record`]) whose decoder rejects anything non-canonical.
//! - **Integrity**: every record carries the hash of the previous one, and
//!   the log is an RFC 9162 Merkle tree ([`merkle`]; proofs verified with
//!   `ct-merkle`) with Ed25519-signed checkpoints in the C2SP
//!   `tlog-checkpoint` format ([`checkpoint`], keys in [`signing`]).
//! - **Verification** ([`verify_dir`], [`verify_store`]) recomputes everything and reports the
//!   first bad position; a checkpoint saved earlier elsewhere catches
//!   truncation and rollback. It runs on all cores (chunks read in order,
//!   pieces checked by worker threads, applied in log order) at about the
//!   speed of plain SHA-256 over the same bytes.
//! - **Erasure** ([`seal`], [`KeyStore`]): personal fields are encrypted
//!   per data subject (XChaCha20-Poly1305); erasing a subject destroys its
//!   key and leaves a tombstone, so later events about the subject are
//!   refused until [`AuditLog::begin_relationship`]; the chain hashes
//!   ciphertext and keeps verifying. Art. 15 reports in [`report`].
//! - **Storage**: two traits a backend implements, [`AuditStore`] (the
//!   records) and [`KeyStore`] (the subjects' keys); the embedded,
//!   crash-safe defaults are [`FileStore`] (on-disk format in its docs)
//!   and [`FileKeyStore`]. Pruning keeps the rest verifiable
//!   ([`AuditLog::prune_before`]).
//! - **Exports** ([`export`]): JSON Lines with proofs, FHIR R4, DICOM XML.
//!
//! Building: records seal a few hundred bytes each, for which RustCrypto's
//! portable ChaCha20/Poly1305 is faster than its AVX2 code; this workspace
//! builds with `--cfg poly1305_backend="soft" --cfg chacha20_backend="soft"`
//! (`.cargo/config.toml`), and a host that embeds the crate should add the
//! same `rustflags` to its own build for the same append throughput.
//!
//! ## The front door
//!
//! Create a log directory once with [`AuditLog::create`], reopen it with
//! [`AuditLog::open`], record with [`AuditLog::append`] (durable when it
//! returns), and verify a directory with [`verify_dir`]. Another backend
//! (PostgreSQL, …) implements [`AuditStore`] and [`KeyStore`] and opens
//! with [`AuditLog::with_stores`]. Wrap a `gdpr-core` `SubjectStore` in
//! `Audited` (feature `audited`) to record every operation on it.
//!
//! ```
//! use gdpr_audit::{AuditLog, Signer, verify_dir};
//! # use gdpr_audit::{action::*, event::AuditEvent, label::SourceSystem};
//! # use gdpr_core::{actor::*, basis::*, purpose::Purpose, subject::PatientId};
//! # fn main() -> Result<(), gdpr_audit::Error> {
//! # let tmp = tempfile::tempdir().expect("temp dir");
//! # let dir = tmp.path().join("audit");
//! # let event = AuditEvent::builder(EventType::PatientRecord, Action::Read,
//! #     Actor { id: ActorId::new("dr.a")?, role: Role::Physician, secrecy: Secrecy::None },
//! #     Purpose::Treatment, LawfulBasis::SpecialCategory(HealthBasis::new(
//! #         Art6Basis::Contract, Art9Condition::HealthCare)), SourceSystem::new("EHR")?)
//! #     .subject(PatientId::new("P-1")?).build(jiff::Timestamp::UNIX_EPOCH);
//! let signer = Signer::generate("hospital.example/audit")?;
//! let verifier = signer.verifier(); // give this to auditors
//! let log = AuditLog::create(&dir, signer)?;
//! let receipt = log.append(&event)?; // durable when it returns
//! let checkpoint = log.checkpoint()?; // an auditor keeps this note
//! drop(log);
//! let report = verify_dir(&dir, &verifier, Some(&checkpoint))?;
//! assert_eq!((receipt.position, report.records), (0, 1));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
#[cfg(feature = "audited")]
mod audited;
pub mod batch;
mod cause;
pub mod checkpoint;
mod chunk;
mod embedded;
pub(crate) mod encoding;
mod error;
pub mod event;
pub mod export;
mod file_store;
mod frame;
mod frontier;
pub mod hex;
mod keys;
mod keystore;
pub mod label;
mod log;
pub mod merkle;
mod names;
mod node_digest;
pub mod object;
mod piece;
pub mod record;
pub mod report;
pub mod seal;
pub mod signing;
mod sink;
pub mod store;
mod verify;
mod view;
mod workers;

#[cfg(feature = "audited")]
pub use audited::{AuditContext, Audited};
pub use cause::{Malformed, Tamper};
pub use error::Error;
pub use event::AuditEvent;
pub use file_store::{FileStore, LogDir};
pub use keys::KeyStore;
pub use keystore::{FileKeyStore, ImageEntry, KeyStoreImage};
pub use log::{AuditLog, CheckpointPolicy, Receipt, Staged};
pub use signing::{Signer, Verifier};
pub use sink::{AuditSink, MemorySink};
pub use store::AuditStore;
pub use verify::{VerifyReport, verify_dir, verify_dir_with_progress, verify_store};

/// The verifier's internals, for the fuzz targets and this crate's own
/// tests and benchmarks (feature `internals`; not a stable API).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::chunk::{Chunk, ChunkVisitor};
    pub use crate::frame::{MAX_FRAME, encode_frame, scan_chunks, scan_frames};
    pub use crate::verify::LogVerifier;
    pub use crate::view::RecordView;
}
