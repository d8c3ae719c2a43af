//! The parsing threads of `gdpr audit append`: each takes the next chunk
//! of input lines, parses it into its slot's [`EventBatch`](gdpr_audit::batch::EventBatch) and seals the
//! batch ([`AuditLog::seal_batch`]), several chunks at once; the writing
//! thread puts them back in input order ([`super::pipeline`]).
//!
//! A chunk is sealed only once every chunk before it has been parsed
//! without a bad line ([`Turn`]): the keys of subjects new to the log are
//! created as the input is read in order, and never for events after a
//! bad line, as when one thread did it all.

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
    /// The next chunk to take its turn, and whether the turns are over.
    state: Mutex<(u64, bool)>,
    changed: Condvar,
}

impl Turn {
    /// Waits for chunk `seq`'s turn and passes it on (`more`: chunks after
    /// it may follow). `false` when the turns ended before it.
    fn take(&self, seq: u64, more: bool) -> bool {
        let guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = self
            .changed
            .wait_while(guard, |(next, over)| *next != seq && !*over)
            .unwrap_or_else(PoisonError::into_inner);
        if state.1 {
            return false;
        }
        *state = (seq + 1, !more);
        self.changed.notify_all();
        true
    }

    /// Ends all turns (a parsing thread is unwinding).
    fn close(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
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
        let parsed = match (turn.take(slot.chunk.seq, more), fault) {
            (false, _) => Parsed::Dropped,
            (true, fault) => match seal(log, &mut slot) {
                Err(e) => Parsed::Unsealed(e),
                Ok(()) => match fault {
                    None => Parsed::Events,
                    Some((line, fault)) => Parsed::Fault { line, fault },
                },
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

/// Seals the batch unless it is empty.
fn seal(log: &AuditLog<FileStore>, slot: &mut Slot) -> Result<(), gdpr_audit::Error> {
    match slot.events.is_empty() {
        true => Ok(()),
        false => log.seal_batch(&mut slot.events),
    }
}
