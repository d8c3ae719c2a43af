//! The secret project key and the keyed pseudonyms derived from it:
//! UIDs, the patient pseudonym and the per-patient date shift.
//!
//! Every derived value is HMAC-SHA256 under the project key of a
//! domain-separated original value, so the same input gives the same output
//! on any machine and day, and nobody without the key can test guesses.

use hmac::{KeyInit, Mac};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Length of a project key in bytes.
pub const KEY_LEN: usize = 32;

/// A secret project key (32 random bytes). Zeroized on drop; `Debug` shows
/// nothing of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ProjectKey {
    bytes: [u8; KEY_LEN],
}

impl std::fmt::Debug for ProjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProjectKey(<secret>)")
    }
}

impl ProjectKey {
    /// A fresh random key from the operating system.
    ///
    /// # Errors
    /// [`Error::Random`] when the system random number generator fails.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
        Ok(Self { bytes })
    }

    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// Parses the key-file format: 64 hexadecimal digits, optional
    /// surrounding white space.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] when the text is not 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.len() != KEY_LEN * 2 {
            return Err(Error::InvalidKey {
                reason: "a key file holds exactly 64 hexadecimal digits",
            });
        }
        let mut bytes = [0u8; KEY_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            let pair = text.get(2 * i..2 * i + 2).ok_or(Error::InvalidKey {
                reason: "a key file holds only hexadecimal digits",
            })?;
            *b = u8::from_str_radix(pair, 16).map_err(|_| Error::InvalidKey {
                reason: "a key file holds only hexadecimal digits",
            })?;
        }
        Ok(Self { bytes })
    }

    /// Reads a key file (as `gdpr dicom keygen` writes it): a regular file
    /// of at most 1 KiB holding 64 hexadecimal digits, readable by its
    /// owner only (mode 0600 or stricter). What was read is zeroized.
    ///
    /// ```no_run
    /// use gdpr_dicom::deid::key::ProjectKey;
    ///
    /// let key = ProjectKey::from_file("/etc/gdpr/project.key".as_ref())?;
    /// # Ok::<(), gdpr_dicom::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::InvalidKey`]
    /// when it is not a regular file, is readable or writable by group or
    /// others, is larger than 1 KiB, or does not hold 64 hex digits.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        // Checked before opening: a FIFO or device would block or never end.
        let meta = std::fs::metadata(path).map_err(Error::io("reading the project key file"))?;
        if !meta.is_file() {
            return Err(Error::InvalidKey {
                reason: "the key file is not a regular file",
            });
        }
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::InvalidKey {
                reason: "the key file is accessible by group or others (chmod 600 it)",
            });
        }
        let file = std::fs::File::open(path).map_err(Error::io("reading the project key file"))?;
        let mut text = zeroize::Zeroizing::new(Vec::with_capacity(128));
        file.take(1025)
            .read_to_end(&mut text)
            .map_err(Error::io("reading the project key file"))?;
        if text.len() > 1024 {
            return Err(Error::InvalidKey {
                reason: "the key file is larger than 1 KiB (a key file holds 64 hex digits)",
            });
        }
        let text = std::str::from_utf8(&text).map_err(|_| Error::InvalidKey {
            reason: "a key file holds only hexadecimal digits",
        })?;
        Self::from_hex(text)
    }

    /// The key-file format (64 lowercase hex digits and a newline). The
    /// returned string is zeroized on drop.
    pub fn to_hex(&self) -> zeroize::Zeroizing<String> {
        let mut s = zeroize::Zeroizing::new(String::with_capacity(KEY_LEN * 2 + 1));
        for b in self.bytes {
            s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            s.push(char::from_digit(u32::from(b & 0xF), 16).unwrap_or('0'));
        }
        s.push('\n');
        s
    }
}

/// Derives pseudonyms under a [`ProjectKey`]. Cheap to clone and share
/// between threads; `Debug` shows nothing of the key, and the keyed HMAC
/// state is zeroized on drop (`hmac`'s `zeroize` feature).
#[derive(Clone)]
pub struct Pseudonymiser {
    mac: HmacSha256,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(<keyed>)")
    }
}

/// The largest date shift, in days (about ten years into the past).
pub const MAX_SHIFT_DAYS: i64 = 3652;

