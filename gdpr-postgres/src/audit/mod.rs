//! The audit log of one tenant on PostgreSQL: [`PgAuditStore`], an
//! [`AuditStore`] that many writers on many machines share.
//!
//! **Order and chain decided in the database.** By default
//! ([`Chaining::InDatabase`]) an append is one message: `BEGIN`, a call of
//! `gdpr.audit_append` (migrations 4–10) that locks the tenant's head row
//! ([`HeadLock::Row`]: `SELECT … FOR UPDATE`; or [`HeadLock::Advisory`]: a
//! transaction-scoped advisory lock, then a plain read), computes each
//! record's header (position, previous leaf hash), the leaf hashes and
//! the Merkle frontier with `sha256()`, stores the bodies it appends as
//! one `gdpr.audit_body` row (an array; schema 10, docs/postgres.md,
//! "Bodies packed") with one `gdpr.audit_run` row (where the bodies are,
//! the headers) and updates the head, then `COMMIT` and the flush below.
//! A batch a due checkpoint cuts is sent again from where it was cut. The
//! reader ([`PgAuditStore`]'s `entries`) reads one row per run and one per
//! entry stored whole, and gives the entries with their headers exactly as
//! the embedded log holds them (the view `gdpr.audit_entries` gives the
//! same, one row per entry, for SQL tools). The tenant's lock
//! is held for that one server-side execution, never across a round trip
//! to a client, and appends of one tenant are serialised by PostgreSQL
//! whichever node makes them. The writer seals the records and signs the
//! checkpoints its policy makes due (the function stops after such a
//! record and waits for the note: [`gdpr_audit::AuditStore::append_unchained`]).
//! [`Chaining::ByWriter`] is the path before: the writer
//! ([`gdpr_audit::AuditLog`]) chains after the head it read
//! ([`AuditStore::lock_head`]) and sends entries, head and `COMMIT` in one
//! message; entries staged but not committed never reach the server.
//!
//! **The lock is not held through the WAL flush; acknowledged only when
//! durable.** The append transaction commits with `synchronous_commit =
//! off` (set locally by `gdpr.audit_append`, or by `SET LOCAL` on the
//! writer's path), so `COMMIT` (and the tenant's lock) ends as soon as its
//! commit record is in the WAL buffers; after it a second, synchronous
//! transaction ([`FLUSH`]) waits until the WAL is flushed past its own
//! commit record, hence past the append's. On the writer's path it follows
//! `COMMIT` in the same round trip; on the default path it runs in
//! [`AuditStore::commit`], on a second connection of the store (opened
//! before its first call, never reopened: [`flush`]), so that the node's
//! next call runs while this one's WAL is flushed, and appends whose calls
//! returned meanwhile share the next flush. The append is acknowledged
//! (its receipt given) only once such a flush, started after its call
//! returned, has come back. WAL is replayed as a prefix and the lock
//! orders the appends' commit records, so a crash
//! can only lose a suffix of the log (entries and head together), never a
//! middle, and never an acknowledged entry; docs/postgres.md has the
//! argument. Readers ([`EntrySource::entries`]) wait for the same flush
//! before returning, so they report nothing a crash could take back.
//!
//! **Threads of one node.** With [`Chaining::InDatabase`] the threads
//! of one node that append through one [`gdpr_audit::AuditLog`] (and so
//! one store and connection) share calls: appends that arrive while a call
//! is in flight wait, and the next call takes them all (up to 2048 records
//! and 4 MiB of bodies) — one `gdpr.audit_append` for all, and its flush
//! on the second connection while the next call runs,
//! each append getting its own records' receipts, every one of them failing
//! if the call fails (group commit, in gdpr-audit's log, which sees the
//! concurrent appends: its state lock orders this node's calls). With
//! [`Chaining::ByWriter`] a writer's `stage` only adds to the node's open
//! transaction, and threads that stage while another's `COMMIT` is
//! pending share it. Nodes share PostgreSQL's WAL flushes, since no one
//! holds the lock while flushing.
//!
//! **After a failure** (a statement, the connection or `COMMIT` failed)
//! the store refuses further appends; open a new one (and a new
//! `AuditLog`, which verifies the log again). The entries a failed
//! transaction held are either all committed or all absent.

use std::sync::{Mutex, MutexGuard, PoisonError};

