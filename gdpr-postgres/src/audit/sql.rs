//! The text of the one message that ends an append: the staged entries'
//! `INSERT`, the head's `UPDATE`, `COMMIT` and the flush, sent together so
//! that the tenant's lock is held for one round trip after the head was
//! read, not three. Every value is a number, a boolean or hex digits
//! (`decode('…', 'hex')`): no quoting of caller data, whatever the
//! server's `standard_conforming_strings`.

use std::fmt::Write;

use gdpr_audit::store::SharedHead;

use super::head;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

fn hex_into(sql: &mut String, bytes: &[u8]) {
    sql.reserve(bytes.len() * 2);
    for b in bytes {
        sql.push(char::from(DIGITS[usize::from(b >> 4)]));
        sql.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// `decode('<hex>', 'hex')`, a bytea.
pub(super) fn bytea(sql: &mut String, bytes: &[u8]) {
    sql.push_str("decode('");
    hex_into(sql, bytes);
    sql.push_str("','hex')");
}

/// A text value or `NULL`.
fn text(sql: &mut String, value: Option<&str>) {
    match value {
        Some(t) => {
            sql.push_str("convert_from(");
            bytea(sql, t.as_bytes());
            sql.push_str(",'UTF8')");
        }
        None => sql.push_str("NULL"),
    }
}

/// Rows of `gdpr.audit_entry` staged in the open transaction, as the
/// `VALUES` list of one `INSERT`.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    values: String,
}

impl Pending {
    /// Adds the row `(seq, checkpoint, body)`.
    pub(crate) fn push(&mut self, seq: i64, checkpoint: bool, body: &[u8]) {
        if self.values.is_empty() {
            self.values
                .push_str("INSERT INTO gdpr.audit_entry (seq, checkpoint, body) VALUES ");
        } else {
            self.values.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(self.values, "({seq},{checkpoint},");
        bytea(&mut self.values, body);
        self.values.push(')');
    }

    /// Whether no row is staged.
    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The message: the rows, the head after them (`next_seq`, `h`),
    /// `tail` (`COMMIT` and the flush). Leaves `self` empty.
    pub(crate) fn finish(&mut self, next_seq: i64, h: &SharedHead, tail: &str) -> String {
        let mut sql = std::mem::take(&mut self.values);
        let _ = write!(
            sql,
            "; UPDATE gdpr.audit_head SET next_seq = {next_seq}, size = {}, since_checkpoint = {}, frontier = ",
            head::int8(h.frontier.size()),
            head::int8(h.since_checkpoint),
        );
        bytea(&mut sql, &head::frontier_bytes(h));
        sql.push_str(", prev = ");
        bytea(&mut sql, &h.prev);
        sql.push_str(", last_checkpoint_time = ");
        text(&mut sql, head::time_text(h.last_checkpoint_time).as_deref());
        sql.push_str(", last_note = ");
        text(&mut sql, h.last_note.as_deref());
        sql.push_str(", last_recorded = ");
        text(&mut sql, head::time_text(h.last_recorded).as_deref());
        sql.push_str(", due_size = NULL, due_root = NULL WHERE tenant = current_user; ");
        sql.push_str(tail);
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdpr_audit::merkle::Frontier;

    /// Caller data only ever appears as hex digits: a note with quotes and
    /// a semicolon cannot end the literal.
    #[test]
    fn values_are_hex_only() {
        let mut p = Pending::default();
        assert!(p.is_empty());
        p.push(7, false, b"x'); DROP TABLE t; --");
        p.push(8, true, b"note");
        let h = SharedHead {
            frontier: Frontier::new(),
            prev: [0xab; 32],
            since_checkpoint: 0,
            last_checkpoint_time: None,
            last_note: Some("o'rigin\n1\n'); --".into()),
            last_recorded: None,
        };
        let sql = p.finish(9, &h, "COMMIT");
        assert!(p.is_empty());
        assert!(!sql.contains("DROP") && !sql.contains("rigin"), "{sql}");
        assert!(sql.starts_with(
            "INSERT INTO gdpr.audit_entry (seq, checkpoint, body) VALUES (7,false,decode('"
        ));
        assert!(sql.contains("(8,true,decode('6e6f7465','hex'))"), "{sql}");
        assert!(sql.contains("next_seq = 9, size = 0, since_checkpoint = 0"));
        assert!(sql.contains("last_checkpoint_time = NULL"));
        assert!(sql.ends_with("WHERE tenant = current_user; COMMIT"));
    }
}
