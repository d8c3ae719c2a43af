//! Copying a whole log into a tenant's empty log on PostgreSQL
//! ([`PgAuditStore::import`]): the entries byte for byte, at their
//! positions, so that the source's checkpoints and inclusion proofs hold
//! for the copy.

use gdpr_audit::Error;
use gdpr_audit::merkle::{Frontier, leaf_hash};
use gdpr_audit::record::Record;
use gdpr_audit::store::{Entry, EntrySource, SharedHead};
use postgres::Client;

use super::{COMMIT_THEN_FLUSH, Conn, PgAuditStore, head, lock};
use crate::error::audit;

/// Rows per `INSERT` statement while importing.
const ROWS_PER_INSERT: usize = 8192;

const INSERT: &str = "INSERT INTO gdpr.audit_entry (seq, checkpoint, body)
    SELECT * FROM unnest($1::int8[], $2::bool[], $3::bytea[])";

const SET_HEAD: &str = "UPDATE gdpr.audit_head SET next_seq = $1, size = $2, frontier = $3,
    prev = $4, since_checkpoint = $5, last_checkpoint_time = $6, last_note = $7,
    last_recorded = $8 WHERE tenant = current_user";

/// What [`PgAuditStore::import`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Imported {
    /// Records copied.
    pub records: u64,
    /// Checkpoint notes copied.
    pub checkpoints: u64,
}

/// Rows waiting to be inserted, and the head they lead to.
struct Batch {
    seqs: Vec<i64>,
    checkpoints: Vec<bool>,
    bodies: Vec<Vec<u8>>,
    next_seq: i64,
    frontier: Frontier,
    prev: [u8; 32],
    since: u64,
    last_note: Option<String>,
    last_record: Option<Vec<u8>>,
    done: Imported,
}

impl Batch {
    fn push(&mut self, entry: Entry) -> Result<(), Error> {
        match entry {
            Entry::Record(b) => {
                let leaf = leaf_hash(&b);
                self.frontier.push(leaf);
                self.prev = leaf;
                self.since += 1;
                self.done.records += 1;
                self.checkpoints.push(false);
                self.last_record = Some(b.clone());
                self.bodies.push(b);
            }
            Entry::Checkpoint(n) => {
                self.since = 0;
                self.done.checkpoints += 1;
                self.checkpoints.push(true);
                self.bodies.push(n.clone().into_bytes());
                self.last_note = Some(n);
            }
            _ => {
                return Err(Error::BadInput {
                    what: "log to import",
                    reason: "an entry of a kind this version does not know".into(),
                });
            }
        }
        self.seqs.push(self.next_seq);
        self.next_seq += 1;
        Ok(())
    }

    fn flush(&mut self, client: &mut Client) -> Result<(), Error> {
        if self.seqs.is_empty() {
            return Ok(());
        }
        let bodies: Vec<&[u8]> = self.bodies.iter().map(Vec::as_slice).collect();
        client
            .execute(INSERT, &[&self.seqs, &self.checkpoints, &bodies])
            .map_err(audit("inserting imported audit entries"))?;
        self.seqs.clear();
        self.checkpoints.clear();
        self.bodies.clear();
        Ok(())
    }

    /// The head after every entry, as a writer resuming the log would
    /// compute it (`AuditLog::with_stores`).
    fn head(&self) -> Result<SharedHead, Error> {
        let last_recorded = match &self.last_record {
            Some(b) => Some(Record::decode(b)?.recorded()),
            None => None,
        };
        Ok(SharedHead {
            frontier: self.frontier.clone(),
            prev: self.prev,
            since_checkpoint: self.since,
            last_checkpoint_time: last_recorded,
            last_note: self.last_note.clone(),
            last_recorded,
        })
    }
}

impl PgAuditStore {
    /// Copies every entry of `source` (a log directory, another store)
    /// into this tenant's log, which must be empty: byte for byte, at the
    /// same positions, with its checkpoint notes, in one transaction that
    /// holds the tenant's append lock and is acknowledged only once
    /// durable. The source's checkpoints and inclusion proofs therefore
    /// hold for the copy. It neither verifies `source` nor copies subject
    /// keys: verify the source before and the copy after (`gdpr audit
    /// copy` does both).
    ///
    /// # Errors
    /// [`Error::BadInput`] if this log is not empty or `source` was pruned
    /// (a PostgreSQL log keeps every record); errors of `source`;
    /// [`Error::Backend`] (then nothing was written).
    pub fn import(&self, source: &dyn EntrySource) -> Result<Imported, Error> {
        if source.prune_anchor()?.is_some() {
            return Err(Error::BadInput {
                what: "log to import",
                reason: "it was pruned; a PostgreSQL log holds every record from the first".into(),
            });
        }
        let lock_mode = self.lock;
        let mut c = lock(&self.conn);
        if c.open {
            return Err(super::refused());
        }
        c.guarded(|c| {
            c.begin(lock_mode)?;
            if c.head.as_ref().is_none_or(|(next, _)| *next != 0) {
                return Err(Error::BadInput {
                    what: "PostgreSQL audit log",
                    reason: "the tenant's log is not empty: import only into a new tenant".into(),
                });
            }
            let done = copy_rows(c, source)?;
            c.client
                .batch_execute(COMMIT_THEN_FLUSH)
                .map_err(audit("COMMIT"))?;
            c.open = false;
            c.head = None;
            Ok(done)
        })
    }
}

/// Inserts the entries of `source` and the head after them in the open
/// transaction of `c`.
fn copy_rows(c: &mut Conn, source: &dyn EntrySource) -> Result<Imported, Error> {
    let mut batch = Batch {
        seqs: Vec::with_capacity(ROWS_PER_INSERT),
        checkpoints: Vec::with_capacity(ROWS_PER_INSERT),
        bodies: Vec::with_capacity(ROWS_PER_INSERT),
        next_seq: 0,
        frontier: Frontier::new(),
        prev: [0; 32],
        since: 0,
        last_note: None,
        last_record: None,
        done: Imported::default(),
    };
    let client = &mut c.client;
    source.entries(&mut |_, entry| {
        batch.push(entry)?;
        if batch.seqs.len() >= ROWS_PER_INSERT {
            batch.flush(client)?;
        }
        Ok(())
    })?;
    batch.flush(client)?;
    let h = batch.head()?;
    client
        .execute(
            SET_HEAD,
            &[
                &batch.next_seq,
                &head::int8(h.frontier.size()),
                &head::frontier_bytes(&h),
                &&h.prev[..],
                &head::int8(h.since_checkpoint),
                &head::time_text(h.last_checkpoint_time),
                &h.last_note,
                &head::time_text(h.last_recorded),
            ],
        )
        .map_err(audit("writing the imported log's head"))?;
    Ok(batch.done)
}
