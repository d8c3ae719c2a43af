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

/// Visits the rows `(seq int8, checkpoint bool, body bytea)` of a binary
/// COPY stream; returns the body bytes read.
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
            3 => {}
            _ => return Err(malformed("a row without three fields")),
        }
        let seq = i64::from_be_bytes(fixed::<8>(&mut r)?);
        let checkpoint = fixed::<1>(&mut r)?[0] != 0;
        let body = field(&mut r)?;
        bytes += body.len() as u64;
        let seq = u64::try_from(seq).map_err(|_| malformed("a negative sequence number"))?;
        let entry = if checkpoint {
            Entry::Checkpoint(
                String::from_utf8(body).map_err(|_| malformed("a checkpoint that is not UTF-8"))?,
            )
        } else {
            Entry::Record(body)
        };
        visit(seq, entry)?;
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

/// A variable-length, non-null field (at most 16 MiB: an audit entry is
/// far smaller).
fn field(r: &mut impl Read) -> Result<Vec<u8>, Error> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(io)?;
    let len = usize::try_from(i32::from_be_bytes(len))
        .ok()
        .filter(|&n| n <= 16 << 20)
        .ok_or_else(|| malformed("a null or oversized body"))?;
    let mut v = vec![0u8; len];
    r.read_exact(&mut v).map_err(io)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, cp: bool, body: &[u8]) -> Vec<u8> {
        let mut v = 3i16.to_be_bytes().to_vec();
        v.extend(8i32.to_be_bytes());
        v.extend(seq.to_be_bytes());
        v.extend(1i32.to_be_bytes());
        v.push(u8::from(cp));
        v.extend((body.len() as i32).to_be_bytes());
        v.extend(body);
        v
    }

    /// Known answer: the layout of the manual's binary COPY format.
    #[test]
    fn reads_rows_and_stops_at_the_trailer() {
        let mut s = SIGNATURE.to_vec();
        s.extend(0u32.to_be_bytes());
        s.extend(2u32.to_be_bytes());
        s.extend([9, 9]);
        s.extend(row(0, false, b"rec"));
        s.extend(row(1, true, b"note"));
        s.extend((-1i16).to_be_bytes());
        let mut seen = Vec::new();
        let bytes = visit_entries(&s[..], &mut |seq, e| {
            seen.push((seq, e));
            Ok(())
        })
        .unwrap();
        assert_eq!(bytes, 7);
        assert_eq!(
            seen,
            [
                (0, Entry::Record(b"rec".to_vec())),
                (1, Entry::Checkpoint("note".into()))
            ]
        );
        // Cut short: an error, not a silent end.
        assert!(visit_entries(&s[..s.len() - 2], &mut |_, _| Ok(())).is_err());
        assert!(visit_entries(&b"PGCOPY\n\xff\r\n\x01"[..], &mut |_, _| Ok(())).is_err());
    }
}
