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

/// Reads numbered lines (1-based): a line that lies whole in the reader's
/// buffer is returned from there, any other is copied into a buffer this
/// reuses.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: u64,
    /// Bytes of the reader's buffer returned as the last line, consumed at
    /// the next call.
    lent: usize,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`, numbered from 1.
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(4096),
            number: 0,
            lent: 0,
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
        self.reader.consume(std::mem::take(&mut self.lent));
        if let Some(end) = self.buffered_line() {
            self.number += 1;
            self.lent = end + 1;
            // Invariant: `buffered_line` found the line end in the buffer,
            // which a second `fill_buf` returns again without reading.
            let buf = self.reader.fill_buf().map_err(LineError::Io)?;
            let line = buf.get(..end).unwrap_or_default();
            return Ok(Some((
                self.number,
                line.strip_suffix(b"\r").unwrap_or(line),
            )));
        }
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

    /// Where the next line ends (its `\n`) if it lies whole in the reader's
    /// buffer and is not longer than [`MAX_LINE`]; `None` sends it the
    /// copying way (which also reports errors and the cap).
    fn buffered_line(&mut self) -> Option<usize> {
        let buf = self.reader.fill_buf().ok()?;
        memchr::memchr(b'\n', buf).filter(|&end| end <= MAX_LINE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines that cross the reader's buffer are copied whole; the others
    /// are lent from it: the same lines either way.
    #[test]
    fn lines_across_the_readers_buffer_come_whole() {
        let text = b"first line\r\nsecond\n\nthird line, longer than the buffer\nlast";
        for cap in 1..text.len() + 2 {
            let mut l = Lines::new(std::io::BufReader::with_capacity(cap, &text[..]));
            let mut got = Vec::new();
            while let Some((n, line)) = l.next_line().unwrap() {
                got.push((n, String::from_utf8(line.to_vec()).unwrap()));
            }
            let want = [
                "first line",
                "second",
                "",
                "third line, longer than the buffer",
                "last",
            ];
            let want: Vec<_> = (1..).zip(want.map(String::from)).collect();
            assert_eq!(got, want, "buffer of {cap}");
        }
    }

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
