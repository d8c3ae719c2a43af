//! `multipart/related` bodies of WADO-RS answers and STOW-RS requests
//! (RFC 2387, DICOM PS3.18 §8.6.1.2).

/// Builds a `multipart/related; type="application/dicom"` body; returns
/// (content type, body).
pub(crate) fn encode(parts: &[Vec<u8>]) -> (String, Vec<u8>) {
    let boundary = format!(
        "gdpr-health-{:016x}",
        parts.iter().map(Vec::len).sum::<usize>() as u64 ^ 0x5eed_cafe_f00d
    );
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Type: application/dicom\r\n\r\n");
        body.extend_from_slice(part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/related; type=\"application/dicom\"; boundary={boundary}"),
        body,
    )
}

/// Splits a multipart body held in memory into the bodies of its parts
/// (the oracle the streaming [`Parts`] is tested against). The boundary is
/// taken from the first delimiter line. `None` when the body is not
/// multipart.
#[cfg(test)]
pub(crate) fn decode(body: &[u8]) -> Option<Vec<&[u8]>> {
    let start = body.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let body = &body[start..];
    if !body.starts_with(b"--") {
        return None;
    }
    let line_end = find(body, b"\r\n")?;
    let boundary = &body[2..line_end];
    if boundary.is_empty() {
        return None;
    }
    let mut delimiter = b"\r\n--".to_vec();
    delimiter.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut rest = &body[line_end + 2..];
    loop {
        let headers_end = find(rest, b"\r\n\r\n")?;
        let content = &rest[headers_end + 4..];
        let end = find(content, &delimiter)?;
        parts.push(&content[..end]);
        let after = &content[end + delimiter.len()..];
        if after.starts_with(b"--") {
            return Some(parts);
        }
        rest = after.strip_prefix(b"\r\n")?;
    }
}

#[cfg(test)]
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Why a streamed multipart body cannot be split.
#[derive(Debug)]
pub(crate) enum PartsError {
    /// Reading the body or writing a part failed.
    Io(std::io::Error),
    /// The body is not multipart (no delimiter line, a part without its
    /// header block or its closing delimiter, headers over 16 KiB).
    Malformed,
}

impl From<std::io::Error> for PartsError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Most bytes of one part's header block.
const MAX_HEADERS: usize = 16 << 10;

/// The parts of a multipart body read from `input` in pieces: memory is
/// one buffer of `piece` bytes (at least the header limit) plus the
/// delimiter, whatever the parts' sizes. Splits exactly as [`decode`].
pub(crate) struct Parts<R> {
    input: R,
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    delimiter: Vec<u8>,
    more: bool,
}

