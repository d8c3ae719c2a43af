//! WADO-RS instance answers (`multipart/related; type="application/dicom"`)
//! de-identified part by part with the batch de-identifier, as they
//! stream: one instance at a time is held (at most `max_part` bytes), never
//! the whole answer. An instance the de-identifier refuses — burned-in
//! text, structured content it cannot clean, anything it cannot read — is
//! withheld (left out of the answer), never passed on as it was.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt as _};

use super::Pseudonyms;

/// The boundary parameter of a multipart content type.
pub(crate) fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|param| {
        let (key, value) = param.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("boundary"))
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

struct State {
    upstream: BoxStream<'static, Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
    delimiter: Vec<u8>,
    boundary: String,
    in_part: bool,
    ended: bool,
    finished: bool,
    closed: bool,
    p: Arc<Pseudonyms>,
    max_part: usize,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The de-identified answer as a stream (refused parts left out).
pub(crate) fn deidentify_multipart(
    upstream: BoxStream<'static, Result<Bytes, std::io::Error>>,
    boundary: String,
    p: Arc<Pseudonyms>,
    max_part: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let state = State {
        upstream,
        buf: b"\r\n".to_vec(),
        delimiter: format!("\r\n--{boundary}").into_bytes(),
        boundary,
        in_part: false,
        ended: false,
        finished: false,
        closed: false,
        p,
        max_part,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if s.closed {
                return None;
            }
            match next_part(&mut s).await {
                Ok(Next::Part(Some(part))) => {
                    if let Some(out) = deidentify(&s.p, part).await {
                        let mut chunk = format!(
                            "--{}\r\nContent-Type: application/dicom\r\n\r\n",
                            s.boundary
                        )
                        .into_bytes();
                        chunk.extend_from_slice(&out);
                        chunk.extend_from_slice(b"\r\n");
                        return Some((Ok(Bytes::from(chunk)), s));
                    }
                }
                Ok(Next::Part(None)) => {}
                Ok(Next::End) => {
                    s.closed = true;
                    return Some((Ok(Bytes::from(format!("--{}--\r\n", s.boundary))), s));
                }
                Err(e) => {
                    s.closed = true;
                    return Some((Err(e), s));
                }
            }
        }
    })
}

enum Next {
    /// A part's body (`None`: the preamble, or a part without a body).
    Part(Option<Vec<u8>>),
    /// The closing delimiter was read.
    End,
}

/// Reads up to the next delimiter.
async fn next_part(s: &mut State) -> Result<Next, std::io::Error> {
    loop {
        if s.finished {
            return Ok(Next::End);
        }
        if let Some(at) = find(&s.buf, &s.delimiter) {
            let content = s.buf[..at].to_vec();
            s.buf.drain(..at + s.delimiter.len());
            let was_part = std::mem::replace(&mut s.in_part, true);
            while s.buf.len() < 2 && !s.ended {
                pull(s).await?;
            }
            if s.buf.starts_with(b"--") {
                s.finished = true;
            } else {
                while find(&s.buf, b"\r\n").is_none() && !s.ended {
                    pull(s).await?;
                }
                let eol = find(&s.buf, b"\r\n")
                    .ok_or_else(|| malformed("a boundary line without its end"))?;
                s.buf.drain(..eol + 2);
            }
            return Ok(Next::Part(if was_part { body_of(&content) } else { None }));
        }
        if s.buf.len() > s.max_part {
            return Err(malformed("an instance larger than the limit"));
        }
        if s.ended {
            return Err(malformed("the answer ended without its closing delimiter"));
        }
        pull(s).await?;
    }
}

async fn pull(s: &mut State) -> Result<(), std::io::Error> {
    match s.upstream.next().await {
        Some(chunk) => s.buf.extend_from_slice(&chunk?),
        None => s.ended = true,
    }
    Ok(())
}

fn body_of(part: &[u8]) -> Option<Vec<u8>> {
    let at = find(part, b"\r\n\r\n")?;
    Some(part[at + 4..].to_vec())
}

fn malformed(what: &'static str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

/// One instance through the batch de-identifier; `None` when refused.
async fn deidentify(p: &Arc<Pseudonyms>, body: Vec<u8>) -> Option<Vec<u8>> {
    let p = Arc::clone(p);
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(body.len());
        p.deidentifier()
            .deidentify_stream(&mut &body[..], &mut out)
            .ok()?;
        Some(out)
    })
    .await
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary_of("multipart/related; type=\"application/dicom\"; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary_of("multipart/related; boundary=\"q r\"").as_deref(),
            Some("q r")
        );
        assert_eq!(boundary_of("application/dicom"), None);
    }
}
