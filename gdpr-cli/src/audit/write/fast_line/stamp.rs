//! The `recorded` timestamp of an event line in its canonical shape,
//! `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` (what `AuditEvent`'s serde form and
//! `docs/samples/audit-events.jsonl` write), read without jiff's general
//! parser (about 3 % of the bulk path's instructions outside SHA-256;
//! issue 10, item 20).
//!
//! Only the shape is read here: the fields go to jiff's own constructors
//! ([`DateTime::new`], [`Offset::to_timestamp`]), which apply jiff's rules
//! (days of the month, leap years, the range of a [`Timestamp`]). Any other
//! text — another shape, a leap second, a value jiff's constructors refuse
//! — gives `None`, and the caller reads it with jiff's parser, as before. So
//! this never accepts what jiff refuses nor reads a value differently (a
//! property test holds the two equal on random timestamps and on every
//! one-character change of them).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

/// The timestamp `text` holds if it has the canonical shape and jiff's
/// constructors accept its fields; `None` otherwise.
pub(super) fn canonical(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let (head, rest) = b.split_at_checked(19)?;
    let subsec = match rest {
        [b'Z'] => 0,
        [b'.', digits @ .., b'Z'] if (1..=9).contains(&digits.len()) => {
            // Nanoseconds: the digits, padded with zeros to nine.
            let n = number(digits)?;
            (digits.len()..9).fold(n, |n, _| n * 10)
        }
        _ => return None,
    };
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        i0,
        i1,
        b':',
        s0,
        s1,
    ] = *head
    else {
        return None;
    };
    let year = i16::try_from(number(&[y0, y1, y2, y3])?).ok()?;
    let two = |a, b| number(&[a, b]).and_then(|n| i8::try_from(n).ok());
    let dt = DateTime::new(
        year,
        two(m0, m1)?,
        two(d0, d1)?,
        two(h0, h1)?,
        two(i0, i1)?,
        two(s0, s1)?,
        subsec,
    )
    .ok()?;
    Offset::UTC.to_timestamp(dt).ok()
}

/// The decimal number of at most nine ASCII digits, `None` if any byte is
/// not a digit.
fn number(digits: &[u8]) -> Option<i32> {
    digits.iter().try_fold(0i32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + i32::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::value::{BorrowedStrDeserializer, Error as ValueError};

    use super::*;

    /// What the line reader did before this fast path: jiff's `Deserialize`.
    fn jiff(text: &str) -> Option<Timestamp> {
        Timestamp::deserialize(BorrowedStrDeserializer::<ValueError>::new(text)).ok()
    }

    /// The fast path accepts nothing jiff refuses and reads nothing
    /// differently.
    fn agrees(text: &str) -> Result<(), TestCaseError> {
        if let Some(fast) = canonical(text) {
            prop_assert_eq!(Some(fast), jiff(text), "{:?}", text);
        }
        Ok(())
    }

    /// `t` written in the canonical shape with `digits` fraction digits
    /// (truncated; none and no dot for 0).
    fn write(t: Timestamp, digits: usize) -> String {
        let civil = Offset::UTC.to_datetime(t);
        let whole = civil.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        let nanos = format!("{:09}", civil.subsec_nanosecond());
        match digits {
            0 => format!("{whole}Z"),
            n => format!("{whole}.{}Z", &nanos[..n]),
        }
    }

    #[test]
    fn known_answers() {
        // Seconds since the epoch (Python's `datetime`), nanoseconds.
        for (text, second, nano) in [
            ("1970-01-01T00:00:00Z", 0_i64, 0_i32),
            ("2026-11-25T08:00:00.000Z", 1_795_593_600, 0),
            ("2000-02-29T12:34:56.789Z", 951_827_696, 789_000_000),
            ("1969-12-31T23:59:59.999999999Z", -1, 999_999_999),
            ("0001-01-01T00:00:00.5Z", -62_135_596_800, 500_000_000),
            ("9999-12-30T22:00:00Z", 253_402_207_200, 0),
        ] {
            let t = canonical(text).expect(text);
            let want = i128::from(second) * 1_000_000_000 + i128::from(nano);
            assert_eq!(t.as_nanosecond(), want, "{text}");
            assert_eq!(Some(t), jiff(text), "{text}");
        }
    }

    /// Shapes and values it leaves to jiff: jiff accepts some of them (a
    /// leap second, a lower-case `t`, a space, an offset, ten fraction
    /// digits refused) and refuses others (a day past the month's end, past
    /// the largest timestamp).
    #[test]
    fn other_shapes_and_values_are_left_to_jiff() {
        for text in [
            "2015-06-30T23:59:60Z",
            "2026-11-25t08:00:00Z",
            "2026-11-25 08:00:00Z",
            "2026-11-25T08:00:00z",
            "2026-11-25T08:00:00+00:00",
            "2026-11-25T08:00Z",
            "2026-11-25T08:00:00.Z",
            "2026-11-25T08:00:00,5Z",
            "2026-11-25T08:00:00.1234567890Z",
            "+002026-11-25T08:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "9999-12-31T00:00:00Z",
            "2026-11-25T08:00:00.000Z ",
            "",
        ] {
            assert_eq!(canonical(text), None, "{text}");
        }
        assert!(jiff("2015-06-30T23:59:60Z").is_some());
        assert!(jiff("2023-02-29T00:00:00Z").is_none());
        assert!(jiff("9999-12-31T00:00:00Z").is_none());
    }

    /// Every one-character deletion, insertion and replacement of `text`.
    fn mutations(text: &str) -> Vec<String> {
        let pieces = ["0", "1", "9", "-", ":", ".", "T", "t", "Z", " ", "+", "é"];
        let mut out = Vec::new();
        for (i, ch) in text.char_indices() {
            let (head, tail) = text.split_at(i);
            let after = &tail[ch.len_utf8()..];
            out.push(format!("{head}{after}"));
            for p in pieces {
                out.push(format!("{head}{p}{tail}"));
                out.push(format!("{head}{p}{after}"));
            }
        }
        out.extend(pieces.iter().map(|p| format!("{text}{p}")));
        out
    }

    proptest! {
        /// Random timestamps over jiff's whole range, with 0 to 9 fraction
        /// digits, are read, and read as jiff reads them.
        #[test]
        fn random_timestamps_are_read_as_jiff_reads_them(
            second in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            nano in 0..1_000_000_000i32,
            digits in 0..=9usize,
        ) {
            let t = Timestamp::new(second, nano).unwrap_or(Timestamp::MAX);
            let text = write(t, digits);
            agrees(&text)?;
            let year = Offset::UTC.to_datetime(t).strftime("%Y").to_string();
            if year.len() == 4 && !year.starts_with('-') {
                prop_assert!(canonical(&text).is_some(), "{}", text);
            }
        }

        /// Every one-character change of a random timestamp is read as jiff
        /// reads it, or left to jiff.
        #[test]
        fn one_character_changes_are_read_as_jiff_reads_them(
            second in -62_135_596_800i64..=253_402_207_200,
            nano in 0..1_000_000_000i32,
            digits in 0..=9usize,
        ) {
            let text = write(Timestamp::new(second, nano).unwrap_or(Timestamp::MAX), digits);
            for changed in mutations(&text) {
                agrees(&changed)?;
            }
        }
    }
}
