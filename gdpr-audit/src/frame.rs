//! Frames: how entries sit in the log file. Each frame is a `u32`
//! big-endian payload length (at most [`MAX_FRAME`]), one kind byte (`1`
//! record, `2` checkpoint) and the payload.

use std::io::{BufReader, Read};
use std::path::Path;

use crate::Error;
use crate::store::{Entry, ScanEnd};

/// Largest frame payload.
pub const MAX_FRAME: usize = 1 << 20;
const KIND_RECORD: u8 = 1;
const KIND_CHECKPOINT: u8 = 2;

/// Appends the frame of `entry` to `buf`.
pub fn encode_frame(entry: &Entry, buf: &mut Vec<u8>) {
    let (kind, payload) = match entry {
        Entry::Record(b) => (KIND_RECORD, b.as_slice()),
        Entry::Checkpoint(n) => (KIND_CHECKPOINT, n.as_bytes()),
    };
    // Invariant: records and notes are far below 1 MiB (fields are bounded).
    buf.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    buf.push(kind);
    buf.extend_from_slice(payload);
}

/// Parses frames from `reader`, calling `visit` for each complete one.
///
/// # Errors
/// Errors of `reader` (as [`Error::Io`] on `path`) or of `visit`.
pub fn scan_frames(
    reader: &mut dyn Read,
    path: &Path,
    visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
) -> Result<ScanEnd, Error> {
    let mut r = BufReader::with_capacity(1 << 20, reader);
    let mut offset = 0u64;
    loop {
        let mut header = [0u8; 5];
        let got = read_full(&mut r, &mut header, path)?;
        if got == 0 {
            return Ok(ScanEnd {
                bytes: offset,
                ..ScanEnd::default()
            });
        }
        if got < 5 {
            return tail(&mut r, path, offset, &header[..got]);
        }
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = header[4];
        if len > MAX_FRAME || !matches!(kind, KIND_RECORD | KIND_CHECKPOINT) {
            return tail(&mut r, path, offset, &header);
        }
        let mut payload = vec![0u8; len];
        let got = read_full(&mut r, &mut payload, path)?;
        if got < len {
            let rest = (5 + got) as u64;
            return Ok(ScanEnd {
                bytes: offset + rest,
                torn_tail: Some((offset, rest)),
                corrupt: None,
            });
        }
        let entry = if kind == KIND_RECORD {
            Entry::Record(payload)
        } else {
            match String::from_utf8(payload) {
                Ok(s) => Entry::Checkpoint(s),
                Err(_) => {
                    return Ok(ScanEnd {
                        bytes: offset,
                        torn_tail: None,
                        corrupt: Some((offset, "checkpoint is not UTF-8")),
                    });
                }
            }
        };
        visit(offset, entry)?;
        offset += 5 + len as u64;
    }
}

/// An unparseable header at `offset`: a torn (or zero-filled) tail, or corruption.
fn tail(r: &mut dyn Read, path: &Path, offset: u64, seen: &[u8]) -> Result<ScanEnd, Error> {
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).map_err(|e| Error::io(path, e))?;
    let len = (seen.len() + rest.len()) as u64;
    let zero = seen.iter().chain(rest.iter()).all(|&b| b == 0);
    if seen.len() < 5 || zero {
        Ok(ScanEnd {
            bytes: offset + len,
            torn_tail: Some((offset, len)),
            corrupt: None,
        })
    } else {
        Ok(ScanEnd {
            bytes: offset + len,
            torn_tail: None,
            corrupt: Some((offset, "frame header has an impossible length or kind")),
        })
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8], path: &Path) -> Result<usize, Error> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(n)
}
