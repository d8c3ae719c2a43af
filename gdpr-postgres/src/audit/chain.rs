//! Appends chained inside PostgreSQL (`gdpr.audit_append`, migrations 4–6):
//! one prepared statement per call with binary parameters, in its own
//! implicit transaction — the function stores the records' bodies, then
//! locks the tenant's head, hashes and links the records, writes one
//! `gdpr.audit_run` row saying where they are and what their headers
//! hold, updates the head, and sets `synchronous_commit` off for its
//! transaction, which therefore commits (releasing the lock) without
//! waiting for the WAL flush; the synchronous [`super::FLUSH`] that makes
//! it durable runs later, on the store's second connection
//! ([`super::flush`]), while the next call may already run. So the
//! tenant's lock is held for one server-side execution, never across a
//! round trip to a client, and not while the bodies are inserted.

use gdpr_audit::merkle::Frontier;
use gdpr_audit::store::{SharedHead, SignNote, Unchained};
use gdpr_audit::{CheckpointPolicy, Error};
use jiff::Timestamp;

fn bad(reason: impl Into<String>) -> Error {
    Error::BadInput {
        what: "gdpr.audit_append",
        reason: reason.into().into(),
    }
}

/// Where the bodies of a call's records are: sent with it, or stored by an
/// earlier call of the same batch (which stopped for a checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bodies {
    /// Sent in the message (the function stores them before locking).
    Sent,
    /// Stored as batch `.0`, from body number `.1` on.
    Stored(i64, i64),
}

/// One call's answer.
#[derive(Debug)]
pub(super) struct Answer {
    /// Position and leaf hash of each record appended.
    pub(super) leaves: Vec<(u64, [u8; 32])>,
    /// A checkpoint due: the tree size and root to sign.
    pub(super) due: Option<(u64, [u8; 32])>,
    /// The log holds fewer records than the writer had seen.
    pub(super) truncated: bool,
    /// The head after the call.
    pub(super) head: SharedHead,
    /// The batch number of the call's stored bodies (none when it stored
    /// none).
    pub(super) batch: Option<i64>,
}

fn hex(text: &str) -> Result<Vec<u8>, Error> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(bad("not lower-case hex")),
    };
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(bad("odd number of hex digits"));
    }
    b.chunks_exact(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

fn hashes(text: &str) -> Result<Vec<[u8; 32]>, Error> {
    let bytes = hex(text)?;
    if !bytes.len().is_multiple_of(32) {
        return Err(bad("hashes not a whole number of 32 bytes"));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| <[u8; 32]>::try_from(c).unwrap_or_default())
        .collect())
}

fn hash(text: &str) -> Result<[u8; 32], Error> {
    match hashes(text)?.as_slice() {
        [h] => Ok(*h),
        _ => Err(bad("a hash of 32 bytes expected")),
    }
}

/// The call with binary parameters (extended protocol, one statement in
/// its own implicit transaction: the function sets `synchronous_commit`
/// off for it, so the tenant's lock ends with the statement, without a
/// round trip to send `COMMIT`). Every column of the answer as text.
pub(super) const CALL: &str = "SELECT o_first::text, o_count::text, o_leaves, \
     o_due_size::text, o_due_root, CASE WHEN o_truncated THEN 't' ELSE 'f' END, \
     o_next_seq::text, o_size::text, o_frontier, o_prev, o_since::text, \
     o_last_checkpoint_time, o_last_note, o_last_recorded, o_batch::text \
     FROM gdpr.audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Reads the row of [`CALL`].
fn answer_row(row: &postgres::Row) -> Result<Answer, Error> {
    let cols: Vec<Option<String>> = (0..15)
        .map(|i| row.try_get::<_, Option<String>>(i))
        .collect::<Result<_, _>>()
        .map_err(|_| bad("a column that is not text"))?;
    answer_of(|i| cols.get(i).and_then(|c| c.as_deref()))
}

fn answer_of<'a>(text: impl Fn(usize) -> Option<&'a str>) -> Result<Answer, Error> {
    let need = |i: usize| text(i).ok_or_else(|| bad("a NULL where a value is required"));
    let int = |i: usize| -> Result<u64, Error> { need(i)?.parse().map_err(|_| bad("not a count")) };
    let time = |i: usize| -> Result<Option<Timestamp>, Error> {
        text(i)
            .map(|t| t.parse().map_err(|_| bad("a time that is not RFC 3339")))
            .transpose()
    };
    let first = int(0)?;
    let leaves: Vec<(u64, [u8; 32])> = (first..).zip(hashes(need(2)?)?).collect();
    if leaves.len() as u64 != int(1)? {
        return Err(bad("leaf hashes and count disagree"));
    }
    let due = match (text(3), text(4)) {
        (Some(size), Some(root)) => {
            Some((size.parse().map_err(|_| bad("not a count"))?, hash(root)?))
        }
        _ => None,
    };
    let size = int(7)?;
    let head = SharedHead {
        frontier: Frontier::from_parts(size, hashes(need(8)?)?)?,
        prev: hash(need(9)?)?,
        since_checkpoint: int(10)?,
        last_checkpoint_time: time(11)?,
        last_note: text(12).map(str::to_owned),
        last_recorded: time(13)?,
    };
    let batch = text(14)
        .map(|b| b.parse().map_err(|_| bad("not a batch number")))
        .transpose()?;
    Ok(Answer {
        leaves,
        due,
        truncated: need(5)? == "t",
        head,
        batch,
    })
}

