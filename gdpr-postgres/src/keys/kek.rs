//! The key-encryption key (KEK): held outside the database, in a file of
//! mode 0600 (or a secret store that writes one), never logged, zeroized
//! when dropped. Every subject key in the database is wrapped by it
//! (XChaCha20-Poly1305, the tenant and key id bound as associated data),
//! so a copy of the database — a dead tuple, WAL, a replica, a backup —
//! is unreadable without the KEK of its time. Rotation re-wraps every key
//! under a new version ([`crate::PgKeyStore::rotate`]); once the old
//! version is deleted from the file, old copies stay unreadable.
//!
//! File format (text, one key per line, `#` comments):
//! `gdpr-kek <version> <64 hex digits>`; the highest version wraps, the
//! others only unwrap (kept during a rotation).

use std::collections::BTreeMap;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use gdpr_audit::Error;
use gdpr_audit::seal::DataKey;
use zeroize::Zeroizing;

/// The KEK versions of a file.
pub struct KekRing {
    keys: BTreeMap<i32, DataKey>,
}

impl std::fmt::Debug for KekRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KekRing")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn bad(reason: &'static str) -> Error {
    Error::BadInput {
        what: "KEK file",
        reason: reason.into(),
    }
}

impl KekRing {
    /// Reads a KEK file, refusing one that others than its owner may
    /// read.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::BadInput`] for a bad line or a mode other
    /// than 0600/0400.
    pub fn load(path: &Path) -> Result<Self, Error> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(bad("readable by others than its owner: chmod 600 it"));
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| io(path, e))?);
        Self::parse(&text)
    }

    /// Parses the text of a KEK file.
    ///
    /// # Errors
    /// [`Error::BadInput`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut keys = BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split(' ');
            let (Some("gdpr-kek"), Some(v), Some(hex), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("a line is not `gdpr-kek <version> <64 hex digits>`"));
            };
            let version: i32 = v.parse().map_err(|_| bad("a version is not a number"))?;
            let bytes = Zeroizing::new(
                gdpr_audit::hex::decode::<32>(hex)
                    .ok_or_else(|| bad("a key is not 64 hex digits"))?,
            );
            if keys.insert(version, DataKey::from_bytes(*bytes)).is_some() {
                return Err(bad("a version appears twice"));
            }
        }
        if keys.is_empty() {
            return Err(bad("no key"));
        }
        Ok(Self { keys })
    }

    /// A new KEK file's line for `version` (a fresh random key).
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate_line(version: i32) -> Result<Zeroizing<String>, Error> {
        let key = DataKey::random()?;
        Ok(Zeroizing::new(format!(
            "gdpr-kek {version} {}\n",
            gdpr_audit::hex::encode(key.as_bytes())
        )))
    }

    /// The version that wraps.
    pub fn current(&self) -> i32 {
        self.keys.keys().next_back().copied().unwrap_or_default()
    }

    /// `key` wrapped under the current version: nonce ‖ ciphertext.
    pub(crate) fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<(i32, Vec<u8>), Error> {
        let version = self.current();
        let kek = self.keys.get(&version).ok_or_else(|| bad("no key"))?;
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|_| Error::Random)?;
        let cipher = XChaCha20Poly1305::new(kek.as_bytes().into());
        let ct = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: key.as_bytes(),
                    aad,
                },
            )
            .map_err(|_| bad("wrapping failed"))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok((version, out))
    }

    /// A key wrapped under `version` with associated data `aad`.
    ///
    /// # Errors
    /// [`Error::Backend`] when this ring lacks `version` or the key does
    /// not open (another KEK, other associated data, altered bytes).
    pub fn unwrap_key(&self, version: i32, wrapped: &[u8], aad: &[u8]) -> Result<DataKey, Error> {
        let kek = self.keys.get(&version).ok_or(Error::Backend {
            operation: "unwrapping a subject key",
            source: "it is wrapped under a KEK version the KEK file does not hold".into(),
        })?;
        let (nonce, ct) = wrapped
            .split_at_checked(24)
            .ok_or_else(|| bad("wrapped key too short"))?;
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| bad("wrapped key too short"))?;
        let cipher = XChaCha20Poly1305::new(kek.as_bytes().into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad })
                .map_err(|_| Error::Backend {
                    operation: "unwrapping a subject key",
                    source: "the KEK does not open it (another KEK, or the row was altered)".into(),
                })?,
        );
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| bad("wrapped key not 32 bytes"))?;
        Ok(DataKey::from_bytes(bytes))
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_under_the_newest_version_and_unwraps_only_with_the_right_one() {
        let one = KekRing::generate_line(1).unwrap();
        let two = KekRing::generate_line(2).unwrap();
        let ring = KekRing::parse(&format!("# test\n{}{}", *one, *two)).unwrap();
        assert_eq!(ring.current(), 2);
        let key = DataKey::random().unwrap();
        let (v, w) = ring.wrap(&key, b"aad").unwrap();
        assert_eq!(v, 2);
        assert_eq!(
            ring.unwrap_key(2, &w, b"aad").unwrap().as_bytes(),
            key.as_bytes()
        );
        assert!(ring.unwrap_key(2, &w, b"other").is_err());
        assert!(ring.unwrap_key(1, &w, b"aad").is_err());
        // After rotation the old version is gone: its copies stay shut.
        let only_two = KekRing::parse(&two).unwrap();
        assert!(only_two.unwrap_key(1, &w, b"aad").is_err());
        assert!(!format!("{ring:?}").contains(&one[12..20]));
    }

    #[test]
    fn bad_files_are_refused() {
        for bad in ["", "gdpr-kek 1 00", "kek 1 ab", "gdpr-kek x 00"] {
            assert!(KekRing::parse(bad).is_err(), "{bad}");
        }
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("kek");
        std::fs::write(&p, KekRing::generate_line(1).unwrap().as_bytes()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(KekRing::load(&p).is_err());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(KekRing::load(&p).unwrap().current(), 1);
    }
}
