//! The parsing threads of `gdpr audit append`: each takes the next chunk
//! of input lines, parses it into its slot's [`EventBatch`](gdpr_audit::batch::EventBatch) and seals the
//! batch ([`AuditLog::seal_batch`]), several chunks at once; the writing
//! thread puts them back in input order ([`super::pipeline`]).
//!
//! A chunk whose subjects all have keys already is sealed as soon as it is
//! parsed ([`AuditLog::seal_batch_known`]: it creates no key). Any other
//! chunk is sealed only once every chunk before it has been parsed without
//! a bad line ([`Turn`]): the keys of subjects new to the log are created
//! as the input is read in order, and never for events after a bad line,
//! as when one thread did it all.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Condvar, Mutex, PoisonError};

use gdpr_audit::{AuditLog, FileStore};
use jiff::Timestamp;

use super::chunks::{End, Slot};
use super::event_line::EventParser;
use super::pipeline::Fault;

/// What became of a parsed chunk.
pub(super) enum Parsed {
    /// All its lines are events, in the batch (sealed).
    Events,
    /// Line `line` is not an event: the batch holds (sealed) the events of
    /// the chunk's lines before it.
    Fault { line: u64, fault: Fault },
    /// Sealing the batch failed (it is not sealed).
    Unsealed(gdpr_audit::Error),
    /// An earlier chunk stopped the run; this one was left as it was.
    Dropped,
}

/// A parsed chunk on its way to the writing thread.
pub(super) struct Done {
    pub(super) slot: Slot,
    pub(super) parsed: Parsed,
}

/// The order in which parsed chunks may be sealed: chunk `seq` waits until
/// every chunk before it is parsed; a chunk with a bad line (or the last
/// chunk) closes the turn for all after it.
#[derive(Default)]
pub(super) struct Turn {
    state: Mutex<TurnState>,
    changed: Condvar,
}

/// Where the turns are.
#[derive(Default)]
struct TurnState {
    /// The next chunk to take its turn.
    next: u64,
    /// Whether the turns are over (a chunk ended the run).
    over: bool,
    /// Chunks parsed (and sealed) before their turn, with their `more`:
    /// their turns pass as soon as it comes.
    ahead: BTreeMap<u64, bool>,
}

impl TurnState {
    /// Passes chunk `next`'s turn on, and those of the chunks parsed
    /// ahead of it that follow without a gap.
    fn pass(&mut self, mut more: bool) {
        loop {
            self.next += 1;
            self.over = !more;
            match self.ahead.remove(&self.next) {
                Some(m) if more => more = m,
                _ => return,
            }
        }
    }
}

impl Turn {
    /// Waits for chunk `seq`'s turn and passes it on (`more`: chunks after
    /// it may follow). `false` when the turns ended before it.
    fn take(&self, seq: u64, more: bool) -> bool {
        let guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = self
            .changed
            .wait_while(guard, |s| s.next != seq && !s.over)
            .unwrap_or_else(PoisonError::into_inner);
        if state.over {
            return false;
        }
        state.pass(more);
        self.changed.notify_all();
        true
    }

    /// Chunk `seq` is parsed and needs no turn to be sealed (it creates no
    /// key): its turn passes when it comes, without waiting for it.
    /// `false` when the turns ended before it.
    fn pass_when_due(&self, seq: u64, more: bool) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.over {
            return false;
        }
        if state.next == seq {
            state.pass(more);
            self.changed.notify_all();
        } else {
            state.ahead.insert(seq, more);
        }
        true
    }

    /// Ends all turns (a parsing thread is unwinding).
    fn close(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .over = true;
        self.changed.notify_all();
    }
}

/// If its thread unwinds: closes the turns, so no other parsing thread
/// waits for ever, and tells the writing thread (`None`), which then stops
/// and lets every other thread end (the scope re-raises the panic).
struct OnUnwind<'a>(&'a Turn, &'a Sender<Option<Done>>);

impl Drop for OnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.close();
            let _ = self.1.send(None);
        }
    }
}

