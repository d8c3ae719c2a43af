//! Reading a tenant's entries with `COPY (SELECT …) TO STDOUT (FORMAT
//! binary)`: one stream, no per-row protocol message, parsed here (the
//! binary COPY format of the PostgreSQL manual, "COPY", "Binary Format").

use std::io::{BufReader, Read};

use gdpr_audit::Error;
use gdpr_audit::store::Entry;

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Bad bytes in the stream (the server's or the connection's fault).
fn malformed(reason: &'static str) -> Error {
    Error::Backend {
        operation: "reading the audit entries (binary COPY)",
        source: reason.into(),
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Backend {
        operation: "reading the audit entries (binary COPY)",
        source: Box::new(e),
    }
}

/// The most bytes of one entry (an audit entry is far smaller).
const MAX_ENTRY: usize = 16 << 20;

/// The most bytes of a run's `prevs` or bodies (PostgreSQL's limit on
/// one value; a run is what one append call sent).
const MAX_VALUE: usize = 1 << 30;

/// The type of a `bytea` (`pg_type.oid`), as an array's elements name it.
const BYTEA_OID: u32 = 17;

/// Visits the rows of [`super::READ`]'s binary COPY stream: whole entries
/// `(seq, checkpoint, NULL, NULL, NULL, NULL, entry)` and runs `(first seq,
/// false, first position, count, prevs, bodies, NULL)`, each run's records
/// one by one, with the header each record's entry begins with (`0x01`,
/// its position as 8 bytes big-endian, its previous leaf hash) built here
/// as the view `gdpr.audit_entries` builds it in SQL. A run's bodies are
/// read element by element from the stream (memory: one entry, and the
/// run's `prevs`). Returns the entry bytes read.
pub(crate) fn visit_entries(
    reader: impl Read,
    visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut r = BufReader::with_capacity(1 << 20, reader);
    let mut header = [0u8; 19];
    r.read_exact(&mut header).map_err(io)?;
    if &header[..11] != SIGNATURE {
        return Err(malformed("not a binary COPY stream"));
    }
    let ext = u32::from_be_bytes([header[15], header[16], header[17], header[18]]);
    std::io::copy(&mut (&mut r).take(u64::from(ext)), &mut std::io::sink()).map_err(io)?;
    let mut bytes = 0u64;
    loop {
        let mut n = [0u8; 2];
        r.read_exact(&mut n).map_err(io)?;
        match i16::from_be_bytes(n) {
            -1 => return Ok(bytes),
            7 => {}
            _ => return Err(malformed("a row without seven fields")),
        }
        let seq = i64::from_be_bytes(fixed::<8>(&mut r)?);
        let seq = u64::try_from(seq).map_err(|_| malformed("a negative sequence number"))?;
        let checkpoint = fixed::<1>(&mut r)?[0] != 0;
        let first_pos = optional_fixed::<8>(&mut r)?.map(i64::from_be_bytes);
        let count = optional_fixed::<8>(&mut r)?.map(i64::from_be_bytes);
        let prevs = optional_field(&mut r, MAX_VALUE)?;
        match (first_pos, count, prevs) {
            (Some(pos), Some(count), Some(prevs)) if !checkpoint => {
                let run = Run {
                    seq,
                    pos,
                    count,
                    prevs,
                };
                bytes += run.visit(&mut r, visit)?;
                if optional_field(&mut r, 0)?.is_some() {
                    return Err(malformed("a run with an entry stored whole"));
                }
            }
            (None, None, None) => {
                if bodies_len(&mut r)?.is_some() {
                    return Err(malformed("an entry stored whole with bodies"));
                }
                let body = optional_field(&mut r, MAX_ENTRY)?
                    .ok_or_else(|| malformed("a null or oversized entry"))?;
                bytes += body.len() as u64;
                let entry = if checkpoint {
                    Entry::Checkpoint(
                        String::from_utf8(body)
                            .map_err(|_| malformed("a checkpoint that is not UTF-8"))?,
                    )
                } else {
                    Entry::Record(body)
                };
                visit(seq, entry)?;
            }
            _ => return Err(malformed("a row that is neither a run nor a whole entry")),
        }
    }
}

/// A run's row, up to its bodies.
struct Run {
    seq: u64,
    pos: i64,
    count: i64,
    prevs: Vec<u8>,
}

impl Run {
    /// Reads the run's bodies (a one-dimensional `bytea[]` in the binary
    /// array format: dimensions, flags, element type, length and lower
    /// bound, then each element's length and bytes) and visits each
    /// record; returns the entry bytes.
    fn visit(
        &self,
        r: &mut impl Read,
        visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let count = usize::try_from(self.count)
            .ok()
            .filter(|&n| n > 0 && Some(self.prevs.len()) == n.checked_mul(32))
            .ok_or_else(|| malformed("a run whose count and previous hashes disagree"))?;
        let mut left = bodies_len(r)?.ok_or_else(|| malformed("a run without its bodies"))?;
        let take = |n: usize, left: &mut usize| -> Result<(), Error> {
            *left = left
                .checked_sub(n)
                .ok_or_else(|| malformed("an array longer than its field"))?;
            Ok(())
        };
        let mut head = [0u8; 20];
        take(20, &mut left)?;
        r.read_exact(&mut head).map_err(io)?;
        let word = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        if word(0) != 1 || word(8) != BYTEA_OID || word(12) as usize != count {
            return Err(malformed("a run whose bodies are not one bytea per record"));
        }
        let mut bytes = 0u64;
        for (i, prev) in self.prevs.chunks_exact(32).enumerate() {
            // Positions and entry numbers come from the server: a run that
            // would run past the largest one is malformed, not a panic.
            // (Both are `int8` there.)
            let i = i64::try_from(i).ok();
            let pos = i.and_then(|i| self.pos.checked_add(i));
            let seq = i.and_then(|i| i64::try_from(self.seq).ok()?.checked_add(i));
            let (Some(pos), Some(seq)) = (pos, seq.and_then(|s| u64::try_from(s).ok())) else {
                return Err(malformed("a run past the largest position"));
            };
            let mut len = [0u8; 4];
            take(4, &mut left)?;
            r.read_exact(&mut len).map_err(io)?;
            let len = usize::try_from(i32::from_be_bytes(len))
                .ok()
                .filter(|&n| n <= MAX_ENTRY)
                .ok_or_else(|| malformed("a null or oversized body"))?;
            take(len, &mut left)?;
            let mut entry = Vec::with_capacity(41 + len);
            entry.push(1);
            entry.extend_from_slice(&pos.to_be_bytes());
            entry.extend_from_slice(prev);
            entry.resize(41 + len, 0);
            r.read_exact(&mut entry[41..]).map_err(io)?;
            bytes += entry.len() as u64;
            visit(seq, Entry::Record(entry))?;
        }
        if left != 0 {
            return Err(malformed("an array shorter than its field"));
        }
        Ok(bytes)
    }
}

/// The length of a run's bodies field, `None` when NULL.
fn bodies_len(r: &mut impl Read) -> Result<Option<usize>, Error> {
    field_len(r, MAX_VALUE)
}

/// A field's length: `None` when NULL; an error over `max`.
fn field_len(r: &mut impl Read, max: usize) -> Result<Option<usize>, Error> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(io)?;
    match i32::from_be_bytes(len) {
        -1 => Ok(None),
        n => usize::try_from(n)
            .ok()
            .filter(|&n| n <= max)
            .map(Some)
            .ok_or_else(|| malformed("an oversized field")),
    }
}

