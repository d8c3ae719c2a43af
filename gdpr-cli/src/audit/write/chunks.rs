//! The input of `gdpr audit append` cut into numbered chunks of up to
//! [`BATCH`] event lines, copied out of the reader so that several threads
//! can parse them at once ([`super::workers`]). Each chunk travels in a
//! [`Slot`] taken from a fixed pool: the reading thread waits for a free
//! slot, so no more than the pool's chunks are ever in memory.

use std::io::BufRead;
use std::sync::mpsc::{Receiver, Sender};

use gdpr_audit::batch::EventBatch;

use super::lines::{LineError, Lines};

/// Events per durable batch (one `pwrite` and one `fdatasync`).
pub(super) const BATCH: usize = 1000;

/// How the input ended after a chunk's lines.
pub(super) enum End {
    /// Line `line` could not be read (too long, or the read failed).
    Unreadable { line: u64, error: LineError },
    /// The input ended; `unskipped` events that `--resume-from-size` meant
    /// to skip were not there.
    Eof { unskipped: u64 },
}

/// Input lines to parse, in input order: their bytes one after another
/// and, for each, its number and where it ends.
#[derive(Default)]
pub(super) struct Chunk {
    /// Its place in the input: chunks are numbered 0, 1, 2, ...
    pub(super) seq: u64,
    bytes: Vec<u8>,
    lines: Vec<(u64, usize)>,
    /// Set on the last chunk only.
    pub(super) end: Option<End>,
}

impl Chunk {
    /// Empties it for chunk `seq`, keeping its buffers.
    fn reset(&mut self, seq: u64) {
        self.seq = seq;
        self.bytes.clear();
        self.lines.clear();
        self.end = None;
    }

    /// The lines: their numbers and bytes.
    pub(super) fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let mut from = 0;
        self.lines.iter().map(move |&(n, end)| {
            let line = self.bytes.get(from..end).unwrap_or_default();
            from = end;
            (n, line)
        })
    }

    /// The numbers of its first `events` lines' first and last lines.
    pub(super) fn span(&self, events: usize) -> (u64, u64) {
        let n = |i: usize| self.lines.get(i).map_or(0, |&(n, _)| n);
        (n(0), n(events.saturating_sub(1)))
    }

    /// The number of lines it holds.
    pub(super) fn len(&self) -> usize {
        self.lines.len()
    }

    fn push(&mut self, number: u64, line: &[u8]) {
        self.bytes.extend_from_slice(line);
        self.lines.push((number, self.bytes.len()));
    }
}

/// A chunk and the batch its events are parsed into: what goes round the
/// pool, from the reading thread to a parsing thread to the writing thread
/// and back.
pub(super) struct Slot {
    pub(super) chunk: Chunk,
    pub(super) events: EventBatch,
}

impl Slot {
    /// A slot with room for a chunk of [`BATCH`] events.
    pub(super) fn new() -> Self {
        Self {
            chunk: Chunk {
                seq: 0,
                bytes: Vec::with_capacity(BATCH * 512),
                lines: Vec::with_capacity(BATCH),
                end: None,
            },
            events: EventBatch::with_capacity(BATCH),
        }
    }
}

/// Reads the input into chunks of [`BATCH`] event lines (after skipping
/// `skip_lines` lines and then `skip_events` non-blank ones; blank lines
/// are left out), each filled in a slot taken from `spare` and sent to
/// `to`. The last chunk sent says how the input ended. Stops early when
/// `spare` or `to` is closed (the writing side stopped).
pub(super) fn read_chunks(
    reader: impl BufRead,
    (skip_lines, skip_events): (u64, u64),
    spare: &Receiver<Slot>,
    to: &Sender<Slot>,
) {
    let mut lines = Lines::new(reader);
    let mut unskipped = skip_events;
    let mut seq = 0;
    let Ok(mut slot) = spare.recv() else { return };
    slot.chunk.reset(seq);
    let end = loop {
        let (n, line) = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break End::Eof { unskipped },
            Err(error) => {
                let line = lines.number();
                break End::Unreadable { line, error };
            }
        };
        if n <= skip_lines || line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if unskipped > 0 {
            unskipped -= 1;
            continue;
        }
        slot.chunk.push(n, line);
        if slot.chunk.len() == BATCH {
            if to.send(slot).is_err() {
                return;
            }
            seq += 1;
            slot = match spare.recv() {
                Ok(s) => s,
                Err(_) => return,
            };
            slot.chunk.reset(seq);
        }
    };
    slot.chunk.end = Some(end);
    let _ = to.send(slot);
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;

    use super::*;

    /// Chunks of `input` (lines skipped as given), with the pool always
    /// full: their lines as text, and how the input ended.
    fn chunks(input: &str, skip: (u64, u64)) -> (Vec<Vec<(u64, String)>>, Option<End>) {
        let (back, spare) = channel();
        let (to, rx) = channel();
        std::thread::scope(|s| {
            let reader = s.spawn(move || read_chunks(input.as_bytes(), skip, &spare, &to));
            let mut got = Vec::new();
            back.send(Slot::new()).unwrap();
            while let Ok(slot) = rx.recv() {
                assert_eq!(slot.chunk.seq, got.len() as u64);
                let lines = slot.chunk.lines();
                got.push(
                    lines
                        .map(|(n, l)| (n, String::from_utf8(l.to_vec()).unwrap()))
                        .collect(),
                );
                if slot.chunk.end.is_some() {
                    reader.join().unwrap();
                    return (got, slot.chunk.end);
                }
                back.send(slot).unwrap();
            }
            unreachable!("the last chunk says how the input ended")
        })
    }

    #[test]
    fn cuts_event_lines_into_numbered_chunks() {
        let input: String = (1..=2500).map(|i| format!("e{i}\n\n")).collect();
        let (got, end) = chunks(&input, (0, 0));
        assert_eq!(
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            [1000, 1000, 500]
        );
        assert_eq!(got[0][0], (1, "e1".to_owned()));
        assert_eq!(got[1][999], (3999, "e2000".to_owned()));
        assert!(matches!(end, Some(End::Eof { unskipped: 0 })));
    }

    #[test]
    fn skips_lines_then_events_and_counts_what_was_missing() {
        let (got, _) = chunks("a\nb\n\nc\nd\n", (2, 1));
        assert_eq!(got, [vec![(5, "d".to_owned())]]);
        let (got, end) = chunks("a\nb\n", (1, 3));
        assert_eq!(got, [vec![]]);
        assert!(matches!(end, Some(End::Eof { unskipped: 2 })));
    }

    #[test]
    fn an_unreadable_line_ends_the_input_after_the_lines_before_it() {
        let input = format!("a\n{}\nb\n", "x".repeat(super::super::lines::MAX_LINE + 1));
        let (got, end) = chunks(&input, (0, 0));
        assert_eq!(got, [vec![(1, "a".to_owned())]]);
        assert!(matches!(
            end,
            Some(End::Unreadable {
                line: 2,
                error: LineError::TooLong
            })
        ));
    }
}