use gdpr_audit::store::{
    AuditStore, ChainedBatch, Entry, EntrySource, PruneAnchor, ScanEnd, SharedHead, SignNote,
    Ticket, Unchained,
};
use gdpr_audit::{CheckpointPolicy, Error};
use postgres::Client;

use crate::config::PgConfig;
use crate::error::audit;

mod chain;
mod copy;
mod flush;
mod head;
mod import;
mod orphans;
mod sql;

pub use import::Imported;
pub use orphans::MIN_ORPHAN_AGE;

/// How appends of one tenant are serialised (both measured by
/// `scripts/bench_postgres.sh`; see docs/postgres.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HeadLock {
    /// `SELECT … FROM gdpr.audit_head … FOR UPDATE` (the default).
    #[default]
    Row,
    /// `pg_advisory_xact_lock` on the tenant, then a plain read.
    Advisory,
}

/// Where a record's header and hashes are computed (both measured by
/// `scripts/bench_postgres.sh`; see docs/postgres.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Chaining {
    /// In PostgreSQL (`gdpr.audit_append`): one statement per batch, the
    /// tenant's lock held for one server-side execution (the default).
    #[default]
    InDatabase,
    /// By the writer, between reading the locked head and `COMMIT`: the
    /// tenant's lock is held across a round trip to the writer (the design
    /// before schema version 4; kept for comparison and for batches staged
    /// and committed separately).
    ByWriter,
}

/// The entries of one tenant's log on PostgreSQL (the tenant is the role
/// the connection logs in as; see [`crate::Tenant`]).
#[derive(Debug)]
pub struct PgAuditStore {
    conn: Mutex<Conn>,
    /// When the calls of [`Chaining::InDatabase`] are durable, and the
    /// second connection that flushes them.
    durable: flush::Durable,
    lock: HeadLock,
    chaining: Chaining,
}