/// Calls per batch before giving up: each call appends a record, writes a
/// checkpoint or learns of one to sign, so a batch needs at most about two
/// per record even when other writers keep making checkpoints due.
fn max_calls(records: usize) -> usize {
    2 * records + 8
}

/// One call of `gdpr.audit_append`.
struct Call<'a, 'r> {
    /// The signed checkpoint the head waits for, if any.
    note: Option<&'a str>,
    records: &'a [Unchained<'r>],
    bodies: Bodies,
    policy: &'a CheckpointPolicy,
    /// The log size the writer has seen.
    seen: u64,
    advisory: bool,
}

impl Call<'_, '_> {
    /// Runs the call ([`CALL`], prepared once per connection) in its own
    /// transaction, committed without waiting for the WAL flush.
    fn run(&self, c: &mut super::Conn) -> Result<Answer, Error> {
        let times = self
            .records
            .iter()
            .map(|r| {
                i64::try_from(r.recorded.as_nanosecond())
                    .map_err(|_| bad("a recorded time outside 1677-2262"))
            })
            .collect::<Result<Vec<i64>, Error>>()?;
        // The bodies (sent), or where the stored ones are (batch, from).
        let sent: Option<Vec<&[u8]>> = match self.bodies {
            Bodies::Sent => Some(self.records.iter().map(|r| r.body).collect()),
            Bodies::Stored(..) => None,
        };
        let (batch, from) = match self.bodies {
            Bodies::Sent => (None, None),
            Bodies::Stored(b, f) => (
                Some(b),
                Some(i32::try_from(f).map_err(|_| bad("a batch of over 2^31 records"))?),
            ),
        };
        let every_records = self.policy.every_records.map(super::head::int8);
        let every_ns = self
            .policy
            .every
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let stmt = match &c.call {
            Some(s) => s.clone(),
            None => {
                let s = c
                    .client
                    .prepare(CALL)
                    .map_err(crate::error::audit("preparing gdpr.audit_append"))?;
                c.call.insert(s).clone()
            }
        };
        let row = c
            .client
            .query_one(
                &stmt,
                &[
                    &self.note.map(str::as_bytes),
                    &sent,
                    &times,
                    &every_records,
                    &every_ns,
                    &super::head::int8(self.seen),
                    &self.advisory,
                    &batch,
                    &from,
                ],
            )
            .map_err(crate::error::audit("appending (gdpr.audit_append)"))?;
        // Committed without waiting for the WAL flush (the function set
        // synchronous_commit off for its transaction): acknowledged only
        // once a synchronous commit started after it has been flushed
        // (`PgAuditStore::commit`, on the store's second connection).
        c.transactions += 1;
        answer_row(&row)
    }
}

impl super::PgAuditStore {
    /// [`gdpr_audit::AuditStore::append_unchained`]: calls
    /// `gdpr.audit_append` until every record is in and no checkpoint is
    /// due, signing the due ones with `sign`. Committed when it returns,
    /// durable once [`gdpr_audit::AuditStore::commit`] of its ticket
    /// returns.
    pub(super) fn append_in_database(
        &self,
        records: &[Unchained<'_>],
        policy: &CheckpointPolicy,
        seen: u64,
        sign: &mut SignNote<'_>,
    ) -> Result<gdpr_audit::store::ChainedBatch, Error> {
        let advisory = self.lock == super::HeadLock::Advisory;
        if self.durable.failed() {
            return Err(super::refused());
        }
        self.durable.open()?;
        let mut c = super::lock(&self.conn);
        if c.open {
            return Err(Error::Backend {
                operation: "appending to the PostgreSQL audit log",
                source: "a transaction chained by the client is open on this connection".into(),
            });
        }
        let (mut rest, mut note, mut seen) = (records, None::<String>, seen);
        let mut leaves = Vec::with_capacity(records.len());
        let mut bodies = Bodies::Sent;
        for _ in 0..max_calls(records.len()) {
            let call = Call {
                note: note.as_deref(),
                records: rest,
                bodies,
                policy,
                seen,
                advisory,
            };
            let got = c.guarded(|c| call.run(c))?;
            let done = got.truncated || (got.due.is_none() && rest.len() == got.leaves.len());
            rest = rest.get(got.leaves.len()..).unwrap_or_default();
            // The bodies this call stored stay stored for the rest of the
            // batch: the next calls name them instead of sending them.
            bodies = match (bodies, got.batch) {
                (Bodies::Stored(b, from), _) => Bodies::Stored(b, from + got.leaves.len() as i64),
                (Bodies::Sent, Some(b)) => Bodies::Stored(b, 1 + got.leaves.len() as i64),
                (Bodies::Sent, None) => Bodies::Sent,
            };
            leaves.extend(got.leaves);
            seen = seen.max(got.head.frontier.size());
            if done {
                c.staged += 1;
                self.durable.called(c.staged);
                return Ok(gdpr_audit::store::ChainedBatch {
                    leaves,
                    head: got.head,
                    ticket: gdpr_audit::store::Ticket(c.staged),
                });
            }
            // Signed before the records are durable: the note reaches the
            // database only with the next call, after them in the WAL, and
            // no one sees it before a flush that covers both (a crash in
            // between takes the note with the records).
            note = match got.due {
                Some((size, root)) => Some(sign(size, &root)?),
                None => None,
            };
        }
        c.failed = true;
        Err(Error::Backend {
            operation: "appending to the PostgreSQL audit log",
            source:
                "checkpoints kept falling due before this batch was written; open the store again"
                    .into(),
        })
    }
}
