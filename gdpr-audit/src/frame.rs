//! Frames: how entries sit in the log file. Each frame is a `u32`
//! big-endian payload length (at most [`MAX_FRAME`]), one kind byte (`1`
//! record, `2` checkpoint) and the payload.

use std::io::Read;
use std::path::Path;

use crate::Error;
use crate::store::{BatchVisitor, Entry, EntryRef, ScanEnd};

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
    scan_frame_batches(reader, path, &mut |batch| {
        batch
            .iter()
            .try_for_each(|&(offset, entry)| visit(offset, entry.to_owned()))
    })
}

/// Bytes read at a time by [`scan_frame_batches`] (beyond a frame kept over).
const CHUNK: usize = 2 << 20;

/// Parses frames from `reader` in large reads, calling `visit` with the
/// complete frames of each read, borrowed in place (no copy per entry).
///
/// # Errors
/// Errors of `reader` (as [`Error::Io`] on `path`) or of `visit`.
pub fn scan_frame_batches(
    reader: &mut dyn Read,
    path: &Path,
    visit: &mut BatchVisitor<'_>,
) -> Result<ScanEnd, Error> {
    // Room for one whole frame kept over from the previous read, plus a chunk.
    let mut buf = vec![0u8; MAX_FRAME + 5 + CHUNK];
    let mut filled = 0usize;
    let mut offset = 0u64; // file offset of buf[0]
    loop {
        let got = read_full(reader, &mut buf[filled..], path)?;
        filled += got;
        let eof = filled < buf.len();
        let mut batch = Vec::new();
        let mut end = None;
        let mut at = offset;
        let data = &buf[..filled];
        let mut pos = 0usize;
        while let Some(header) = data.get(pos..pos + 5) {
            let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let kind = header[4];
            if len > MAX_FRAME || !matches!(kind, KIND_RECORD | KIND_CHECKPOINT) {
                end = Some(Tail::BadHeader);
                break;
            }
            let Some(payload) = data.get(pos + 5..pos + 5 + len) else {
                break;
            };
            let entry = if kind == KIND_RECORD {
                EntryRef::Record(payload)
            } else if let Ok(s) = std::str::from_utf8(payload) {
                EntryRef::Checkpoint(s)
            } else {
                end = Some(Tail::NotUtf8);
                break;
            };
            batch.push((at, entry));
            pos += 5 + len;
            at += 5 + len as u64;
        }
        if !batch.is_empty() {
            visit(&batch)?;
        }
        let rest = &data[pos..];
        match end {
            Some(Tail::NotUtf8) => {
                return Ok(ScanEnd {
                    bytes: at,
                    torn_tail: None,
                    corrupt: Some((at, "checkpoint is not UTF-8")),
                });
            }
            Some(Tail::BadHeader) => return tail(reader, path, at, rest),
            None if eof => {
                let len = rest.len() as u64;
                return Ok(ScanEnd {
                    bytes: at + len,
                    torn_tail: (len > 0).then_some((at, len)),
                    corrupt: None,
                });
            }
            None => {}
        }
        // Keep the incomplete frame and read on after it.
        let kept = rest.len();
        buf.copy_within(pos..filled, 0);
        offset = at;
        filled = kept;
    }
}

enum Tail {
    BadHeader,
    NotUtf8,
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
