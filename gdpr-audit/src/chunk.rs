//! Chunks: runs of entries read together that own their bytes, so that
//! verification can hand pieces of them to other threads while the next
//! chunk is being read.

use crate::store::{Entry, EntryRef};

/// Where one entry lies in a chunk's bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Offset of the entry's frame in the log (or its row number).
    offset: u64,
    start: usize,
    end: usize,
    checkpoint: bool,
}

/// Entries read together, in log order, owning their bytes.
#[derive(Default)]
pub struct Chunk {
    bytes: Vec<u8>,
    spans: Vec<Span>,
}

/// Counts only: the bytes hold staff ids.
impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("entries", &self.spans.len())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Visitor of the chunks of a log, in order.
pub type ChunkVisitor<'v> = dyn FnMut(Chunk) -> Result<(), crate::Error> + 'v;

impl Chunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// A chunk over `bytes` (a read buffer), entries to be added with
    /// [`Chunk::add_span`].
    pub(crate) fn over(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            spans: Vec::new(),
        }
    }

    /// Adds the entry at `bytes[start..end]` of the read buffer; a
    /// checkpoint's bytes must be UTF-8 (checked by the caller).
    pub(crate) fn add_span(&mut self, offset: u64, start: usize, end: usize, checkpoint: bool) {
        self.spans.push(Span {
            offset,
            start,
            end,
            checkpoint,
        });
    }

    /// Appends a copy of `entry`, found at `offset`.
    pub fn push(&mut self, offset: u64, entry: EntryRef<'_>) {
        let (bytes, checkpoint) = match entry {
            EntryRef::Record(b) => (b, false),
            EntryRef::Checkpoint(n) => (n.as_bytes(), true),
        };
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.add_span(offset, start, self.bytes.len(), checkpoint);
    }

    /// Appends `entry`, found at `offset`.
    pub fn push_owned(&mut self, offset: u64, entry: &Entry) {
        self.push(offset, entry.as_ref());
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the chunk has no entries.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The number of bytes its entries hold.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Entry `i` and its offset.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn get(&self, i: usize) -> (u64, EntryRef<'_>) {
        let s = self.spans[i];
        let bytes = &self.bytes[s.start..s.end];
        let entry = if s.checkpoint {
            // Invariant: checkpoint bytes were checked to be UTF-8 when added;
            // an empty note would fail verification, never pass it.
            EntryRef::Checkpoint(std::str::from_utf8(bytes).unwrap_or_default())
        } else {
            EntryRef::Record(bytes)
        };
        (s.offset, entry)
    }

    /// The entries in order, with their offsets.
    pub fn iter(&self) -> impl Iterator<Item = (u64, EntryRef<'_>)> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The number of records among the entries.
    pub fn records(&self) -> usize {
        self.spans.iter().filter(|s| !s.checkpoint).count()
    }

    /// Drops the first `n` entries.
    pub(crate) fn drop_front(&mut self, n: usize) {
        self.spans.drain(..n.min(self.spans.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_in_order_with_their_offsets() {
        let mut c = Chunk::new();
        c.push(0, EntryRef::Record(b"abc"));
        c.push(8, EntryRef::Checkpoint("note\n"));
        c.push(18, EntryRef::Record(b""));
        assert_eq!(c.len(), 3);
        assert_eq!(c.records(), 2);
        assert_eq!(c.get(1), (8, EntryRef::Checkpoint("note\n")));
        let all: Vec<_> = c.iter().collect();
        assert_eq!(all[0], (0, EntryRef::Record(b"abc")));
        assert_eq!(all[2], (18, EntryRef::Record(b"")));
        c.drop_front(2);
        assert_eq!(c.get(0), (18, EntryRef::Record(b"")));
    }
}
