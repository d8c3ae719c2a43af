//! Byte fast paths against their `char` rules.
//!
//! A rule on text (a label, an identifier) is written once on `char`s and
//! again, faster, on the bytes of ASCII text. [`assert_fast_path_agrees`]
//! checks that the two say the same for every ASCII byte at the start, in
//! the middle and at the end of a value and alone, and for the caller's own
//! values (non-ASCII ones, lengths at a limit).

/// Asserts that `fast` (the rule as the code applies it, byte fast path
/// included) and `by_chars` (the rule on `char`s) agree on every ASCII byte
/// `c` in `"{c}ab"`, `"a{c}b"`, `"ab{c}"` and `"{c}"`, and on each of
/// `more`.
///
/// # Panics
/// On the first value where they disagree, naming the byte or the value.
pub fn assert_fast_path_agrees(
    fast: impl Fn(&str) -> bool,
    by_chars: impl Fn(&str) -> bool,
    more: &[&str],
) {
    for b in 0..=0x7fu8 {
        let c = char::from(b);
        for v in [
            format!("{c}ab"),
            format!("a{c}b"),
            format!("ab{c}"),
            c.to_string(),
        ] {
            assert_eq!(fast(&v), by_chars(&v), "{b:#x} in {v:?}");
        }
    }
    for v in more {
        assert_eq!(fast(v), by_chars(v), "{v:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_path_that_differs_on_one_byte_is_caught() {
        let by_chars = |v: &str| !v.chars().any(|c| c.is_control());
        let wrong = |v: &str| !v.bytes().any(|b| b < 0x20); // forgets DEL
        let caught = std::panic::catch_unwind(|| assert_fast_path_agrees(wrong, by_chars, &[]));
        assert!(caught.is_err());
        let right = |v: &str| !v.bytes().any(|b| b < 0x20 || b == 0x7f);
        assert_fast_path_agrees(right, by_chars, &["é"]);
    }

    #[test]
    fn the_extra_values_are_checked() {
        let by_chars = |v: &str| v.chars().count() <= 2;
        let bytes = |v: &str| v.len() <= 2; // wrong for non-ASCII
        let caught = std::panic::catch_unwind(|| assert_fast_path_agrees(bytes, by_chars, &["éé"]));
        assert!(caught.is_err());
    }
}