struct Conn {
    client: Client,
    /// The entries staged in the open transaction, sent with its `COMMIT`.
    pending: sql::Pending,
    /// A transaction is open (and holds the tenant's append lock).
    open: bool,
    /// The head as of the open transaction, and its next sequence number.
    head: Option<(i64, SharedHead)>,
    /// The head the last `lock_head` returned (to check, should a
    /// concurrent commit end its transaction before `stage_shared`).
    returned: Option<(i64, SharedHead)>,
    staged: u64,
    committed: u64,
    /// Transactions committed (each may hold several stages).
    transactions: u64,
    /// A statement or commit failed: appends are refused.
    failed: bool,
    /// `gdpr.audit_append` prepared on this connection ([`chain::CALL`]).
    call: Option<postgres::Statement>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("open", &self.open)
            .field("staged", &self.staged)
            .field("committed", &self.committed)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

/// Ends the append transaction (committed asynchronously: `SET LOCAL
/// synchronous_commit = off` at `BEGIN`), then waits for durability with
/// [`FLUSH`] in the same round trip.
const COMMIT_THEN_FLUSH: &str =
    "COMMIT; SELECT pg_logical_emit_message(true, 'gdpr-audit-flush', '')";

/// A transaction that writes one WAL record (an empty logical-decoding
/// message, ignored unless someone decodes the WAL) and commits with the
/// session's `synchronous_commit` (never `off`: [`PgAuditStore::open`]
/// checks): it returns once the WAL up to its commit record — and so every
/// commit before it, by any session — is flushed (and, with synchronous
/// standbys, held by them). A transaction that writes no WAL of its own
/// (e.g. only `pg_current_xact_id()`) would commit without a flush.
pub(crate) const FLUSH: &str = "SELECT pg_logical_emit_message(true, 'gdpr-audit-flush', '')";

/// Every entry, as the embedded log holds them (what the view
/// `gdpr.audit_entries` of migration 6 gives: the records' runs joined
/// with their bodies, and the entries stored whole — notes, entries
/// chained by the writer or imported, those of schema 5 and before), read
/// in an order PostgreSQL produces without sorting the log: the runs and
/// the whole entries merged by their first entry number (two primary-key
/// orders). **One row per run**, not per record: its first entry number,
/// first position, record count, the previous leaf hashes (`prevs`, 32
/// bytes per record) and its bodies as one array (the slice of its pack,
/// one `gdpr.audit_body` row since schema 10; or, for runs written
/// before, `array_agg` over a primary-key range scan of the rows of one
/// body each: two subqueries inside a `CASE` on the row's kind, so that a
/// whole entry runs neither — as a lateral join they ran, empty, for every
/// whole entry, and made reading an imported log of 1 M entries 2.7×
/// slower, docs/postgres.md "Bodies packed"); the reader builds each
/// record's header (`0x01`, position, previous leaf hash) and checks that
/// the run's parts agree ([`copy::visit_entries`]). Against one row per
/// record with the header built in SQL this cuts the query by about a
/// third and the rows (and their protocol messages) by the run length
/// (docs/postgres.md, "Measured"). A run's `prevs` (stored out of line,
/// in TOAST, for runs of over about 60 records) is detoasted after the
/// merge (`|| ''`, in a lateral subquery that `OFFSET 0` keeps from being
/// merged into the output: detoasted before the merge, the runs' rows were
/// sorted on disk, 32 MB for 1 M records). Columns: entry number,
/// checkpoint, first position, count, `prevs`, bodies (runs), entry
/// (whole entries); the NULLs of the other kind.
const READ: &str = r#"COPY (SELECT s.k, s.cp, s.first_pos, s.count, p.prevs,
    CASE WHEN s.whole IS NULL THEN coalesce(
      (SELECT k.pack[s.first_ord : s.first_ord + s.count - 1]
        FROM gdpr.audit_body k
        WHERE k.tenant = current_user::text COLLATE "default"
          AND k.batch = s.batch AND k.ord = 1 AND k.pack IS NOT NULL),
      (SELECT array_agg(b.body ORDER BY b.ord)
        FROM gdpr.audit_body b
        WHERE b.tenant = current_user::text COLLATE "default"
          AND b.batch = s.batch AND b.ord >= s.first_ord AND b.ord < s.first_ord + s.count
          AND b.body IS NOT NULL)) END AS bodies,
    s.whole
  FROM ((SELECT first_seq AS k, batch, first_ord, count::int8 AS count, first_pos,
           prevs, NULL::bytea AS whole, false AS cp
         FROM gdpr.audit_run WHERE tenant = current_user::text COLLATE "default"
         ORDER BY first_seq)
        UNION ALL
        (SELECT seq, NULL, NULL, NULL, NULL, NULL, body, checkpoint
         FROM gdpr.audit_entry WHERE tenant = current_user::text COLLATE "default"
         ORDER BY seq)
        ORDER BY k) s
  LEFT JOIN LATERAL (SELECT s.prevs || '\x'::bytea AS prevs OFFSET 0) p ON true
  ORDER BY s.k) TO STDOUT (FORMAT binary)"#;

fn lock(m: &Mutex<Conn>) -> MutexGuard<'_, Conn> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Checks that the session's commits wait for the WAL flush
/// (`synchronous_commit` is not `off`): on such a connection a flush
/// ([`FLUSH`]) would return before anything is durable.
///
/// # Errors
/// [`Error::Backend`] for `operation` when it is `off` or cannot be read.
fn commits_wait_for_the_flush(client: &mut Client, operation: &'static str) -> Result<(), Error> {
    let sync: String = client
        .query_one("SELECT current_setting('synchronous_commit')", &[])
        .map_err(audit("reading synchronous_commit"))?
        .get(0);
    if sync == "off" {
        return Err(Error::Backend {
            operation,
            source: "synchronous_commit is off: a commit would be acknowledged before it is durable; set it to on (or remote_apply with standbys)".into(),
        });
    }
    Ok(())
}

fn refused() -> Error {
    Error::Backend {
        operation: "appending to the PostgreSQL audit log",
        source: "an earlier statement or commit failed: open the store again".into(),
    }
}