/// A variable-length field of at most `max` bytes, `None` when NULL.
fn optional_field(r: &mut impl Read, max: usize) -> Result<Option<Vec<u8>>, Error> {
    let Some(len) = field_len(r, max)? else {
        return Ok(None);
    };
    let mut v = vec![0u8; len];
    r.read_exact(&mut v).map_err(io)?;
    Ok(Some(v))
}

/// A field of exactly `N` bytes, or NULL.
fn optional_fixed<const N: usize>(r: &mut impl Read) -> Result<Option<[u8; N]>, Error> {
    match field_len(r, N)? {
        None => Ok(None),
        Some(n) if n == N => {
            let mut v = [0u8; N];
            r.read_exact(&mut v).map_err(io)?;
            Ok(Some(v))
        }
        Some(_) => Err(malformed("a field of the wrong length")),
    }
}

/// A field of exactly `N` bytes.
fn fixed<const N: usize>(r: &mut impl Read) -> Result<[u8; N], Error> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(io)?;
    if i32::from_be_bytes(len) != N as i32 {
        return Err(malformed("a field of the wrong length"));
    }
    let mut v = [0u8; N];
    r.read_exact(&mut v).map_err(io)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NULL: i32 = -1;

    fn int8(v: &mut Vec<u8>, n: i64) {
        v.extend(8i32.to_be_bytes());
        v.extend(n.to_be_bytes());
    }

    fn bytes(v: &mut Vec<u8>, b: &[u8]) {
        v.extend((b.len() as i32).to_be_bytes());
        v.extend(b);
    }

    fn whole(seq: i64, cp: bool, body: &[u8]) -> Vec<u8> {
        let mut v = 7i16.to_be_bytes().to_vec();
        int8(&mut v, seq);
        v.extend(1i32.to_be_bytes());
        v.push(u8::from(cp));
        for _ in 0..4 {
            v.extend(NULL.to_be_bytes());
        }
        bytes(&mut v, body);
        v
    }

    /// A run's row: `bodies` as PostgreSQL's binary `bytea[]`.
    fn run(seq: i64, pos: i64, count: i64, prevs: &[u8], bodies: &[&[u8]]) -> Vec<u8> {
        let mut v = 7i16.to_be_bytes().to_vec();
        int8(&mut v, seq);
        v.extend(1i32.to_be_bytes());
        v.push(0);
        int8(&mut v, pos);
        int8(&mut v, count);
        bytes(&mut v, prevs);
        let mut a = Vec::new();
        for w in [1, 0, BYTEA_OID, bodies.len() as u32, 1] {
            a.extend(w.to_be_bytes());
        }
        for b in bodies {
            bytes(&mut a, b);
        }
        bytes(&mut v, &a);
        v.extend(NULL.to_be_bytes());
        v
    }

    fn stream(rows: &[Vec<u8>]) -> Vec<u8> {
        let mut s = SIGNATURE.to_vec();
        s.extend(0u32.to_be_bytes());
        s.extend(2u32.to_be_bytes());
        s.extend([9, 9]);
        for r in rows {
            s.extend(r);
        }
        s.extend((-1i16).to_be_bytes());
        s
    }

    fn read(s: &[u8]) -> Result<(u64, Vec<(u64, Entry)>), Error> {
        let mut seen = Vec::new();
        let bytes = visit_entries(s, &mut |seq, e| {
            seen.push((seq, e));
            Ok(())
        })?;
        Ok((bytes, seen))
    }

    /// Known answer: the layout of the manual's binary COPY format, and
    /// each record of a run given the header the view builds (`0x01`,
    /// position big-endian, previous leaf hash) before its body.
    #[test]
    fn reads_whole_entries_and_runs_and_stops_at_the_trailer() {
        let prevs: Vec<u8> = (0..64).collect();
        let s = stream(&[
            whole(0, false, b"rec"),
            run(1, 7, 2, &prevs, &[b"ab", b"c"]),
            whole(3, true, b"note"),
        ]);
        let (bytes, seen) = read(&s).unwrap();
        let mut first = vec![1, 0, 0, 0, 0, 0, 0, 0, 7];
        first.extend(&prevs[..32]);
        first.extend(b"ab");
        let mut second = vec![1, 0, 0, 0, 0, 0, 0, 0, 8];
        second.extend(&prevs[32..]);
        second.extend(b"c");
        assert_eq!(bytes, 3 + 43 + 42 + 4);
        assert_eq!(
            seen,
            [
                (0, Entry::Record(b"rec".to_vec())),
                (1, Entry::Record(first)),
                (2, Entry::Record(second)),
                (3, Entry::Checkpoint("note".into()))
            ]
        );
        // Cut short: an error, not a silent end.
        assert!(read(&s[..s.len() - 2]).is_err());
        assert!(read(b"PGCOPY\n\xff\r\n\x01").is_err());
    }

    /// A run whose parts disagree fails, whichever part is off.
    #[test]
    fn a_run_whose_count_prevs_or_bodies_disagree_fails() {
        let prevs = [0u8; 64];
        assert!(read(&stream(&[run(0, 0, 2, &prevs, &[b"a", b"b"])])).is_ok());
        for bad in [
            run(0, 0, 3, &prevs, &[b"a", b"b"]),
            run(0, 0, 2, &prevs[..32], &[b"a", b"b"]),
            run(0, 0, 2, &prevs, &[b"a"]),
            run(0, 0, 2, &prevs, &[b"a", b"b", b"c"]),
            run(0, i64::MAX, 2, &prevs, &[b"a", b"b"]),
            run(i64::MAX, 0, 2, &prevs, &[b"a", b"b"]),
        ] {
            assert!(read(&stream(&[bad])).is_err());
        }
    }
}