/// The first position of `needle` in `haystack` (looks for its first byte,
/// then compares).
fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(i) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + i;
        if haystack.len() - at < needle.len() {
            return None;
        }
        if &haystack[at..at + needle.len()] == needle {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

impl<R: std::io::Read> Parts<R> {
    /// Reads the first delimiter line (the boundary).
    ///
    /// # Errors
    /// [`PartsError::Malformed`] when the body does not start with one.
    pub(crate) fn new(input: R, piece: usize) -> Result<Self, PartsError> {
        let mut p = Self {
            input,
            buf: vec![0; piece.max(MAX_HEADERS) + 128],
            lo: 0,
            hi: 0,
            delimiter: Vec::new(),
            more: true,
        };
        loop {
            match p.buf[p.lo..p.hi]
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
            {
                Some(i) => {
                    p.lo += i;
                    break;
                }
                None => {
                    p.lo = p.hi;
                    if p.fill()? == 0 {
                        return Err(PartsError::Malformed);
                    }
                }
            }
        }
        let line = p.until(b"\r\n")?;
        let boundary = &p.buf[p.lo..p.lo + line];
        let boundary = boundary.strip_prefix(b"--").ok_or(PartsError::Malformed)?;
        if boundary.is_empty() || boundary.len() > 70 {
            return Err(PartsError::Malformed);
        }
        p.delimiter = [b"\r\n--", boundary].concat();
        p.lo += line + 2;
        Ok(p)
    }

    /// Whether another part follows.
    pub(crate) fn more(&self) -> bool {
        self.more
    }

    /// Moves the unread bytes to the front and reads more; returns how
    /// many were read (0 at the end of the body or with a full buffer).
    fn fill(&mut self) -> Result<usize, PartsError> {
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.hi -= self.lo;
            self.lo = 0;
        }
        if self.hi == self.buf.len() {
            return Ok(0);
        }
        let n = self.input.read(&mut self.buf[self.hi..])?;
        self.hi += n;
        Ok(n)
    }

    /// The offset of `needle` from `lo`, reading until it is there.
    fn until(&mut self, needle: &[u8]) -> Result<usize, PartsError> {
        loop {
            if let Some(i) = position(&self.buf[self.lo..self.hi], needle) {
                return Ok(i);
            }
            if self.fill()? == 0 {
                return Err(PartsError::Malformed);
            }
        }
    }

    /// Writes the next part's content to `out`; returns its size.
    ///
    /// # Errors
    /// [`PartsError::Malformed`] when no part is left or the body breaks
    /// off; [`PartsError::Io`].
    pub(crate) fn copy_next(&mut self, out: &mut dyn std::io::Write) -> Result<u64, PartsError> {
        if !self.more {
            return Err(PartsError::Malformed);
        }
        let headers = self.until(b"\r\n\r\n")?;
        self.lo += headers + 4;
        let keep = self.delimiter.len() - 1;
        let mut total = 0u64;
        loop {
            if let Some(i) = position(&self.buf[self.lo..self.hi], &self.delimiter) {
                out.write_all(&self.buf[self.lo..self.lo + i])?;
                total += i as u64;
                self.lo += i + self.delimiter.len();
                break;
            }
            if self.hi - self.lo > keep {
                let to = self.hi - keep;
                out.write_all(&self.buf[self.lo..to])?;
                total += (to - self.lo) as u64;
                self.lo = to;
            }
            if self.fill()? == 0 {
                return Err(PartsError::Malformed);
            }
        }
        while self.hi - self.lo < 2 {
            if self.fill()? == 0 {
                return Err(PartsError::Malformed);
            }
        }
        match &self.buf[self.lo..self.lo + 2] {
            b"--" => self.more = false,
            b"\r\n" => self.lo += 2,
            _ => return Err(PartsError::Malformed),
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let parts = vec![
            b"first\r\nwith crlf".to_vec(),
            Vec::new(),
            b"third".to_vec(),
        ];
        let (ct, body) = encode(&parts);
        assert!(ct.contains("boundary="));
        let decoded = decode(&body).unwrap();
        assert_eq!(decoded, vec![&parts[0][..], &parts[1][..], &parts[2][..]]);
    }

    #[test]
    fn garbage_is_not_multipart() {
        assert!(decode(b"{\"json\": true}").is_none());
        assert!(decode(b"--b\r\nno end").is_none());
        assert!(streamed(b"{\"json\": true}", 1).is_none());
        assert!(streamed(b"--b\r\nno end", 1).is_none());
        assert!(streamed(b"", 1).is_none());
        // A part that never ends, and a header block over the limit.
        assert!(streamed(b"--b\r\n\r\n\r\ncontent", 1).is_none());
        let long = [b"--b\r\nX-A: ".as_slice(), &vec![b'a'; 40_000]].concat();
        assert!(streamed(&long, 1).is_none());
    }

    /// The parts of `body` split by [`Parts`] with pieces of `piece` bytes.
    fn streamed(body: &[u8], piece: usize) -> Option<Vec<Vec<u8>>> {
        let mut parts = Parts::new(body, piece).ok()?;
        let mut out = Vec::new();
        while parts.more() {
            let mut part = Vec::new();
            let n = parts.copy_next(&mut part).ok()?;
            assert_eq!(n, part.len() as u64);
            out.push(part);
        }
        Some(out)
    }

    #[test]
    fn a_large_part_streams_through_a_small_buffer() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let parts = vec![big.clone(), b"\r\n--not-the-boundary".to_vec(), big];
        let (_, body) = encode(&parts);
        // The reader hands out at most 7 bytes a time: delimiters fall
        // across refills.
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len()).min(7);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut p = Parts::new(Trickle(&body), 1).unwrap();
        let mut got = Vec::new();
        while p.more() {
            let mut part = Vec::new();
            p.copy_next(&mut part).unwrap();
            got.push(part);
        }
        assert_eq!(got, parts);
        // Its buffer stays the header limit plus a little.
        assert!(p.buf.len() < MAX_HEADERS + 256);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_parts_round_trip(parts in proptest::collection::vec(
            proptest::collection::vec(proptest::num::u8::ANY, 0..64), 1..5)) {
            let (_, body) = encode(&parts);
            let decoded = decode(&body).unwrap();
            proptest::prop_assert_eq!(decoded.len(), parts.len());
            for (d, p) in decoded.iter().zip(&parts) {
                proptest::prop_assert_eq!(*d, &p[..]);
            }
            proptest::prop_assert_eq!(streamed(&body, 1), Some(parts));
        }

        #[test]
        fn streaming_splits_as_decode(body in proptest::collection::vec(
            proptest::sample::select(b"-\r\nab".to_vec()), 0..60)) {
            let whole = decode(&body).map(|v| v.iter().map(|p| p.to_vec()).collect::<Vec<_>>());
            let stream = streamed(&body, 1);
            if let Some(whole) = whole {
                proptest::prop_assert_eq!(stream, Some(whole));
            }
        }
    }
}