impl PgAuditStore {
    /// Connects as the tenant named in `config`, checks the schema version
    /// and that commits are durable (`synchronous_commit` is not `off`),
    /// and creates the tenant's empty head row if it has none.
    ///
    /// # Errors
    /// [`Error::Backend`] (unreachable, refused, wrong schema version,
    /// `synchronous_commit = off`).
    pub fn open(config: &PgConfig, lock: HeadLock) -> Result<Self, Error> {
        let mut client = config.connect()?;
        crate::migrate::check(&mut client)?;
        commits_wait_for_the_flush(&mut client, "opening the PostgreSQL audit log")?;
        client
            .execute(
                "INSERT INTO gdpr.audit_head (next_seq, size, frontier, prev, since_checkpoint)
                 VALUES (0, 0, '', $1, 0) ON CONFLICT DO NOTHING",
                &[&&[0u8; 32][..]],
            )
            .map_err(audit("creating the tenant's head row"))?;
        Ok(Self {
            conn: Mutex::new(Conn {
                client,
                pending: sql::Pending::default(),
                open: false,
                head: None,
                returned: None,
                staged: 0,
                committed: 0,
                transactions: 0,
                failed: false,
                call: None,
            }),
            durable: flush::Durable::new(config.clone()),
            lock,
            chaining: Chaining::default(),
        })
    }

    /// The store with records chained as `chaining` says (default:
    /// [`Chaining::InDatabase`]).
    #[must_use]
    pub fn with_chaining(mut self, chaining: Chaining) -> Self {
        self.chaining = chaining;
        self
    }

    /// The append transactions this store has committed (a diagnostic;
    /// several appends of this node share one: group commit). With
    /// [`Chaining::InDatabase`], the calls of `gdpr.audit_append`.
    pub fn transactions(&self) -> u64 {
        lock(&self.conn).transactions
    }

