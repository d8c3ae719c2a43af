//! What a run of `gdpr audit append` has appended so far, and what it says
//! about it on every way out: after each durable batch, at the end, on a
//! bad line, on a failed write.

use std::fmt;
use std::io::Write;

/// Records appended by this run and the input lines they cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// The log's size when the run began appending (its first position).
    pub(crate) base: u64,
    /// Records durably appended by this run.
    pub(crate) records: u64,
    /// The input line of the first record appended.
    pub(crate) first_line: u64,
    /// The input line of the last record appended.
    pub(crate) last_line: u64,
}

impl Progress {
    /// Nothing appended yet to a log of `base` records.
    pub(crate) fn new(base: u64) -> Self {
        Self {
            base,
            records: 0,
            first_line: 0,
            last_line: 0,
        }
    }

    /// A batch of `records` from input lines `first..=last` is durable.
    pub(crate) fn durable(&mut self, records: u64, first: u64, last: u64) {
        if self.records == 0 {
            self.first_line = first;
        }
        self.records += records;
        self.last_line = last;
    }

    /// The position the next record will take.
    pub(crate) fn next_position(&self) -> u64 {
        self.base + self.records
    }
}

impl fmt::Display for Progress {
    /// `positions A..=B (input lines X..=Y)`, or `nothing`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.records == 0 {
            return f.write_str("nothing");
        }
        write!(
            f,
            "positions {}..={} (input lines {}..={})",
            self.base,
            self.base + self.records - 1,
            self.first_line,
            self.last_line
        )
    }
}

/// What became of a batch whose append failed, read back from the log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailedBatch {
    /// None of its records is in the log (the write was rolled back).
    Absent,
    /// This many of its records are in the log file, but their sync
    /// failed or was never confirmed: they may be lost on a crash.
    Unconfirmed(u64),
    /// The log could not be read back.
    Unknown,
}

/// A line on standard error, in one write (standard error is unbuffered:
/// `writeln!` on it writes each piece of the line with a system call of its
/// own); a closed standard error does not stop the run.
pub(crate) fn say(args: std::fmt::Arguments<'_>) {
    let line = format!("{args}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_positions_and_lines() {
        let mut p = Progress::new(10);
        assert_eq!(p.to_string(), "nothing");
        p.durable(1000, 3, 1004);
        p.durable(5, 1006, 1012);
        assert_eq!(p.to_string(), "positions 10..=1014 (input lines 3..=1012)");
        assert_eq!(p.next_position(), 1015);
    }
}
