//! Appends chained inside PostgreSQL (`gdpr.audit_append`, migrations 4–6):
//! one message per call — `BEGIN`, the function (which stores the records'
//! bodies, then locks the tenant's head, hashes and links the records,
//! writes one `gdpr.audit_run` row saying where they are and what their
//! headers hold, and updates the head), `COMMIT` without waiting for the
//! WAL flush, then the synchronous [`super::FLUSH`] — so the tenant's lock
//! is held for one server-side execution, never across a round trip to a
//! client, and not while the bodies are inserted. Values are numbers or
//! hex digits only, as in [`super::sql`].

use std::fmt::Write;

use gdpr_audit::merkle::Frontier;
use gdpr_audit::store::{SharedHead, SignNote, Unchained};
use gdpr_audit::{CheckpointPolicy, Error};
use jiff::Timestamp;
use postgres::SimpleQueryMessage;

use super::sql::bytea;

/// The columns `gdpr.audit_append` returns, in order.
const COLUMNS: &str = "o_first, o_count, o_leaves, o_due_size, o_due_root, o_truncated, \
     o_next_seq, o_size, o_frontier, o_prev, o_since, o_last_checkpoint_time, o_last_note, \
     o_last_recorded, o_batch";

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

/// The message of one call: `note` (the signed checkpoint the head waits
/// for, if any), the records, the policy and what the writer has seen,
/// then `tail` (`COMMIT` and the flush).
pub(super) fn message(
    note: Option<&str>,
    records: &[Unchained<'_>],
    bodies: Bodies,
    policy: &CheckpointPolicy,
    seen: u64,
    advisory: bool,
    tail: &str,
) -> Result<String, Error> {
    let len: usize = records.iter().map(|r| r.body.len() * 2 + 40).sum();
    let mut sql = String::with_capacity(len + 256);
    let _ = write!(
        sql,
        "BEGIN; SET LOCAL synchronous_commit = off; SELECT {COLUMNS} FROM gdpr.audit_append("
    );
    match note {
        Some(n) => bytea(&mut sql, n.as_bytes()),
        None => sql.push_str("NULL"),
    }
    if bodies == Bodies::Sent {
        sql.push_str(", ARRAY[");
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            bytea(&mut sql, r.body);
        }
        sql.push_str("]::bytea[], ARRAY[");
    } else {
        sql.push_str(", NULL, ARRAY[");
    }
    for (i, r) in records.iter().enumerate() {
        let ns = i64::try_from(r.recorded.as_nanosecond())
            .map_err(|_| bad("a recorded time outside 1677-2262"))?;
        let _ = write!(sql, "{}{ns}", if i > 0 { "," } else { "" });
    }
    sql.push_str("]::bigint[], ");
    match policy.every_records {
        Some(n) => {
            let _ = write!(sql, "{}", super::head::int8(n));
        }
        None => sql.push_str("NULL"),
    }
    sql.push_str(", ");
    match policy.every {
        Some(d) => {
            let ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
            let _ = write!(sql, "{ns}");
        }
        None => sql.push_str("NULL"),
    }
    let _ = write!(sql, ", {}, {advisory}, ", super::head::int8(seen));
    match bodies {
        Bodies::Sent => sql.push_str("NULL, NULL"),
        Bodies::Stored(batch, from) => {
            let _ = write!(sql, "{batch}, {from}");
        }
    }
    let _ = write!(sql, "); {tail}");
    Ok(sql)
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

/// Reads the function's row from the answer to [`message`].
pub(super) fn answer(messages: &[SimpleQueryMessage]) -> Result<Answer, Error> {
    let row = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .ok_or_else(|| bad("no row returned"))?;
    let text = |i: usize| row.get(i);
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

impl super::PgAuditStore {
    /// [`gdpr_audit::AuditStore::append_unchained`]: calls
    /// `gdpr.audit_append` until every record is in and no checkpoint is
    /// due, signing the due ones with `sign`; durable when it returns.
    pub(super) fn append_in_database(
        &self,
        records: &[Unchained<'_>],
        policy: &CheckpointPolicy,
        seen: u64,
        sign: &mut SignNote<'_>,
    ) -> Result<gdpr_audit::store::ChainedBatch, Error> {
        let advisory = self.lock == super::HeadLock::Advisory;
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
            let sql = message(
                note.as_deref(),
                rest,
                bodies,
                policy,
                seen,
                advisory,
                super::COMMIT_THEN_FLUSH,
            )?;
            let got = c.guarded(|c| {
                let messages = c.client.simple_query(&sql).map_err(crate::error::audit(
                    "appending (gdpr.audit_append) and COMMIT",
                ))?;
                c.transactions += 1;
                answer(&messages)
            })?;
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
                c.committed = c.staged;
                return Ok(gdpr_audit::store::ChainedBatch {
                    leaves,
                    head: got.head,
                    ticket: gdpr_audit::store::Ticket(c.staged),
                });
            }
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
