//! Hex, written once for the whole family's audit side: hashes in prune
//! anchors and proofs, key ids in exports and on the command line.

/// Lower-case hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The `N` bytes written as exactly `2 * N` hex digits (either case), or
/// `None`.
pub fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn decode_inverts_encode(bytes in proptest::prelude::any::<[u8; 16]>()) {
            proptest::prop_assert_eq!(decode::<16>(&encode(&bytes)), Some(bytes));
            proptest::prop_assert_eq!(decode::<16>(&encode(&bytes).to_uppercase()), Some(bytes));
        }
    }

    #[test]
    fn wrong_lengths_and_digits_are_refused() {
        assert_eq!(encode(&[0x0f, 0xa0]), "0fa0");
        assert_eq!(decode::<2>("0fa"), None);
        assert_eq!(decode::<2>("0fa0a"), None);
        assert_eq!(decode::<2>("0fg0"), None);
        assert_eq!(decode::<2>("+f10"), None);
    }
}
