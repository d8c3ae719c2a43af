//! Test-only helpers that the tests of several gdpr-health crates share
//! (a dev-dependency only; `publish = false`). Standard library only, and
//! none of our crates, so that any crate, gdpr-core included, can use it
//! without building the others.
//!
//! - [`servers`]: the settings of the real servers the scripts start
//!   (Orthanc, the FHIR server, the OpenID provider, PostgreSQL), read from their
//!   `GDPR_TEST_*` variables;
//!   a missing one fails the test loudly, never skips it.
//! - [`unique`], [`unique_digits`]: values unique to a test process and call (patient ids,
//!   identifier systems) so that tests sharing a server never meet.
//! - [`ascii`]: the check that a byte fast path for ASCII text says what
//!   its `char` rule says.

pub mod ascii;
pub mod servers;

use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
}

/// A value unique to this test process and call: the process id, the
/// clock's nanoseconds and a counter, joined by `-`.
pub fn unique() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{}-{n}", std::process::id(), nanos())
}

/// As [`unique`], digits only and short (at most 7 + 5 + 10 digits, no
/// leading zero): a component of a DICOM UID.
pub fn unique_digits() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}{}{n}", std::process::id(), nanos() % 100_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn unique_values_differ_and_digits_are_digits() {
        assert_ne!(super::unique(), super::unique());
        let d = super::unique_digits();
        assert!(
            d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'),
            "{d}"
        );
        assert_ne!(d, super::unique_digits());
    }
}
