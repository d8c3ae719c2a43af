//! Waiting for durability off the append connection, so that the next
//! append's call runs while the last one's WAL is flushed.
//!
//! A call of `gdpr.audit_append` commits asynchronously (its transaction
//! sets `synchronous_commit` off) and returns as soon as its commit record
//! is in the WAL buffers. It is acknowledged only after a synchronous
//! commit *started after it returned* has come back: that commit's record
//! lies after the call's in the WAL, and PostgreSQL flushes the WAL in
//! order, so the call is flushed too. Until session 10 that flush ran on
//! the append connection right after each call, so one node's calls and
//! flushes took turns (the server's CPU per record was that of a plain
//! `INSERT`, yet the machine stood half idle: docs/postgres.md). Here the
//! flush runs on a second connection of the same tenant: [`Durable::wait`]
//! flushes everything whose call has returned, and appends whose calls
//! returned while a flush was under way share the next one (as the file
//! store's appends share an `fdatasync`).
//!
//! The flushing connection is opened before the store's first call
//! ([`Durable::open`]; a store that only reads never opens it) and never
//! opened again. That order matters: a connection opened *after* a call
//! returned could reach a server that crashed and restarted in between,
//! without that call, and its flush would acknowledge a record that is
//! gone. A connection that was open when the server went down is closed
//! by it, so its flush fails and nothing is acknowledged.
//!
//! The tickets are the store's staging counter: [`Durable::called`]
//! records the highest ticket whose call returned, [`Durable::flushed`]
//! the highest known durable. A failed flush (the connection lost, the
//! server restarted) leaves its appends unacknowledged and the store
//! refusing appends, as a failed call does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use gdpr_audit::Error;
use postgres::{Client, Statement};

use crate::config::PgConfig;
use crate::error::audit;

/// The durability of a store's calls, and the connection that flushes.
pub(super) struct Durable {
    config: PgConfig,
    /// The highest ticket whose call has returned (committed, maybe not
    /// yet flushed).
    called: AtomicU64,
    /// Every ticket up to this one is durable.
    flushed: AtomicU64,
    /// A flush failed: the store refuses appends.
    failed: AtomicBool,
    /// The flushing connection was opened ([`Durable::open`]).
    opened: AtomicBool,
    /// The flushing connection (`None` before [`Durable::open`] and after
    /// a failed flush).
    conn: Mutex<Option<FlushConn>>,
}

/// The flushing connection and its prepared [`super::FLUSH`].
struct FlushConn {
    client: Client,
    flush: Statement,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable")
            .field("called", &self.called)
            .field("flushed", &self.flushed)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

fn lock(m: &Mutex<Option<FlushConn>>) -> MutexGuard<'_, Option<FlushConn>> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Durable {
    /// Flushes on a connection made with `config` (the tenant's).
    pub(super) fn new(config: PgConfig) -> Self {
        Self {
            config,
            called: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            opened: AtomicBool::new(false),
            conn: Mutex::new(None),
        }
    }

    /// Opens the flushing connection unless it was opened before: called
    /// before every call, so that it is open before the first returns.
    ///
    /// # Errors
    /// [`Error::Backend`] when connecting fails (or the connection's
    /// commits would not wait for the flush).
    pub(super) fn open(&self) -> Result<(), Error> {
        if self.opened.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut conn = lock(&self.conn);
        if !self.opened.load(Ordering::SeqCst) {
            *conn = Some(self.connect()?);
            self.opened.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// The call of `ticket` has returned (committed asynchronously).
    pub(super) fn called(&self, ticket: u64) {
        self.called.fetch_max(ticket, Ordering::SeqCst);
    }

    /// Everything up to `ticket` is durable (flushed by other means: a
    /// synchronous commit on the append connection).
    pub(super) fn flushed(&self, ticket: u64) {
        self.flushed.fetch_max(ticket, Ordering::SeqCst);
    }

    /// Whether `ticket` is known durable.
    pub(super) fn is_durable(&self, ticket: u64) -> bool {
        self.flushed.load(Ordering::SeqCst) >= ticket
    }

    /// Whether `ticket` is that of a call that has returned (so a flush
    /// started now covers it).
    pub(super) fn was_called(&self, ticket: u64) -> bool {
        self.called.load(Ordering::SeqCst) >= ticket
    }

    /// Whether a flush failed (the store refuses appends).
    pub(super) fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Returns once every call up to `ticket` (which has returned) is
    /// durable: at once when a flush already covered it, otherwise after a
    /// flush started now, which covers every call returned so far. Flushes
    /// take turns; those who waited for one usually find their ticket
    /// covered by it.
    ///
    /// # Errors
    /// [`Error::Backend`] when the flush (or connecting for it) fails: the
    /// calls it was to cover are not acknowledged (they may or may not be
    /// in the log after a restart), and the store refuses appends.
    pub(super) fn wait(&self, ticket: u64) -> Result<(), Error> {
        let mut conn = lock(&self.conn);
        if self.is_durable(ticket) {
            return Ok(());
        }
        if self.failed() {
            return Err(super::refused());
        }
        let target = self.called.load(Ordering::SeqCst);
        let out = self.flush(&mut conn);
        match out {
            Ok(()) => self.flushed(target),
            Err(_) => {
                self.failed.store(true, Ordering::SeqCst);
                *conn = None;
            }
        }
        out
    }

    /// One flush on the flushing connection.
    fn flush(&self, conn: &mut Option<FlushConn>) -> Result<(), Error> {
        let Some(c) = conn else {
            // Never reopened (see the module's docs).
            return Err(super::refused());
        };
        c.client
            .execute(&c.flush, &[])
            .map_err(audit("waiting until the append is durable"))?;
        Ok(())
    }

    /// Connects as the tenant and checks that commits wait for the flush
    /// (`synchronous_commit` not `off`, as [`super::PgAuditStore::open`]
    /// checks on the append connection: a flush that does not wait would
    /// acknowledge what is not durable).
    fn connect(&self) -> Result<FlushConn, Error> {
        let mut client = self.config.connect()?;
        super::commits_wait_for_the_flush(&mut client, "opening the flushing connection")?;
        let flush = client
            .prepare(super::FLUSH)
            .map_err(audit("preparing the flush"))?;
        Ok(FlushConn { client, flush })
    }
}
