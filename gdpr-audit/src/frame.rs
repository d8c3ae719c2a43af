//! Frames: how entries sit in the log file. Each frame is a `u32`
//! big-endian payload length (at most [`MAX_FRAME`]), one kind byte (`1`
//! record, `2` checkpoint) and the payload.

use std::io::Read;
use std::path::Path;

use crate::Error;
use crate::chunk::{Chunk, ChunkVisitor};
use crate::encoding::Writer;
use crate::store::{Entry, EntryRef, ScanEnd};

/// Largest frame payload.
pub const MAX_FRAME: usize = 1 << 20;
const KIND_RECORD: u8 = 1;
const KIND_CHECKPOINT: u8 = 2;

/// Entries laid out one after another in one buffer, each as a frame (the
/// layout of the log file: [`crate::FileStore`]), so that a batch's
/// records are written where they are built: no buffer of their own per
/// record, no copy into a write buffer. A store that writes frames writes
/// [`Frames::as_bytes`] as it is; any other reads the entries
/// ([`Frames::entries`]). `Debug` shows only counts (records hold staff
/// ids in clear).
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Frames {
    bytes: Vec<u8>,
    /// Where each entry's payload lies in `bytes`, and whether it is a
    /// checkpoint.
    spans: Vec<(usize, usize, bool)>,
}

impl std::fmt::Debug for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frames")
            .field("entries", &self.spans.len())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Frames {
    /// No entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frames, one after another.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Empties it, keeping its buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// Adds `entry` (at most 1 MiB, `MAX_FRAME`, as every record and
    /// checkpoint is).
    pub fn push(&mut self, entry: EntryRef<'_>) {
        let (kind, payload) = match entry {
            EntryRef::Record(b) => (KIND_RECORD, b),
            EntryRef::Checkpoint(n) => (KIND_CHECKPOINT, n.as_bytes()),
        };
        self.frame(kind, payload.len(), |w| w.fixed(payload));
    }

    /// Adds a record of `len` bytes that `write` writes, and returns them.
    pub(crate) fn push_record(&mut self, len: usize, write: impl FnOnce(&mut Writer)) -> &[u8] {
        let start = self.frame(KIND_RECORD, len, write);
        self.bytes.get(start..).unwrap_or_default()
    }

    /// Writes one frame of `kind` whose payload `write` writes (`len`
    /// bytes expected; the header says what was written); returns where
    /// the payload starts.
    fn frame(&mut self, kind: u8, len: usize, write: impl FnOnce(&mut Writer)) -> usize {
        let header = self.bytes.len();
        self.bytes.reserve(5 + len);
        self.bytes.extend_from_slice(&[0, 0, 0, 0, kind]);
        let start = self.bytes.len();
        let mut w = Writer::from_vec(std::mem::take(&mut self.bytes));
        write(&mut w);
        self.bytes = w.into_bytes();
        // Invariant: records and notes are far below 1 MiB (fields are bounded).
        let written = u32::try_from(self.bytes.len() - start).unwrap_or(u32::MAX);
        if let Some(h) = self.bytes.get_mut(header..start - 1) {
            h.copy_from_slice(&written.to_be_bytes());
        }
        self.spans
            .push((start, self.bytes.len(), kind == KIND_CHECKPOINT));
        start
    }

    /// The entries, in order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = EntryRef<'_>> {
        self.spans.iter().map(|&(start, end, checkpoint)| {
            let payload = self.bytes.get(start..end).unwrap_or_default();
            match checkpoint {
                // Invariant: a checkpoint's payload was pushed as a `&str`.
                true => EntryRef::Checkpoint(std::str::from_utf8(payload).unwrap_or_default()),
                false => EntryRef::Record(payload),
            }
        })
    }

    /// The entries, owned.
    pub fn to_entries(&self) -> Vec<Entry> {
        self.entries().map(EntryRef::to_owned).collect()
    }
}

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
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn scan_frames(
    reader: &mut dyn Read,
    path: &Path,
    visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
) -> Result<ScanEnd, Error> {
    scan_chunks(reader, path, &mut |chunk| {
        chunk
            .iter()
            .try_for_each(|(offset, entry)| visit(offset, entry.to_owned()))
    })
}

/// Bytes read at a time by [`scan_chunks`] (more when a frame needs it),
/// after a first read of [`FIRST_CHUNK`] (so that a reader of chunks can
/// start early), doubling up to this.
const CHUNK: usize = 1 << 20;
const FIRST_CHUNK: usize = 64 << 10;

