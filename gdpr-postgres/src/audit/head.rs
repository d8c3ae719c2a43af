//! The head row of a tenant's log (`gdpr.audit_head`) ⇄
//! [`SharedHead`]: the frontier as the concatenation of its 32-byte
//! nodes, times as RFC 3339 text.

use gdpr_audit::Error;
use gdpr_audit::merkle::Frontier;
use gdpr_audit::store::SharedHead;
use jiff::Timestamp;
use postgres::Row;

/// The columns, in the order [`from_row`] reads them.
pub(crate) const COLUMNS: &str = "next_seq, size, frontier, prev, since_checkpoint, \
     last_checkpoint_time, last_note, last_recorded";

fn bad(reason: &'static str) -> Error {
    Error::BadInput {
        what: "gdpr.audit_head",
        reason: reason.into(),
    }
}

/// The next entry's sequence number and the head.
pub(crate) fn from_row(row: &Row) -> Result<(i64, SharedHead), Error> {
    let next_seq: i64 = row.get(0);
    let size = u64::try_from(row.get::<_, i64>(1)).map_err(|_| bad("negative size"))?;
    let nodes: &[u8] = row.get(2);
    if !nodes.len().is_multiple_of(32) {
        return Err(bad("frontier not a whole number of hashes"));
    }
    let nodes = nodes
        .chunks_exact(32)
        .map(|c| <[u8; 32]>::try_from(c).unwrap_or_default())
        .collect();
    let frontier = Frontier::from_parts(size, nodes)?;
    let prev =
        <[u8; 32]>::try_from(row.get::<_, &[u8]>(3)).map_err(|_| bad("prev not 32 bytes"))?;
    let since = u64::try_from(row.get::<_, i64>(4)).map_err(|_| bad("negative count"))?;
    let time = |i: usize| -> Result<Option<Timestamp>, Error> {
        row.get::<_, Option<&str>>(i)
            .map(|t| t.parse().map_err(|_| bad("a time that is not RFC 3339")))
            .transpose()
    };
    Ok((
        next_seq,
        SharedHead {
            frontier,
            prev,
            since_checkpoint: since,
            last_checkpoint_time: time(5)?,
            last_note: row.get::<_, Option<String>>(6),
            last_recorded: time(7)?,
        },
    ))
}

/// The frontier's nodes, concatenated.
pub(crate) fn frontier_bytes(head: &SharedHead) -> Vec<u8> {
    head.frontier.nodes().concat()
}

/// A time as stored.
pub(crate) fn time_text(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

/// A count as stored (the log never holds 2^63 entries).
pub(crate) fn int8(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