impl Pseudonymiser {
    /// A pseudonymiser under `key`.
    pub fn new(key: &ProjectKey) -> Self {
        // HMAC accepts keys of any length, so this cannot fail; the fallback
        // only exists to avoid a panic path.
        let mac = HmacSha256::new_from_slice(&key.bytes)
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()));
        Self { mac }
    }

    fn digest(&self, domain: &[u8], value: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(domain);
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    /// The keyed replacement of a UID: `2.25.` followed by the decimal form
    /// of a 128-bit UUID (version 8, RFC 9562) derived from HMAC-SHA256 of
    /// the original. At most 44 characters, never a leading zero.
    pub fn uid(&self, original: &str) -> String {
        let original = original.trim_end_matches(['\0', ' ']);
        let d = self.digest(b"uid", original.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0F) | 0x80; // version 8 (custom)
        b[8] = (b[8] & 0x3F) | 0x80; // RFC 9562 variant
        format!("2.25.{}", u128::from_be_bytes(b))
    }

    /// The patient pseudonym (`PSN` + 24 hex digits, fits LO and PN) for a
    /// patient identified by `issuer` and `patient_id`.
    pub fn patient_pseudonym(&self, issuer: &str, patient_id: &str) -> String {
        let d = self.digest(b"patient", format!("{issuer}\0{patient_id}").as_bytes());
        let mut s = String::from("PSN");
        for b in &d[..12] {
            s.push_str(&format!("{b:02X}"));
        }
        s
    }

    /// The per-patient date shift in days, in `-MAX_SHIFT_DAYS..=-1`: every
    /// date of the patient moves by the same offset, so intervals stay.
    pub fn date_shift_days(&self, issuer: &str, patient_id: &str) -> i64 {
        let d = self.digest(b"date-shift", format!("{issuer}\0{patient_id}").as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        let n = u64::from_be_bytes(b) % (MAX_SHIFT_DAYS as u64);
        -(n as i64) - 1
    }

    /// A keyed dummy for text that must stay distinct but carry no meaning
    /// (e.g. Study ID), `prefix` + 12 hex digits.
    pub fn token(&self, domain: &str, original: &str, prefix: &str) -> String {
        let d = self.digest(domain.as_bytes(), original.as_bytes());
        let mut s = String::from(prefix);
        for b in &d[..6] {
            s.push_str(&format!("{b:02X}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn uid_mapping_is_a_valid_injective_function(a in "[1-9][0-9]{0,5}(\\.[0-9]{1,8}){1,8}", b in "[1-9][0-9]{0,5}(\\.[0-9]{1,8}){1,8}") {
            let p = Pseudonymiser::new(&ProjectKey::from_bytes([42; 32]));
            let (ua, ub) = (p.uid(&a), p.uid(&b));
            prop_assert_eq!(&ua, &p.uid(&a));
            prop_assert_eq!(a == b, ua == ub);
            prop_assert!(ua.len() <= 64 && ua.starts_with("2.25.") && !ua[5..].starts_with('0'));
        }
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        let key = ProjectKey::from_bytes([0xAB; 32]);
        assert!(!format!("{key:?}").to_lowercase().contains("ab"));
        let p = Pseudonymiser::new(&key);
        assert_eq!(format!("{p:?}"), "Pseudonymiser(<keyed>)");
    }

    #[test]
    fn key_files_are_read_only_when_private_regular_and_well_formed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = ProjectKey::generate().unwrap();
        let path = dir.path().join("project.key");
        std::fs::write(&path, key.to_hex().as_bytes()).unwrap();
        let mode = |m| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
        mode(0o600);
        assert_eq!(ProjectKey::from_file(&path).unwrap().bytes, key.bytes);
        mode(0o640);
        let err = ProjectKey::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("group or others"), "{err}");
        assert!(ProjectKey::from_file(dir.path()).is_err());
        let big = dir.path().join("big.key");
        std::fs::write(&big, vec![b'a'; 4096]).unwrap();
        std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
        let err = ProjectKey::from_file(&big).unwrap_err().to_string();
        assert!(err.contains("1 KiB"), "{err}");
        assert!(ProjectKey::from_file(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn hex_round_trip() {
        let key = ProjectKey::generate().unwrap();
        let again = ProjectKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(key.bytes, again.bytes);
        assert!(ProjectKey::from_hex("zz").is_err());
        assert!(ProjectKey::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn uids_are_valid_and_keyed() {
        let a = Pseudonymiser::new(&ProjectKey::from_bytes([1; 32]));
        let b = Pseudonymiser::new(&ProjectKey::from_bytes([2; 32]));
        let u = a.uid("1.2.3.4");
        assert!(u.starts_with("2.25.") && u.len() <= 64);
        assert!(!u[5..].starts_with('0'));
        assert!(u.bytes().all(|c| c == b'.' || c.is_ascii_digit()));
        assert_eq!(u, a.uid("1.2.3.4\0"));
        assert_ne!(u, b.uid("1.2.3.4"));
        let s = a.date_shift_days("", "X");
        assert!((-MAX_SHIFT_DAYS..=-1).contains(&s));
    }
}
