//! Signed checkpoints in the C2SP `tlog-checkpoint` format, wrapped in a
//! C2SP `signed-note`:
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <base64 root hash>
//!
//! — <key name> <base64(4-byte key hash ‖ 64-byte Ed25519 signature)>
//! ```
//!
//! The signature covers the note text: the three lines and their newlines.
//! Parsing is strict: decimal without leading zeros, canonical base64 of
//! exactly 32 bytes, lines ending in `\n`, no blank body line, at most 4 KiB.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Error;
use crate::cause::Tamper;
use crate::record::Hash;
use crate::signing::{Signer, Verifier, check_name};

const MAX_NOTE: usize = 4096;

/// A parsed signature line: key name, 32-bit key hash, signature bytes.
pub type SignatureLine = (String, u32, Vec<u8>);

fn bad(reason: &'static str) -> Error {
    Error::BadInput {
        what: "checkpoint",
        reason: reason.into(),
    }
}

/// A statement of the log's state: origin, size, root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
}

impl Checkpoint {
    /// A checkpoint of the tree of `size` records with root `root`.
    ///
    /// # Errors
    /// [`Error::BadInput`] if the origin is not a valid key name.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, Error> {
        check_name(origin)?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of records covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 9162 root hash.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The note body (the signed text).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// The signed note text.
    pub fn sign(&self, signer: &Signer) -> String {
        let body = self.body();
        let line = signer.signature_line(body.as_bytes());
        format!("{body}\n{line}")
    }

    /// Parses a signed note without checking signatures (for tools and
    /// fuzzing); returns the checkpoint and its signature lines
    /// `(name, key hash, signature)`.
    ///
    /// # Errors
    /// [`Error::BadInput`] for anything not in the strict format.
    pub fn parse_unverified(note: &str) -> Result<(Self, Vec<SignatureLine>), Error> {
        if note.len() > MAX_NOTE {
            return Err(bad("longer than 4 KiB"));
        }
        let (body, sigs) = note
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line between text and signatures"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_name(origin).map_err(|_| bad("origin line is not a valid log name"))?;
        let size_text = lines.next().ok_or_else(|| bad("missing size line"))?;
        if size_text.is_empty()
            || size_text.len() > 1 && size_text.starts_with('0')
            || !size_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("size is not a canonical decimal number"));
        }
        let size: u64 = size_text.parse().map_err(|_| bad("size out of range"))?;
        let root_text = lines.next().ok_or_else(|| bad("missing root hash line"))?;
        let root_raw = STANDARD
            .decode(root_text)
            .map_err(|_| bad("root hash is not base64"))?;
        let root: Hash = root_raw
            .try_into()
            .map_err(|_| bad("root hash is not 32 bytes"))?;
        if STANDARD.encode(root) != root_text {
            return Err(bad("root hash base64 is not canonical"));
        }
        for ext in lines {
            if ext.is_empty() || ext.chars().any(char::is_control) {
                return Err(bad("empty or control characters in an extension line"));
            }
        }
        if !sigs.ends_with('\n') {
            return Err(bad("signature block must end with a newline"));
        }
        let mut out = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or_else(|| bad("signature line must start with an em dash and a space"))?;
            let (name, data) = rest
                .split_once(' ')
                .ok_or_else(|| bad("signature line needs a name and a signature"))?;
            check_name(name).map_err(|_| bad("invalid key name in a signature line"))?;
            let raw = STANDARD
                .decode(data)
                .map_err(|_| bad("signature is not base64"))?;
            if raw.len() < 5 || STANDARD.encode(&raw) != data {
                return Err(bad("signature is too short or not canonical base64"));
            }
            let hash = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            out.push((name.to_owned(), hash, raw[4..].to_vec()));
        }
        Ok((
            Self {
                origin: origin.to_owned(),
                size,
                root,
            },
            out,
        ))
    }

    /// Parses a signed note and checks that `verifier` signed it and that
    /// its origin is the verifier's name.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a malformed note; [`Error::Tampered`] (at
    /// the checkpoint's size) when no valid signature by `verifier` is found.
    pub fn open(note: &str, verifier: &Verifier) -> Result<Self, Error> {
        let (cp, sigs) = Self::parse_unverified(note)?;
        let body_len = note.find("\n\n").map_or(0, |i| i + 1);
        let body = &note.as_bytes()[..body_len];
        if cp.origin != verifier.name() {
            return Err(Error::tampered(cp.size, 0, Tamper::ForeignOrigin));
        }
        let ok = sigs
            .iter()
            .filter(|(name, hash, _)| name == verifier.name() && *hash == verifier.key_hash())
            .any(|(_, _, sig)| verifier.verify(body, sig));
        if !ok {
            return Err(Error::tampered(cp.size, 0, Tamper::BadSignature));
        }
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_open_round_trip() {
        let s = Signer::generate("example.org/log").unwrap();
        let cp = Checkpoint::new("example.org/log", 7, [5; 32]).unwrap();
        let note = cp.sign(&s);
        assert!(note.starts_with("example.org/log\n7\nBQUF"));
        assert_eq!(Checkpoint::open(&note, &s.verifier()).unwrap(), cp);
    }

    #[test]
    fn forged_or_altered_checkpoints_fail() {
        let s = Signer::generate("log").unwrap();
        let other = Signer::generate("log").unwrap();
        let note = Checkpoint::new("log", 7, [5; 32]).unwrap().sign(&s);
        assert!(
            Checkpoint::open(&note.replacen("\n7\n", "\n8\n", 1), &s.verifier())
                .unwrap_err()
                .is_tampering()
        );
        let forged = Checkpoint::new("log", 9, [5; 32]).unwrap().sign(&other);
        assert!(
            Checkpoint::open(&forged, &s.verifier())
                .unwrap_err()
                .is_tampering()
        );
        assert!(Checkpoint::parse_unverified(&note.replacen("\n7\n", "\n07\n", 1)).is_err());
        assert!(Checkpoint::parse_unverified(note.trim_end()).is_err());
        for i in 0..note.len() {
            let mut b = note.clone().into_bytes();
            b[i] ^= 0x01;
            if let Ok(t) = String::from_utf8(b) {
                assert!(Checkpoint::open(&t, &s.verifier()).is_err(), "flip at {i}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn parser_never_panics_and_round_trips(
            junk in ".{0,200}",
            size in proptest::prelude::any::<u64>(),
            root in proptest::prelude::any::<[u8; 32]>(),
        ) {
            let _ = Checkpoint::parse_unverified(&junk);
            let s = Signer::generate("prop.example/log").unwrap();
            let cp = Checkpoint::new("prop.example/log", size, root).unwrap();
            proptest::prop_assert_eq!(Checkpoint::open(&cp.sign(&s), &s.verifier()).unwrap(), cp);
        }
    }
}
