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

/// Splits a multipart body into the bodies of its parts. The boundary is
/// taken from the first delimiter line. `None` when the body is not
/// multipart.
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
        }
    }
}