    /// The number of entries (records and checkpoints) committed.
    ///
    /// # Errors
    /// [`Error::Backend`].
    pub fn entry_count(&self) -> Result<u64, Error> {
        let mut c = lock(&self.conn);
        let n: i64 = c
            .client
            .query_one(
                "SELECT next_seq FROM gdpr.audit_head WHERE tenant = current_user",
                &[],
            )
            .map_err(audit("reading the head"))?
            .get(0);
        c.client
            .batch_execute(FLUSH)
            .map_err(audit("waiting until the head read is durable"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl Conn {
    /// Runs `f` on the open transaction; on failure rolls it back and
    /// refuses further appends.
    fn guarded<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<T, Error> {
        if self.failed {
            return Err(refused());
        }
        let out = f(self);
        if out.is_err() {
            self.failed = true;
            self.open = false;
            self.head = None;
            self.pending = sql::Pending::default();
            // The transaction is lost either way; a dead connection errs.
            let _ = self.client.batch_execute("ROLLBACK");
        }
        out
    }
}

impl Conn {
    /// Begins a transaction, takes the tenant's append lock and reads the
    /// head.
    fn begin(&mut self, lock_mode: HeadLock) -> Result<(), Error> {
        self.client
            .batch_execute("BEGIN; SET LOCAL synchronous_commit = off")
            .map_err(audit("BEGIN"))?;
        self.open = true;
        let sql = match lock_mode {
            HeadLock::Row => format!(
                "SELECT {} FROM gdpr.audit_head WHERE tenant = current_user FOR UPDATE",
                head::COLUMNS
            ),
            HeadLock::Advisory => {
                self.client
                    .execute(
                        "SELECT pg_advisory_xact_lock(hashtextextended(current_user, 7))",
                        &[],
                    )
                    .map_err(audit("taking the tenant's append lock"))?;
                format!(
                    "SELECT {} FROM gdpr.audit_head WHERE tenant = current_user",
                    head::COLUMNS
                )
            }
        };
        let row = self
            .client
            .query_one(&sql, &[])
            .map_err(audit("locking the tenant's head row"))?;
        self.head = Some(head::from_row(&row)?);
        Ok(())
    }
}

impl AuditStore for PgAuditStore {
    fn stage(&self, _entries: &[Entry]) -> Result<Ticket, Error> {
        Err(Error::Backend {
            operation: "appending to the PostgreSQL audit log",
            source: "a shared store is written after lock_head, with stage_shared".into(),
        })
    }

    fn lock_head(&self) -> Result<Option<SharedHead>, Error> {
        if self.durable.failed() {
            return Err(refused());
        }
        let lock_mode = self.lock;
        lock(&self.conn).guarded(|c| {
            if !c.open {
                c.begin(lock_mode)?;
            }
            c.returned = c.head.clone();
            Ok(c.head.as_ref().map(|(_, h)| h.clone()))
        })
    }

    fn stage_shared(&self, entries: &[Entry], new_head: &SharedHead) -> Result<Ticket, Error> {
        let mut c = lock(&self.conn);
        if !c.open && !c.failed {
            // Another thread's commit() ended the transaction in which this
            // writer read the head (and released the tenant's lock): lock
            // again, and go on only if no one appended in between.
            let expected = c.returned.take();
            c.guarded(|c| c.begin(self.lock))?;
            if c.head != expected {
                // Nothing is staged in the transaction just begun (this
                // writer holds the log's append lock): release the tenant.
                c.open = false;
                c.head = None;
                if c.client.batch_execute("ROLLBACK").is_err() {
                    c.failed = true;
                }
                return Err(Error::Backend {
                    operation: "appending to the PostgreSQL audit log",
                    source: "another writer appended between reading the head and writing; retry (nothing was written)".into(),
                });
            }
        }
        c.guarded(|c| {
            let next = match (&c.head, c.open) {
                (Some((next, _)), true) => *next,
                _ => return Err(refused()),
            };
            // Sent with COMMIT (one round trip under the tenant's lock).
            for (seq, e) in (next..).zip(entries) {
                match e {
                    Entry::Record(b) => c.pending.push(seq, false, b),
                    Entry::Checkpoint(n) => c.pending.push(seq, true, n.as_bytes()),
                    _ => return Err(refused()),
                }
            }
            let next_seq = next + entries.len() as i64;
            c.head = Some((next_seq, new_head.clone()));
            c.staged += 1;
            Ok(Ticket(c.staged))
        })
    }

    fn commit(&self, ticket: Ticket) -> Result<(), Error> {
        if self.durable.is_durable(ticket.0) {
            return Ok(());
        }
        if self.durable.was_called(ticket.0) {
            // A call chained in the database: flushed on the second
            // connection, while the next call may run on this one.
            return self.durable.wait(ticket.0);
        }
        let mut c = lock(&self.conn);
        if c.committed >= ticket.0 {
            return Ok(());
        }
        c.guarded(|c| {
            if c.open {
                // COMMIT without waiting for the WAL flush (the tenant's lock
                // is released at once), then a synchronous commit of our
                // own, whose flush covers it (WAL is flushed in order):
                // only then is the append acknowledged. One round trip.
                let message = match &c.head {
                    Some((next, h)) if !c.pending.is_empty() => {
                        c.pending.finish(*next, h, COMMIT_THEN_FLUSH)
                    }
                    _ => COMMIT_THEN_FLUSH.to_owned(),
                };
                c.client
                    .batch_execute(&message)
                    .map_err(audit("inserting audit entries and COMMIT"))?;
                c.open = false;
                c.head = None;
                c.committed = c.staged;
                c.transactions += 1;
                // The flush covers every call before it, too.
                self.durable.flushed(c.staged);
            }
            Ok(())
        })
    }

    fn chains_itself(&self) -> bool {
        self.chaining == Chaining::InDatabase
    }

    fn append_unchained(
        &self,
        records: &[Unchained<'_>],
        policy: &CheckpointPolicy,
        seen: u64,
        sign: &mut SignNote<'_>,
    ) -> Result<ChainedBatch, Error> {
        self.append_in_database(records, policy, seen, sign)
    }

    fn prune(&self, _anchor: &PruneAnchor) -> Result<(), Error> {
        Err(Error::Backend {
            operation: "pruning the PostgreSQL audit log",
            source: "not supported for PostgreSQL yet: the log keeps every record".into(),
        })
    }
}

impl EntrySource for PgAuditStore {
    fn entries(
        &self,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
    ) -> Result<ScanEnd, Error> {
        let mut c = lock(&self.conn);
        if c.open {
            return Err(Error::Backend {
                operation: "reading the PostgreSQL audit log",
                source: "an append transaction is open on this connection".into(),
            });
        }
        let reader = c
            .client
            .copy_out(READ)
            .map_err(audit("COPY of the audit entries"))?;
        let bytes = copy::visit_entries(reader, visit)?;
        // What was read may include appends committed asynchronously and
        // not flushed yet: report nothing a crash could still take back.
        c.client
            .batch_execute(FLUSH)
            .map_err(audit("waiting until the entries read are durable"))?;
        Ok(ScanEnd {
            bytes,
            ..ScanEnd::default()
        })
    }

    fn prune_anchor(&self) -> Result<Option<PruneAnchor>, Error> {
        Ok(None)
    }
}
