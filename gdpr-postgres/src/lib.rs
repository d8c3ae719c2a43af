//! # gdpr-postgres — shared deployments on PostgreSQL
//!
//! A hospital's PACS nodes, EHR, research gateway and DPO desk write into
//! one audit log per tenant. The embedded defaults of `gdpr-audit` serve
//! one process; this crate puts the same log on PostgreSQL (and its own
//! replication for availability) — the same records, chain, Merkle tree
//! and signed checkpoints, so `gdpr_audit::verify_store` and the `gdpr
//! audit` commands check it as they check a log directory.
//!
//! - [`mod@migrate`] — versioned migrations applied by the library, refusing
//!   a newer schema; [`Tenant`] — one login role per tenant, isolated by
//!   row-level security (`FORCE`), owning nothing.
//! - [`PgAuditStore`] — the `AuditStore` of one tenant: a serialising
//!   append per tenant decided in the database, acknowledged after
//!   `COMMIT`, group commit per node.
//! - [`PgKeyStore`] — the subjects' keys (crypto-shredding), wrapped by a
//!   key-encryption key held outside the database ([`KekRing`]), erased by
//!   a committed update every node sees; [`PgKeyStore::rotate`] re-wraps.
//! - [`PgJournal`] — gdpr-request's journal of one request, held under a
//!   lease with a fencing token ([`PgJournal::claim`]): when two nodes
//!   pick up the same request, exactly one executes each step.
//! - [`PgRegister`] — gdpr-request's restriction register and objection
//!   register, shared by every node, host and gateway of the tenant.
//! - [`PgAuditLog`] — the tenant's log and keys as gdpr-request's
//!   `RequestLog`: a request's own audit records in the shared log.
//!
//! Deployment, settings (synchronous replication), tenancy and what a
//! writer does after a failover: `docs/postgres.md`.
//!
//! ## The front door
//!
//! ```no_run
//! use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer};
//! use gdpr_postgres::{HeadLock, PgAuditStore, PgConfig, Tenant};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::path::Path::new("/tmp/x");
//! let owner = PgConfig::parse("host=127.0.0.1 port=5432 user=gdpr_owner dbname=gdpr")?
//!     .password_file("/etc/gdpr/owner.password".as_ref())?;
//! gdpr_postgres::migrate(&mut owner.connect()?)?; // once per upgrade
//! let ward = Tenant::new("ward_7")?;
//! ward.create(&mut owner.connect()?, "from a secret store")?;
//! let as_ward = owner.clone().user(ward.role()).password(b"from a secret store");
//! let store = PgAuditStore::open(&as_ward, HeadLock::Row)?;
//! # let keys = FileKeyStore::create(dir.join("keys"))?;
//! let signer = Signer::parse(&std::fs::read_to_string("/etc/gdpr/audit.key")?)?;
//! let log = AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default())?;
//! # Ok(()) }
//! ```
//!
//! ## A request on any node
//!
//! Claim the request before the executor opens (it reads the journal
//! once, under the lease); the lease is renewed while the journal lives
//! and released when it is dropped.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use gdpr_postgres::{LeaseSettings, NodeName, PgConfig, PgJournal, PgRegister};
//! # async fn f(dir: gdpr_request::RequestDir, stores: std::collections::BTreeMap<
//! #     gdpr_core::request::SystemName, Box<dyn gdpr_core::store::SubjectStore>>,
//! #     log: Arc<gdpr_audit::AuditLog>, signer: Arc<gdpr_audit::Signer>,
//! #     setup: gdpr_request::Setup, as_ward: PgConfig, id: gdpr_core::request::RequestId)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let lease = LeaseSettings::new(Duration::from_secs(30), Duration::from_secs(60))?;
//! let journal = PgJournal::claim(&as_ward, &id, &NodeName::new("pacs-node-2:4711")?, lease).await?;
//! let register = PgRegister::open(&as_ward).await?;
//! let resources = gdpr_request::Resources::new(
//!     Arc::new(journal), stores, log, signer, Arc::new(register));
//! let mut executor = gdpr_request::Executor::open(dir, resources, setup, None).await?;
//! let outcome = executor.run().await?; // or resumes what another node began
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod config;
mod db_thread;
mod error;
pub mod journal;
mod keys;
pub mod migrate;
mod objections;
mod register;
mod request_log;
mod tenant;
mod tls;

pub use audit::{Chaining, HeadLock, Imported, MIN_ORPHAN_AGE, PgAuditStore};
pub use config::PgConfig;
pub use error::PgError;
pub use journal::PgJournal;
pub use journal::lease::{LeaseSettings, NodeName};
pub use keys::PgKeyStore;
pub use keys::kek::KekRing;
pub use migrate::{SCHEMA_VERSION, migrate};
pub use register::PgRegister;
pub use request_log::PgAuditLog;
pub use tenant::Tenant;
