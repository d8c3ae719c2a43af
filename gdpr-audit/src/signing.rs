//! Ed25519 keys for checkpoints, in the text formats of the C2SP
//! `signed-note` specification (as Go's `golang.org/x/mod/sumdb/note`
//! reads and writes them):
//!
//! - **verifier key** (public; give it to auditors):
//!   `<name>+<hash>+<base64(0x01 ‖ 32-byte public key)>`
//! - **signer key** (secret; file mode 0600):
//!   `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ 32-byte seed)>`
//!
//! `<hash>` is the key id: the first four bytes of
//! `SHA-256(<name> ‖ "\n" ‖ 0x01 ‖ public key)` as eight hex digits. The
//! name is the log's origin line. Key files hold the key text and a newline.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::Error;

const ALG_ED25519: u8 = 0x01;

fn bad(what: &'static str, reason: &'static str) -> Error {
    Error::BadInput {
        what,
        reason: reason.into(),
    }
}

/// Checks a key / log name: non-empty, no `+`, no whitespace or control
/// characters (C2SP signed-note).
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty()
        || name.len() > 256
        || name.contains('+')
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(
            "key name",
            "1 to 256 characters, no '+', no whitespace",
        ));
    }
    Ok(())
}

fn key_hash(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn decode_key(data: &str, what: &'static str) -> Result<[u8; 32], Error> {
    let raw = Zeroizing::new(
        STANDARD
            .decode(data)
            .map_err(|_| bad(what, "key data is not base64"))?,
    );
    if raw.len() != 33 || raw[0] != ALG_ED25519 {
        return Err(bad(
            what,
            "not an Ed25519 key (algorithm byte 0x01 and 32 bytes expected)",
        ));
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&raw[1..]);
    Ok(out)
}

/// The secret key that signs checkpoints.
pub struct Signer {
    name: String,
    hash: u32,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}+{:08x}, <secret>)", self.name, self.hash)
    }
}

impl Signer {
    /// Generates a fresh key named `name` (the log's origin).
    ///
    /// # Errors
    /// [`Error::BadInput`] for an invalid name; [`Error::Random`].
    pub fn generate(name: &str) -> Result<Self, Error> {
        check_name(name)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|_| Error::Random)?;
        let key = SigningKey::from_bytes(&seed);
        let hash = key_hash(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            hash,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hash>+<data>` (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`Error::BadInput`] when the text is not such a key or its hash does
    /// not match.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("signer key", "expected PRIVATE+KEY+<name>+<hash>+<data>"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hash), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "signer key",
                "expected PRIVATE+KEY+<name>+<hash>+<data>",
            ));
        };
        check_name(name)?;
        let seed = Zeroizing::new(decode_key(data, "signer key")?);
        let key = SigningKey::from_bytes(&seed);
        let expect = key_hash(name, key.verifying_key().as_bytes());
        if hash != format!("{expect:08x}") {
            return Err(bad("signer key", "key hash does not match name and key"));
        }
        Ok(Self {
            name: name.to_owned(),
            hash: expect,
            key,
        })
    }

    /// The secret key text. Write it only to a file of mode 0600.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(vec![ALG_ED25519]);
        raw.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.hash,
            STANDARD.encode(raw.as_slice())
        ))
    }

    /// The matching public key.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            hash: self.hash,
            key: self.key.verifying_key(),
        }
    }

    /// The key name (the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A detached Ed25519 signature over `message`, for documents other
    /// than checkpoints (a request's certificate, an export manifest).
    /// The caller prefixes `message` with a context string of its own
    /// (e.g. `"gdpr-request certificate v1\n"`), so that no such signature
    /// can pass for a checkpoint's, whose body starts with the log's name.
    pub fn sign_detached(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The signature line for `message`: `— <name> <base64(hash ‖ sig)>\n`.
    pub(crate) fn signature_line(&self, message: &[u8]) -> String {
        let sig = self.key.sign(message);
        let mut raw = self.hash.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(raw))
    }
}

/// The public key that verifies checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    hash: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses `<name>+<hash>+<data>` (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`Error::BadInput`] when the text is not such a key or its hash does
    /// not match.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(hash), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("public key", "expected <name>+<hash>+<data>"));
        };
        check_name(name)?;
        let public = decode_key(data, "public key")?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| bad("public key", "not a valid Ed25519 point"))?;
        let expect = key_hash(name, &public);
        if hash != format!("{expect:08x}") {
            return Err(bad("public key", "key hash does not match name and key"));
        }
        Ok(Self {
            name: name.to_owned(),
            hash: expect,
            key,
        })
    }

    /// The key name (the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key id.
    pub fn key_hash(&self) -> u32 {
        self.hash
    }

    /// Checks a signature made by [`Signer::sign_detached`] (strict
    /// Ed25519): true only when `signature` is 64 bytes this key made over
    /// exactly `message`.
    pub fn verify_detached(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify(message, signature)
    }

    /// Checks `sig` (the 64 signature bytes) over `message` (strict Ed25519).
    pub(crate) fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        Signature::from_slice(sig).is_ok_and(|s| self.key.verify_strict(message, &s).is_ok())
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.hash,
            STANDARD.encode(raw)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_signatures_verify_only_their_message_and_key() {
        let s = Signer::generate("example.org/log").unwrap();
        let other = Signer::generate("example.org/log").unwrap();
        let sig = s.sign_detached(b"ctx\nmessage");
        assert!(s.verifier().verify_detached(b"ctx\nmessage", &sig));
        assert!(!s.verifier().verify_detached(b"ctx\nmessagE", &sig));
        assert!(!other.verifier().verify_detached(b"ctx\nmessage", &sig));
        assert!(!s.verifier().verify_detached(b"ctx\nmessage", &sig[..63]));
    }

    #[test]
    fn keys_round_trip_through_text() {
        let s = Signer::generate("example.org/audit").unwrap();
        let text = s.to_secret_text();
        let s2 = Signer::parse(&text).unwrap();
        assert_eq!(s2.verifier(), s.verifier());
        let v = Verifier::parse(&s.verifier().to_string()).unwrap();
        assert_eq!(v, s.verifier());
        assert!(!format!("{s:?}").contains(&text[20..]));
    }

    #[test]
    fn tampered_key_text_is_rejected() {
        let s = Signer::generate("log").unwrap();
        let v = s.verifier().to_string();
        assert!(Verifier::parse(&v.replacen("log+", "lag+", 1)).is_err());
        assert!(Verifier::parse("log+00000000+AAAA").is_err());
        assert!(Signer::parse(&v).is_err());
        assert!(Signer::generate("bad name").is_err());
    }

    #[test]
    fn known_key_hash() {
        // Go's note package example: PeterNeumann's key; the key hash below
        // is the one its documentation prints (c74f20a3).
        let v =
            Verifier::parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
        assert!(v.is_ok(), "{v:?}");
    }
}
