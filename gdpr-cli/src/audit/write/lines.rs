//! Input lines of `gdpr audit append`, each read into one reused buffer and
//! capped in length: `/dev/zero` or a file without newlines fails at the cap
//! instead of growing in memory.

use std::io::{BufRead, ErrorKind, Read};

/// The longest accepted input line in bytes (without its newline). An event
/// holds at most 4,096 bytes of free text and a few short identifiers;
/// even fully `\u`-escaped it stays far below this.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// Why a line could not be read.
#[derive(Debug)]
pub(crate) enum LineError {
    /// Longer than [`MAX_LINE`] bytes.
    TooLong,
    /// The operating system failed the read.
    Io(std::io::Error),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLong => write!(
                f,
                "longer than {MAX_LINE} bytes (one audit event per line expected)"
            ),
            Self::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

/// Reads numbered lines (1-based) into a buffer it reuses.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`, numbered from 1.
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(4096),
            number: 0,
        }
    }

    /// The number of the line last returned (0 before the first).
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// The next line's number and bytes without its line end (`\n` or
    /// `\r\n`), or `None` at the end of the input.
    ///
    /// # Errors
    /// [`LineError::TooLong`] past [`MAX_LINE`] bytes (the rest of the line
    /// is not read); [`LineError::Io`].
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, LineError> {
        self.buf.clear();
        let cap = MAX_LINE as u64 + 2; // the line, `\r` and `\n`
        let read = loop {
            match (&mut self.reader)
                .take(cap)
                .read_until(b'\n', &mut self.buf)
            {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.number += 1;
                    return Err(LineError::Io(e));
                }
            }
        };
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let mut line = self.buf.as_slice();
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l.strip_suffix(b"\r").unwrap_or(l);
        }
        if line.len() > MAX_LINE {
            return Err(LineError::TooLong);
        }
        Ok(Some((self.number, line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lines_and_strips_line_ends() {
        let mut l = Lines::new(&b"a\r\n\nb"[..]);
        assert_eq!(l.next_line().unwrap(), Some((1, &b"a"[..])));
        assert_eq!(l.next_line().unwrap(), Some((2, &b""[..])));
        assert_eq!(l.next_line().unwrap(), Some((3, &b"b"[..])));
        assert_eq!(l.number(), 3);
        assert!(l.next_line().unwrap().is_none());
    }

    #[test]
    fn a_line_at_the_cap_passes_one_byte_more_fails() {
        let ok = vec![b'x'; MAX_LINE];
        assert_eq!(
            Lines::new(&ok[..]).next_line().unwrap().unwrap().1.len(),
            MAX_LINE
        );
        let long = vec![b'x'; MAX_LINE + 1];
        assert!(matches!(
            Lines::new(&long[..]).next_line(),
            Err(LineError::TooLong)
        ));
    }

    #[test]
    fn an_endless_line_stops_at_the_cap() {
        let mut l = Lines::new(std::io::BufReader::new(std::io::repeat(0)));
        assert!(matches!(l.next_line(), Err(LineError::TooLong)));
        assert!(l.buf.capacity() <= 2 * (MAX_LINE + 2));
        assert_eq!(l.number(), 1);
    }
}