/// Parses frames from `reader` in large reads, calling `visit` with the
/// complete frames of each read as one [`Chunk`] that owns the read buffer
/// (no copy per entry; only a frame cut by the end of a read is copied,
/// to the start of the next).
///
/// # Errors
/// Errors of `reader` (as [`Error::Io`] on `path`) or of `visit`.
pub fn scan_chunks(
    reader: &mut dyn Read,
    path: &Path,
    visit: &mut ChunkVisitor<'_>,
) -> Result<ScanEnd, Error> {
    let mut carry: Vec<u8> = Vec::new();
    let mut offset = 0u64; // file offset of carry[0]
    let mut size = FIRST_CHUNK;
    loop {
        // Enough for the frame kept over, whatever its length, and a chunk.
        let pending = match carry.get(..4) {
            Some(h) => (u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize).min(MAX_FRAME) + 5,
            None => 0,
        };
        let want = size.max(pending.saturating_sub(carry.len()));
        size = (size * 2).min(CHUNK);
        let mut buf = Vec::with_capacity(carry.len() + want);
        buf.extend_from_slice(&carry);
        let got = read_up_to(reader, &mut buf, want, path)?;
        let eof = got < want;
        let mut chunk_end = None;
        let mut end = None;
        let mut at = offset;
        let mut pos = 0usize;
        let mut spans = Vec::new();
        while let Some(header) = buf.get(pos..pos + 5) {
            let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let kind = header[4];
            if len > MAX_FRAME || !matches!(kind, KIND_RECORD | KIND_CHECKPOINT) {
                end = Some(Tail::BadHeader);
                break;
            }
            let Some(payload) = buf.get(pos + 5..pos + 5 + len) else {
                break;
            };
            if kind == KIND_CHECKPOINT && std::str::from_utf8(payload).is_err() {
                end = Some(Tail::NotUtf8);
                break;
            }
            spans.push((at, pos + 5, pos + 5 + len, kind == KIND_CHECKPOINT));
            pos += 5 + len;
            at += 5 + len as u64;
            chunk_end = Some(pos);
        }
        carry = buf[pos..].to_vec();
        if let Some(used) = chunk_end {
            buf.truncate(used);
            let mut chunk = Chunk::over(buf);
            for (offset, start, end, checkpoint) in spans {
                chunk.add_span(offset, start, end, checkpoint);
            }
            visit(chunk)?;
        }
        match end {
            Some(Tail::NotUtf8) => {
                return Ok(ScanEnd {
                    bytes: at,
                    torn_tail: None,
                    corrupt: Some((at, "checkpoint is not UTF-8")),
                });
            }
            Some(Tail::BadHeader) => return tail(reader, path, at, &carry),
            None if eof => {
                let len = carry.len() as u64;
                return Ok(ScanEnd {
                    bytes: at + len,
                    torn_tail: (len > 0).then_some((at, len)),
                    corrupt: None,
                });
            }
            None => {}
        }
        offset = at;
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

/// Appends up to `n` bytes of `r` to `buf` (fewer only at the end of `r`).
fn read_up_to(r: &mut dyn Read, buf: &mut Vec<u8>, n: usize, path: &Path) -> Result<usize, Error> {
    let before = buf.len();
    (&mut *r)
        .take(n as u64)
        .read_to_end(buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(buf.len() - before)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frames are those [`encode_frame`] writes for each entry, and
    /// read back as the entries pushed.
    #[test]
    fn frames_are_the_entries_encoded_one_after_another() {
        let entries = [
            Entry::Record(b"first record".to_vec()),
            Entry::Checkpoint("note\n\u{2014} sig\n".to_owned()),
            Entry::Record(Vec::new()),
            Entry::Record(vec![7; 300]),
        ];
        let mut frames = Frames::new();
        let mut want = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match (i, e) {
                (3, Entry::Record(b)) => {
                    let got = frames.push_record(b.len(), |w| w.fixed(b)).to_vec();
                    assert_eq!(&got, b);
                }
                _ => frames.push(e.as_ref()),
            }
            encode_frame(e, &mut want);
        }
        assert_eq!(frames.as_bytes(), want);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames.to_entries(), entries);
        let mut read = Vec::new();
        let end = scan_frames(&mut frames.as_bytes(), Path::new("x"), &mut |_, e| {
            read.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(read, entries);
        assert_eq!(end.bytes, want.len() as u64);
        frames.clear();
        assert!(frames.is_empty() && frames.as_bytes().is_empty());
    }
}