/// Parses and seals chunks from `queue` until it is closed, sending each
/// to `to`; stops when `to` is closed.
pub(super) fn parse_chunks(
    log: &AuditLog<FileStore>,
    queue: &Mutex<Receiver<Slot>>,
    turn: &Turn,
    to: &Sender<Option<Done>>,
) {
    let _guard = OnUnwind(turn, to);
    let mut parser = EventParser::default();
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(mut slot) = next else { return };
        let fault = parse(&mut parser, &mut slot);
        let more = fault.is_none() && slot.chunk.end.is_none();
        let seq = slot.chunk.seq;
        let sealed = match seal_known(log, &mut slot) {
            // Sealed: the turn passes when it comes.
            true => match turn.pass_when_due(seq, more) {
                false => Err(()),
                true => Ok(Ok(())),
            },
            // Keys to create (or a failure, met again in turn).
            false => match turn.take(seq, more) {
                false => Err(()),
                true => Ok(seal(log, &mut slot)),
            },
        };
        let parsed = match sealed {
            Err(()) => Parsed::Dropped,
            Ok(Err(e)) => Parsed::Unsealed(e),
            Ok(Ok(())) => match fault {
                None => Parsed::Events,
                Some((line, fault)) => Parsed::Fault { line, fault },
            },
        };
        if to.send(Some(Done { slot, parsed })).is_err() {
            return;
        }
    }
}

/// Parses the chunk's lines into its batch (emptied first); the first bad
/// line, or the unreadable one that ended the input, if any.
fn parse(parser: &mut EventParser, slot: &mut Slot) -> Option<(u64, Fault)> {
    let Slot { chunk, events } = slot;
    events.clear();
    for (n, line) in chunk.lines() {
        if let Err(e) = parser.parse_into(line, Timestamp::now, events) {
            return Some((n, Fault::Event(e)));
        }
    }
    match chunk.end.take() {
        Some(End::Unreadable { line, error }) => Some((line, Fault::Read(error))),
        end => {
            chunk.end = end;
            None
        }
    }
}

/// Seals the batch if every subject in it has a key already (an empty
/// batch needs none); `false` leaves it unsealed, for [`seal`] in its
/// turn: a subject without a key, or a failure, which sealing in turn
/// meets again and reports.
fn seal_known(log: &AuditLog<FileStore>, slot: &mut Slot) -> bool {
    slot.events.is_empty() || matches!(log.seal_batch_known(&mut slot.events), Ok(true))
}

/// Seals the batch unless it is empty.
fn seal(log: &AuditLog<FileStore>, slot: &mut Slot) -> Result<(), gdpr_audit::Error> {
    match slot.events.is_empty() {
        true => Ok(()),
        false => log.seal_batch(&mut slot.events),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Turns of chunks sealed ahead pass when theirs comes, in order: one
    /// that ends the run (`more` false) closes the turns after it.
    #[test]
    fn turns_of_chunks_sealed_ahead_pass_in_order() {
        let turn = Turn::default();
        assert!(turn.pass_when_due(1, true));
        assert!(turn.pass_when_due(2, false));
        assert!(turn.pass_when_due(4, true), "after a gap: kept");
        assert_eq!(turn.state.lock().unwrap().next, 0);
        assert!(turn.take(0, true));
        let state = turn.state.lock().unwrap();
        assert_eq!((state.next, state.over), (3, true));
        drop(state);
        assert!(!turn.take(3, true), "the run ended at chunk 2");
        assert!(!turn.pass_when_due(5, true));
    }

    /// A chunk that must wait for its turn gets it once the chunks before
    /// it, sealed ahead or in turn, have passed theirs.
    #[test]
    fn a_chunk_in_turn_waits_for_the_chunks_before_it() {
        let turn = Turn::default();
        std::thread::scope(|s| {
            let waiting = s.spawn(|| turn.take(2, true));
            assert!(turn.pass_when_due(1, true));
            assert!(turn.take(0, true));
            assert!(waiting.join().unwrap());
        });
        let state = turn.state.lock().unwrap();
        assert_eq!((state.next, state.over), (3, false));
    }
}
